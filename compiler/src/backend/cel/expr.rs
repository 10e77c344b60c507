//! Printing IR expressions as CEL, with the fewest parentheses that keep the meaning.

use super::escape::{property_selector, string_literal, variable_name};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{
    self, Access, CompareOp, Domain, Expr, Literal, ParamValue, Quantifier, Root, Step, StringFn,
    StringOp, Template, TemplatePart, ValueType,
};
use crate::kube::{CelLibrary, KubeVersion};
use crate::span::Span;

/// CEL binding strength, weakest first: an operand printed at a weaker level than its
/// position needs is parenthesised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Prec {
    /// `c ? a : b`
    Conditional,
    /// `a || b`
    Or,
    /// `a && b`
    And,
    /// `== != < <= > >= in`
    Relation,
    /// `a + b`
    Additive,
    /// `!a`, `-1`
    Unary,
    /// literals, names, `a.b`, `a[0]`, calls
    Member,
}

/// Printed CEL text and how strongly its outermost operator binds.
#[derive(Clone, Debug)]
pub(super) struct Printed {
    pub text: String,
    pub prec: Prec,
}

impl Printed {
    fn new(text: impl Into<String>, prec: Prec) -> Printed {
        Printed {
            text: text.into(),
            prec,
        }
    }

    /// The text, parenthesised unless it binds at least as strongly as `min`.
    pub fn at(self, min: Prec) -> String {
        if self.prec >= min {
            self.text
        } else {
            format!("({})", self.text)
        }
    }
}

/// Prints expressions for one policy: knows the param values to inline and the Kubernetes
/// version that gates library functions, and collects what could not be printed.
pub(super) struct ExprPrinter<'a> {
    kube: KubeVersion,
    params: &'a [ParamValue],
    /// Where diagnostics point: the span of the rule being printed.
    pub span: Span,
    pub diagnostics: Vec<Diagnostic>,
    /// The pod variables the policy defines, when printing a whole policy: reading another
    /// one is an inconsistent IR.
    pub pod_view: Option<ir::PodReads>,
}

impl<'a> ExprPrinter<'a> {
    pub fn new(kube: KubeVersion, params: &'a [ParamValue]) -> ExprPrinter<'a> {
        ExprPrinter {
            kube,
            params,
            span: Span::default(),
            diagnostics: Vec::new(),
            pod_view: None,
        }
    }

    pub fn expr(&mut self, expr: &Expr) -> Printed {
        match expr {
            Expr::Literal(literal) => literal_text(literal),
            Expr::List(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|item| self.expr(item).at(Prec::Conditional))
                    .collect();
                Printed::new(format!("[{}]", items.join(", ")), Prec::Member)
            }
            Expr::Value(access) => self.path(access),
            Expr::ValueOr { access, fallback } => self.value_or(access, literal_text(fallback)),
            Expr::Present(access) => self.presence(access),
            Expr::IsType { value, ty } => self.is_type(value, *ty),
            Expr::Not(operand) => self.not(operand),
            Expr::And(operands) => self.chain(operands, "&&", Prec::And, true),
            Expr::Or(operands) => self.chain(operands, "||", Prec::Or, false),
            Expr::Compare {
                op,
                domain,
                lhs,
                rhs,
            } => self.compare(*op, *domain, lhs, rhs),
            Expr::StringTest { op, subject, arg } => {
                let name = match op {
                    StringOp::StartsWith => "startsWith",
                    StringOp::EndsWith => "endsWith",
                    StringOp::Contains => "contains",
                    StringOp::Matches => "matches",
                };
                let subject = self.expr(subject);
                let arg = self.expr(arg).at(Prec::Conditional);
                self.call(None, Some(subject), name, &[arg])
            }
            Expr::InList { item, list } => {
                let item = self.expr(item).at(Prec::Additive);
                let list = self.expr(list).at(Prec::Additive);
                Printed::new(format!("{item} in {list}"), Prec::Relation)
            }
            Expr::Size(value) => {
                let value = self.expr(value).at(Prec::Conditional);
                self.call(None, None, "size", &[value])
            }
            // A map in the places lowering puts `Keys` (a comprehension's range, the right of
            // `in`, `size`) stands for its keys in CEL.
            Expr::Keys(map) => self.expr(map),
            Expr::StringFn { op, subject, arg } => self.string_fn(*op, subject, arg),
            Expr::Quantified {
                quantifier,
                var,
                list,
                body,
            } => {
                let name = match quantifier {
                    Quantifier::Any => "exists",
                    Quantifier::All => "all",
                };
                let list = self.expr(list);
                let body = self.expr(body).at(Prec::Conditional);
                self.call(None, Some(list), name, &[variable_name(var), body])
            }
        }
    }

    /// Every function and macro call goes through here, so that a function from a Kubernetes
    /// CEL library is printed only when the target version has that library.
    pub fn call(
        &mut self,
        library: Option<CelLibrary>,
        receiver: Option<Printed>,
        function: &str,
        args: &[String],
    ) -> Printed {
        if let Some(library) = library {
            if !library.available(self.kube) {
                let diagnostic = Diagnostic::new(
                    Code::KubeVersionTooOld,
                    self.span,
                    format!(
                        "`{function}` needs kubernetes {} but the target is {}",
                        library.since(),
                        self.kube
                    ),
                )
                .with_help(format!(
                    "set `kube_version` to {} or newer, or avoid this construct",
                    library.since()
                ));
                if !self.diagnostics.contains(&diagnostic) {
                    self.diagnostics.push(diagnostic);
                }
            }
        }
        let args = args.join(", ");
        let text = match receiver {
            Some(receiver) => format!("{}.{function}({args})", receiver.at(Prec::Member)),
            None => format!("{function}({args})"),
        };
        Printed::new(text, Prec::Member)
    }

    /// The plain field path of an access.
    pub fn path(&mut self, access: &Access) -> Printed {
        let mut path = self.root(&access.root);
        for step in &access.steps {
            path = self.step(path, step);
        }
        path
    }

    /// `guard ? path : fallback`, or the bare path when nothing can be absent.
    pub fn value_or(&mut self, access: &Access, fallback: Printed) -> Printed {
        let guard = self.presence(access);
        let path = self.path(access);
        if guard.text == "true" {
            return path;
        }
        conditional(guard, path, fallback)
    }

    /// One test per step, outermost first, each safe once the ones before it hold:
    /// `root != null` for a nullable root, `has(p.f)` for a field, `"k" in p` for a key,
    /// `size(p) > n` for an index.
    pub fn presence(&mut self, access: &Access) -> Printed {
        let mut tests: Vec<Printed> = Vec::new();
        let mut prefix = self.root(&access.root);
        if access.root.is_nullable() {
            tests.push(Printed::new(
                format!("{} != null", prefix.clone().at(Prec::Additive)),
                Prec::Relation,
            ));
        }
        for step in &access.steps {
            let test = match step {
                Step::Field(name) if property_selector(name).is_some() => {
                    let selected = self.step(prefix.clone(), step).text;
                    self.call(None, None, "has", &[selected])
                }
                Step::Field(key) | Step::Key(key) => Printed::new(
                    format!(
                        "{} in {}",
                        string_literal(key),
                        prefix.clone().at(Prec::Additive)
                    ),
                    Prec::Relation,
                ),
                Step::Lookup(key) => {
                    let key = self.expr(key).at(Prec::Additive);
                    Printed::new(
                        format!("{key} in {}", prefix.clone().at(Prec::Additive)),
                        Prec::Relation,
                    )
                }
                Step::Index(index) => {
                    let size = self.call(None, None, "size", &[prefix.clone().text]);
                    Printed::new(format!("{} > {index}", size.text), Prec::Relation)
                }
            };
            tests.push(test);
            prefix = self.step(prefix, step);
        }
        match tests.len() {
            0 => Printed::new("true", Prec::Member),
            1 => tests.remove(0),
            _ => {
                let texts: Vec<String> = tests.into_iter().map(|t| t.at(Prec::And)).collect();
                Printed::new(texts.join(" && "), Prec::And)
            }
        }
    }

    /// A message as a concatenation of string literals and `string(value)` calls.
    pub fn template(&mut self, template: &Template) -> Printed {
        let mut parts: Vec<String> = Vec::new();
        for part in &template.parts {
            match part {
                TemplatePart::Text(text) if text.is_empty() => {}
                TemplatePart::Text(text) => parts.push(string_literal(text)),
                TemplatePart::Value(value) => {
                    let value = self.expr(value).at(Prec::Conditional);
                    parts.push(self.call(None, None, "string", &[value]).text);
                }
            }
        }
        match parts.len() {
            0 => Printed::new(string_literal(""), Prec::Member),
            1 => Printed::new(parts.remove(0), Prec::Member),
            _ => Printed::new(parts.join(" + "), Prec::Additive),
        }
    }

    fn root(&mut self, root: &Root) -> Printed {
        let name = match root {
            Root::Object => "object".to_string(),
            Root::OldObject => "oldObject".to_string(),
            Root::Namespace => "namespaceObject".to_string(),
            Root::Request => "request".to_string(),
            Root::PodSpec | Root::PodMetadata | Root::AllContainers => {
                let (name, defined) = match root {
                    Root::PodSpec => ("podSpec", self.pod_view.map(|r| r.spec)),
                    Root::PodMetadata => ("podMetadata", self.pod_view.map(|r| r.metadata)),
                    _ => ("allContainers", self.pod_view.map(|r| r.all_containers)),
                };
                // Without a policy (one expression on its own) there is no view to check.
                if defined == Some(false) {
                    self.internal(format!(
                        "an expression reads `variables.{name}`, which the pod view of the policy does not define"
                    ));
                }
                format!("variables.{name}")
            }
            Root::Var(name) => variable_name(name),
            Root::Param(name) => {
                let params = self.params;
                return match params.iter().find(|param| &param.name == name) {
                    Some(param) => literal_text(&param.value),
                    None => {
                        self.internal(format!("param `{name}` has no value in this environment"));
                        Printed::new("null", Prec::Member)
                    }
                };
            }
        };
        Printed::new(name, Prec::Member)
    }

    fn step(&mut self, prefix: Printed, step: &Step) -> Printed {
        let prefix = prefix.at(Prec::Member);
        let text = match step {
            Step::Field(name) => match property_selector(name) {
                Some(name) => format!("{prefix}.{name}"),
                None => format!("{prefix}[{}]", string_literal(name)),
            },
            Step::Key(key) => format!("{prefix}[{}]", string_literal(key)),
            Step::Lookup(key) => format!("{prefix}[{}]", self.expr(key).at(Prec::Conditional)),
            Step::Index(index) => format!("{prefix}[{index}]"),
        };
        Printed::new(text, Prec::Member)
    }

    fn is_type(&mut self, value: &Expr, ty: ValueType) -> Printed {
        let value = self.expr(value).at(Prec::Conditional);
        let type_name = match ty {
            ValueType::String | ValueType::Quantity => "string",
            ValueType::Int => "int",
            ValueType::Bool => "bool",
            ValueType::List => "list",
            ValueType::Map => "map",
        };
        let type_of = self.call(None, None, "type", std::slice::from_ref(&value));
        let test = format!("{} == {type_name}", type_of.text);
        if ty != ValueType::Quantity {
            return Printed::new(test, Prec::Relation);
        }
        let parses = self.call(Some(CelLibrary::Quantity), None, "isQuantity", &[value]);
        Printed::new(format!("{test} && {}", parses.text), Prec::And)
    }

    /// `s.startsWith(a) ? s.substring(size(a)) : s` and its suffix twin: the strings extension
    /// has `substring` but no trim functions.
    fn string_fn(&mut self, op: StringFn, subject: &Expr, arg: &Expr) -> Printed {
        let subject = self.expr(subject);
        let arg_text = self.expr(arg).at(Prec::Conditional);
        let arg_size = self.call(None, None, "size", std::slice::from_ref(&arg_text));
        let (test, range) = match op {
            StringFn::TrimPrefix => ("startsWith", vec![arg_size.text]),
            StringFn::TrimSuffix => {
                let subject_size =
                    self.call(None, None, "size", &[subject.clone().at(Prec::Conditional)]);
                (
                    "endsWith",
                    vec![
                        "0".to_string(),
                        format!("{} - {}", subject_size.text, arg_size.text),
                    ],
                )
            }
        };
        let test = self.call(None, Some(subject.clone()), test, &[arg_text]);
        let trimmed = self.call(
            Some(CelLibrary::StringsV2),
            Some(subject.clone()),
            "substring",
            &range,
        );
        conditional(test, trimmed, subject)
    }

    fn not(&mut self, operand: &Expr) -> Printed {
        let operand = self.expr(operand).at(Prec::Unary);
        Printed::new(format!("!{operand}"), Prec::Unary)
    }

    /// `a && b && c` / `a || b`; the empty conjunction is `true`, the empty disjunction `false`.
    fn chain(&mut self, operands: &[Expr], operator: &str, prec: Prec, empty: bool) -> Printed {
        let mut printed: Vec<Printed> = operands.iter().map(|operand| self.expr(operand)).collect();
        match printed.len() {
            0 => Printed::new(empty.to_string(), Prec::Member),
            1 => printed.remove(0),
            _ => {
                let texts: Vec<String> = printed.into_iter().map(|p| p.at(prec)).collect();
                Printed::new(texts.join(&format!(" {operator} ")), prec)
            }
        }
    }

    fn compare(&mut self, op: CompareOp, domain: Domain, lhs: &Expr, rhs: &Expr) -> Printed {
        let operator = match op {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        };
        if domain == Domain::List && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
            self.internal(format!(
                "lists are compared with `{operator}`, only `==` and `!=` are defined"
            ));
        }
        if domain != Domain::Quantity {
            let lhs = self.expr(lhs).at(Prec::Additive);
            let rhs = self.expr(rhs).at(Prec::Additive);
            return Printed::new(format!("{lhs} {operator} {rhs}"), Prec::Relation);
        }
        let lhs = self.expr(lhs).at(Prec::Conditional);
        let rhs = self.expr(rhs).at(Prec::Conditional);
        let lhs = self.call(Some(CelLibrary::Quantity), None, "quantity", &[lhs]);
        let rhs = self.call(Some(CelLibrary::Quantity), None, "quantity", &[rhs]);
        let order = self.call(
            Some(CelLibrary::Quantity),
            Some(lhs),
            "compareTo",
            &[rhs.text],
        );
        Printed::new(format!("{} {operator} 0", order.text), Prec::Relation)
    }

    pub fn internal(&mut self, message: String) {
        self.diagnostics
            .push(Diagnostic::new(Code::Internal, self.span, message));
    }
}

/// `cond ? then : otherwise`. The grammar allows only an `||`-level expression before `:`.
pub(super) fn conditional(cond: Printed, then: Printed, otherwise: Printed) -> Printed {
    Printed::new(
        format!(
            "{} ? {} : {}",
            cond.at(Prec::Or),
            then.at(Prec::Or),
            otherwise.at(Prec::Conditional)
        ),
        Prec::Conditional,
    )
}

/// A literal as a CEL constant. A quantity is its source spelling as a string; comparisons
/// wrap it in `quantity()`.
pub(super) fn literal_text(literal: &Literal) -> Printed {
    match literal {
        Literal::Bool(value) => Printed::new(value.to_string(), Prec::Member),
        Literal::Int(value) if *value < 0 => Printed::new(value.to_string(), Prec::Unary),
        Literal::Int(value) => Printed::new(value.to_string(), Prec::Member),
        Literal::String(text) | Literal::Quantity(text) => {
            Printed::new(string_literal(text), Prec::Member)
        }
        Literal::List(items) => {
            let items: Vec<String> = items.iter().map(|item| literal_text(item).text).collect();
            Printed::new(format!("[{}]", items.join(", ")), Prec::Member)
        }
        Literal::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    format!("{}: {}", string_literal(key), literal_text(value).text)
                })
                .collect();
            Printed::new(format!("{{{}}}", entries.join(", ")), Prec::Member)
        }
        Literal::Record(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    format!("{}: dyn({})", string_literal(key), literal_text(value).text)
                })
                .collect();
            Printed::new(format!("{{{}}}", entries.join(", ")), Prec::Member)
        }
    }
}
