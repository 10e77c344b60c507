//! Plain OPA/conftest modules: `deny contains msg if …` over the object itself as `input`.

use super::{evaluate_set_rule, failed, prepared_engine};
use crate::case::AdmissionCase;
use crate::outcome::{Outcome, Verdict};
use crate::CaseError;
use regorus::Engine;

pub struct OpaPolicy {
    engine: Engine,
    package: String,
}

impl OpaPolicy {
    /// Prepares a Rego v1 module that declares a `deny` set of strings.
    pub fn load(module: &str) -> Result<OpaPolicy, String> {
        let (engine, package) =
            prepared_engine(&[("policy.rego".to_string(), module.to_string())], "deny")?;
        Ok(OpaPolicy { engine, package })
    }

    /// Evaluates `deny` with the case's object as `input` (`null` when the case has none, as
    /// on DELETE: conftest checks manifests, which have no operation).
    pub fn evaluate(&self, case: &AdmissionCase) -> Result<Outcome, CaseError> {
        let input = case.object.clone().unwrap_or(serde_json::Value::Null);
        let denials = match evaluate_set_rule(&self.engine, &self.package, "deny", input, None) {
            Ok(denials) => denials,
            Err(error) => return Ok(failed(error)),
        };
        let mut messages = Vec::new();
        for denial in denials {
            match denial.as_string() {
                Ok(text) => messages.push(text.to_string()),
                Err(_) => return Ok(failed("a `deny` entry is not a string".to_string())),
            }
        }
        Ok(Outcome {
            verdict: if messages.is_empty() {
                Verdict::Allow
            } else {
                Verdict::Deny
            },
            violated: !messages.is_empty(),
            messages,
            errors: Vec::new(),
            rules: Vec::new(),
        })
    }
}
