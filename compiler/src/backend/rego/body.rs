//! Rule bodies: conditions and terms printed from IR expressions, with local names, helper
//! rules for disjunctions and negations, and the inline-`not` safety OPA needs.

use super::*;

/// One literal of a rule body.
pub(super) enum BodyLine {
    /// An expression; `not` can negate it as it is.
    Test(String),
    /// `some v in list`: binds a variable for the lines after it.
    Some(String),
    /// `every v in list { … }`.
    Every { head: String, body: Vec<BodyLine> },
}

/// Indents with spaces, not `opa fmt`'s tabs: YAML cannot hold a tab in a block scalar's
/// indentation, so tabs would turn the ConstraintTemplate's source into one quoted line.
pub(super) fn render_body(lines: &[BodyLine], depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for line in lines {
        match line {
            BodyLine::Test(text) | BodyLine::Some(text) => {
                out.push_str(&indent);
                out.push_str(text);
                out.push('\n');
            }
            BodyLine::Every { head, body } => {
                out.push_str(&format!("{indent}{head} {{\n"));
                render_body(body, depth + 1, out);
                out.push_str(&format!("{indent}}}\n"));
            }
        }
    }
}

/// A body that is never empty: Rego has no empty `{ }` body.
pub(super) fn non_empty(mut lines: Vec<BodyLine>) -> Vec<BodyLine> {
    if lines.is_empty() {
        lines.push(BodyLine::Test("true".to_string()));
    }
    lines
}

/// A variable in scope: its source name and the Rego name it prints as.
#[derive(Clone)]
pub(super) struct Binding {
    pub(super) source: String,
    pub(super) rego: String,
}

#[derive(Clone, Default)]
pub(super) struct Scope {
    pub(super) bindings: Vec<Binding>,
}

impl Scope {
    /// Binds `source`, under a Rego name no variable in scope has (Rego rejects redeclaring a
    /// variable in one body, while the source may shadow).
    pub(super) fn bind(&mut self, source: &str) -> String {
        let base = local_name(source);
        let mut rego = base.clone();
        let mut suffix = 2;
        while self.bindings.iter().any(|b| b.rego == rego) {
            rego = format!("{base}_{suffix}");
            suffix += 1;
        }
        self.bindings.push(Binding {
            source: source.to_string(),
            rego: rego.clone(),
        });
        rego
    }

    pub(super) fn lookup(&self, source: &str) -> Option<&str> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.source == source)
            .map(|b| b.rego.as_str())
    }

    /// The Rego names of the variables in scope that `expr` reads, outermost first: the
    /// arguments of a helper that holds `expr`.
    pub(super) fn arguments_for(&self, expr: &Expr) -> Vec<String> {
        let mut read = Vec::new();
        each_access(expr, &mut |access| {
            if let Root::Var(name) = &access.root {
                read.push(name.clone());
            }
        });
        let mut arguments: Vec<String> = Vec::new();
        for (position, binding) in self.bindings.iter().enumerate() {
            let innermost = !self.bindings[position + 1..]
                .iter()
                .any(|later| later.source == binding.source);
            if innermost && read.contains(&binding.source) {
                arguments.push(binding.rego.clone());
            }
        }
        arguments
    }
}

/// Whether `not` may negate the test `expr` prints as in place. OPA (v1.10, inside Gatekeeper
/// and conftest) makes an inline `not` over a builtin call (`!=`, `<`, `in`, `startswith`,
/// `count(…) > 0`, …) whose operand is undefined undefined itself, so the body fails, where
/// regorus says true (engine-facts/rego-opa.json, `negation-undefined` and `emitted-pattern`:
/// `not c.securityContext.seccompProfile.type != null` never fires on a missing field). Only a
/// unification of plain references and literals (`not x == v`), a boolean reference
/// (`not x == true`) and a constant keep one meaning; anything else goes through a helper rule,
/// whose `not` OPA and regorus read alike. `lint::unsafe_negations` checks the printed modules.
pub(super) fn negation_is_inline_safe(expr: &Expr) -> bool {
    pub(super) fn plain(expr: &Expr) -> bool {
        match expr {
            Expr::Literal(_) => true,
            Expr::List(items) => items.iter().all(plain),
            Expr::Value(access) => access.steps.iter().all(|step| match step {
                Step::Lookup(key) => plain(key),
                Step::Field(_) | Step::Key(_) | Step::Index(_) => true,
            }),
            _ => false,
        }
    }
    match expr {
        Expr::Literal(Literal::Bool(_)) => true,
        Expr::Value(_) => plain(expr),
        Expr::Compare {
            op: CompareOp::Eq,
            domain,
            lhs,
            rhs,
        } => *domain != Domain::Quantity && plain(lhs) && plain(rhs),
        // An alternative of two or more prints as a call of its helper.
        Expr::Or(items) => match items.as_slice() {
            [only] => negation_is_inline_safe(only),
            _ => true,
        },
        _ => false,
    }
}

/// Helper definitions printed after the rule that calls them, named by the rule and a counter.
pub(super) struct HelperSink {
    pub(super) prefix: String,
    pub(super) count: usize,
    pub(super) definitions: String,
}

impl HelperSink {
    pub(super) fn new(prefix: String) -> HelperSink {
        HelperSink {
            prefix,
            count: 0,
            definitions: String::new(),
        }
    }

    /// Defines a helper that holds when any of `bodies` holds, and returns the expression
    /// that calls it: a function of `arguments`, or a plain rule when there are none.
    pub(super) fn define(
        &mut self,
        kind: &str,
        arguments: &[String],
        bodies: Vec<Vec<BodyLine>>,
    ) -> String {
        self.count += 1;
        let name = format!("{}_{kind}_{}", self.prefix, self.count);
        let call = if arguments.is_empty() {
            name
        } else {
            format!("{name}({})", arguments.join(", "))
        };
        for body in bodies {
            self.definitions.push_str(&format!("\n{call} if {{\n"));
            render_body(&non_empty(body), 1, &mut self.definitions);
            self.definitions.push_str("}\n");
        }
        call
    }
}

/// IR that lowering should never produce; becomes a [`Code::Internal`] diagnostic at the rule.
pub(super) struct Inconsistency(pub(super) String);

impl Inconsistency {
    pub(super) fn at(self, span: Span) -> Diagnostic {
        Diagnostic::new(Code::Internal, span, self.0)
    }
}

/// Prints the expressions of one rule (or exemption) body.
pub(super) struct BodyPrinter<'p> {
    pub(super) policy: &'p Policy,
    pub(super) flavour: RegoFlavour,
}

impl BodyPrinter<'_> {
    pub(super) fn internal(&self, message: String) -> Inconsistency {
        Inconsistency(message)
    }

    pub(super) fn params(&self) -> &'static str {
        match self.flavour {
            RegoFlavour::Gatekeeper => "input.parameters",
            RegoFlavour::Opa => "params",
        }
    }

    /// The reference a root prints as.
    pub(super) fn root(&self, root: &Root, scope: &Scope) -> Result<String, Inconsistency> {
        let gatekeeper = self.flavour == RegoFlavour::Gatekeeper;
        Ok(match root {
            Root::Object if gatekeeper => "input.review.object".to_string(),
            Root::Object => "input".to_string(),
            Root::OldObject if gatekeeper => "input.review.oldObject".to_string(),
            Root::OldObject => format!("{OPA_REVIEW_DATA}.oldObject"),
            Root::Namespace if gatekeeper => "namespace_object".to_string(),
            Root::Namespace => format!("{OPA_REVIEW_DATA}.namespaceObject"),
            Root::Request if gatekeeper => "input.review".to_string(),
            Root::Request => OPA_REVIEW_DATA.to_string(),
            Root::PodSpec | Root::PodMetadata | Root::AllContainers => {
                let reads = self.policy.pod.as_ref().map(|pod| pod.reads);
                let (name, defined) = match root {
                    Root::PodSpec => ("pod_spec", reads.is_some_and(|r| r.spec)),
                    Root::PodMetadata => ("pod_metadata", reads.is_some_and(|r| r.metadata)),
                    _ => ("all_containers", reads.is_some_and(|r| r.all_containers)),
                };
                if !defined {
                    return Err(self.internal(format!(
                        "an expression reads `{name}`, which the pod view of the policy does not define"
                    )));
                }
                name.to_string()
            }
            Root::Param(name) => {
                if !self.policy.params.iter().any(|param| &param.name == name) {
                    return Err(self.internal(format!("param `{name}` has no value")));
                }
                format!("{}{}", self.params(), field_text(name))
            }
            Root::Var(name) => match scope.lookup(name) {
                Some(rego) => rego.to_string(),
                None => return Err(self.internal(format!("variable `{name}` is not bound"))),
            },
        })
    }

    pub(super) fn reference(
        &self,
        access: &Access,
        scope: &Scope,
    ) -> Result<String, Inconsistency> {
        let mut text = self.root(&access.root, scope)?;
        for step in &access.steps {
            text.push_str(&match step {
                Step::Field(name) => field_text(name),
                Step::Key(key) => format!("[{}]", string_literal(key)),
                Step::Lookup(key) => format!("[{}]", self.term(key, scope)?),
                Step::Index(index) => format!("[{index}]"),
            });
        }
        Ok(text)
    }

    /// Module rules may be null (pod view, namespace) or a list (containers): `object.get`
    /// reads them wrapped in an object, so that it always has one.
    pub(super) fn module_rule_anchor(
        &self,
        root: &Root,
        scope: &Scope,
    ) -> Result<(String, Vec<String>), Inconsistency> {
        let rule = self.root(root, scope)?;
        let key = string_literal(&rule);
        Ok((format!("{{{key}: {rule}}}"), vec![key]))
    }

    /// `object.get` from an anchor that is an object whenever the policy runs, with the
    /// root's own path prepended, so a missing or null root gives the fallback as well.
    pub(super) fn value_or(
        &self,
        access: &Access,
        fallback: &Literal,
        scope: &Scope,
    ) -> Result<String, Inconsistency> {
        let gatekeeper = self.flavour == RegoFlavour::Gatekeeper;
        let review = |field: &str| ("input.review".to_string(), vec![string_literal(field)]);
        let opa_review = |field: &str| (OPA_REVIEW_DATA.to_string(), vec![string_literal(field)]);
        let (anchor, mut path): (String, Vec<String>) = match &access.root {
            Root::Object if gatekeeper => review("object"),
            Root::OldObject if gatekeeper => review("oldObject"),
            Root::Namespace if gatekeeper => self.module_rule_anchor(&access.root, scope)?,
            Root::Request if gatekeeper => ("input.review".to_string(), Vec::new()),
            Root::Object => ("input".to_string(), Vec::new()),
            Root::OldObject => opa_review("oldObject"),
            Root::Namespace => opa_review("namespaceObject"),
            Root::Request => (OPA_REVIEW_DATA.to_string(), Vec::new()),
            Root::Param(name) => {
                // Checks that the param has a value.
                self.root(&access.root, scope)?;
                (self.params().to_string(), vec![string_literal(name)])
            }
            Root::PodSpec | Root::PodMetadata | Root::AllContainers => {
                self.module_rule_anchor(&access.root, scope)?
            }
            Root::Var(_) if access.steps.is_empty() => return self.root(&access.root, scope),
            Root::Var(_) => (self.root(&access.root, scope)?, Vec::new()),
        };
        for step in &access.steps {
            path.push(match step {
                Step::Field(name) | Step::Key(name) => string_literal(name),
                Step::Lookup(key) => self.term(key, scope)?,
                Step::Index(index) => index.to_string(),
            });
        }
        Ok(format!(
            "object.get({anchor}, [{}], {})",
            path.join(", "),
            literal_text(fallback)
        ))
    }

    /// An expression that yields a value (not a test).
    pub(super) fn term(&self, expr: &Expr, scope: &Scope) -> Result<String, Inconsistency> {
        match expr {
            Expr::Literal(literal) => Ok(literal_text(literal)),
            Expr::List(items) => {
                let items: Result<Vec<String>, Inconsistency> =
                    items.iter().map(|item| self.term(item, scope)).collect();
                Ok(format!("[{}]", items?.join(", ")))
            }
            Expr::Value(access) => self.reference(access, scope),
            Expr::ValueOr { access, fallback } => self.value_or(access, fallback, scope),
            Expr::Size(inner) => Ok(format!("count({})", self.term(inner, scope)?)),
            Expr::Keys(map) => Ok(format!("object.keys({})", self.term(map, scope)?)),
            Expr::StringFn { op, subject, arg } => {
                let function = match op {
                    StringFn::TrimPrefix => "trim_prefix",
                    StringFn::TrimSuffix => "trim_suffix",
                };
                Ok(format!(
                    "{function}({}, {})",
                    self.term(subject, scope)?,
                    self.term(arg, scope)?
                ))
            }
            _ => Err(self.internal("a test where a value is expected".to_string())),
        }
    }

    /// The body lines that hold exactly when `expr` is true.
    pub(super) fn condition(
        &self,
        expr: &Expr,
        scope: &Scope,
        helpers: &mut HelperSink,
    ) -> Result<Vec<BodyLine>, Inconsistency> {
        let test = |text: String| Ok(vec![BodyLine::Test(text)]);
        match expr {
            Expr::Literal(Literal::Bool(value)) => test(value.to_string()),
            // `== true`: a bare reference would also hold for any value but `false`.
            Expr::Value(access) => test(format!("{} == true", self.reference(access, scope)?)),
            Expr::Present(access) => test(format!("{} != null", self.reference(access, scope)?)),
            Expr::IsType { value, ty } => {
                let value = self.term(value, scope)?;
                let check = |function: &str| BodyLine::Test(format!("{function}({value})"));
                Ok(match ty {
                    ValueType::String => vec![check("is_string")],
                    ValueType::Int => vec![check("is_number")],
                    ValueType::Bool => vec![check("is_boolean")],
                    ValueType::List => vec![check("is_array")],
                    ValueType::Map => vec![check("is_object")],
                    ValueType::Quantity => {
                        vec![BodyLine::Test(format!(
                            "is_number(quantity_value({value}))"
                        ))]
                    }
                })
            }
            Expr::Not(inner) => {
                let lines = self.condition(inner, scope, helpers)?;
                match lines.as_slice() {
                    [BodyLine::Test(text)] if negation_is_inline_safe(inner) => {
                        test(format!("not {text}"))
                    }
                    _ => {
                        let arguments = scope.arguments_for(inner);
                        let call = helpers.define("not", &arguments, vec![lines]);
                        test(format!("not {call}"))
                    }
                }
            }
            Expr::And(items) => {
                let mut lines = Vec::new();
                for item in items {
                    lines.extend(self.condition(item, scope, helpers)?);
                }
                Ok(lines)
            }
            Expr::Or(items) => match items.as_slice() {
                [] => test("false".to_string()),
                [only] => self.condition(only, scope, helpers),
                _ => {
                    let mut bodies = Vec::new();
                    for item in items {
                        bodies.push(self.condition(item, scope, helpers)?);
                    }
                    let arguments = scope.arguments_for(expr);
                    test(helpers.define("or", &arguments, bodies))
                }
            },
            Expr::Compare {
                op,
                domain,
                lhs,
                rhs,
            } => {
                let (mut lhs, mut rhs) = (self.term(lhs, scope)?, self.term(rhs, scope)?);
                if *domain == Domain::Quantity {
                    lhs = format!("quantity_value({lhs})");
                    rhs = format!("quantity_value({rhs})");
                }
                let op = match op {
                    CompareOp::Eq => "==",
                    CompareOp::Ne => "!=",
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                };
                test(format!("{lhs} {op} {rhs}"))
            }
            Expr::StringTest { op, subject, arg } => {
                let (subject, arg) = (self.term(subject, scope)?, self.term(arg, scope)?);
                test(match op {
                    StringOp::StartsWith => format!("startswith({subject}, {arg})"),
                    StringOp::EndsWith => format!("endswith({subject}, {arg})"),
                    StringOp::Contains => format!("contains({subject}, {arg})"),
                    StringOp::Matches => format!("regex.match({arg}, {subject})"),
                })
            }
            Expr::InList { item, list } => test(format!(
                "{} in {}",
                self.term(item, scope)?,
                self.term(list, scope)?
            )),
            Expr::Quantified {
                quantifier,
                var,
                list,
                body,
            } => {
                let list = self.term(list, scope)?;
                let mut inner = scope.clone();
                let var = inner.bind(var);
                let body = self.condition(body, &inner, helpers)?;
                Ok(match quantifier {
                    Quantifier::Any => {
                        let mut lines = vec![BodyLine::Some(format!("some {var} in {list}"))];
                        lines.extend(body);
                        lines
                    }
                    Quantifier::All => vec![BodyLine::Every {
                        head: format!("every {var} in {list}"),
                        body: non_empty(body),
                    }],
                })
            }
            Expr::Literal(_)
            | Expr::List(_)
            | Expr::ValueOr { .. }
            | Expr::Size(_)
            | Expr::Keys(_)
            | Expr::StringFn { .. } => {
                Err(self.internal("a value where a test is expected".to_string()))
            }
        }
    }

    /// `sprintf` with one `%v` per interpolated value (`%v` prints strings as they are, ints
    /// in decimal and bools as `true`/`false`, as CEL's `string()` does), or a plain string.
    pub(super) fn message(
        &self,
        parts: &[TemplatePart],
        scope: &Scope,
    ) -> Result<String, Inconsistency> {
        let mut format = String::new();
        let mut plain = String::new();
        let mut values = Vec::new();
        for part in parts {
            match part {
                TemplatePart::Text(text) => {
                    format.push_str(&text.replace('%', "%%"));
                    plain.push_str(text);
                }
                TemplatePart::Value(expr) => {
                    format.push_str("%v");
                    values.push(self.term(expr, scope)?);
                }
            }
        }
        if values.is_empty() {
            return Ok(string_literal(&plain));
        }
        Ok(format!(
            "sprintf({}, [{}])",
            string_literal(&format),
            values.join(", ")
        ))
    }
}
