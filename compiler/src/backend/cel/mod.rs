//! The CEL backend: prints a policy's rules, pod view and exemptions as the match conditions,
//! variables and validations of a ValidatingAdmissionPolicy, in CEL as Kubernetes runs it.
//!
//! Each rule becomes a variable `rule_<index>` holding the messages of its violations; its
//! validation passes iff that list is empty. docs/cel-backend.md shows the shapes.

mod escape;
mod expr;

pub use escape::{property_selector, string_literal, variable_name};

use crate::diagnostic::Diagnostic;
use crate::ir::{self, Access, Expr, Literal, ParamValue, PodLocation, Root, Step};
use crate::kube::{CelLibrary, KubeVersion};
use expr::{conditional, literal_text, ExprPrinter, Prec, Printed};

/// A CEL expression with the name it is declared under (a match condition or a variable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedExpression {
    pub name: String,
    pub expression: String,
}

/// One `validations` entry of a ValidatingAdmissionPolicy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CelValidation {
    pub expression: String,
    pub message_expression: String,
    pub reason: &'static str,
}

/// Everything of a ValidatingAdmissionPolicy that is CEL, in the order the API server runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CelPolicy {
    pub match_conditions: Vec<NamedExpression>,
    pub variables: Vec<NamedExpression>,
    pub validations: Vec<CelValidation>,
}

/// The API server accepts at most this many `matchConditions` per policy.
pub const MAX_MATCH_CONDITIONS: usize = 64;

/// What separates the messages of one rule in its `messageExpression`.
const MESSAGE_SEPARATOR: &str = "; ";

/// Prints the CEL of one policy, or the errors that stop it from being printed (an unknown
/// param, a function the target version lacks, too many exemptions).
pub fn print_policy(policy: &ir::Policy, kube: KubeVersion) -> Result<CelPolicy, Vec<Diagnostic>> {
    let mut printer = ExprPrinter::new(kube, &policy.params);
    printer.pod_view = Some(policy.pod.as_ref().map(|pod| pod.reads).unwrap_or_default());

    if policy.exemptions.len() > MAX_MATCH_CONDITIONS {
        printer.diagnostics.push(
            Diagnostic::new(
                crate::Code::TooManyMatchConditions,
                policy.rules.first().map(|rule| rule.span).unwrap_or_default(),
                format!(
                    "guardrail `{}` has {} exemptions, but a validating admission policy takes at most {MAX_MATCH_CONDITIONS} match conditions",
                    policy.id,
                    policy.exemptions.len()
                ),
            )
            .with_help("merge exemptions that cover the same objects"),
        );
    }
    let match_conditions = policy
        .exemptions
        .iter()
        .enumerate()
        .map(|(i, exemption)| NamedExpression {
            name: format!("exemption-{}", i + 1),
            expression: printer
                .expr(&Expr::Not(Box::new(exemption.condition.clone())))
                .text,
        })
        .collect();

    let mut variables = pod_variables(&mut printer, policy);
    let mut validations = Vec::new();
    for rule in &policy.rules {
        printer.span = rule.span;
        let name = rule_variable(rule);
        variables.push(NamedExpression {
            name: name.clone(),
            expression: violations(&mut printer, rule),
        });
        let list = Printed {
            text: format!("variables.{name}"),
            prec: Prec::Member,
        };
        let size = printer.call(None, None, "size", std::slice::from_ref(&list.text));
        let depth = rule.generators.len().max(1);
        validations.push(CelValidation {
            expression: format!("{} == 0", size.text),
            message_expression: joined_messages(&mut printer, list, depth).text,
            reason: "Forbidden",
        });
    }

    if printer.diagnostics.is_empty() {
        Ok(CelPolicy {
            match_conditions,
            variables,
            validations,
        })
    } else {
        Err(printer.diagnostics)
    }
}

/// Prints one expression on its own, with `params` inlined: what the language server shows
/// for "show compiled CEL" and what tests check. Fails like [`print_policy`].
pub fn print_expr(
    expr: &Expr,
    params: &[ParamValue],
    kube: KubeVersion,
) -> Result<String, Vec<Diagnostic>> {
    let mut printer = ExprPrinter::new(kube, params);
    let printed = printer.expr(expr).text;
    if printer.diagnostics.is_empty() {
        Ok(printed)
    } else {
        Err(printer.diagnostics)
    }
}

/// The name of the variable holding a rule's violation messages: `rule_1`.
pub fn rule_variable(rule: &ir::Rule) -> String {
    format!("rule_{}", rule.index)
}

/// The list of a rule's violation messages.
///
/// One level of list per generator (at least one): `l1.map(a, l2.filter(b, cond).map(b, msg))`.
/// Each outer level drops its empty inner lists, so the whole list is empty iff nothing
/// violates, which is what `size(variables.rule_N) == 0` tests.
fn violations(printer: &mut ExprPrinter, rule: &ir::Rule) -> String {
    let condition = printer.expr(&rule.condition);
    let message = printer.template(&rule.message);
    let Some((innermost, outer)) = rule.generators.split_last() else {
        let message = Printed {
            text: format!("[{}]", message.text),
            prec: Prec::Member,
        };
        let none = Printed {
            text: "[]".to_string(),
            prec: Prec::Member,
        };
        return conditional(condition, message, none).text;
    };
    let var = variable_name(&innermost.var);
    let list = printer.expr(&innermost.list);
    let matching = printer.call(
        None,
        Some(list),
        "filter",
        &[var.clone(), condition.at(Prec::Conditional)],
    );
    let mut nested = printer.call(
        None,
        Some(matching),
        "map",
        &[var, message.at(Prec::Conditional)],
    );
    for generator in outer.iter().rev() {
        let list = printer.expr(&generator.list);
        let per_item = printer.call(
            None,
            Some(list),
            "map",
            &[variable_name(&generator.var), nested.text],
        );
        let size = printer.call(None, None, "size", &["l".to_string()]);
        nested = printer.call(
            None,
            Some(per_item),
            "filter",
            &["l".to_string(), format!("{} > 0", size.text)],
        );
    }
    nested.text
}

/// The messages of a `depth`-times nested list of strings, joined with `"; "`.
fn joined_messages(printer: &mut ExprPrinter, list: Printed, depth: usize) -> Printed {
    let separator = string_literal(MESSAGE_SEPARATOR);
    if depth <= 1 {
        return printer.call(
            Some(CelLibrary::StringsV2),
            Some(list),
            "join",
            &[separator],
        );
    }
    let var = format!("l{depth}");
    let inner = joined_messages(
        printer,
        Printed {
            text: var.clone(),
            prec: Prec::Member,
        },
        depth - 1,
    );
    let joined_items = printer.call(None, Some(list), "map", &[var, inner.text]);
    printer.call(
        Some(CelLibrary::StringsV2),
        Some(joined_items),
        "join",
        &[separator],
    )
}

/// `podSpec`, `podMetadata` and `allContainers`, those the policy reads, in that order.
fn pod_variables(printer: &mut ExprPrinter, policy: &ir::Policy) -> Vec<NamedExpression> {
    let mut variables = Vec::new();
    let Some(pod) = &policy.pod else {
        return variables;
    };
    let reads = pod.reads;
    if reads.spec {
        variables.push(NamedExpression {
            name: "podSpec".to_string(),
            expression: location_by_kind(printer, &pod.locations, |l| &l.spec_path),
        });
    }
    if reads.metadata {
        variables.push(NamedExpression {
            name: "podMetadata".to_string(),
            expression: location_by_kind(printer, &pod.locations, |l| &l.metadata_path),
        });
    }
    if reads.all_containers {
        let lists: Vec<String> = ["containers", "initContainers", "ephemeralContainers"]
            .iter()
            .map(|field| {
                let access = Access {
                    root: Root::PodSpec,
                    steps: vec![Step::Field(field.to_string())],
                };
                printer
                    .value_or(&access, literal_text(&Literal::List(Vec::new())))
                    .at(Prec::Unary)
            })
            .collect();
        variables.push(NamedExpression {
            name: "allContainers".to_string(),
            expression: lists.join(" + "),
        });
    }
    variables
}

/// `object.kind == "Pod" ? (has(object.spec) ? object.spec : null) : … : null`: the value at
/// the location of the object's kind, null when that location is missing.
fn location_by_kind(
    printer: &mut ExprPrinter,
    locations: &[PodLocation],
    path: fn(&PodLocation) -> &Vec<String>,
) -> String {
    let mut chain = Printed {
        text: "null".to_string(),
        prec: Prec::Member,
    };
    for location in locations.iter().rev() {
        let kinds: Vec<String> = location
            .kinds
            .iter()
            .map(|kind| string_literal(kind))
            .collect();
        let kind_test = match kinds.as_slice() {
            [kind] => format!("object.kind == {kind}"),
            kinds => format!("object.kind in [{}]", kinds.join(", ")),
        };
        let access = Access {
            root: Root::Object,
            steps: path(location).iter().cloned().map(Step::Field).collect(),
        };
        let null = Printed {
            text: "null".to_string(),
            prec: Prec::Member,
        };
        let value = printer.value_or(&access, null);
        chain = conditional(
            Printed {
                text: kind_test,
                prec: Prec::Relation,
            },
            value,
            chain,
        );
    }
    chain.text
}
