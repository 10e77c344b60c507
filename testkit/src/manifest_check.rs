//! Detective mode: a project's compiled guardrails evaluated on existing manifests, each
//! object as if it were being created, with the VAP engine (what the API server would
//! decide). Findings render as JSON or SARIF 2.1.0.

use crate::case::{AdmissionCase, Operation, ResourceCatalog, UserInfo};
use crate::compiled::CompiledGuardrail;
use crate::fixtures::namespace_kubernetes_creates;
use crate::outcome::Verdict;
use serde_json::{json, Value};

/// One violation of one guardrail by one object in one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    /// `Kind namespace/name` or `Kind name`.
    pub object: String,
    pub guardrail: String,
    pub env: String,
    pub verdict: Verdict,
    pub message: String,
}

/// What checking one object found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectCheck {
    pub findings: Vec<Finding>,
    /// The object's kind is unknown to the catalog, so no guardrail can match it.
    pub skipped: bool,
    /// Evaluation errors (a CEL error is a compiler bug worth reporting).
    pub errors: Vec<String>,
}

/// Evaluates every compiled guardrail on `object`, as a CREATE of it into a namespace
/// that carries only the label Kubernetes gives every namespace.
pub fn check_object(
    compiled: &[CompiledGuardrail],
    object: Value,
    file: &str,
    line: usize,
    catalog: &dyn ResourceCatalog,
) -> ObjectCheck {
    let mut check = ObjectCheck::default();
    let described = describe(&object);
    let namespace_object = namespace_kubernetes_creates(Some(&object), catalog);
    let case = AdmissionCase {
        operation: Operation::Create,
        object: Some(object),
        old_object: None,
        namespace_object,
        user: UserInfo {
            username: "guardrailc-check".into(),
            groups: vec!["system:authenticated".into()],
        },
    };
    for guardrail in compiled {
        let Some(vap) = &guardrail.vap else { continue };
        match vap.evaluate(&case, catalog) {
            Ok(outcome) => {
                check.errors.extend(outcome.errors.iter().map(|e| {
                    format!(
                        "{file}:{line}: `{}` in `{}`: {e}",
                        guardrail.policy.id, guardrail.policy.env
                    )
                }));
                check
                    .findings
                    .extend(outcome.messages.into_iter().map(|message| Finding {
                        file: file.to_string(),
                        line,
                        object: described.clone(),
                        guardrail: guardrail.policy.id.clone(),
                        env: guardrail.policy.env.clone(),
                        verdict: outcome.verdict,
                        message,
                    }));
            }
            Err(_) => {
                // Every guardrail sees the same kind: unknown to one is unknown to all.
                check.skipped = true;
                return check;
            }
        }
    }
    check
}

fn describe(object: &Value) -> String {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let kind = text("/kind").unwrap_or("<no kind>");
    let name = text("/metadata/name").unwrap_or("<no name>");
    match text("/metadata/namespace") {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The findings as a SARIF 2.1.0 log: one rule per guardrail (`guardrail/env` results),
/// `error` for denials, `warning` for warnings, `note` for audits.
pub fn sarif_report(findings: &[Finding], compiled: &[CompiledGuardrail]) -> Value {
    let mut rules: Vec<(&str, &str)> = compiled
        .iter()
        .map(|c| (c.policy.id.as_str(), c.policy.meta.title.as_str()))
        .collect();
    rules.sort();
    rules.dedup();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "guardrailc",
                "version": guardrailc_compiler::emit::COMPILER_VERSION,
                "rules": rules.iter().map(|(id, title)| json!({
                    "id": id,
                    "shortDescription": {"text": title},
                })).collect::<Vec<_>>(),
            }},
            "results": findings.iter().map(|f| json!({
                "ruleId": f.guardrail,
                "ruleIndex": rules.iter().position(|(id, _)| *id == f.guardrail),
                "level": match f.verdict {
                    Verdict::Deny => "error",
                    Verdict::Warn => "warning",
                    Verdict::Audit | Verdict::Allow => "note",
                },
                "message": {"text": format!("{} ({}, {}): {}", f.object, f.env, f.verdict, f.message)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line},
                }}],
                "properties": {"environment": f.env, "verdict": f.verdict.as_str(), "object": f.object},
            })).collect::<Vec<_>>(),
        }],
    })
}

/// The findings as JSON, one entry per finding.
pub fn json_finding(finding: &Finding) -> Value {
    json!({
        "file": finding.file,
        "line": finding.line,
        "object": finding.object,
        "guardrail": finding.guardrail,
        "env": finding.env,
        "verdict": finding.verdict.as_str(),
        "message": finding.message,
    })
}
