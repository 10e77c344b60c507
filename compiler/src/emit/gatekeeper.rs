//! Gatekeeper: a `ConstraintTemplate` holding the Rego v1 module and the parameter schema, and
//! a `Constraint` per environment with the match, the enforcement action and the param values.
//! Facts behind the shapes are in docs/rego-backend.md.

use crate::backend::rego::{print_module, RegoFlavour};
use crate::diagnostic::Diagnostic;
use crate::emit::{header, object_metadata, yaml_document, Artifact, Target};
use crate::ir::{Enforcement, LabelSelector, Literal, ParamType, Policy};
use serde_json::{json, Map, Value};

/// The Gatekeeper target that validating admission and audit evaluate.
const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

pub fn emit_gatekeeper(policy: &Policy) -> (Vec<Artifact>, Vec<Diagnostic>) {
    let rego = match print_module(policy, RegoFlavour::Gatekeeper) {
        Ok(rego) => rego,
        Err(diagnostics) => return (Vec::new(), diagnostics),
    };
    let header = header(&policy.source_file, &policy.id);
    let artifact = |kind: &str, value: Value| Artifact {
        env: policy.env.clone(),
        target: Target::Gatekeeper,
        guardrail: policy.id.clone(),
        path: format!("{}/gatekeeper/{}.{kind}.yaml", policy.env, policy.id),
        contents: yaml_document(&header, &value),
    };
    let artifacts = vec![
        artifact("template", constraint_template(policy, rego)),
        artifact("constraint", constraint(policy)),
    ];
    (artifacts, Vec::new())
}

fn constraint_template(policy: &Policy, rego: String) -> Value {
    let properties: Map<String, Value> = policy
        .params
        .iter()
        .map(|param| (param.name.clone(), param_schema(&param.ty)))
        .collect();
    let mut schema = json!({ "type": "object" });
    if !properties.is_empty() {
        schema["properties"] = Value::Object(properties);
    }
    json!({
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": object_metadata(policy, &policy.kind_name.to_lowercase()),
        "spec": {
            "crd": {
                "spec": {
                    "names": { "kind": policy.kind_name },
                    "validation": { "openAPIV3Schema": schema },
                },
            },
            "targets": [{
                "target": ADMISSION_TARGET,
                // Rego v1 is accepted only here, not in the legacy `rego` field (Gatekeeper 3.19+).
                "code": [{
                    "engine": "Rego",
                    "source": { "version": "v1", "rego": rego },
                }],
            }],
        },
    })
}

/// The structural schema (every level typed, as templates.gatekeeper.sh/v1 requires) of a param.
fn param_schema(ty: &ParamType) -> Value {
    match ty {
        ParamType::String | ParamType::Quantity => json!({ "type": "string" }),
        ParamType::Int => json!({ "type": "integer" }),
        ParamType::Bool => json!({ "type": "boolean" }),
        ParamType::List(item) => json!({ "type": "array", "items": param_schema(item) }),
        ParamType::Map(value) => {
            json!({ "type": "object", "additionalProperties": param_schema(value) })
        }
        ParamType::Record(fields) => {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(name, ty)| (name.clone(), param_schema(ty)))
                .collect();
            json!({ "type": "object", "properties": properties })
        }
    }
}

fn literal_value(literal: &Literal) -> Value {
    match literal {
        Literal::Bool(value) => json!(value),
        Literal::Int(value) => json!(value),
        Literal::String(text) | Literal::Quantity(text) => json!(text),
        Literal::List(items) => Value::Array(items.iter().map(literal_value).collect()),
        Literal::Map(entries) | Literal::Record(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), literal_value(value)))
                .collect(),
        ),
    }
}

fn label_selector(selector: &LabelSelector) -> Value {
    let mut value = Map::new();
    if !selector.match_labels.is_empty() {
        let labels: Map<String, Value> = selector
            .match_labels
            .iter()
            .map(|(key, label)| (key.clone(), json!(label)))
            .collect();
        value.insert("matchLabels".into(), Value::Object(labels));
    }
    if !selector.match_expressions.is_empty() {
        let expressions: Vec<Value> = selector
            .match_expressions
            .iter()
            .map(|requirement| {
                let mut expression = json!({
                    "key": requirement.key,
                    "operator": requirement.operator.as_str(),
                });
                if !requirement.values.is_empty() {
                    expression["values"] = json!(requirement.values);
                }
                expression
            })
            .collect();
        value.insert("matchExpressions".into(), Value::Array(expressions));
    }
    Value::Object(value)
}

/// `spec.match.kinds`: one entry per API group, with that group's kinds sorted.
fn match_kinds(policy: &Policy) -> Value {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for resource in &policy.matcher.resources {
        match groups
            .iter_mut()
            .find(|(group, _)| *group == resource.group)
        {
            Some((_, kinds)) => kinds.push(resource.kind.clone()),
            None => groups.push((resource.group.clone(), vec![resource.kind.clone()])),
        }
    }
    groups.sort();
    let entries: Vec<Value> = groups
        .into_iter()
        .map(|(group, mut kinds)| {
            kinds.sort();
            kinds.dedup();
            json!({ "apiGroups": [group], "kinds": kinds })
        })
        .collect();
    Value::Array(entries)
}

fn constraint(policy: &Policy) -> Value {
    let matcher = &policy.matcher;
    let mut match_spec = json!({ "kinds": match_kinds(policy) });
    if !matcher.namespaces.is_empty() {
        match_spec["namespaces"] = json!(matcher.namespaces);
    }
    if !matcher.excluded_namespaces.is_empty() {
        match_spec["excludedNamespaces"] = json!(matcher.excluded_namespaces);
    }
    if !matcher.namespace_selector.is_empty() {
        match_spec["namespaceSelector"] = label_selector(&matcher.namespace_selector);
    }
    if !matcher.object_selector.is_empty() {
        match_spec["labelSelector"] = label_selector(&matcher.object_selector);
    }
    let enforcement_action = match policy.enforcement {
        Enforcement::Deny => "deny",
        Enforcement::Warn => "warn",
        Enforcement::Audit => "dryrun",
    };
    let mut spec = json!({
        "enforcementAction": enforcement_action,
        "match": match_spec,
    });
    if !policy.params.is_empty() {
        let parameters: Map<String, Value> = policy
            .params
            .iter()
            .map(|param| (param.name.clone(), literal_value(&param.value)))
            .collect();
        spec["parameters"] = Value::Object(parameters);
    }
    json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": policy.kind_name,
        "metadata": object_metadata(policy, &policy.id),
        "spec": spec,
    })
}
