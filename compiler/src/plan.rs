//! `guardrailc plan`: what changes for each guardrail when a rollout moves from one
//! environment to another — enforcement, param values, exemptions in force.

use crate::ir::{Enforcement, Literal, Policy};
use serde::Serialize;

/// One guardrail's differences between two environments.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanEntry {
    pub guardrail: String,
    pub title: String,
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The guardrail exists in only one of the two environments.
    Presence {
        from: bool,
        to: bool,
    },
    Enforcement {
        from: Enforcement,
        to: Enforcement,
    },
    Param {
        name: String,
        from: String,
        to: String,
    },
    /// Exemptions in force (by reason) differ.
    Exemptions {
        from: Vec<String>,
        to: Vec<String>,
    },
}

/// The plan from `from` to `to` over the policies of one build, sorted by guardrail id. A
/// guardrail with no change has an entry with no changes, so callers can count them.
pub fn plan(policies: &[Policy], from: &str, to: &str) -> Vec<PlanEntry> {
    let mut ids: Vec<&str> = policies
        .iter()
        .filter(|p| p.env == from || p.env == to)
        .map(|p| p.id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let find = |env: &str| policies.iter().find(|p| p.id == id && p.env == env);
            let (a, b) = (find(from), find(to));
            let title = a.or(b).map(|p| p.meta.title.clone()).unwrap_or_default();
            let changes = match (a, b) {
                (Some(a), Some(b)) => differences(a, b),
                (a, b) => vec![Change::Presence {
                    from: a.is_some(),
                    to: b.is_some(),
                }],
            };
            PlanEntry {
                guardrail: id.to_string(),
                title,
                changes,
            }
        })
        .collect()
}

fn differences(a: &Policy, b: &Policy) -> Vec<Change> {
    let mut changes = Vec::new();
    if a.enforcement != b.enforcement {
        changes.push(Change::Enforcement {
            from: a.enforcement,
            to: b.enforcement,
        });
    }
    for param in &a.params {
        let other = b.params.iter().find(|p| p.name == param.name);
        if let Some(other) = other {
            if other.value != param.value {
                changes.push(Change::Param {
                    name: param.name.clone(),
                    from: display(&param.value),
                    to: display(&other.value),
                });
            }
        }
    }
    let reasons = |p: &Policy| -> Vec<String> {
        let mut r: Vec<String> = p
            .exemptions
            .iter()
            .map(|e| format!("{} (until {})", e.reason, e.expires))
            .collect();
        r.sort();
        r
    };
    let (ra, rb) = (reasons(a), reasons(b));
    if ra != rb {
        changes.push(Change::Exemptions { from: ra, to: rb });
    }
    changes
}

/// A param value as people read it: JSON.
pub fn display(literal: &Literal) -> String {
    fn json(literal: &Literal) -> serde_json::Value {
        match literal {
            Literal::Bool(b) => (*b).into(),
            Literal::Int(n) => (*n).into(),
            Literal::String(s) | Literal::Quantity(s) => s.clone().into(),
            Literal::List(items) => items.iter().map(json).collect(),
            Literal::Map(entries) | Literal::Record(entries) => entries
                .iter()
                .map(|(k, v)| (k.clone(), json(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
    json(literal).to_string()
}

/// Audit < warn < deny.
fn strictness(enforcement: Enforcement) -> u8 {
    match enforcement {
        Enforcement::Audit => 0,
        Enforcement::Warn => 1,
        Enforcement::Deny => 2,
    }
}

/// The plan as a table for a terminal.
pub fn render_text(entries: &[PlanEntry], from: &str, to: &str) -> String {
    let word = |e: Enforcement| match e {
        Enforcement::Deny => "deny",
        Enforcement::Warn => "warn",
        Enforcement::Audit => "audit",
    };
    let mut out = format!("plan {from} → {to}\n\n");
    let width = entries
        .iter()
        .map(|e| e.guardrail.len())
        .max()
        .unwrap_or(0)
        .max(9);
    let mut unchanged = 0;
    for entry in entries {
        if entry.changes.is_empty() {
            unchanged += 1;
            continue;
        }
        for (i, change) in entry.changes.iter().enumerate() {
            let name = if i == 0 { entry.guardrail.as_str() } else { "" };
            let text = match change {
                Change::Presence { from: true, .. } => format!("only in {from}"),
                Change::Presence { .. } => format!("only in {to}"),
                Change::Enforcement { from, to } => {
                    let direction = if strictness(*to) > strictness(*from) {
                        "tightens"
                    } else {
                        "loosens"
                    };
                    format!("enforcement {} → {} ({direction})", word(*from), word(*to))
                }
                Change::Param { name, from, to } => format!("param {name}: {from} → {to}"),
                Change::Exemptions { from, to } => {
                    format!("exemptions: [{}] → [{}]", from.join("; "), to.join("; "))
                }
            };
            out.push_str(&format!("  {name:width$}  {text}\n"));
        }
    }
    let changed = entries.len() - unchanged;
    out.push_str(&format!(
        "\n{changed} guardrail{} change, {unchanged} unchanged\n",
        if changed == 1 { "" } else { "s" }
    ));
    out
}
