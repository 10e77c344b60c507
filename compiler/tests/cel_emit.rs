//! The emitted ValidatingAdmissionPolicy and binding: snapshots, every CEL expression parses,
//! and the objects are what the Kubernetes API types read and write back unchanged.

#[allow(dead_code)]
mod cel_policies;

use cel_policies::*;
use guardrailc_compiler::backend::cel::print_policy;
use guardrailc_compiler::emit::vap::emit_vap;
use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::ir::Policy;
use guardrailc_compiler::kube::KubeVersion;
use guardrailc_compiler::Code;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};

/// The artifacts of a policy that prints; cost warnings are tested in cel_cost.rs.
fn emit(policy: &Policy) -> Vec<Artifact> {
    let (artifacts, diagnostics) = emit_vap(policy, KubeVersion::DEFAULT);
    assert!(
        diagnostics.iter().all(|d| d.code == Code::CostLimit),
        "{diagnostics:#?}"
    );
    artifacts
}

fn snapshot(name: &str, policy: &Policy) {
    let artifacts = emit(policy);
    let paths: Vec<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("prod/vap/{}.policy.yaml", policy.id),
            format!("prod/vap/{}.binding.yaml", policy.id)
        ]
    );
    let both = format!("{}---\n{}", artifacts[0].contents, artifacts[1].contents);
    insta::assert_snapshot!(name, both);
}

#[test]
fn pod_guardrail_over_workloads() {
    snapshot("pod_guardrail", &pod_guardrail());
}

#[test]
fn service_guardrail_with_selectors_and_exemptions() {
    snapshot("service_guardrail", &service_guardrail());
}

#[test]
fn quantity_guardrail_with_inline_param() {
    snapshot("quantity_guardrail", &quantity_guardrail());
}

#[test]
fn request_old_and_namespace_reads() {
    snapshot("request_guardrail", &request_guardrail());
}

#[test]
fn every_printed_expression_parses() {
    for policy in all_policies() {
        let cel = print_policy(&policy, KubeVersion::DEFAULT).expect("the fixtures print");
        let expressions = cel
            .match_conditions
            .iter()
            .chain(&cel.variables)
            .map(|named| named.expression.as_str())
            .chain(cel.validations.iter().flat_map(|validation| {
                [
                    validation.expression.as_str(),
                    validation.message_expression.as_str(),
                ]
            }));
        for expression in expressions {
            if let Err(error) = cel::Program::compile(expression) {
                panic!("{}: `{expression}` does not parse: {error}", policy.id);
            }
        }
    }
}

#[test]
fn output_is_deterministic() {
    for policy in all_policies() {
        assert_eq!(emit(&policy), emit(&policy.clone()));
    }
}

/// Reads `yaml` as the Kubernetes type `T`, writes it back, and checks nothing was lost or
/// renamed on the way: every field we emit is a field of the API.
fn round_trips<T>(yaml: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let emitted: serde_json::Value = yaml_serde::from_str(yaml).expect("emitted YAML parses");
    let typed: T = yaml_serde::from_str(yaml).expect("emitted YAML is the Kubernetes type");
    let written = serde_json::to_value(&typed).expect("the Kubernetes type serialises");
    assert_eq!(written, emitted);
}

#[test]
fn policy_and_binding_are_kubernetes_objects() {
    for policy in all_policies() {
        let artifacts = emit(&policy);
        round_trips::<ValidatingAdmissionPolicy>(&artifacts[0].contents);
        round_trips::<ValidatingAdmissionPolicyBinding>(&artifacts[1].contents);
    }
}

#[test]
fn binding_actions_follow_enforcement() {
    use guardrailc_compiler::ir::Enforcement;
    for (enforcement, action) in [
        (Enforcement::Deny, "Deny"),
        (Enforcement::Warn, "Warn"),
        (Enforcement::Audit, "Audit"),
    ] {
        let mut policy = service_guardrail();
        policy.enforcement = enforcement;
        let binding: ValidatingAdmissionPolicyBinding =
            yaml_serde::from_str(&emit(&policy)[1].contents).unwrap();
        assert_eq!(
            binding.metadata.name.as_deref(),
            Some("no-public-load-balancers-prod")
        );
        let spec = binding.spec.unwrap();
        assert_eq!(
            spec.policy_name.as_deref(),
            Some("no-public-load-balancers")
        );
        assert_eq!(spec.validation_actions, Some(vec![action.to_string()]));
    }
}
