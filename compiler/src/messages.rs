//! Messages the API server would not show. A ValidatingAdmissionPolicy shows the result of
//! its `messageExpression` only when it is a single line that is not blank; otherwise it
//! shows `failed expression: …`. What the compiler knows of a message before run time —
//! its literal text, and the values of the params it interpolates — is checked here (G0507).
//! Values read from the object at run time are the testkit's to model (`vap/mod.rs`).

use crate::ir::{self, Access, Expr, Literal, Root, TemplatePart};
use crate::{Code, Diagnostic};

/// One warning per rule whose message would be hidden on the API server.
pub fn hidden_messages(policy: &ir::Policy) -> Vec<Diagnostic> {
    policy
        .rules
        .iter()
        .filter_map(|rule| {
            let problem = problem(&rule.message, &policy.params)?;
            Some(
                Diagnostic::new(
                    Code::HiddenMessage,
                    rule.span,
                    format!(
                        "the message of rule {} {problem}: the API server shows `failed expression: …` instead of it",
                        rule.index
                    ),
                )
                .with_help("write the message on one line; Gatekeeper and OPA would show it as written"),
            )
        })
        .collect()
}

/// What makes `template` hidden, if its known parts decide it.
fn problem(template: &ir::Template, params: &[ir::ParamValue]) -> Option<String> {
    let mut known = String::new();
    let mut has_values = false;
    for part in &template.parts {
        match part {
            TemplatePart::Text(text) => {
                if text.contains('\n') {
                    return Some("has a line break in its text".to_string());
                }
                known.push_str(text);
            }
            TemplatePart::Value(value) => match constant_string(value, params) {
                Some((text, from)) if text.contains('\n') => {
                    return Some(format!("interpolates {from}, which has a line break"));
                }
                Some((text, _)) => known.push_str(text),
                None => has_values = true,
            },
        }
    }
    (!has_values && known.trim().is_empty()).then(|| "is blank".to_string())
}

/// The string a message value always is, with where it comes from.
fn constant_string<'a>(value: &'a Expr, params: &'a [ir::ParamValue]) -> Option<(&'a str, String)> {
    match value {
        Expr::Literal(Literal::String(text)) => Some((text, "a string".to_string())),
        Expr::Value(Access {
            root: Root::Param(name),
            steps,
        }) if steps.is_empty() => {
            let param = params.iter().find(|p| &p.name == name)?;
            match &param.value {
                Literal::String(text) => Some((text, format!("param `{name}`"))),
                _ => None,
            }
        }
        _ => None,
    }
}
