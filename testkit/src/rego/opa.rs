//! Plain OPA/conftest modules: `deny contains msg if …` over the object itself as `input`.

use super::{failed, rego_value, PreparedRule, RegoRun};
use crate::case::AdmissionCase;
use crate::outcome::{Outcome, Verdict};
use crate::CaseError;

pub struct OpaPolicy {
    deny: PreparedRule,
}

impl OpaPolicy {
    /// Prepares a Rego v1 module that declares a `deny` set of strings.
    pub fn load(module: &str) -> Result<OpaPolicy, String> {
        let deny = PreparedRule::new(&[("policy.rego".to_string(), module.to_string())], "deny")?;
        Ok(OpaPolicy { deny })
    }

    /// Evaluates `deny` with the case's object as `input` (`null` when the case has none, as
    /// on DELETE: conftest checks manifests, which have no operation).
    pub fn evaluate(&self, case: &AdmissionCase) -> Result<Outcome, CaseError> {
        self.evaluate_with(case, RegoRun::Reference(None))
    }

    /// [`OpaPolicy::evaluate`] on regorus's VM alone ([`RegoRun::Vm`]).
    pub fn evaluate_on_vm(&self, case: &AdmissionCase) -> Result<Outcome, CaseError> {
        self.evaluate_with(case, RegoRun::Vm)
    }

    fn evaluate_with(&self, case: &AdmissionCase, run: RegoRun<'_>) -> Result<Outcome, CaseError> {
        let input = case
            .object
            .as_ref()
            .map_or(regorus::Value::Null, rego_value);
        let denials = match self.deny.evaluate_set(input, None, run) {
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
