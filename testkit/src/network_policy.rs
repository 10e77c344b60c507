//! The cross-object detective check on cluster exports: every selected namespace holds a
//! NetworkPolicy that denies all traffic by default (config `[detective.
//! default-deny-network-policy]`, docs/configuration.md). Admission sees one object at a
//! time, so the check has no compiled form; `guardrailc check` runs it on exports.

use guardrailc_compiler::config::Direction;
use serde_json::Value;
use std::collections::BTreeSet;

/// The directions in which `object`, if it is a NetworkPolicy, denies all traffic to every
/// pod of its namespace, with that namespace: its pod selector is empty, and for each
/// direction in its effective policy types it has no rule. Kubernetes' defaults apply when
/// `policyTypes` is absent: Ingress always, Egress when the policy has egress rules (which
/// then allow something, so never a default deny).
pub fn default_deny(object: &Value) -> Option<(String, BTreeSet<Direction>)> {
    if object.get("kind").and_then(Value::as_str) != Some("NetworkPolicy")
        || object.get("apiVersion").and_then(Value::as_str) != Some("networking.k8s.io/v1")
    {
        return None;
    }
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let spec = object.get("spec");
    let selects_every_pod = match spec.and_then(|s| s.get("podSelector")) {
        None | Some(Value::Null) => true,
        Some(Value::Object(selector)) => selector.values().all(|term| match term {
            Value::Null => true,
            Value::Object(map) => map.is_empty(),
            Value::Array(list) => list.is_empty(),
            _ => false,
        }),
        Some(_) => false,
    };
    if !selects_every_pod {
        return Some((namespace, BTreeSet::new()));
    }
    let has_rules = |field: &str| {
        spec.and_then(|s| s.get(field))
            .and_then(Value::as_array)
            .is_some_and(|rules| !rules.is_empty())
    };
    let types: Vec<&str> = match spec.and_then(|s| s.get("policyTypes")) {
        // An empty list takes the defaults too (`SetDefaults_NetworkPolicySpec`).
        Some(Value::Array(types)) if !types.is_empty() => {
            types.iter().filter_map(Value::as_str).collect()
        }
        _ if has_rules("egress") => vec!["Ingress", "Egress"],
        _ => vec!["Ingress"],
    };
    let mut denied = BTreeSet::new();
    for (direction, rules) in [
        (Direction::Ingress, "ingress"),
        (Direction::Egress, "egress"),
    ] {
        if types.contains(&direction.as_str()) && !has_rules(rules) {
            denied.insert(direction);
        }
    }
    Some((namespace, denied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(namespace: &str, spec: Value) -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": namespace},
            "spec": spec,
        })
    }

    fn denied(spec: Value) -> Vec<Direction> {
        let (namespace, directions) = default_deny(&policy("team-a", spec)).unwrap();
        assert_eq!(namespace, "team-a");
        directions.into_iter().collect()
    }

    #[test]
    fn the_documented_default_deny_policies_deny() {
        // policyTypes absent: Ingress only.
        assert_eq!(denied(json!({"podSelector": {}})), [Direction::Ingress]);
        assert_eq!(
            denied(json!({"podSelector": {}, "policyTypes": ["Egress"]})),
            [Direction::Egress]
        );
        assert_eq!(
            denied(
                json!({"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress", "Egress"]})
            ),
            [Direction::Ingress, Direction::Egress]
        );
        assert_eq!(
            denied(json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []})),
            [Direction::Ingress]
        );
        // An empty list of policy types is defaulted like an absent one.
        assert_eq!(
            denied(json!({"podSelector": {}, "policyTypes": []})),
            [Direction::Ingress]
        );
    }

    #[test]
    fn policies_that_allow_something_or_select_some_pods_do_not() {
        // `ingress: [{}]` allows all ingress.
        assert_eq!(
            denied(json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]})),
            []
        );
        assert_eq!(
            denied(json!({"podSelector": {"matchLabels": {"app": "web"}}})),
            []
        );
        // Egress rules without policyTypes make the types Ingress and Egress; the egress
        // rules allow something, so only ingress is denied.
        assert_eq!(
            denied(json!({"podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]})),
            [Direction::Ingress]
        );
    }

    #[test]
    fn other_objects_are_not_network_policies() {
        assert_eq!(
            default_deny(&json!({"apiVersion": "v1", "kind": "Pod"})),
            None
        );
        assert_eq!(
            default_deny(&json!({"apiVersion": "example.com/v1", "kind": "NetworkPolicy"})),
            None
        );
    }
}
