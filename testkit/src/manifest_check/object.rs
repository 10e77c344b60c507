//! One object checked on every compiled guardrail, as a CREATE into its namespace.

use super::finding::Finding;
use super::namespaces::Namespaces;
use crate::case::{AdmissionCase, Operation, ResourceCatalog, UserInfo};
use crate::compiled::CompiledGuardrail;
use crate::fixtures::namespace_kubernetes_creates;
use guardrailc_compiler::emit::Target;
use serde_json::Value;

/// What checking one object found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectCheck {
    pub findings: Vec<Finding>,
    /// The object's kind is unknown to the catalog, so no guardrail can match it.
    pub skipped: bool,
    /// Evaluation errors (a CEL error is a compiler bug worth reporting).
    pub errors: Vec<String>,
    /// The namespaces the objects were checked in (none for cluster-scoped objects).
    pub namespaces: Vec<String>,
}

/// Evaluates every compiled guardrail on `object`, as a CREATE of it into its namespace: the
/// Namespace of the manifests when they have one, else the namespace Kubernetes creates
/// (with only its name label). `group_by_label` names the owner label of findings.
pub fn check_object(
    compiled: &[CompiledGuardrail],
    object: Value,
    place: (&str, usize),
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &dyn ResourceCatalog,
) -> ObjectCheck {
    let (file, line) = place;
    let mut check = ObjectCheck::default();
    let described = describe(&object);
    let created = namespace_kubernetes_creates(Some(&object), catalog);
    let namespace_name = created
        .as_ref()
        .and_then(|ns| ns.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let namespace_object = match &namespace_name {
        Some(name) => namespaces.by_name.get(name).cloned().or(created),
        None => None,
    };
    check.namespaces.extend(namespace_name.clone());
    let label = |value: Option<&Value>| {
        value
            .and_then(|v| v.pointer("/metadata/labels"))
            .and_then(|labels| labels.get(group_by_label))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let owner = label(Some(&object)).or_else(|| label(namespace_object.as_ref()));
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
        let evaluation = match guardrail.evaluate_on_vm(&case, catalog) {
            Ok(evaluation) => evaluation,
            Err(_) => {
                // Every guardrail sees the same kind: unknown to one is unknown to all.
                check.skipped = true;
                return check;
            }
        };
        // Message → targets that yielded it, in message order of first appearance.
        let mut found: Vec<(String, Vec<Target>)> = Vec::new();
        for (target, outcome) in &evaluation.outcomes {
            if *target == Target::Opa && !evaluation.opa_comparable {
                continue;
            }
            check.errors.extend(outcome.errors.iter().map(|e| {
                format!(
                    "{file}:{line}: `{}` in `{}` on `{}`: {e}",
                    guardrail.policy.id,
                    guardrail.policy.env,
                    target.as_str()
                )
            }));
            let mut messages = outcome.messages.clone();
            messages.dedup();
            for message in messages {
                match found.iter_mut().find(|(m, _)| *m == message) {
                    Some((_, targets)) if !targets.contains(target) => targets.push(*target),
                    Some(_) => {}
                    None => found.push((message, vec![*target])),
                }
            }
        }
        check
            .findings
            .extend(found.into_iter().map(|(message, targets)| Finding {
                file: file.to_string(),
                line,
                object: described.clone(),
                namespace: namespace_name.clone(),
                owner: owner.clone(),
                guardrail: guardrail.policy.id.clone(),
                env: guardrail.policy.env.clone(),
                verdict: guardrail.enforcement(),
                message,
                targets,
            }));
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
