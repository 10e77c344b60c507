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

    /// Checks a boolean expression and lowers it to an IR condition.
    pub fn condition(&mut self, expr: &ast::Expr) -> Expr {
        match &expr.kind {
            ExprKind::Bool(b) => Expr::Literal(Literal::Bool(*b)),
            ExprKind::Not(inner) => Expr::Not(Box::new(self.condition(inner))),
            ExprKind::Binary(BinaryOp::And, l, r) => {
                and(vec![self.condition(l), self.condition(r)])
            }
            ExprKind::Binary(BinaryOp::Or, l, r) => {
                let mut items = Vec::new();
                for side in [self.condition(l), self.condition(r)] {
                    match side {
                        Expr::Or(inner) => items.extend(inner),
                        other => items.push(other),
                    }
                }
                Expr::Or(items)
            }
            ExprKind::Binary(op @ (BinaryOp::In | BinaryOp::NotIn), l, r) => {
                self.membership(*op, l, r)
            }
            ExprKind::Binary(op, l, r) => self.comparison(*op, l, r, expr.span),
            ExprKind::Quantified {
                all,
                var,
                list,
                body,
            } => {
                let list_val = self.value(list);
                let element = self.element_type(&list_val, list.span);
                let from_param = self.derives_from_param(&list_val);
                let list_expr = self.iterable(list_val, list.span);
                let exempt = self.container_exemption(&var.name, &element);
                self.declare_loop_var(var, element, from_param);
                let mut body = self.condition(body);
                self.scope.pop();
                self.param_vars.retain(|name| name != &var.name);
                // Exempt containers are not in the list: `any` skips them, `all` lets them by.
                if let Some(exempt) = exempt {
                    body = match all {
                        false => and(vec![body, Expr::Not(Box::new(exempt))]),
                        true => Expr::Or(vec![body, exempt]),
                    };
                }
                Expr::Quantified {
                    quantifier: if *all {
                        ir::Quantifier::All
                    } else {
                        ir::Quantifier::Any
                    },
                    var: var.name.clone(),
                    list: Box::new(list_expr),
                    body: Box::new(body),
                }
            }
            ExprKind::Call {
                receiver: None,
                name,
                args,
            } if name.name == "exists" || name.name == "missing" => {
                let present = self.presence(name, args, expr.span);
                if name.name == "missing" {
                    Expr::Not(Box::new(present))
                } else {
                    present
                }
            }
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if string_op(&name.name).is_some() => {
                self.string_test(receiver, name, args, expr.span)
            }
            ExprKind::Error => Expr::Literal(Literal::Bool(false)),
            _ => {
                let val = self.value(expr);
                match val.ty {
                    // A plain-valued boolean is a value with a default, not a path: it is
                    // tested as one.
                    Ty::Bool if val.plain_zero().is_some() => {
                        let test = Expr::Compare {
                            op: CompareOp::Eq,
                            domain: Domain::Bool,
                            lhs: Box::new(val.expr),
                            rhs: Box::new(Expr::Literal(Literal::Bool(true))),
                        };
                        with_guards(val.guards, test)
                    }
                    Ty::Bool | Ty::Error => with_guards(val.guards, val.expr),
                    Ty::Any => {
                        let guard = Expr::IsType {
                            value: Box::new(val.expr.clone()),
                            ty: ValueType::Bool,
                        };
                        let mut guards = val.guards;
                        guards.push(guard);
                        with_guards(guards, val.expr)
                    }
                    other => {
                        let described = other.describe(self.schema);
                        self.error(
                            Code::TypeMismatch,
                            expr.span,
                            format!("expected a condition, found a value of type {described}"),
                        )
                        .help = Some("compare it with something, e.g. `x == \"value\"`, or test it with `exists(x)`".into());
                        Expr::Literal(Literal::Bool(false))
                    }
                }
            }
        }
    }

    fn presence(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Expr {
        if args.len() != 1 {
            self.error(
                Code::WrongArgumentCount,
                span,
                format!(
                    "`{}` takes one path, found {} arguments",
                    name.name,
                    args.len()
                ),
            );
            return Expr::Literal(Literal::Bool(false));
        }
        let val = self.value(&args[0]);
        match val.access.clone() {
            Some(access) => {
                // Index steps are guarded by their own presence; a nullable root by itself.
                // A key computed at run time brings its own guards, which must hold first.
                let key_guards = foreign_guards(&val.guards, &access);
                match val.plain_zero() {
                    // A plain-valued scalar exists when it holds something other than its
                    // zero value: the API server cannot tell the two apart. Its default
                    // covers an absent parent too.
                    Some((zero, domain)) => with_guards(
                        key_guards,
                        Expr::Compare {
                            op: CompareOp::Ne,
                            domain,
                            lhs: Box::new(val.expr.clone()),
                            rhs: Box::new(Expr::Literal(zero.clone())),
                        },
                    ),
                    // A struct value is present wherever its parent is; a value that is never
                    // absent (`request.operation`) always exists.
                    None if !val.guards.contains(&Expr::Present(access.clone())) => {
                        match val.guards.is_empty() {
                            true => Expr::Literal(Literal::Bool(true)),
                            false => and(val.guards),
                        }
                    }
                    None => with_guards(key_guards, Expr::Present(access)),
                }
            }
            None if val.ty == Ty::Error => Expr::Literal(Literal::Bool(false)),
            None => {
                self.error(
                    Code::TypeMismatch,
                    args[0].span,
                    format!(
                        "`{}` takes a field path such as `c.securityContext`",
                        name.name
                    ),
                );
                Expr::Literal(Literal::Bool(false))
            }
        }
    }

    fn string_test(
        &mut self,
        receiver: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Expr {
        let op = string_op(&name.name).expect("caller checked the name");
        let subject = self.value(receiver);
        if args.len() != 1 {
            self.error(
                Code::WrongArgumentCount,
                span,
                format!("`{}` takes one argument, found {}", name.name, args.len()),
            )
            .help = Some(format!("write `s.{}(\"text\")`", name.name));
            return Expr::Literal(Literal::Bool(false));
        }
        let arg = self.value(&args[0]);
        let mut guards = Vec::new();
        self.expect_string(&subject, receiver.span, &mut guards);
        self.expect_string(&arg, args[0].span, &mut guards);
        if op == StringOp::Matches {
            match &arg.constant {
                Some(Literal::String(pattern)) => {
                    if let Err(error) = regex_syntax::Parser::new().parse(pattern) {
                        let detail = error.to_string();
                        let last = detail.lines().last().unwrap_or("invalid regex").trim();
                        self.error(
                            Code::InvalidRegex,
                            args[0].span,
                            format!(
                                "the regular expression does not compile: {}",
                                last.trim_start_matches("error: ")
                            ),
                        )
                        .help = Some(
                            "regexes use RE2 syntax; double backslashes inside strings (\"\\\\d\")"
                                .into(),
                        );
                    }
                }
                _ if arg.ty.is_error_or_any() => {}
                _ => {
                    // Params are constants per environment, chosen by whoever configures the
                    // guardrail; a pattern read from the object under review is not.
                    if !self.derives_from_param(&arg) {
                        self.error(
                            Code::InvalidRegex,
                            args[0].span,
                            "the pattern of `matches` must be a string literal or come from a param".into(),
                        )
                        .help = Some("a param, an element of a list param, or a field of a record param".into());
                    }
                }
            }
        }
        let mut all = subject.guards;
        all.extend(arg.guards);
        all.extend(guards);
        with_guards(
            all,
            Expr::StringTest {
                op,
                subject: Box::new(subject.expr),
                arg: Box::new(arg.expr),
            },
        )
    }

    fn expect_string(&mut self, val: &Val, span: Span, guards: &mut Vec<Expr>) {
        match &val.ty {
            Ty::Str | Ty::Error => {}
            Ty::Any | Ty::IntOrString => guards.push(Expr::IsType {
                value: Box::new(val.expr.clone()),
                ty: ValueType::String,
            }),
            other => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::TypeMismatch,
                    span,
                    format!("expected a string, found {described}"),
                );
            }
        }
    }

    fn membership(&mut self, op: BinaryOp, item: &ast::Expr, list: &ast::Expr) -> Expr {
        let item_val = self.value(item);
        let list_val = self.value(list);
        let element = self.element_type(&list_val, list.span);
        if !compatible(&item_val.ty, &element) {
            let (a, b) = (
                item_val.ty.with_article(self.schema),
                element.describe(self.schema),
            );
            self.error(
                Code::TypeMismatch,
                item.span,
                format!("cannot look for {a} in a list of {b}"),
            );
        }
        let mut guards = item_val.guards.clone();
        guards.extend(list_val.guards.clone());
        let test = Expr::InList {
            item: Box::new(item_val.expr),
            list: Box::new(list_val.expr),
        };
        let test = if op == BinaryOp::NotIn {
            Expr::Not(Box::new(test))
        } else {
            test
        };
        with_guards(guards, test)
    }

    fn comparison(&mut self, op: BinaryOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> Expr {
        let lhs = self.value(l);
        let rhs = self.value(r);
        let op_ir = match op {
            BinaryOp::Eq => CompareOp::Eq,
            BinaryOp::Ne => CompareOp::Ne,
            BinaryOp::Lt => CompareOp::Lt,
            BinaryOp::Le => CompareOp::Le,
            BinaryOp::Gt => CompareOp::Gt,
            BinaryOp::Ge => CompareOp::Ge,
            _ => unreachable!("and, or, in are handled by the caller"),
        };
        let ordering = !matches!(op_ir, CompareOp::Eq | CompareOp::Ne);
        let mut guards = lhs.guards.clone();
        guards.extend(rhs.guards.clone());
        let (mut lhs_expr, mut rhs_expr) = (lhs.expr.clone(), rhs.expr.clone());
        let domain = match (&lhs.ty, &rhs.ty) {
            (Ty::Error, _) | (_, Ty::Error) => return Expr::Literal(Literal::Bool(false)),
            (Ty::Quantity, _) | (_, Ty::Quantity) => {
                for (side, val, span) in
                    [(&mut lhs_expr, &lhs, l.span), (&mut rhs_expr, &rhs, r.span)]
                {
                    match (&val.ty, &val.constant) {
                        (Ty::Quantity, Some(_)) => {}
                        (Ty::Int, Some(Literal::Int(n))) => {
                            *side = Expr::Literal(Literal::Quantity(n.to_string()))
                        }
                        (Ty::Quantity | Ty::Any | Ty::IntOrString | Ty::Str, _) => {
                            guards.push(Expr::IsType {
                                value: Box::new(side.clone()),
                                ty: ValueType::Quantity,
                            })
                        }
                        (other, _) => {
                            let described = other.with_article(self.schema);
                            self.error(
                                Code::NotAQuantity,
                                span,
                                format!("cannot compare a quantity with {described}"),
                            );
                            return Expr::Literal(Literal::Bool(false));
                        }
                    }
                }
                Domain::Quantity
            }
            (Ty::Str, Ty::Str) => Domain::String,
            (Ty::Int, Ty::Int)
            | (Ty::Int, Ty::Number)
            | (Ty::Number, Ty::Int)
            | (Ty::Number, Ty::Number) => Domain::Int,
            (Ty::Bool, Ty::Bool) if !ordering => Domain::Bool,
            (Ty::List(_), Ty::List(_))
                if !ordering
                    && !matches!(lhs_expr, Expr::Keys(_))
                    && !matches!(rhs_expr, Expr::Keys(_)) =>
            {
                Domain::List
            }
            (Ty::Any | Ty::IntOrString, other) | (other, Ty::Any | Ty::IntOrString) => {
                let (domain, value_type) = match other {
                    Ty::Str => (Domain::String, ValueType::String),
                    Ty::Int | Ty::Number => (Domain::Int, ValueType::Int),
                    Ty::Bool => (Domain::Bool, ValueType::Bool),
                    _ => {
                        self.error(
                            Code::TypeMismatch,
                            span,
                            "compare a schemaless value with a string, integer or boolean".into(),
                        );
                        return Expr::Literal(Literal::Bool(false));
                    }
                };
                for (side, val) in [(&lhs_expr, &lhs), (&rhs_expr, &rhs)] {
                    if val.ty.is_error_or_any() || val.ty == Ty::IntOrString {
                        guards.push(Expr::IsType {
                            value: Box::new(side.clone()),
                            ty: value_type,
                        });
                    }
                }
                domain
            }
            (a, b) => {
                let bool_involved = *a == Ty::Bool || *b == Ty::Bool;
                let (a, b) = (a.with_article(self.schema), b.with_article(self.schema));
                let message = if ordering {
                    format!("cannot order {a} and {b} with `{}`", op.as_str())
                } else {
                    format!("cannot compare {a} with {b}")
                };
                let diagnostic = self.error(Code::TypeMismatch, span, message);
                if bool_involved {
                    diagnostic.help = Some("booleans are compared with `==` and `!=` only".into());
                } else {
                    diagnostic.help =
                        Some("both sides of a comparison must have the same type".into());
                }
                return Expr::Literal(Literal::Bool(false));
            }
        };
        with_guards(
            guards,
            Expr::Compare {
                op: op_ir,
                domain,
                lhs: Box::new(lhs_expr),
                rhs: Box::new(rhs_expr),
            },
        )
    }

    // ---- values -------------------------------------------------------------------------

    /// Checks a value expression (a path, a literal, a size).
    /// The checked value of an expression (recorded in `types` when an editor asked).
    pub fn value(&mut self, expr: &ast::Expr) -> Val {
        let val = self.value_of(expr);
        if let Some(types) = self.types.as_deref_mut() {
            types.record(expr.span, &val.ty);
        }
        val
    }

    fn value_of(&mut self, expr: &ast::Expr) -> Val {
        match &expr.kind {
            ExprKind::Int(n) => Val::constant(Literal::Int(*n), Ty::Int),
            ExprKind::Str(s) => Val::constant(Literal::String(s.clone()), Ty::Str),
            ExprKind::Bool(b) => Val::constant(Literal::Bool(*b), Ty::Bool),
            ExprKind::Quantity(q) => Val::constant(Literal::Quantity(q.clone()), Ty::Quantity),
            ExprKind::List(items) => {
                let vals: Vec<Val> = items.iter().map(|i| self.value(i)).collect();
                let element = vals.first().map_or(Ty::Any, |v| v.ty.clone());
                for (val, item) in vals.iter().zip(items) {
                    if !compatible(&val.ty, &element) {
                        self.error(
                            Code::TypeMismatch,
                            item.span,
                            "list elements must all have the same type".into(),
                        );
                    }
                }
                let constants: Option<Vec<Literal>> =
                    vals.iter().map(|v| v.constant.clone()).collect();
                match constants {
                    Some(literals) => {
                        Val::constant(Literal::List(literals), Ty::List(Box::new(element)))
                    }
                    None => {
                        let guards = vals.iter().flat_map(|v| v.guards.clone()).collect();
                        Val {
                            expr: Expr::List(vals.into_iter().map(|v| v.expr).collect()),
                            access: None,
                            guards,
                            ty: Ty::List(Box::new(element)),
                            constant: None,
                        }
                    }
                }
            }
            ExprKind::Name(name) => self.name(name, expr.span),
            ExprKind::Field(base, field) => self.field(base, field),
            ExprKind::Index(base, index) => self.index(base, index, expr.span),
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if name.name == "size" => {
                if !args.is_empty() {
                    self.error(
                        Code::WrongArgumentCount,
                        expr.span,
                        "`size` takes no arguments".into(),
                    );
                }
                let val = self.value(receiver);
                match &val.ty {
                    Ty::List(_) | Ty::Map(_) | Ty::Str => {}
                    Ty::Error => return Val::error(),
                    other => {
                        let described = other.with_article(self.schema);
                        self.error(
                            Code::TypeMismatch,
                            receiver.span,
                            format!(
                                "`size` applies to lists, maps and strings, not to {described}"
                            ),
                        );
                        return Val::error();
                    }
                }
                let inner = match (&val.ty, val.access.clone()) {
                    (Ty::List(_), Some(access)) => Expr::ValueOr {
                        access,
                        fallback: Literal::List(Vec::new()),
                    },
                    _ => val.expr.clone(),
                };
                let guards = if matches!(val.ty, Ty::List(_)) && val.access.is_some() {
                    Vec::new()
                } else {
                    val.guards
                };
                Val {
                    expr: Expr::Size(Box::new(inner)),
                    access: None,
                    guards,
                    ty: Ty::Int,
                    constant: None,
                }
            }
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if name.name == "keys" => self.keys(receiver, args, expr.span),
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if string_fn(&name.name).is_some() => self.string_fn(receiver, name, args, expr.span),
            ExprKind::Error => Val::error(),
            ExprKind::Call { name, .. } => {
                let suggestion = crate::suggest::closest(&name.name, FUNCTIONS.iter().copied());
                let diagnostic = self.error(
                    Code::UnknownFunction,
                    name.span,
                    if string_op(&name.name).is_some()
                        || name.name == "exists"
                        || name.name == "missing"
                    {
                        format!("`{}` is a condition, not a value", name.name)
                    } else {
                        format!("unknown function `{}`", name.name)
                    },
                );
                if let Some(s) = suggestion {
                    diagnostic.help = Some(format!("did you mean `{s}`?"));
                    diagnostic.edit = Some(crate::diagnostic::Edit {
                        span: name.span,
                        replacement: s.to_string(),
                    });
                }
                Val::error()
            }
            ExprKind::Not(_) | ExprKind::Binary(..) | ExprKind::Quantified { .. } => {
                self.error(
                    Code::TypeMismatch,
                    expr.span,
                    "a condition cannot be used as a value here".into(),
                )
                .help = Some("conditions belong in `when` and `that`".into());
                Val::error()
            }
        }
    }

    fn name(&mut self, name: &str, span: Span) -> Val {
        if let Some(binding) = self.lookup(name).cloned() {
            return match binding {
                Binding::Var(ty) => Val::path(
                    Access {
                        root: Root::Var(name.to_string()),
                        steps: Vec::new(),
                    },
                    ty,
                    true,
                ),
                Binding::Let(val) => val,
                Binding::Param(ty) => {
                    self.error(
                        Code::UnknownName,
                        span,
                        format!("params are read through `params`: write `params.{name}`"),
                    )
                    .edit = Some(crate::diagnostic::Edit {
                        span,
                        replacement: format!("params.{name}"),
                    });
                    let _ = ty;
                    Val::error()
                }
            };
        }
        let root = |root: Root, ty: Ty| {
            Val::path(
                Access {
                    root,
                    steps: Vec::new(),
                },
                ty,
                true,
            )
        };
        match name {
            "object" => root(Root::Object, Ty::Object(self.roots.object.clone())),
            "old" => {
                self.reads.old_object = true;
                let mut val = root(Root::OldObject, Ty::Object(self.roots.object.clone()));
                val.guards = vec![Expr::Present(val.access.clone().expect("a root is a path"))];
                val
            }
            "namespace" => {
                self.reads.namespace = true;
                let ty = self
                    .roots
                    .namespace
                    .map_or(Ty::Any, |id| Ty::Object(vec![id]));
                let mut val = root(Root::Namespace, ty);
                val.guards = vec![Expr::Present(val.access.clone().expect("a root is a path"))];
                val
            }
            "request" => {
                self.reads.request = true;
                root(Root::Request, Ty::Request)
            }
            "pod" | "params" => {
                self.error(
                    Code::UnknownName,
                    span,
                    format!("`{name}` is read through its fields"),
                )
                .help = Some(if name == "pod" {
                    "write `pod.spec`, `pod.metadata` or `pod.all_containers`".into()
                } else {
                    "write `params.NAME`".into()
                });
                Val::error()
            }
            _ => {
                let mut candidates: Vec<&str> = ROOT_NAMES.to_vec();
                candidates.extend(self.scope.iter().map(|(n, _)| n.as_str()));
                let suggestion =
                    crate::suggest::closest(name, candidates.iter().copied()).map(str::to_string);
                let diagnostic =
                    self.error(Code::UnknownName, span, format!("unknown name `{name}`"));
                match suggestion {
                    Some(s) => {
                        diagnostic.help = Some(format!("did you mean `{s}`?"));
                        diagnostic.edit = Some(crate::diagnostic::Edit { span, replacement: s });
                    }
                    None => {
                        diagnostic.help = Some("roots are object, old, pod, namespace, request and params; loop variables come from `for`, `any` and `all`".into())
                    }
                }
                Val::error()
            }
        }
    }

    fn field(&mut self, base: &ast::Expr, field: &ast::Ident) -> Val {
        // Roots whose fields are not schema fields.
        if let ExprKind::Name(root) = &base.kind {
            if self.lookup(root).is_none() {
                match root.as_str() {
                    "pod" => return self.pod_field(field),
                    "params" => return self.param_field(field),
                    _ => {}
                }
            }
        }
        let base_val = self.value(base);
        if base_val.ty == Ty::Error {
            return Val::error();
        }
        let Some(access) = base_val.access.clone() else {
            self.error(
                Code::TypeMismatch,
                field.span,
                format!("`.{}` can only follow a field path", field.name),
            );
            return Val::error();
        };
        let ty = match &base_val.ty {
            Ty::Object(ids) => {
                let mut found: Option<Ty> = None;
                // How every kind that declares the field encodes it, when they agree.
                let mut encoding: Option<Encoding> = None;
                for id in ids {
                    if let Some(f) = self.schema.field(*id, &field.name) {
                        let ty = Ty::from_field(&f.ty);
                        encoding = match encoding {
                            Some(e) if e != f.encoding => Some(Encoding::AsWritten),
                            _ => Some(f.encoding),
                        };
                        found = Some(match found {
                            None => ty,
                            Some(prev) => merge(prev, ty),
                        });
                    }
                }
                let Some(ty) = found else {
                    self.unknown_field(ids, field);
                    return Val::error();
                };
                let mut access = access;
                access.steps.push(Step::Field(field.name.clone()));
                return match (encoding, zero_value(&ty)) {
                    (Some(Encoding::PlainValue), Some(zero)) => {
                        Val::plain(base_val.guards, access, ty, zero)
                    }
                    (Some(Encoding::ValueStruct), _) => Val {
                        // Present wherever its parent is: the parent's guards are its own.
                        expr: Expr::Value(access.clone()),
                        access: Some(access),
                        guards: base_val.guards,
                        ty,
                        constant: None,
                    },
                    _ => extend(base_val.guards, access, ty, false),
                };
            }
            Ty::Request => {
                let (steps, ty): (&[&str], Ty) = match field.name.as_str() {
                    "operation" => (&["operation"], Ty::Str),
                    "user" => (&["userInfo", "username"], Ty::Str),
                    "groups" => (&["userInfo", "groups"], Ty::List(Box::new(Ty::Str))),
                    "namespace" => (&["namespace"], Ty::Str),
                    "name" => (&["name"], Ty::Str),
                    other => {
                        let options = ["operation", "user", "groups", "namespace", "name"];
                        let suggestion = crate::suggest::closest(other, options);
                        self.error(
                            Code::UnknownField,
                            field.span,
                            format!("the request has no field `{other}`"),
                        )
                        .help = Some(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => {
                                "request fields are operation, user, groups, namespace and name"
                                    .into()
                            }
                        });
                        return Val::error();
                    }
                };
                let mut access = access;
                access
                    .steps
                    .extend(steps.iter().map(|s| Step::Field(s.to_string())));
                let never_absent = field.name == "operation";
                return extend(base_val.guards, access, ty, never_absent);
            }
            Ty::Any => Ty::Any,
            Ty::Record(fields) => match fields.iter().find(|(name, _)| name == &field.name) {
                Some((_, ty)) => ty.clone(),
                None => {
                    let suggestion = crate::suggest::closest(
                        &field.name,
                        fields.iter().map(|(n, _)| n.as_str()),
                    )
                    .map(str::to_string);
                    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its fields are {}", names.join(", ")),
                    };
                    self.error(
                        Code::UnknownField,
                        field.span,
                        format!("`{}` is not a field of the record", field.name),
                    )
                    .help = Some(help);
                    return Val::error();
                }
            },
            other => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::UnknownField,
                    field.span,
                    format!("{described} has no fields"),
                )
                .help = Some(match other {
                    Ty::Map(_) => format!("maps are indexed: `[\"{}\"]`", field.name),
                    Ty::List(_) => "iterate lists with `for x in …` or `any x in …:`".into(),
                    _ => "remove the field access".into(),
                });
                return Val::error();
            }
        };
        let mut access = access;
        access.steps.push(Step::Field(field.name.clone()));
        extend(base_val.guards, access, ty, false)
    }

    fn unknown_field(&mut self, ids: &[TypeId], field: &ast::Ident) {
        let mut names: Vec<&str> = Vec::new();
        for id in ids {
            names.extend(
                self.schema
                    .object(*id)
                    .fields
                    .iter()
                    .map(|f| f.name.as_str()),
            );
        }
        let suggestion =
            crate::suggest::closest(&field.name, names.iter().copied()).map(str::to_string);
        let type_names: Vec<&str> = ids
            .iter()
            .map(|id| crate::check::types::short_type_name(&self.schema.object(*id).name))
            .collect();
        let diagnostic = self.error(
            Code::UnknownField,
            field.span,
            format!(
                "`{}` is not a field of {}",
                field.name,
                type_names.join(" or ")
            ),
        );
        match suggestion {
            Some(s) => {
                diagnostic.help = Some(format!("did you mean `{s}`?"));
                diagnostic.edit = Some(crate::diagnostic::Edit {
                    span: field.span,
                    replacement: s,
                });
            }
            None => {
                let mut sorted = names;
                sorted.sort();
                sorted.dedup();
                let shown: Vec<&str> = sorted.into_iter().take(12).collect();
                diagnostic.help = Some(format!("fields here include {}", shown.join(", ")));
            }
        }
    }

    fn pod_field(&mut self, field: &ast::Ident) -> Val {
        let Some(pod) = self.roots.pod else {
            let kinds = self.roots.non_pod_kinds.join(", ");
            self.error(
                Code::PodOutsideWorkloads,
                field.span,
                format!(
                    "`pod` is only defined for pod kinds, but this guardrail also matches {kinds}"
                ),
            )
            .help = Some(
                "match `workloads` (or only pod kinds), or read the object through `object`".into(),
            );
            return Val::error();
        };
        self.reads_pod = true;
        let root = |root: Root| Access {
            root,
            steps: Vec::new(),
        };
        match field.name.as_str() {
            "spec" => Val::path(root(Root::PodSpec), Ty::Object(vec![pod.spec]), false),
            "metadata" => Val::path(
                root(Root::PodMetadata),
                Ty::Object(vec![pod.metadata]),
                false,
            ),
            "all_containers" => Val::path(
                root(Root::AllContainers),
                Ty::List(Box::new(Ty::Object(vec![pod.container, pod.ephemeral]))),
                true,
            ),
            other => {
                let suggestion =
                    crate::suggest::closest(other, ["spec", "metadata", "all_containers"]);
                self.error(
                    Code::UnknownField,
                    field.span,
                    format!("`pod` has no field `{other}`"),
                )
                .help = Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`pod` has spec, metadata and all_containers; containers are `pod.spec.containers`".into(),
                });
                Val::error()
            }
        }
    }

    fn param_field(&mut self, field: &ast::Ident) -> Val {
        match self.lookup(&field.name).cloned() {
            Some(Binding::Param(ty)) => Val::path(
                Access {
                    root: Root::Param(field.name.clone()),
                    steps: Vec::new(),
                },
                ty,
                true,
            ),
            _ => {
                let params: Vec<&str> = self
                    .scope
                    .iter()
                    .filter(|(_, b)| matches!(b, Binding::Param(_)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let suggestion = crate::suggest::closest(&field.name, params.iter().copied())
                    .map(str::to_string);
                let diagnostic = self.error(
                    Code::UnknownName,
                    field.span,
                    format!("no param named `{}`", field.name),
                );
                diagnostic.help = Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it: `param {}: string = \"…\"`", field.name),
                });
                Val::error()
            }
        }
    }

    fn index(&mut self, base: &ast::Expr, index: &ast::Expr, span: Span) -> Val {
        let base_val = self.value(base);
        let index_val = self.value(index);
        if base_val.ty == Ty::Error || index_val.ty == Ty::Error {
            return Val::error();
        }
        let Some(access) = base_val.access.clone() else {
            self.error(
                Code::TypeMismatch,
                span,
                "only field paths can be indexed".into(),
            );
            return Val::error();
        };
        let mut key_guards = Vec::new();
        let (step, ty) = match (&base_val.ty, &index_val.constant) {
            (Ty::Map(values), Some(Literal::String(key))) => {
                (Step::Key(key.clone()), (**values).clone())
            }
            (Ty::Any, Some(Literal::String(key))) => (Step::Key(key.clone()), Ty::Any),
            (Ty::Map(_) | Ty::Any, None)
                if matches!(index_val.ty, Ty::Str | Ty::Any | Ty::IntOrString) =>
            {
                // A key known only at run time: its own guards (presence, type) come first.
                key_guards = index_val.guards.clone();
                if index_val.ty != Ty::Str {
                    key_guards.push(Expr::IsType {
                        value: Box::new(index_val.expr.clone()),
                        ty: ValueType::String,
                    });
                }
                let ty = match &base_val.ty {
                    Ty::Map(values) => (**values).clone(),
                    _ => Ty::Any,
                };
                (Step::Lookup(Box::new(index_val.expr.clone())), ty)
            }
            (Ty::List(items), Some(Literal::Int(n))) if *n >= 0 && *n <= u32::MAX as i64 => {
                (Step::Index(*n as u32), (**items).clone())
            }
            (Ty::Any, Some(Literal::Int(n))) if *n >= 0 && *n <= u32::MAX as i64 => {
                (Step::Index(*n as u32), Ty::Any)
            }
            (Ty::Map(_) | Ty::List(_) | Ty::Any, _) => {
                self.error(
                    Code::TypeMismatch,
                    index.span,
                    "an index must be a string (maps) or a non-negative integer literal (lists)"
                        .into(),
                )
                .help = Some("use a `let` bound to a literal, or iterate with `for`".into());
                return Val::error();
            }
            (other, _) => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::TypeMismatch,
                    base.span,
                    format!("{described} cannot be indexed"),
                )
                .help = Some("index maps such as `metadata.labels[\"team\"]` and lists such as `containers[0]`".into());
                return Val::error();
            }
        };
        let mut access = access;
        access.steps.push(step);
        self.container_by_index(&ty, span);
        let mut guards = base_val.guards;
        guards.extend(key_guards);
        extend(guards, access, ty, false)
    }

    /// `m.keys()`: the keys of a map as a list of strings; an absent map has none.
    fn keys(&mut self, receiver: &ast::Expr, args: &[ast::Expr], span: Span) -> Val {
        if !args.is_empty() {
            self.error(
                Code::WrongArgumentCount,
                span,
                "`keys` takes no arguments".into(),
            );
        }
        let val = self.value(receiver);
        match &val.ty {
            Ty::Map(_) => {}
            Ty::Error => return Val::error(),
            other => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::TypeMismatch,
                    receiver.span,
                    format!("`keys` applies to maps, not to {described}"),
                )
                .help = Some("maps are fields such as `metadata.annotations`".into());
                return Val::error();
            }
        }
        let map = match (val.access.clone(), only_own_presence(&val)) {
            (Some(access), true) if !val.guards.is_empty() => Expr::ValueOr {
                access,
                fallback: Literal::Map(Vec::new()),
            },
            (_, true) if val.guards.is_empty() => val.expr.clone(),
            _ => {
                self.error(
                    Code::TypeMismatch,
                    receiver.span,
                    "`keys` needs a map read through fields and keys that are always present"
                        .into(),
                );
                return Val::error();
            }
        };
        Val {
            expr: Expr::Keys(Box::new(map)),
            access: None,
            guards: Vec::new(),
            ty: Ty::List(Box::new(Ty::Str)),
            constant: None,
        }
    }

    /// `s.trim_prefix(x)`, `s.trim_suffix(x)`: a string, defined where both operands are.
    fn string_fn(
        &mut self,
        receiver: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Val {
        let op = string_fn(&name.name).expect("caller checked the name");
        if args.len() != 1 {
            self.error(
                Code::WrongArgumentCount,
                span,
                format!("`{}` takes one argument, found {}", name.name, args.len()),
            )
            .help = Some(format!("write `s.{}(\"text\")`", name.name));
            return Val::error();
        }
        let subject = self.value(receiver);
        let arg = self.value(&args[0]);
        if subject.ty == Ty::Error || arg.ty == Ty::Error {
            return Val::error();
        }
        let mut type_guards = Vec::new();
        self.expect_string(&subject, receiver.span, &mut type_guards);
        self.expect_string(&arg, args[0].span, &mut type_guards);
        let mut guards = subject.guards;
        guards.extend(arg.guards);
        guards.extend(type_guards);
        dedup(&mut guards);
        Val {
            expr: Expr::StringFn {
                op,
                subject: Box::new(subject.expr),
                arg: Box::new(arg.expr),
            },
            access: None,
            guards,
            ty: Ty::Str,
            constant: None,
        }
    }

    /// The element type of something iterated, with a diagnostic when it is not a list.
    pub fn element_type(&mut self, val: &Val, span: Span) -> Ty {
        match &val.ty {
            Ty::List(inner) => (**inner).clone(),
            Ty::Error | Ty::Any => Ty::Any,
            other => {
                let described = other.describe(self.schema);
                self.error(
                    Code::NotAList,
                    span,
                    format!("expected a list, found {described}"),
                )
                .help = Some(match other {
                    Ty::Map(_) => "maps are indexed by key, e.g. `labels[\"team\"]`".into(),
                    _ => "iterate over a list such as `pod.all_containers`".into(),
                });
                Ty::Error
            }
        }
    }

    /// The list expression of a loop: absent lists iterate nothing.
    pub fn iterable(&mut self, val: Val, span: Span) -> Expr {
        if val.access.is_some() && !only_own_presence(&val) {
            self.error(
                Code::TypeMismatch,
                span,
                "this list is read with a key that may be absent, so it cannot be iterated".into(),
            )
            .help = Some(
                "read the key from a value that is always present, such as a loop variable".into(),
            );
            return Expr::Literal(Literal::List(Vec::new()));
        }
        iterable_path(val)
    }

    /// A message placeholder: a scalar that is never absent.
    pub fn template_value(&mut self, expr: &ast::Expr) -> Expr {
        let val = self.value(expr);
        if !val.ty.is_scalar() {
            let described = val.ty.with_article(self.schema);
            self.error(
                Code::NotInterpolatable,
                expr.span,
                format!("a message cannot print {described}"),
            )
            .help = Some("print a scalar field, such as `{c.name}`".into());
            return Expr::Literal(Literal::String(String::new()));
        }
        let own_presence = only_own_presence(&val);
        if let (Some((zero, _)), true) = (val.plain_zero(), own_presence) {
            // As the API server stores it: the zero value, also when the parent is absent.
            let zero = zero.clone();
            return Expr::ValueOr {
                access: val.access.expect("a plain value is a path"),
                fallback: zero,
            };
        }
        match (val.access, val.guards.is_empty()) {
            (_, true) => val.expr,
            (Some(access), false) if own_presence => Expr::ValueOr {
                access,
                fallback: Literal::String("<missing>".into()),
            },
            (Some(_), false) => {
                self.error(
                    Code::NotInterpolatable,
                    expr.span,
                    "a message cannot print a map value whose key may be absent".into(),
                )
                .help = Some(
                    "print the key instead, or read the key from a value that is always present"
                        .into(),
                );
                Expr::Literal(Literal::String(String::new()))
            }
            (None, false) => {
                self.error(
                    Code::NotInterpolatable,
                    expr.span,
                    "a message can print a field or a constant, not a computed value that may be absent".into(),
                );
                Expr::Literal(Literal::String(String::new()))
            }
        }
    }
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
