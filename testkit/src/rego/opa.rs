//! Plain OPA/conftest modules: `deny contains msg if …` over the object itself as `input`.

use super::{failed, PreparedRule, RegoObjects, RegoRun};
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
        self.evaluate_sharing(case, &RegoObjects::default(), RegoRun::Reference(None))
    }

    /// [`OpaPolicy::evaluate`] on regorus's VM alone ([`RegoRun::Vm`]).
    pub fn evaluate_on_vm(&self, case: &AdmissionCase) -> Result<Outcome, CaseError> {
        self.evaluate_sharing(case, &RegoObjects::default(), RegoRun::Vm)
    }

    /// Evaluates with the case's objects converted by (or for) another Rego target.
    pub(crate) fn evaluate_sharing(
        &self,
        case: &AdmissionCase,
        objects: &RegoObjects,
        run: RegoRun<'_>,
    ) -> Result<Outcome, CaseError> {
        let input = objects.object(case);
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
