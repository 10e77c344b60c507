//! Prints the IR as a Rego v1 module, for Gatekeeper (`violation`) or plain OPA (`deny`).
//!
//! The mapping, in the order a module is laid out:
//! * `package guardrailc.<id>`;
//! * OPA only: `params := {…}`, the environment's param values;
//! * `exempt if { … }`, one body per exemption; every rule requires `not exempt`;
//! * the pod view: `pod_spec`, `pod_metadata` (one definition per pod location, chosen by the
//!   object's kind, null when absent) and `all_containers`;
//! * Gatekeeper only, when the policy reads the namespace: `namespace_object`, from the review
//!   or, on Gatekeeper without `namespaceObject`, from the replicated `data.inventory`;
//! * one `violation contains …` / `deny contains …` rule per IR rule, each followed by the
//!   helpers it calls.
//!
//! A rule body is a conjunction, and `not` negates one expression, so `Or` and the negation of
//! anything longer than one expression become helpers (`rule_1_or_1(c) if { … }`, one body per
//! alternative) that take the loop variables they read as arguments. Absent values need no
//! guards: a reference through a missing field is undefined, so a test on it fails and its
//! negation holds, as the IR's semantics ask. `ValueOr` prints as `object.get` on an anchor
//! that is always defined, so that a missing root gives the fallback too.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{
    each_access, Access, CompareOp, Domain, Expr, LabelSelector, Literal, Operation, Policy,
    Quantifier, Root, Rule, SelectorOperator, Step, StringFn, StringOp, TemplatePart, ValueType,
};
use crate::span::Span;

/// Which engine the module is for: the names of its inputs and of its violation rule differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegoFlavour {
    /// A ConstraintTemplate's source: `input.review`, `input.parameters`, `violation`.
    Gatekeeper,
    /// A conftest / `opa eval` package: the object is `input`, rules are `deny`.
    Opa,
}

/// Where the OPA flavour expects the admission context (old object, namespace, request) when a
/// user supplies it as data; absent by default, so rules that read it do not fire.
pub const OPA_REVIEW_DATA: &str = "data.guardrailc.review";

/// The replicated Namespaces that Gatekeeper's sync (a `SyncSet` or the `Config`) keeps in
/// `data.inventory`, by name (docs/rego-backend.md).
pub const INVENTORY_NAMESPACES: &str = "data.inventory.cluster[\"v1\"].Namespace";

/// The Rego package of a guardrail: `guardrailc.no_latest_tag`.
pub fn package_name(policy: &Policy) -> String {
    format!("guardrailc.{}", policy.id.replace('-', "_"))
}

/// The Rego v1 module for `policy`, or the internal inconsistencies that stopped it.
pub fn print_module(policy: &Policy, flavour: RegoFlavour) -> Result<String, Vec<Diagnostic>> {
    let mut printer = ModulePrinter {
        policy,
        flavour,
        errors: Vec::new(),
    };
    let module = printer.module();
    for (line, text) in super::rego_lint::unsafe_negations(&module) {
        printer.errors.push(Diagnostic::new(
            Code::Internal,
            Span::default(),
            format!(
                "printed Rego line {line} negates a test OPA reads differently from regorus: `{text}`"
            ),
        ));
    }
    if printer.errors.is_empty() {
        Ok(module)
    } else {
        Err(printer.errors)
    }
}

/// Kubernetes quantity syntax (apimachinery `resource.ParseQuantity`). Checked before
/// `units.parse`, which raises an error (not undefined) on some malformed strings.
const QUANTITY_PATTERN: &str =
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$";

/// Rego keywords: never a variable, and a field step of this name prints as `["name"]`.
const KEYWORDS: &[&str] = &[
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true", "with",
];

/// Names a local variable must not take because the module or a builtin it calls uses them.
const MODULE_NAMES: &[&str] = &[
    // roots of every reference
    "input",
    "data",
    // rules and variables of the printed module
    "params",
    "exempt",
    "pod_spec",
    "pod_metadata",
    "all_containers",
    "namespace_object",
    "review_has_namespace_object",
    "operation_applies",
    "quantity_value",
    "in_scope",
    "resource_matches",
    "namespace_scoped",
    "object_namespace",
    "namespace_matches",
    "namespace_excluded",
    "object_selected",
    "namespace_selected",
    "namespace_supplied",
    "violation",
    "deny",
    "msg",
    // builtins and builtin namespaces the printer calls
    "array",
    "count",
    "endswith",
    "is_array",
    "is_boolean",
    "is_number",
    "is_object",
    "is_string",
    "object",
    "regex",
    "sprintf",
    "startswith",
    "trim_prefix",
    "trim_suffix",
    "units",
];

fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name)
        || MODULE_NAMES.contains(&name)
        || name.starts_with("rule_")
        || name.starts_with("exemption_")
        || name.starts_with("object_selector_")
        || name.starts_with("namespace_selector_")
        || is_binding_index(name)
}

/// `i1`, `i2`, …: the printer's names for the list positions of a rule's generators.
fn is_binding_index(name: &str) -> bool {
    name.strip_prefix('i')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The Rego name of a source variable. Reserved names and names already ending in `_` get one
/// more `_`, which keeps the mapping one-to-one: `in` → `in_`, `in_` → `in__`.
fn local_name(source: &str) -> String {
    if is_reserved(source) || source.ends_with('_') {
        format!("{source}_")
    } else {
        source.to_string()
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// A string as a Rego string literal. Rego strings are JSON strings, so JSON escaping makes
/// any text (quotes, backslashes, newlines, control characters) compare as itself.
fn string_literal(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises as JSON")
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::Bool(value) => value.to_string(),
        Literal::Int(value) => value.to_string(),
        Literal::String(text) | Literal::Quantity(text) => string_literal(text),
        Literal::List(items) => {
            let items: Vec<String> = items.iter().map(literal_text).collect();
            format!("[{}]", items.join(", "))
        }
        Literal::Map(entries) | Literal::Record(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| format!("{}: {}", string_literal(key), literal_text(value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// A field name as a reference step: `.name`, or `["name"]` when it is not an identifier.
fn field_text(name: &str) -> String {
    if is_identifier(name) {
        format!(".{name}")
    } else {
        format!("[{}]", string_literal(name))
    }
}

/// One literal of a rule body.
enum BodyLine {
    /// An expression; `not` can negate it as it is.
    Test(String),
    /// `some v in list`: binds a variable for the lines after it.
    Some(String),
    /// `every v in list { … }`.
    Every { head: String, body: Vec<BodyLine> },
}

/// Indents with spaces, not `opa fmt`'s tabs: YAML cannot hold a tab in a block scalar's
/// indentation, so tabs would turn the ConstraintTemplate's source into one quoted line.
fn render_body(lines: &[BodyLine], depth: usize, out: &mut String) {
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
fn non_empty(mut lines: Vec<BodyLine>) -> Vec<BodyLine> {
    if lines.is_empty() {
        lines.push(BodyLine::Test("true".to_string()));
    }
    lines
}

/// A variable in scope: its source name and the Rego name it prints as.
#[derive(Clone)]
struct Binding {
    source: String,
    rego: String,
}

#[derive(Clone, Default)]
struct Scope {
    bindings: Vec<Binding>,
}

impl Scope {
    /// Binds `source`, under a Rego name no variable in scope has (Rego rejects redeclaring a
    /// variable in one body, while the source may shadow).
    fn bind(&mut self, source: &str) -> String {
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

    fn lookup(&self, source: &str) -> Option<&str> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.source == source)
            .map(|b| b.rego.as_str())
    }

    /// The Rego names of the variables in scope that `expr` reads, outermost first: the
    /// arguments of a helper that holds `expr`.
    fn arguments_for(&self, expr: &Expr) -> Vec<String> {
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
fn negation_is_inline_safe(expr: &Expr) -> bool {
    fn plain(expr: &Expr) -> bool {
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

/// The body lines that hold when the labels at `labels` (a reference) satisfy `selector`, as
/// Kubernetes reads a label selector: `NotIn` and `DoesNotExist` hold for a missing label,
/// and go through helper rules, since an inline `not` over an undefined label would be
/// undefined in OPA.
fn selector_lines(
    selector: &LabelSelector,
    labels: &str,
    helpers: &mut HelperSink,
) -> Vec<BodyLine> {
    let label = |key: &str| format!("{labels}[{}]", string_literal(key));
    let values = |values: &[String]| -> String {
        let values: Vec<String> = values.iter().map(|value| string_literal(value)).collect();
        format!("{{{}}}", values.join(", "))
    };
    let mut lines = Vec::new();
    for (key, value) in &selector.match_labels {
        lines.push(BodyLine::Test(format!(
            "{} == {}",
            label(key),
            string_literal(value)
        )));
    }
    for requirement in &selector.match_expressions {
        let key = &requirement.key;
        let has_label = || vec![BodyLine::Test(format!("is_string({})", label(key)))];
        match requirement.operator {
            SelectorOperator::In => lines.push(BodyLine::Test(format!(
                "{} in {}",
                label(key),
                values(&requirement.values)
            ))),
            SelectorOperator::NotIn => {
                let call = helpers.define(
                    "in",
                    &[],
                    vec![vec![BodyLine::Test(format!(
                        "{} in {}",
                        label(key),
                        values(&requirement.values)
                    ))]],
                );
                lines.push(BodyLine::Test(format!("not {call}")));
            }
            SelectorOperator::Exists => lines.extend(has_label()),
            SelectorOperator::DoesNotExist => {
                let call = helpers.define("has", &[], vec![has_label()]);
                lines.push(BodyLine::Test(format!("not {call}")));
            }
        }
    }
    lines
}

struct ModulePrinter<'p> {
    policy: &'p Policy,
    flavour: RegoFlavour,
    errors: Vec<Diagnostic>,
}

impl ModulePrinter<'_> {
    fn module(&mut self) -> String {
        let mut out = format!("package {}\n", package_name(self.policy));
        if self.flavour == RegoFlavour::Opa && !self.policy.params.is_empty() {
            out.push_str(&format!(
                "\n# Param values of the {} environment.\nparams := {{\n",
                self.policy.env
            ));
            for param in &self.policy.params {
                out.push_str(&format!(
                    "    {}: {},\n",
                    string_literal(&param.name),
                    literal_text(&param.value)
                ));
            }
            out.push_str("}\n");
        }
        self.operation_view(&mut out);
        self.scope_view(&mut out);
        self.exemptions(&mut out);
        self.pod_view(&mut out);
        self.namespace_view(&mut out);
        for rule in &self.policy.rules {
            let mut helpers = HelperSink::new(format!("rule_{}", rule.index));
            match self.rule(rule, &mut helpers) {
                Ok(text) => {
                    out.push('\n');
                    out.push_str(&text);
                    out.push_str(&helpers.definitions);
                }
                Err(inconsistency) => self.errors.push(inconsistency.at(rule.span)),
            }
        }
        // Defined when an exemption or a rule calls it (a message holding the text as well
        // only adds an unused function).
        if out.contains("quantity_value(") {
            out.push_str(&format!(
                concat!(
                    "\n# A Kubernetes quantity as a number: a quantity string (checked against the quantity\n",
                    "# syntax first, since units.parse raises on some malformed strings), or a JSON number,\n",
                    "# which a manifest may hold (`memory: 8589934592`) and the API server turns into a string.\n",
                    "quantity_value(x) := units.parse(x) if {{\n",
                    "    is_string(x)\n",
                    "    regex.match({pattern}, x)\n",
                    "}}\n",
                    "\n",
                    "quantity_value(x) := x if is_number(x)\n",
                ),
                pattern = string_literal(QUANTITY_PATTERN)
            ));
        }
        out
    }

    /// Gatekeeper only: whether the review's operation is one the guardrail matches. An
    /// admission review names its operation; Gatekeeper's audit and `gator test` review objects
    /// that exist, with `operation` empty (engine-facts/gatekeeper-review.json), which counts
    /// as CREATE/UPDATE: the rules of a guardrail matching either apply to existing objects.
    fn operation_view(&self, out: &mut String) {
        if self.flavour != RegoFlavour::Gatekeeper {
            return;
        }
        let operations = &self.policy.matcher.operations;
        let listed: Vec<String> = operations
            .iter()
            .map(|operation| string_literal(operation.as_str()))
            .collect();
        out.push_str(&format!(
            "\n# The operations the guardrail matches.\noperation_applies if input.review.operation in {{{}}}\n",
            listed.join(", ")
        ));
        if operations
            .iter()
            .any(|operation| matches!(operation, Operation::Create | Operation::Update))
        {
            out.push_str(concat!(
                "\n# Audit and gator review existing objects, with no operation.\n",
                "operation_applies if object.get(input.review, \"operation\", \"\") == \"\"\n",
            ));
        }
    }

    /// Plain OPA only: the guardrail's match, applied to the object itself, since conftest and
    /// `opa eval` get no admission request and no Constraint or binding selects the object.
    /// Kinds by group and kind; `namespaces` and `exclude namespaces` on the object's
    /// namespace (`default` when a namespaced object names none; a Namespace is its own);
    /// the object selector on the object's labels. The namespace selector needs the
    /// namespace's labels, which a manifest does not carry: it is applied when the user
    /// supplies the Namespace as `data.guardrailc.review.namespaceObject`, and not otherwise
    /// (docs/rego-backend.md).
    fn scope_view(&self, out: &mut String) {
        if self.flavour != RegoFlavour::Opa {
            return;
        }
        let matcher = &self.policy.matcher;
        out.push_str(concat!(
            "\n# The guardrail's match, on the object alone.\n",
            "in_scope if {\n",
            "    resource_matches\n",
            "    namespace_matches\n",
            "    not namespace_excluded\n",
            "    object_selected\n",
            "    namespace_selected\n",
            "}\n",
        ));
        for resource in &matcher.resources {
            let group = if resource.group.is_empty() {
                "input.apiVersion == \"v1\"".to_string()
            } else {
                format!(
                    "startswith(input.apiVersion, {})",
                    string_literal(&format!("{}/", resource.group))
                )
            };
            out.push_str(&format!(
                "\nresource_matches if {{\n    input.kind == {}\n    {group}\n}}\n",
                string_literal(&resource.kind)
            ));
        }
        // Kinds whose objects live in a namespace, and Namespaces, which are matched as their own.
        let mut scoped: Vec<String> = matcher
            .resources
            .iter()
            .filter(|resource| resource.namespaced)
            .map(|resource| string_literal(&resource.kind))
            .collect();
        scoped.push(string_literal("Namespace"));
        scoped.sort();
        scoped.dedup();
        out.push_str(&format!(
            concat!(
                "\n# The namespace the object is in: its own name for a Namespace, `default` when a\n",
                "# namespaced object names none.\n",
                "namespace_scoped if input.kind in {{{scoped}}}\n",
                "\n",
                "object_namespace := input.metadata.name if {{\n",
                "    input.kind == \"Namespace\"\n",
                "}} else := input.metadata.namespace if {{\n",
                "    is_string(input.metadata.namespace)\n",
                "}} else := \"default\"\n",
            ),
            scoped = scoped.join(", ")
        ));
        let names = |names: &[String]| -> String {
            let names: Vec<String> = names.iter().map(|name| string_literal(name)).collect();
            names.join(", ")
        };
        if matcher.namespaces.is_empty() {
            out.push_str("\nnamespace_matches := true\n");
        } else {
            out.push_str(&format!(
                concat!(
                    "\n# Cluster-scoped objects are not in a namespace: the list does not apply.\n",
                    "namespace_matches if not namespace_scoped\n",
                    "\n",
                    "namespace_matches if {{\n",
                    "    namespace_scoped\n",
                    "    object_namespace in {{{}}}\n",
                    "}}\n",
                ),
                names(&matcher.namespaces)
            ));
        }
        if matcher.excluded_namespaces.is_empty() {
            out.push_str("\ndefault namespace_excluded := false\n");
        } else {
            out.push_str(&format!(
                "\nnamespace_excluded if {{\n    namespace_scoped\n    object_namespace in {{{}}}\n}}\n",
                names(&matcher.excluded_namespaces)
            ));
        }
        let mut helpers = HelperSink::new("object_selector".to_string());
        let lines = selector_lines(
            &matcher.object_selector,
            "input.metadata.labels",
            &mut helpers,
        );
        out.push_str("\nobject_selected if {\n");
        render_body(&non_empty(lines), 1, out);
        out.push_str("}\n");
        out.push_str(&helpers.definitions);
        if matcher.namespace_selector.is_empty() {
            out.push_str("\nnamespace_selected := true\n");
        } else {
            let labels = format!("{OPA_REVIEW_DATA}.namespaceObject.metadata.labels");
            let mut helpers = HelperSink::new("namespace_selector".to_string());
            let lines = selector_lines(&matcher.namespace_selector, &labels, &mut helpers);
            out.push_str(&format!(
                concat!(
                    "\n# The namespace selector, when the Namespace is supplied as data; cluster-scoped\n",
                    "# objects are not selected by namespace.\n",
                    "namespace_supplied if is_object({review}.namespaceObject)\n",
                    "\n",
                    "namespace_selected if not namespace_supplied\n",
                    "\n",
                    "namespace_selected if not namespace_scoped\n",
                    "\n",
                    "namespace_selected if {{\n",
                    "    namespace_supplied\n",
                ),
                review = OPA_REVIEW_DATA
            ));
            render_body(&lines, 1, out);
            out.push_str("}\n");
            out.push_str(&helpers.definitions);
        }
    }

    fn exemptions(&mut self, out: &mut String) {
        if self.policy.exemptions.is_empty() {
            return;
        }
        out.push_str("\n# Objects covered by an exemption in force are skipped.");
        for (position, exemption) in self.policy.exemptions.iter().enumerate() {
            let mut helpers = HelperSink::new(format!("exemption_{}", position + 1));
            let printer = BodyPrinter {
                policy: self.policy,
                flavour: self.flavour,
            };
            match printer.condition(&exemption.condition, &Scope::default(), &mut helpers) {
                Ok(lines) => {
                    // The reason is free text: a comment line must not end early.
                    let reason: String = exemption
                        .reason
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect();
                    out.push_str(&format!(
                        "\n# {reason} (expires {})\nexempt if {{\n",
                        exemption.expires
                    ));
                    render_body(&non_empty(lines), 1, out);
                    out.push_str("}\n");
                    out.push_str(&helpers.definitions);
                }
                Err(inconsistency) => self.errors.push(inconsistency.at(Span::default())),
            }
        }
    }

    fn pod_view(&mut self, out: &mut String) {
        let Some(pod) = &self.policy.pod else {
            return;
        };
        let (reads_spec, reads_metadata, reads_containers) =
            (pod.reads.spec, pod.reads.metadata, pod.reads.all_containers);
        let object = match self.flavour {
            RegoFlavour::Gatekeeper => "input.review.object",
            RegoFlavour::Opa => "input",
        };
        let views = [
            (reads_spec, "pod_spec", "spec"),
            (reads_metadata, "pod_metadata", "metadata"),
        ];
        for (wanted, rule, part) in views {
            if !wanted {
                continue;
            }
            out.push_str(&format!(
                "\n# The pod {part} of the object, by kind; null where the object has none.\ndefault {rule} := null\n"
            ));
            for location in &pod.locations {
                let path = if part == "spec" {
                    &location.spec_path
                } else {
                    &location.metadata_path
                };
                let path: Vec<String> = path.iter().map(|step| string_literal(step)).collect();
                let kind_test = match location.kinds.as_slice() {
                    [kind] => format!("{object}.kind == {}", string_literal(kind)),
                    kinds => {
                        let kinds: Vec<String> =
                            kinds.iter().map(|kind| string_literal(kind)).collect();
                        format!("{object}.kind in {{{}}}", kinds.join(", "))
                    }
                };
                // The kind test runs first, so `object.get` only ever sees an object.
                out.push_str(&format!(
                    "\n{rule} := object.get({object}, [{}], null) if {{\n    {kind_test}\n}}\n",
                    path.join(", ")
                ));
            }
        }
        if reads_containers {
            out.push_str(concat!(
                "\n# containers, initContainers and ephemeralContainers; a missing list counts as empty.\n",
                "default all_containers := []\n",
                "\n",
                "all_containers := [container |\n",
                "    some field in [\"containers\", \"initContainers\", \"ephemeralContainers\"]\n",
                "    containers := object.get(pod_spec, field, [])\n",
                "    is_array(containers)\n",
                "    some container in containers\n",
                "] if {\n",
                "    is_object(pod_spec)\n",
                "}\n",
            ));
        }
    }

    /// Gatekeeper 3.22 puts the namespace object into the review; older versions only have
    /// the Namespaces replicated into `data.inventory`. The two definitions exclude each other
    /// (one needs an object in the review, the other its absence), so the rule never has two
    /// values; `null` when neither has it, as the pod view is.
    fn namespace_view(&self, out: &mut String) {
        let exemptions_read = self.policy.exemptions.iter().any(|exemption| {
            let mut reads = false;
            each_access(&exemption.condition, &mut |access| {
                reads |= access.root == Root::Namespace
            });
            reads
        });
        let reads = exemptions_read
            || self
                .policy
                .rules
                .iter()
                .any(|rule| rule.reads(|root| *root == Root::Namespace));
        if self.flavour != RegoFlavour::Gatekeeper || !reads {
            return;
        }
        out.push_str(&format!(
            concat!(
                "\n# The namespace of the request: in the review from Gatekeeper 3.22 on; before that, the\n",
                "# Namespace that gatekeeper/sync.yaml replicates into data.inventory; null when neither has it.\n",
                "default namespace_object := null\n",
                "\n",
                "review_has_namespace_object if is_object(input.review.namespaceObject)\n",
                "\n",
                "namespace_object := input.review.namespaceObject if review_has_namespace_object\n",
                "\n",
                "# Audit and gator give no namespaceObject: an inline `not is_object(…)` of the missing\n",
                "# field would be undefined in OPA, so the test goes through a rule.\n",
                "namespace_object := {inventory}[input.review.namespace] if not review_has_namespace_object\n",
            ),
            inventory = INVENTORY_NAMESPACES
        ));
    }

    fn rule(&self, rule: &Rule, helpers: &mut HelperSink) -> Result<String, Inconsistency> {
        let printer = BodyPrinter {
            policy: self.policy,
            flavour: self.flavour,
        };
        let mut lines = Vec::new();
        match self.flavour {
            RegoFlavour::Gatekeeper => {
                // A Constraint cannot match on operations; the module checks them itself.
                lines.push(BodyLine::Test("operation_applies".to_string()));
            }
            RegoFlavour::Opa => {
                lines.push(BodyLine::Test("in_scope".to_string()));
                let reads_review = rule.reads(|root| {
                    matches!(root, Root::OldObject | Root::Namespace | Root::Request)
                });
                if reads_review {
                    // Without admission context the rule cannot be judged, negated tests
                    // included: it stays silent unless the user supplies the context.
                    lines.push(BodyLine::Test(format!("is_object({OPA_REVIEW_DATA})")));
                }
            }
        }
        if !self.policy.exemptions.is_empty() {
            lines.push(BodyLine::Test("not exempt".to_string()));
        }
        let mut scope = Scope::default();
        let mut binding_indexes = Vec::new();
        for (position, generator) in rule.generators.iter().enumerate() {
            let list = printer.term(&generator.list, &scope)?;
            let var = scope.bind(&generator.var);
            match self.flavour {
                RegoFlavour::Gatekeeper => {
                    // The positions make two bindings with one message two violations, as
                    // the CEL side counts them.
                    let index = format!("i{}", position + 1);
                    lines.push(BodyLine::Some(format!("some {index}, {var} in {list}")));
                    binding_indexes.push(index);
                }
                RegoFlavour::Opa => lines.push(BodyLine::Some(format!("some {var} in {list}"))),
            }
        }
        lines.extend(printer.condition(&rule.condition, &scope, helpers)?);
        lines.push(BodyLine::Test(format!(
            "msg := {}",
            printer.message(&rule.message.parts, &scope)?
        )));
        let head = match self.flavour {
            RegoFlavour::Gatekeeper => format!(
                "violation contains {{\"msg\": msg, \"details\": {{\"rule\": {}, \"binding\": [{}]}}}}",
                rule.index,
                binding_indexes.join(", ")
            ),
            RegoFlavour::Opa => "deny contains msg".to_string(),
        };
        let mut text = format!("# Rule {} (line {})\n{head} if {{\n", rule.index, rule.line);
        render_body(&lines, 1, &mut text);
        text.push_str("}\n");
        Ok(text)
    }
}

/// Helper definitions printed after the rule that calls them, named by the rule and a counter.
struct HelperSink {
    prefix: String,
    count: usize,
    definitions: String,
}

impl HelperSink {
    fn new(prefix: String) -> HelperSink {
        HelperSink {
            prefix,
            count: 0,
            definitions: String::new(),
        }
    }

    /// Defines a helper that holds when any of `bodies` holds, and returns the expression
    /// that calls it: a function of `arguments`, or a plain rule when there are none.
    fn define(&mut self, kind: &str, arguments: &[String], bodies: Vec<Vec<BodyLine>>) -> String {
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
struct Inconsistency(String);

impl Inconsistency {
    fn at(self, span: Span) -> Diagnostic {
        Diagnostic::new(Code::Internal, span, self.0)
    }
}

/// Prints the expressions of one rule (or exemption) body.
struct BodyPrinter<'p> {
    policy: &'p Policy,
    flavour: RegoFlavour,
}

impl BodyPrinter<'_> {
    fn internal(&self, message: String) -> Inconsistency {
        Inconsistency(message)
    }

    fn params(&self) -> &'static str {
        match self.flavour {
            RegoFlavour::Gatekeeper => "input.parameters",
            RegoFlavour::Opa => "params",
        }
    }

    /// The reference a root prints as.
    fn root(&self, root: &Root, scope: &Scope) -> Result<String, Inconsistency> {
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

    fn reference(&self, access: &Access, scope: &Scope) -> Result<String, Inconsistency> {
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
    fn module_rule_anchor(
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
    fn value_or(
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
    fn term(&self, expr: &Expr, scope: &Scope) -> Result<String, Inconsistency> {
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
    fn condition(
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
    fn message(&self, parts: &[TemplatePart], scope: &Scope) -> Result<String, Inconsistency> {
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
