//! The printed CEL does what the IR means: evaluate the pod guardrail's variables and
//! validations in admission order with the `cel` crate (standard library and strings
//! extension; the fixtures avoid the Kubernetes quantity library it lacks).

#[allow(dead_code)]
mod cel_policies;

use cel_policies::*;
use guardrailc_compiler::backend::cel::{print_policy, CelPolicy};
use guardrailc_compiler::kube::KubeVersion;
use serde_json::json;
use std::collections::HashMap;

/// What one admission evaluation of a policy yields: whether the object is exempt, each
/// variable's value, and per rule whether it passed and its message.
struct Outcome {
    exempt: bool,
    variables: HashMap<String, cel::Value>,
    results: Vec<(bool, String)>,
}

fn admit(cel: &CelPolicy, object: serde_json::Value) -> Outcome {
    let object = to_cel(&object);
    let exempt = cel.match_conditions.iter().any(|condition| {
        evaluate(&condition.expression, &[("object", object.clone())]).unwrap()
            == cel::Value::Bool(false)
    });
    let mut variables: HashMap<String, cel::Value> = HashMap::new();
    for variable in &cel.variables {
        let bindings = [
            ("object", object.clone()),
            ("variables", cel::Value::from(variables.clone())),
        ];
        let value = evaluate(&variable.expression, &bindings).unwrap();
        variables.insert(variable.name.clone(), value);
    }
    let bindings = [("variables", cel::Value::from(variables.clone()))];
    let results = cel
        .validations
        .iter()
        .map(|validation| {
            let passed =
                evaluate(&validation.expression, &bindings).unwrap() == cel::Value::Bool(true);
            let message = match evaluate(&validation.message_expression, &bindings).unwrap() {
                cel::Value::String(message) => message.to_string(),
                other => panic!("message is {other:?}"),
            };
            (passed, message)
        })
        .collect();
    Outcome {
        exempt,
        variables,
        results,
    }
}

fn deployment(containers: serde_json::Value, annotations: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web", "labels": { "team": "shop" } },
        "spec": { "template": {
            "metadata": { "annotations": annotations },
            "spec": { "containers": containers }
        } }
    })
}

const APPARMOR: &str = "container.apparmor.security.beta.kubernetes.io/app";

#[test]
fn a_clean_workload_passes_every_rule() {
    let cel = print_policy(&pod_guardrail(), KubeVersion::DEFAULT).unwrap();
    let containers = json!([
        { "name": "app", "image": "registry.example.com/app:1.2", "ports": [{ "containerPort": 80 }] },
        { "name": "sidecar", "image": "ghcr.io/acme/proxy:3" }
    ]);
    let outcome = admit(
        &cel,
        deployment(containers, json!({ APPARMOR: "runtime/default" })),
    );
    assert!(!outcome.exempt);
    assert_eq!(
        outcome.results,
        vec![(true, String::new()); 4],
        "{:?}",
        outcome.variables
    );
}

#[test]
fn nested_generators_yield_one_message_per_violating_pair() {
    let cel = print_policy(&pod_guardrail(), KubeVersion::DEFAULT).unwrap();
    let containers = json!([
        { "name": "app", "image": "registry.example.com/app:1.2",
          "ports": [{ "containerPort": 80, "hostPort": 8080 }, { "containerPort": 81 }, { "containerPort": 82, "hostPort": 8082 }] },
        { "name": "quiet", "image": "registry.example.com/quiet:1", "ports": [{ "containerPort": 90 }] },
        { "name": "other", "image": "registry.example.com/other:1", "ports": [{ "containerPort": 70, "hostPort": 7070 }] }
    ]);
    let outcome = admit(
        &cel,
        deployment(containers, json!({ APPARMOR: "runtime/default" })),
    );
    // one inner list per container with a violation; `quiet` leaves no empty list behind
    let expected = cel::Value::List(
        vec![
            cel::Value::List(
                vec![
                    "container app uses host port 8080".into(),
                    "container app uses host port 8082".into(),
                ]
                .into(),
            ),
            cel::Value::List(vec!["container other uses host port 7070".into()].into()),
        ]
        .into(),
    );
    assert_eq!(outcome.variables["rule_2"], expected);
    assert_eq!(
        outcome.results[1],
        (
            false,
            "container app uses host port 8080; container app uses host port 8082; container other uses host port 7070"
                .to_string()
        )
    );
    assert!(outcome.results[0].0 && outcome.results[2].0 && outcome.results[3].0);
}

#[test]
fn pod_view_follows_the_kind_and_tolerates_missing_parts() {
    let cel = print_policy(&pod_guardrail(), KubeVersion::DEFAULT).unwrap();
    let cronjob = json!({
        "kind": "CronJob",
        "metadata": { "name": "nightly" },
        "spec": { "jobTemplate": { "spec": { "template": { "spec": {
            "initContainers": [{ "name": "init", "image": "busybox" }],
            "containers": [{ "name": "job", "image": "registry.example.com/job:latest" }]
        } } } } }
    });
    let outcome = admit(&cel, cronjob);
    let messages: Vec<&str> = outcome.results.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        messages[0],
        "container job uses registry.example.com/job:latest, which is not pinned (fix: pin a version tag or digest); \
         container init uses busybox, which is not pinned (fix: pin a version tag or digest)"
    );
    assert_eq!(
        messages[2],
        "the pod has no AppArmor profile for container `app`"
    );
    assert_eq!(
        messages[3],
        "container init: image busybox is not from an allowed registry"
    );

    // a raw manifest without a pod template: no pod, no containers, no error
    let bare = json!({ "kind": "Deployment", "metadata": { "name": "empty" } });
    let outcome = admit(&cel, bare);
    assert_eq!(outcome.variables["podSpec"], cel::Value::Null);
    assert_eq!(
        outcome.variables["allContainers"],
        cel::Value::List(Vec::new().into())
    );
    assert!(outcome.results[0].0 && outcome.results[1].0 && outcome.results[3].0);
    assert!(!outcome.results[2].0, "no metadata, no AppArmor annotation");
}

#[test]
fn exemptions_are_match_conditions_that_fail_for_exempt_objects() {
    let cel = print_policy(&pod_guardrail(), KubeVersion::DEFAULT).unwrap();
    let mut object = deployment(json!([]), json!({}));
    object["metadata"]["labels"]["team"] = json!("platform");
    assert!(admit(&cel, object).exempt);
    let unlabelled =
        json!({ "kind": "Pod", "metadata": { "name": "p" }, "spec": { "containers": [] } });
    assert!(!admit(&cel, unlabelled).exempt);
}
