//! The printed Rego compiles in regorus as Rego v1, and evaluating it gives the violations the
//! IR means, on allowed and denied inputs, in both flavours.

mod rego_fixtures;

use guardrailc_compiler::backend::rego::{print_module, RegoFlavour};
use guardrailc_compiler::ir::*;
use guardrailc_compiler::Code;
use rego_fixtures::*;
use serde_json::{json, Value};

fn pod(containers: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "p", "namespace": "shop", "labels": { "app": "web" } },
        "spec": { "containers": containers },
    })
}

fn non_root(name: &str, image: &str) -> Value {
    json!({ "name": name, "image": image, "securityContext": { "runAsNonRoot": true } })
}

#[test]
fn every_module_compiles_in_both_flavours() {
    for policy in all_policies() {
        for flavour in [RegoFlavour::Gatekeeper, RegoFlavour::Opa] {
            // `engine` panics with the module text when regorus rejects it.
            let mut engine = engine(&policy, flavour);
            let rule = match flavour {
                RegoFlavour::Gatekeeper => "violation",
                RegoFlavour::Opa => "deny",
            };
            let package = guardrailc_compiler::backend::rego::package_name(&policy);
            engine.set_input(regorus::Value::from_json_str("{}").expect("json"));
            let result = engine
                .eval_rule(format!("data.{package}.{rule}"))
                .expect("evaluates on an empty input");
            assert_eq!(result.to_json_str().expect("json"), "[]", "{}", policy.id);
        }
    }
}

#[test]
fn pinned_non_root_pod_is_allowed() {
    let object = pod(json!([non_root("app", "nginx:1.25")]));
    assert!(gatekeeper_messages(&pod_policy(), review("CREATE", object.clone())).is_empty());
    assert!(opa_messages(&pod_policy(), object).is_empty());
}

#[test]
fn two_containers_with_the_same_message_are_two_gatekeeper_violations() {
    let mut object = pod(json!([non_root("app", "nginx:latest")]));
    object["spec"]["initContainers"] = json!([non_root("app", "nginx:latest")]);
    let violations = gatekeeper_violations(&pod_policy(), review("CREATE", object.clone()));
    let message = "container app uses nginx:latest, which is not pinned";
    assert_eq!(violations.len(), 2, "{violations:?}");
    let mut bindings: Vec<Value> = violations
        .iter()
        .map(|violation| {
            assert_eq!(violation["msg"], message);
            assert_eq!(violation["details"]["rule"], 1);
            violation["details"]["binding"].clone()
        })
        .collect();
    bindings.sort_by_key(|binding| binding.to_string());
    assert_eq!(bindings, vec![json!([0]), json!([1])]);
    // A set of messages keeps one: the OPA flavour's `deny` is a set of strings.
    assert_eq!(opa_messages(&pod_policy(), object), vec![message]);
}

#[test]
fn untagged_and_imageless_containers_are_not_pinned() {
    let object = pod(json!([
        non_root("a", "nginx"),
        { "name": "b", "securityContext": { "runAsNonRoot": true } },
        non_root("c", "nginx:1.25"),
    ]));
    let expected = vec![
        "container a uses nginx, which is not pinned",
        "container b uses <missing>, which is not pinned",
    ];
    assert_eq!(
        gatekeeper_messages(&pod_policy(), review("CREATE", object.clone())),
        expected
    );
    assert_eq!(opa_messages(&pod_policy(), object), expected);
}

#[test]
fn host_ports_are_found_in_every_workload_location() {
    let container = json!({
        "name": "app",
        "image": "nginx:1.25",
        "securityContext": { "runAsNonRoot": true },
        "ports": [ { "containerPort": 80, "hostPort": 8080 }, { "containerPort": 81 } ],
    });
    let template = json!({ "metadata": { "labels": { "app": "web" } }, "spec": { "containers": [container] } });
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "d" },
        "spec": { "template": template },
    });
    let cronjob = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": { "name": "j" },
        "spec": { "jobTemplate": { "spec": { "template": template } } },
    });
    for object in [deployment, cronjob] {
        let violations = gatekeeper_violations(&pod_policy(), review("UPDATE", object.clone()));
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0]["msg"], "container app binds host port 8080");
        assert_eq!(violations[0]["details"]["binding"], json!([0, 0]));
        assert_eq!(
            opa_messages(&pod_policy(), object),
            vec!["container app binds host port 8080"]
        );
    }
}

#[test]
fn all_and_any_quantifiers() {
    let policy = pod_policy();
    // One container may run as root: `not all` holds; the label comes from the pod metadata.
    let object = pod(json!([
        non_root("a", "nginx:1"),
        { "name": "b", "image": "nginx:1" },
    ]));
    assert_eq!(
        gatekeeper_messages(&policy, review("CREATE", object)),
        vec!["pod web may run as root"]
    );
    // No containers: `all` over nothing holds, so nothing is reported.
    assert!(gatekeeper_messages(&policy, review("CREATE", pod(json!([])))).is_empty());
    // A host path volume.
    let mut object = pod(json!([non_root("a", "nginx:1")]));
    object["spec"]["volumes"] =
        json!([{ "name": "x", "emptyDir": {} }, { "name": "y", "hostPath": { "path": "/" } }]);
    assert_both_flavours(&policy, object, &["pod mounts a host path"]);
}

#[test]
fn a_pod_without_spec_or_an_unmatched_kind_reports_nothing() {
    let policy = pod_policy();
    let specless = json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" } });
    assert!(gatekeeper_messages(&policy, review("CREATE", specless.clone())).is_empty());
    assert!(opa_messages(&policy, specless).is_empty());
    let mut service = pod(json!([{ "name": "a", "image": "nginx" }]));
    service["kind"] = json!("Service");
    assert!(gatekeeper_messages(&policy, review("CREATE", service)).is_empty());
}

#[test]
fn operations_outside_the_matcher_report_nothing_in_gatekeeper() {
    let object = pod(json!([{ "name": "a", "image": "nginx:latest" }]));
    assert!(gatekeeper_messages(&pod_policy(), review("DELETE", object.clone())).is_empty());
    assert!(!gatekeeper_messages(&pod_policy(), review("UPDATE", object)).is_empty());
}

fn service(name: &str, labels: Value, annotations: Value, service_type: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": name, "namespace": "shop", "labels": labels, "annotations": annotations },
        "spec": { "type": service_type },
    })
}

#[test]
fn public_load_balancers_are_reported_unless_exempt() {
    let policy = service_policy();
    let message = |name: &str| vec![format!("service {name} is a public load balancer")];
    let cases = [
        (
            service("web", json!({}), json!({}), "LoadBalancer"),
            message("web"),
        ),
        (
            service(
                "web",
                json!({}),
                json!({ "lb.example.com/internal": "false" }),
                "LoadBalancer",
            ),
            message("web"),
        ),
        (
            service(
                "web",
                json!({}),
                json!({ "lb.example.com/internal": "true" }),
                "LoadBalancer",
            ),
            vec![],
        ),
        (service("web", json!({}), json!({}), "ClusterIP"), vec![]),
        // exemptions: a label, a name prefix, an exact name
        (
            service(
                "web",
                json!({ "team": "platform" }),
                json!({}),
                "LoadBalancer",
            ),
            vec![],
        ),
        (
            service("web", json!({ "team": "shop" }), json!({}), "LoadBalancer"),
            message("web"),
        ),
        (
            service("legacy-web", json!({}), json!({}), "LoadBalancer"),
            vec![],
        ),
        (service("old", json!({}), json!({}), "LoadBalancer"), vec![]),
        (
            service("older", json!({}), json!({}), "LoadBalancer"),
            message("older"),
        ),
    ];
    for (object, expected) in cases {
        assert_eq!(
            gatekeeper_messages(&policy, review("CREATE", object.clone())),
            expected,
            "{object}"
        );
        assert_eq!(opa_messages(&policy, object.clone()), expected, "{object}");
    }
    // The policy applies to CREATE only.
    let object = service("web", json!({}), json!({}), "LoadBalancer");
    assert!(gatekeeper_messages(&policy, review("UPDATE", object)).is_empty());
}

fn limited(name: &str, image: &str, limits: Value) -> Value {
    json!({ "name": name, "image": image, "resources": { "limits": limits } })
}

#[test]
fn memory_limits_compare_as_quantities() {
    let policy = limits_policy();
    let over = |name: &str, shown: &str| {
        format!("container {name}: memory limit {shown} is missing or above 1Gi")
    };
    let object = pod(json!([
        limited("a", "registry.example.com/a", json!({ "memory": "1Gi" })),
        limited(
            "b",
            "registry.example.com/b",
            json!({ "memory": "1073741824" })
        ),
        limited("c", "registry.example.com/c", json!({ "memory": "512Mi" })),
        limited("d", "registry.example.com/d", json!({ "memory": "2Gi" })),
        limited(
            "e",
            "registry.example.com/e",
            json!({ "memory": "1073741825" })
        ),
        limited("f", "registry.example.com/f", json!({})),
        limited("g", "registry.example.com/g", json!({ "memory": "lots" })),
        limited("h", "registry.example.com/h", json!({ "memory": 5 })),
    ]));
    let mut expected = vec![
        over("d", "2Gi"),
        over("e", "1073741825"),
        over("f", "<missing>"),
        over("g", "lots"),
        // h: `memory: 5`, a JSON number, is the quantity 5 (bytes): a manifest may hold one
        // and the API server re-serialises it as "5" (engine-facts/apiserver-encoding.json)
        // eight containers are more than max_containers (2) under strict
        "strict=true: more than 2 containers".to_string(),
    ];
    expected.sort();
    assert_both_flavours(&policy, object, &expected);
}

/// A CREATE of `object` gives the `expected` messages, sorted, in Gatekeeper's violations
/// and in OPA's `deny` set.
fn assert_both_flavours<T: std::fmt::Debug>(policy: &Policy, object: Value, expected: &[T])
where
    String: PartialEq<T>,
{
    assert_eq!(
        gatekeeper_messages(policy, review("CREATE", object.clone())),
        expected
    );
    assert_eq!(opa_messages(policy, object), expected);
}

#[test]
fn registries_and_cpu_against_params() {
    let policy = limits_policy();
    let object = pod(json!([
        limited(
            "a",
            "registry.example.com/a:1",
            json!({ "memory": "1Gi", "cpu": "500m" })
        ),
        limited(
            "b",
            "docker.io/b:1",
            json!({ "memory": "1Gi", "cpu": "0.5" })
        ),
    ]));
    let expected = ["container b: image docker.io/b:1 is not from an allowed registry"];
    assert_both_flavours(&policy, object, &expected);
    let object = pod(json!([limited(
        "a",
        "mirror.example.com/a:1",
        json!({ "memory": "1Gi", "cpu": "501m" })
    )]));
    let expected = ["container a asks for more than 500m cpu"];
    assert_both_flavours(&policy, object, &expected);
}

/// A guardrail that reports `object.q` when it is a quantity, to test the guard alone.
fn quantity_probe() -> Policy {
    let mut policy = base_policy("quantity-probe", "QuantityProbe");
    policy.matcher.resources = vec![resource("", "v1", "configmaps", "ConfigMap")];
    let q = || access(Root::Object, &["q"]);
    policy.rules = vec![rule(
        1,
        Vec::new(),
        Expr::And(vec![
            present(q()),
            Expr::IsType {
                value: Box::new(value(q())),
                ty: ValueType::Quantity,
            },
            compare(CompareOp::Ge, Domain::Quantity, value(q()), text("0")),
        ]),
        message(vec![Part::T("quantity")]),
    )];
    policy
}

#[test]
fn the_quantity_guard_never_raises_and_accepts_kubernetes_spellings() {
    let policy = quantity_probe();
    let is_quantity = |q: Value| {
        let object =
            json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "m" }, "q": q });
        // regorus raises builtin errors by default: an unguarded `units.parse` would fail here.
        !gatekeeper_messages(&policy, review("CREATE", object)).is_empty()
    };
    for good in [
        "1", "0", "1Gi", "500m", "1.5", ".5", "+1", "1e3", "1E3", "2k", "3M", "1n",
    ] {
        assert!(is_quantity(json!(good)), "{good} is a quantity");
    }
    for bad in [
        "", "lots", "1 Gi", "1GB", "Gi", "1e", "--1", "1.2.3", "\"1\"",
    ] {
        assert!(!is_quantity(json!(bad)), "{bad} is not a quantity");
    }
    // A JSON number is a quantity of its value (a manifest may hold `memory: 1`); other
    // non-strings are not.
    assert!(is_quantity(json!(1)), "the number 1 is a quantity");
    for not_a_quantity in [json!(true), json!(null), json!(["1"]), json!({})] {
        assert!(!is_quantity(not_a_quantity.clone()), "{not_a_quantity}");
    }
}

fn team_review(old_team: &str, new_team: &str, groups: Value) -> Value {
    let deployment = |team: &str| {
        json!({
            "apiVersion": "apps/v1",
        "kind": "Deployment",
            "metadata": { "name": "d", "namespace": "shop", "labels": { "team": team } },
            "spec": { "replicas": 3 },
        })
    };
    let mut review = review("UPDATE", deployment(new_team));
    review["oldObject"] = deployment(old_team);
    review["userInfo"]["groups"] = groups;
    review
}

#[test]
fn request_and_old_object_reads() {
    let policy = team_label_policy();
    let changed = team_review("a", "b", json!(["dev"]));
    assert_eq!(
        gatekeeper_messages(&policy, changed.clone()),
        vec!["user alice may not change the team label from a to b"]
    );
    assert!(gatekeeper_messages(&policy, team_review("a", "a", json!(["dev"]))).is_empty());
    assert!(
        gatekeeper_messages(&policy, team_review("a", "b", json!(["system:masters"]))).is_empty()
    );
    // UPDATE only.
    let mut create = changed.clone();
    create["operation"] = json!("CREATE");
    assert!(gatekeeper_messages(&policy, create).is_empty());

    // OPA: silent without the review context, as the object alone cannot tell.
    let object = changed["object"].clone();
    assert!(opa_messages(&policy, object.clone()).is_empty());
    let data = json!({ "guardrailc": { "review": {
        "operation": "UPDATE",
        "oldObject": changed["oldObject"],
        "userInfo": changed["userInfo"],
    } } });
    assert_eq!(
        opa_messages_with_data(&policy, object, data),
        vec!["user alice may not change the team label from a to b"]
    );
}

#[test]
fn namespace_reads() {
    let policy = team_label_policy();
    let with_namespace = |env: &str, replicas: Option<i64>| {
        let mut review = team_review("a", "a", json!(["dev"]));
        review["namespaceObject"] =
            json!({ "metadata": { "name": "shop", "labels": { "env": env } } });
        match replicas {
            Some(replicas) => review["object"]["spec"]["replicas"] = json!(replicas),
            None => {
                review["object"]["spec"] = json!({});
            }
        }
        review
    };
    let message = vec!["deployments in shop need two replicas"];
    assert_eq!(
        gatekeeper_messages(&policy, with_namespace("prod", Some(1))),
        message
    );
    // replicas absent: the fallback 1 is below 2
    assert_eq!(
        gatekeeper_messages(&policy, with_namespace("prod", None)),
        message
    );
    assert!(gatekeeper_messages(&policy, with_namespace("prod", Some(2))).is_empty());
    assert!(gatekeeper_messages(&policy, with_namespace("dev", Some(1))).is_empty());
    // No namespace object (older Gatekeeper, or a cluster-scoped request), and nothing
    // replicated: the rule cannot tell the environment and stays silent.
    let without_namespace = |replicas| {
        let mut review = with_namespace("prod", Some(replicas));
        review
            .as_object_mut()
            .expect("object")
            .remove("namespaceObject");
        review
    };
    assert!(gatekeeper_messages(&policy, without_namespace(1)).is_empty());
    // Older Gatekeeper: the Namespace replicated into data.inventory (by gatekeeper/sync.yaml)
    // stands in, found by the request's namespace, `shop`.
    let inventory = |name: &str, env: &str| {
        json!({ "inventory": { "cluster": { "v1": { "Namespace": {
            name: { "metadata": { "name": name, "labels": { "env": env } } }
        } } } } })
    };
    assert_eq!(
        gatekeeper_messages_with_data(&policy, without_namespace(1), inventory("shop", "prod")),
        message
    );
    assert!(gatekeeper_messages_with_data(
        &policy,
        without_namespace(2),
        inventory("shop", "prod")
    )
    .is_empty());
    assert!(
        gatekeeper_messages_with_data(&policy, without_namespace(1), inventory("shop", "dev"))
            .is_empty()
    );
    // Another namespace's object is not this request's namespace.
    assert!(
        gatekeeper_messages_with_data(&policy, without_namespace(1), inventory("web", "prod"))
            .is_empty()
    );
    // The review's namespace object wins over the replicated one, which may lag behind.
    assert!(gatekeeper_messages_with_data(
        &policy,
        with_namespace("dev", Some(1)),
        inventory("shop", "prod")
    )
    .is_empty());
    assert_eq!(
        gatekeeper_messages_with_data(
            &policy,
            with_namespace("prod", Some(1)),
            inventory("shop", "dev")
        ),
        message
    );
}

#[test]
fn inconsistent_ir_is_an_internal_diagnostic() {
    let mut policy = limits_policy();
    policy.params.retain(|param| param.name != "max_memory");
    let errors = print_module(&policy, RegoFlavour::Gatekeeper).expect_err("a missing param");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::Internal);
    assert_eq!(errors[0].message, "param `max_memory` has no value");

    let mut policy = pod_policy();
    policy.rules[1].generators.remove(0);
    let errors = print_module(&policy, RegoFlavour::Opa).expect_err("an unbound variable");
    assert_eq!(errors[0].message, "variable `c` is not bound");

    let mut policy = pod_policy();
    policy.rules[0].condition = value_or(var("c", &["image"]), Literal::Bool(false));
    let errors = print_module(&policy, RegoFlavour::Opa).expect_err("a value as a test");
    assert_eq!(errors[0].message, "a value where a test is expected");
}

#[test]
fn printing_is_deterministic() {
    for policy in all_policies() {
        for flavour in [RegoFlavour::Gatekeeper, RegoFlavour::Opa] {
            assert_eq!(
                print_module(&policy, flavour),
                print_module(&policy.clone(), flavour)
            );
        }
    }
}
