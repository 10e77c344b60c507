//! Plain OPA: one Rego v1 file per guardrail and environment, for `conftest test` and
//! `opa eval` with the object as `input`.

use crate::backend::rego::{print_module, RegoFlavour};
use crate::diagnostic::Diagnostic;
use crate::emit::{header, Artifact, Target};
use crate::ir::Policy;

pub fn emit_opa(policy: &Policy) -> (Vec<Artifact>, Vec<Diagnostic>) {
    match print_module(policy, RegoFlavour::Opa) {
        Ok(rego) => {
            let artifact = Artifact {
                env: policy.env.clone(),
                target: Target::Opa,
                guardrail: policy.id.clone(),
                path: format!("{}/opa/{}.rego", policy.env, policy.id),
                contents: format!("{}\n{rego}", header(&policy.source_file, &policy.id)),
            };
            (vec![artifact], Vec::new())
        }
        Err(diagnostics) => (Vec::new(), diagnostics),
    }
}
