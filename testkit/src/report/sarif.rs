//! Findings as SARIF 2.1.0 (the format code-scanning tools read): one run, the project's
//! guardrails as its rules, one result per finding.

use crate::compiled::CompiledGuardrail;
use crate::manifest_check::Finding;
use crate::outcome::Verdict;
use guardrailc_compiler::config::{DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE};
use serde_json::{json, Value};

/// The rules of a SARIF report: the project's guardrails, and the default-deny check when
/// it found something.
pub struct SarifRules<'c>(Vec<(&'c str, &'c str)>);

impl<'c> SarifRules<'c> {
    pub fn new(compiled: &'c [CompiledGuardrail], default_deny: bool) -> Self {
        let mut rules: Vec<(&str, &str)> = compiled
            .iter()
            .map(|c| (c.policy.id.as_str(), c.policy.meta.title.as_str()))
            .collect();
        if default_deny {
            rules.push((DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE));
        }
        rules.sort();
        rules.dedup();
        SarifRules(rules)
    }

    /// The report with no results yet (`runs[0].results` is empty).
    pub fn report(&self) -> Value {
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "guardrailc",
                    "version": guardrailc_compiler::emit::COMPILER_VERSION,
                    "rules": self.0.iter().map(|(id, title)| json!({
                        "id": id,
                        "shortDescription": {"text": title},
                    })).collect::<Vec<_>>(),
                }},
                "results": [],
            }],
        })
    }

    /// One finding as a SARIF result.
    pub fn result(&self, f: &Finding) -> Value {
        json!({
            "ruleId": f.guardrail,
            "ruleIndex": self.0.iter().position(|(id, _)| *id == f.guardrail),
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
            "properties": {
                "environment": f.env,
                "verdict": f.verdict.as_str(),
                "object": f.object,
                "targets": f.targets.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            },
        })
    }
}
