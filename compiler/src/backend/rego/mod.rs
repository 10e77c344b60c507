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

mod body;
mod module;

use body::*;
use module::ModulePrinter;

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
