//! Expressions: name resolution, type checking against the schema, and lowering to IR with
//! the absent-value semantics made explicit (docs/language.md, "Semantics").
//!
//! A checked value carries the presence guards under which it is defined. A test (compare,
//! string test, `in`) becomes `And(guards…, test)`, so a test on an absent value is false and
//! `not` of it is true, in every backend alike.

use crate::check::types::{Ty, TypeTable};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Access, CompareOp, Domain, Expr, Literal, Root, Step, StringOp, ValueType};
use crate::schema::{Encoding, Schema, TypeId};
use crate::span::Span;
use crate::syntax::ast::{self, BinaryOp, ExprKind};

mod conditions;
mod paths;
mod values;

/// A checked value expression.
#[derive(Clone, Debug)]
pub struct Val {
    pub expr: Expr,
    /// Set when the value is a plain path, so it can be extended, tested for presence and
    /// defaulted.
    pub access: Option<Access>,
    /// Conditions under which `expr` is defined.
    pub guards: Vec<Expr>,
    pub ty: Ty,
    /// Set when the value is known at compile time.
    pub constant: Option<Literal>,
}

impl Val {
    fn error() -> Val {
        Val {
            expr: Expr::Literal(Literal::Bool(false)),
            access: None,
            guards: Vec::new(),
            ty: Ty::Error,
            constant: None,
        }
    }

    fn constant(literal: Literal, ty: Ty) -> Val {
        Val {
            expr: Expr::Literal(literal.clone()),
            access: None,
            guards: Vec::new(),
            ty,
            constant: Some(literal),
        }
    }

    /// A scalar that Go stores as a plain value: present wherever its parent object is (the
    /// parent's guards are its own), it reads as `zero` where the field is missing.
    fn plain(base_guards: Vec<Expr>, access: Access, ty: Ty, zero: Literal) -> Val {
        Val {
            guards: base_guards,
            expr: Expr::ValueOr {
                access: access.clone(),
                fallback: zero,
            },
            access: Some(access),
            ty,
            constant: None,
        }
    }

    /// The zero value a plain-valued scalar reads as, when `val` is one.
    fn plain_zero(&self) -> Option<(&Literal, Domain)> {
        match (&self.expr, &self.access) {
            (Expr::ValueOr { access, fallback }, Some(own)) if access == own => {
                let domain = match fallback {
                    Literal::String(_) => Domain::String,
                    Literal::Int(_) => Domain::Int,
                    Literal::Bool(_) => Domain::Bool,
                    _ => return None,
                };
                Some((fallback, domain))
            }
            _ => None,
        }
    }

    fn path(access: Access, ty: Ty, never_absent: bool) -> Val {
        let guards = if never_absent {
            Vec::new()
        } else {
            vec![Expr::Present(access.clone())]
        };
        Val {
            expr: Expr::Value(access.clone()),
            access: Some(access),
            guards,
            ty,
            constant: None,
        }
    }
}

/// What a name in scope stands for.
#[derive(Clone, Debug)]
pub enum Binding {
    /// A loop variable of the given element type.
    Var(Ty),
    /// A `let`: its checked value, substituted where used.
    Let(Val),
    Param(Ty),
}

/// What the roots mean for one guardrail.
pub struct Roots {
    /// Root types of the matched kinds.
    pub object: Vec<TypeId>,
    /// Set when every matched kind has a pod spec.
    pub pod: Option<PodTypes>,
    pub namespace: Option<TypeId>,
    /// Why `pod` is unavailable, for the diagnostic.
    pub non_pod_kinds: Vec<String>,
}

#[derive(Clone, Copy)]
pub struct PodTypes {
    pub spec: TypeId,
    pub metadata: TypeId,
    pub container: TypeId,
    pub ephemeral: TypeId,
}

/// The checking context of one guardrail.
pub struct Checker<'a> {
    pub schema: &'a Schema,
    pub roots: &'a Roots,
    pub scope: Vec<(String, Binding)>,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    pub reads: ir::Reads,
    pub reads_pod: bool,
    /// Loop variables bound over a list that comes from a param: a regex pattern may be one.
    pub param_vars: Vec<String>,
    /// Where an editor asked for them, the types of expressions and names are kept here.
    pub types: Option<&'a mut TypeTable>,
    /// The image exemptions in force: every container a rule iterates is narrowed by them.
    pub image_exemptions: Vec<crate::check::ImageExemption>,
    /// Whether the guardrail declares image exemptions, in force or not.
    pub has_image_exemptions: bool,
}

/// Every function and method the language has: the names the checker accepts in a call.
pub const FUNCTIONS: &[&str] = &[
    "keys",
    "trim_prefix",
    "trim_suffix",
    "starts_with",
    "ends_with",
    "contains",
    "matches",
    "size",
    "exists",
    "missing",
];

pub const ROOT_NAMES: &[&str] = &["object", "old", "pod", "namespace", "request", "params"];

impl Checker<'_> {
    fn error(&mut self, code: Code, span: Span, message: String) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::new(code, span, message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Whether a method got as many arguments as it takes; if not, G0309 with how to write
    /// the call.
    fn arguments(&mut self, method: &str, args: &[ast::Expr], takes: usize, span: Span) -> bool {
        if args.len() == takes {
            return true;
        }
        let (count, example) = match takes {
            0 => ("no arguments".to_string(), format!("x.{method}()")),
            _ => ("one argument".to_string(), format!("s.{method}(\"text\")")),
        };
        let found = match takes {
            0 => String::new(),
            _ => format!(", found {}", args.len()),
        };
        self.error(
            Code::WrongArgumentCount,
            span,
            format!("`{method}` takes {count}{found}"),
        )
        .help = Some(format!("write `{example}`"));
        false
    }

    /// Whether `val` can receive `method`: `accepts` takes its type. Otherwise G0303 saying
    /// what the method `applies_to`, with `help`; a value already in error is refused quietly.
    fn receives(
        &mut self,
        method: &str,
        val: &Val,
        span: Span,
        (accepts, applies_to): (fn(&Ty) -> bool, &str),
        help: Option<&str>,
    ) -> bool {
        if val.ty == Ty::Error {
            return false;
        }
        if accepts(&val.ty) {
            return true;
        }
        let described = val.ty.with_article(self.schema);
        self.error(
            Code::TypeMismatch,
            span,
            format!("`{method}` applies to {applies_to}, not to {described}"),
        )
        .help = help.map(str::to_string);
        false
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }

    /// Checks that a new name does not shadow a root or another name in scope.
    pub fn declare(&mut self, name: &ast::Ident, binding: Binding) {
        if ROOT_NAMES.contains(&name.name.as_str()) {
            self.error(
                Code::DuplicateName,
                name.span,
                format!("`{}` is a root and cannot be redefined", name.name),
            )
            .help = Some("choose another name; the roots are object, old, pod, namespace, request and params".into());
        } else if self.lookup(&name.name).is_some() {
            self.error(
                Code::DuplicateName,
                name.span,
                format!("`{}` is already defined", name.name),
            )
            .help = Some("choose another name; params, lets and loop variables may not shadow each other or the roots".into());
        } else if !is_identifier(&name.name)
            || crate::syntax::parser::EXPRESSION_KEYWORDS.contains(&name.name.as_str())
        {
            self.error(
                Code::NotAllowedHere,
                name.span,
                format!("`{}` cannot name a value", name.name),
            )
            .help = Some("names are lowercase letters, digits and `_`, and not a keyword".into());
        }
        if let Some(types) = self.types.as_deref_mut() {
            let ty = match &binding {
                Binding::Var(ty) | Binding::Param(ty) => ty,
                Binding::Let(val) => &val.ty,
            };
            types.record(name.span, ty);
        }
        self.scope.push((name.name.clone(), binding));
    }

    /// Declares a loop variable; `from_param` when its list comes from a param.
    pub fn declare_loop_var(&mut self, name: &ast::Ident, element: Ty, from_param: bool) {
        self.declare(name, Binding::Var(element));
        if from_param {
            self.param_vars.push(name.name.clone());
        }
    }

    /// True for a value read from a param, directly or through loop variables over params.
    pub fn derives_from_param(&self, val: &Val) -> bool {
        match val.access.as_ref().map(|access| &access.root) {
            Some(Root::Param(_)) => true,
            Some(Root::Var(name)) => self.param_vars.contains(name),
            _ => false,
        }
    }

    // ---- conditions ---------------------------------------------------------------------
}

/// The list expression of a loop: absent lists iterate nothing.
fn iterable_path(val: Val) -> Expr {
    match (val.access, val.guards.is_empty()) {
        (Some(access), false) => Expr::ValueOr {
            access,
            fallback: Literal::List(Vec::new()),
        },
        _ => val.expr,
    }
}

/// True when every guard of `val` is the presence of its own path or of a prefix of it, so
/// `ValueOr` on the path says all there is to say about absence.
fn only_own_presence(val: &Val) -> bool {
    match &val.access {
        Some(access) => foreign_guards(&val.guards, access).is_empty(),
        None => val.guards.is_empty(),
    }
}

/// The guards that are not the presence of `access` or of a prefix of it: the guards of run-time
/// keys along the path, and type guards.
fn foreign_guards(guards: &[Expr], access: &Access) -> Vec<Expr> {
    guards
        .iter()
        .filter(|guard| !matches!(guard, Expr::Present(prefix) if is_prefix(prefix, access)))
        .cloned()
        .collect()
}

fn is_prefix(prefix: &Access, access: &Access) -> bool {
    prefix.root == access.root && access.steps.starts_with(&prefix.steps)
}

fn extend(base_guards: Vec<Expr>, access: Access, ty: Ty, never_absent: bool) -> Val {
    // A path's own presence test covers all of its prefixes, so drop the base's; the guards
    // of a run-time key on the way stay, ahead of the new presence test.
    let guards: Vec<Expr> = base_guards
        .into_iter()
        .filter(|g| !matches!(g, Expr::Present(prefix) if is_prefix(prefix, &access)))
        .collect();
    let mut val = Val::path(access, ty, never_absent);
    let mut all = guards;
    all.append(&mut val.guards);
    val.guards = all;
    val
}

/// The value Go gives a scalar field of this type that is not set.
fn zero_value(ty: &Ty) -> Option<Literal> {
    match ty {
        Ty::Str => Some(Literal::String(String::new())),
        Ty::Int => Some(Literal::Int(0)),
        Ty::Bool => Some(Literal::Bool(false)),
        _ => None,
    }
}

fn merge(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Object(mut x), Ty::Object(y)) => {
            for id in y {
                if !x.contains(&id) {
                    x.push(id);
                }
            }
            Ty::Object(x)
        }
        (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(merge(*x, *y))),
        (Ty::Map(x), Ty::Map(y)) => Ty::Map(Box::new(merge(*x, *y))),
        (a, b) if a == b => a,
        _ => Ty::Any,
    }
}

fn compatible(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Error | Ty::Any, _) | (_, Ty::Error | Ty::Any) => true,
        (Ty::IntOrString, Ty::Int | Ty::Str) | (Ty::Int | Ty::Str, Ty::IntOrString) => true,
        (Ty::Int | Ty::Number, Ty::Int | Ty::Number) => true,
        (Ty::Quantity, Ty::Quantity | Ty::Int | Ty::Str) | (Ty::Str, Ty::Quantity) => true,
        (Ty::List(x), Ty::List(y)) => compatible(x, y),
        (Ty::Object(_), Ty::Object(_)) => true,
        (a, b) => a == b,
    }
}

fn string_fn(name: &str) -> Option<ir::StringFn> {
    Some(match name {
        "trim_prefix" => ir::StringFn::TrimPrefix,
        "trim_suffix" => ir::StringFn::TrimSuffix,
        _ => return None,
    })
}

fn string_op(name: &str) -> Option<StringOp> {
    Some(match name {
        "starts_with" => StringOp::StartsWith,
        "ends_with" => StringOp::EndsWith,
        "contains" => StringOp::Contains,
        "matches" => StringOp::Matches,
        _ => return None,
    })
}

/// `And(guards…, test)`, flattened; just `test` without guards.
pub fn with_guards(mut guards: Vec<Expr>, test: Expr) -> Expr {
    dedup(&mut guards);
    if guards.is_empty() {
        return test;
    }
    guards.push(test);
    and(guards)
}

/// A flattened conjunction.
pub fn and(items: Vec<Expr>) -> Expr {
    let mut flat = Vec::new();
    for item in items {
        match item {
            Expr::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    dedup(&mut flat);
    if flat.len() == 1 {
        return flat.pop().expect("one item");
    }
    Expr::And(flat)
}

fn dedup(items: &mut Vec<Expr>) {
    let mut seen: Vec<Expr> = Vec::new();
    items.retain(|item| {
        if seen.contains(item) {
            false
        } else {
            seen.push(item.clone());
            true
        }
    });
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
