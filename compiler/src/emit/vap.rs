//! The `vap` target: a ValidatingAdmissionPolicy holding the CEL of one guardrail, and the
//! ValidatingAdmissionPolicyBinding that enforces it in one environment.
//! <https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/>

use super::{header, object_metadata, yaml_document, Artifact, Target};
use crate::backend::cel::{self, CelPolicy};
use crate::cost::{self, CostModel};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Enforcement, LabelSelector, SelectorOperator, SelectorRequirement};
use crate::kube::KubeVersion;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const API_VERSION: &str = "admissionregistration.k8s.io/v1";
/// The label every namespace carries with its own name (set by the API server since 1.22).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The policy and binding files of `policy`, and the diagnostics of printing it (errors leave
/// the artifacts empty; cost warnings do not). Lists without a literal or param size count as
/// [`cost::UNBOUNDED_LIST_SIZE`] items.
pub fn emit_vap(policy: &ir::Policy, kube: KubeVersion) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let cel = match cel::print_policy(policy, kube) {
        Ok(cel) => cel,
        Err(diagnostics) => return (Vec::new(), diagnostics),
    };
    let model = CostModel::new(&policy.params);
    let mut diagnostics = cost::check_policy(policy, &model);
    diagnostics.extend(crate::messages::hidden_messages(policy));
    let header = header(&policy.source_file, &policy.id);
    let artifact = |kind: &str, document: Value| Artifact {
        env: policy.env.clone(),
        target: Target::Vap,
        guardrail: policy.id.clone(),
        path: format!("{}/vap/{}.{kind}.yaml", policy.env, policy.id),
        contents: yaml_document(&header, &document),
    };
    let artifacts = vec![
        artifact("policy", policy_document(policy, &cel)),
        artifact("binding", binding_document(policy)),
    ];
    (artifacts, diagnostics)
}

fn policy_document(policy: &ir::Policy, cel: &CelPolicy) -> Value {
    let mut spec = Map::new();
    spec.insert("failurePolicy".into(), json!("Fail"));
    spec.insert(
        "matchConstraints".into(),
        match_constraints(&policy.matcher),
    );
    let named = |list: &[cel::NamedExpression]| -> Value {
        list.iter()
            .map(|named| json!({ "name": named.name, "expression": named.expression }))
            .collect()
    };
    if !cel.match_conditions.is_empty() {
        spec.insert("matchConditions".into(), named(&cel.match_conditions));
    }
    if !cel.variables.is_empty() {
        spec.insert("variables".into(), named(&cel.variables));
    }
    let validations: Value = cel
        .validations
        .iter()
        .map(|validation| {
            json!({
                "expression": validation.expression,
                "messageExpression": validation.message_expression,
                "reason": validation.reason,
            })
        })
        .collect();
    spec.insert("validations".into(), validations);
    json!({
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": object_metadata(policy, &policy.id),
        "spec": spec,
    })
}

/// The binding's name: the guardrail id and the environment.
pub fn binding_name(policy: &ir::Policy) -> String {
    format!("{}-{}", policy.id, policy.env)
}

fn binding_document(policy: &ir::Policy) -> Value {
    // Kubernetes rejects Deny together with Warn; each enforcement maps to exactly one action.
    let action = match policy.enforcement {
        Enforcement::Deny => "Deny",
        Enforcement::Warn => "Warn",
        Enforcement::Audit => "Audit",
    };
    json!({
        "apiVersion": API_VERSION,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": object_metadata(policy, &binding_name(policy)),
        "spec": {
            "policyName": policy.id,
            "validationActions": [action],
        },
    })
}

fn match_constraints(matcher: &ir::Match) -> Value {
    let operations: Vec<&str> = matcher.operations.iter().map(|op| op.as_str()).collect();
    let mut by_group_version: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for resource in &matcher.resources {
        by_group_version
            .entry((&resource.group, &resource.version))
            .or_default()
            .push(&resource.resource);
    }
    let resource_rules: Value = by_group_version
        .into_iter()
        .map(|((group, version), resources)| {
            json!({
                "apiGroups": [group],
                "apiVersions": [version],
                "operations": operations,
                "resources": resources,
            })
        })
        .collect();

    let mut namespaces = matcher.namespace_selector.clone();
    let by_name = |operator, values: &[String]| SelectorRequirement {
        key: NAMESPACE_NAME_LABEL.to_string(),
        operator,
        values: values.to_vec(),
    };
    let mut by_names = Vec::new();
    if !matcher.namespaces.is_empty() {
        by_names.push(by_name(SelectorOperator::In, &matcher.namespaces));
    }
    if !matcher.excluded_namespaces.is_empty() {
        by_names.push(by_name(
            SelectorOperator::NotIn,
            &matcher.excluded_namespaces,
        ));
    }
    namespaces.match_expressions.splice(0..0, by_names);

    let mut constraints = Map::new();
    constraints.insert("resourceRules".into(), resource_rules);
    if !namespaces.is_empty() {
        constraints.insert("namespaceSelector".into(), label_selector(&namespaces));
    }
    if !matcher.object_selector.is_empty() {
        constraints.insert(
            "objectSelector".into(),
            label_selector(&matcher.object_selector),
        );
    }
    Value::Object(constraints)
}

fn label_selector(selector: &LabelSelector) -> Value {
    let mut out = Map::new();
    if !selector.match_labels.is_empty() {
        let labels: Map<String, Value> = selector
            .match_labels
            .iter()
            .map(|(key, value)| (key.clone(), json!(value)))
            .collect();
        out.insert("matchLabels".into(), Value::Object(labels));
    }
    if !selector.match_expressions.is_empty() {
        let expressions: Value = selector
            .match_expressions
            .iter()
            .map(|requirement| {
                let mut entry = Map::new();
                entry.insert("key".into(), json!(requirement.key));
                entry.insert("operator".into(), json!(requirement.operator.as_str()));
                // Exists and DoesNotExist must have no values: leave the key out.
                if !requirement.values.is_empty() {
                    entry.insert("values".into(), json!(requirement.values));
                }
                Value::Object(entry)
            })
            .collect();
        out.insert("matchExpressions".into(), expressions);
    }
    Value::Object(out)
}
