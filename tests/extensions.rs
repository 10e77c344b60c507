//! The language constructs the standard library needs, evaluated end to end on every target:
//! run-time map keys, iterating map keys, string trimming, patterns from params and record
//! params. Each case checks the verdict by reasoning and that CEL, Gatekeeper and OPA agree
//! without run-time errors.

use guardrailc_testkit::test_support as engines;

use engines::{build, compile, create, load};
use serde_json::{json, Value};

/// `object` created, on every target in every shape: they must agree; the verdicts and VAP's
/// messages, sorted.
fn agreed(policy: &engines::Compiled, object: &Value) -> (engines::Verdicts, Vec<String>) {
    let verdicts = policy.evaluate(&create(object.clone()), true).unwrap();
    verdicts
        .agreement()
        .unwrap_or_else(|e| panic!("{e}\n{object}"));
    let mut messages = verdicts.vap.messages.clone();
    messages.sort();
    (verdicts, messages)
}

fn config_map(labels: Value, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns", "labels": labels, "annotations": annotations}})
}

const LABELS: &str = r#"
guardrail labels {
  title "required labels with patterns"
  match kinds [ConfigMap]
  param required: list<string> = ["team"]
  param patterns: list<{key: string, allowedRegex: string}> = []
  deny for k in params.required
    when missing(object.metadata.labels[k])
    message "missing label {k}"
  deny for l in params.patterns
    when exists(object.metadata.labels[l.key]) and exists(l.allowedRegex)
      and not object.metadata.labels[l.key].matches(l.allowedRegex)
    message "label {l.key} does not match {l.allowedRegex}"
}
"#;

const LABELS_CONFIG: &str = r#"
[environments.prod.guardrails.labels.params]
required = ["team", "app.kubernetes.io/name"]
patterns = [{key = "team", allowedRegex = "^[a-z]+$"}, {key = "tier"}, {allowedRegex = "x"}]
"#;

#[test]
fn map_keys_may_be_computed_at_run_time() {
    let artifacts = compile("labels.guard", LABELS);
    let policy = load(&artifacts, "default", "labels").unwrap();
    let outcome = policy
        .run(&create(config_map(json!({"team": "a"}), json!({}))), true)
        .unwrap();
    assert!(!outcome.violated, "{:?}", outcome.messages);
    let outcome = policy
        .run(&create(config_map(json!({"other": "a"}), json!({}))), true)
        .unwrap();
    assert_eq!(outcome.messages, vec!["missing label team"]);
    // No labels at all: the lookup is absent, so `missing` holds and nothing errors.
    let outcome = policy
        .run(&create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}})), true)
        .unwrap();
    assert_eq!(outcome.messages, vec!["missing label team"]);
}

#[test]
fn record_params_are_read_field_by_field_with_absent_fields() {
    let sources = [("labels.guard".to_string(), LABELS.to_string())];
    let artifacts = build(&sources, LABELS_CONFIG).unwrap();
    let template = &artifacts
        .iter()
        .find(|a| a.path == "prod/gatekeeper/labels.template.yaml")
        .unwrap()
        .contents;
    assert!(
        template.contains("allowedRegex:\n") && template.contains("type: object"),
        "the record is an object schema with its fields:\n{template}"
    );
    let policy = load(&artifacts, "prod", "labels").unwrap();
    let both = json!({"team": "shop", "app.kubernetes.io/name": "web", "tier": "ANY"});
    let outcome = policy
        .run(&create(config_map(both.clone(), json!({}))), true)
        .unwrap();
    assert!(!outcome.violated, "{:?}", outcome.messages);
    let mut bad = both;
    bad["team"] = json!("Shop1");
    let outcome = policy
        .run(&create(config_map(bad, json!({}))), true)
        .unwrap();
    // `{key = "tier"}` has no pattern and `{allowedRegex = "x"}` no key: neither fires.
    assert_eq!(outcome.messages, vec!["label team does not match ^[a-z]+$"]);
    let outcome = policy
        .run(&create(config_map(json!({"team": "x"}), json!({}))), true)
        .unwrap();
    assert_eq!(
        outcome.messages,
        vec!["missing label app.kubernetes.io/name"]
    );
}

const APPARMOR: &str = r#"
guardrail apparmor {
  title "apparmor annotations"
  match workloads
  let prefix = "container.apparmor.security.beta.kubernetes.io/"
  deny for k in pod.metadata.annotations.keys()
    let profile = pod.metadata.annotations[k]
    when k.starts_with(prefix)
      and not (profile == "runtime/default" or profile.starts_with("localhost/"))
    message "container {k.trim_prefix(prefix)} has profile {profile}"
  deny when any k in pod.metadata.labels.keys(): k.starts_with("bad-")
    message "a bad label"
  deny when "forbidden" in pod.metadata.labels.keys()
    message "forbidden label"
  deny when pod.metadata.labels.keys().size() > 2
    message "too many labels"
}
"#;

fn pod_with(labels: Value, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "labels": labels, "annotations": annotations}, "spec": {"containers": [{"name": "a", "image": "x"}]}})
}

#[test]
fn map_keys_can_be_iterated_searched_and_counted() {
    let artifacts = compile("apparmor.guard", APPARMOR);
    let policy = load(&artifacts, "default", "apparmor").unwrap();
    let annotations = json!({
        "container.apparmor.security.beta.kubernetes.io/a": "runtime/default",
        "container.apparmor.security.beta.kubernetes.io/b": "localhost/x",
        "container.apparmor.security.beta.kubernetes.io/c": "unconfined",
        "other": "unconfined"
    });
    let outcome = policy
        .run(&create(pod_with(json!({}), annotations)), true)
        .unwrap();
    assert_eq!(outcome.messages, vec!["container c has profile unconfined"]);
    let outcome = policy
        .run(
            &create(pod_with(json!({"a": "1", "bad-x": "1"}), json!({}))),
            true,
        )
        .unwrap();
    assert_eq!(outcome.messages, vec!["a bad label"]);
    let outcome = policy
        .run(&create(pod_with(json!({"forbidden": ""}), json!({}))), true)
        .unwrap();
    assert_eq!(outcome.messages, vec!["forbidden label"]);
    let outcome = policy
        .run(
            &create(pod_with(json!({"a": "", "b": "", "c": ""}), json!({}))),
            true,
        )
        .unwrap();
    assert_eq!(outcome.messages, vec!["too many labels"]);
    // No metadata maps at all: iterating absent keys iterates nothing.
    let outcome = policy
        .run(&create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": []}})), true)
        .unwrap();
    assert!(!outcome.violated);
}

const IMAGES: &str = r#"
guardrail images {
  title "exempt images with wildcards"
  match kinds [Pod]
  param exempt: list<string> = ["registry.example.com/tools/*", "busybox:1.36"]
  param allowed: list<string> = ["^registry\\.example\\.com/"]
  require for c in pod.all_containers
    when not (any e in params.exempt:
      (e.ends_with("*") and c.image.starts_with(e.trim_suffix("*"))) or c.image == e)
    that any p in params.allowed: c.image.matches(p)
    message "container {c.name} uses {c.image}"
  deny for c in pod.all_containers
    when c.name.trim_prefix("sidecar-") == "é😀"
    message "unicode sidecar"
}
"#;

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": containers}})
}

#[test]
fn strings_are_trimmed_and_patterns_come_from_list_params() {
    let artifacts = compile("images.guard", IMAGES);
    let policy = load(&artifacts, "default", "images").unwrap();
    for (image, denied) in [
        ("registry.example.com/shop:1", false),
        ("registry.example.com/tools/kubectl:1", false),
        ("registry.example.com/tools", false),
        ("busybox:1.36", false),
        ("busybox:1.37", true),
        ("registry.example.com.evil/tools/x", true),
        ("docker.io/registry.example.com/tools/x", true),
    ] {
        let outcome = policy
            .run(&create(pod(json!([{"name": "a", "image": image}]))), true)
            .unwrap();
        assert_eq!(outcome.violated, denied, "{image}");
    }
    // An image that is absent reads as "": the wildcard test is false, the requirement fails.
    let outcome = policy
        .run(&create(pod(json!([{"name": "a"}]))), true)
        .unwrap();
    // `image` is a plain Go string: absent reads as "" (docs/language.md, Semantics, rule 4).
    assert_eq!(outcome.messages, vec!["container a uses "]);
    for (name, denied) in [
        ("sidecar-é😀", true),
        ("é😀", true),
        ("sidecar-é", false),
        ("x-é😀", false),
    ] {
        let outcome = policy
            .run(
                &create(pod(
                    json!([{"name": name, "image": "registry.example.com/a"}]),
                )),
                true,
            )
            .unwrap();
        assert_eq!(outcome.violated, denied, "{name}");
    }
}

const MEMORY: &str = r#"
guardrail memory {
  title "bounded memory"
  match kinds [Pod]
  param max_memory: quantity = 4Gi
  deny for c in object.spec.containers
    let limit = c.resources.limits["memory"]
    when limit > params.max_memory
    message "container {c.name} asks for more than the maximum"
}
"#;

fn pod_with_memory(memory: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
           "spec": {"containers": [{"name": "app", "image": "app:1", "resources": {"limits": {"memory": memory}}}]}})
}

#[test]
fn quantities_written_as_json_numbers_mean_their_value_on_every_target() {
    // `memory: 8589934592` is legal in a manifest: the API server re-serialises it as the
    // string "8589934592" (engine-facts/apiserver-encoding.json), which VAP and Gatekeeper
    // admission see; gator and conftest read the manifest as written, with the number.
    let artifacts = compile("memory.guard", MEMORY);
    let policy = load(&artifacts, "default", "memory").unwrap();
    for (memory, over) in [
        (json!(8589934592_u64), true),
        (json!(1073741824), false),
        (json!("8589934592"), true),
        (json!("1Gi"), false),
    ] {
        let case = create(pod_with_memory(memory.clone()));
        let verdicts = policy.evaluate(&case, true).unwrap();
        verdicts.agreement().unwrap();
        assert_eq!(verdicts.vap.violated, over, "{memory}");
        let gator = verdicts
            .gator
            .as_ref()
            .expect("gator reviews a created pod");
        assert_eq!(gator.violated, over, "gator on {memory}");
        // conftest on the manifest as written
        let conftest = policy
            .opa
            .as_ref()
            .expect("built for opa")
            .evaluate(&case)
            .unwrap();
        assert_eq!(conftest.violated, over, "conftest on {memory}");
    }
}

const PLAIN_VALUES: &str = r#"
guardrail plain-values {
  title "plain-valued fields read their zero value when not set"
  match kinds [Pod]
  deny when pod.spec.hostNetwork
    message "host network"
  deny when not pod.spec.hostPID
    message "no host PID"
  deny for c in pod.all_containers
    when exists(c.securityContext.seLinuxOptions.type)
    message "{c.name} sets an SELinux type {c.securityContext.seLinuxOptions.type}"
  deny for c in pod.all_containers
    when c.image == ""
    message "{c.name} has no image"
  deny for c in pod.all_containers
    when any p in c.ports: p.hostPort != 0
    message "{c.name} binds a host port"
  deny for c in pod.all_containers
    when exists(c.securityContext.privileged)
    message "{c.name} says whether it is privileged"
}
"#;

#[test]
fn explicit_zero_values_read_as_unset_fields_in_every_shape() {
    // The API server drops `hostNetwork: false`, `type: ""`, `image: ""` and `hostPort: 0`
    // before admission (engine-facts/apiserver-encoding.json) but `gator test` and conftest
    // read the manifest with them. A plain-valued field reads as its zero value when absent,
    // so every shape agrees; `privileged` is a pointer, so `privileged: false` stays present.
    let artifacts = compile("plain-values.guard", PLAIN_VALUES);
    let policy = load(&artifacts, "default", "plain-values").unwrap();
    let container = |extra: Value| {
        let mut c = json!({"name": "app", "ports": [{"containerPort": 80}]});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let pod = |spec: Value, c: Value| {
        let mut spec = spec;
        spec["containers"] = json!([c]);
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
    };
    let expected_unset = vec!["app has no image".to_string(), "no host PID".to_string()];
    // Not set at all, and set to each zero value explicitly: the same verdict and messages
    // on VAP, Gatekeeper admission, audit, gator (the manifest as written) and conftest.
    for object in [
        pod(json!({}), container(json!({}))),
        pod(
            json!({"hostNetwork": false, "hostPID": false}),
            container(json!({
                "image": "",
                "ports": [{"containerPort": 80, "hostPort": 0}],
                "securityContext": {"seLinuxOptions": {"type": ""}}
            })),
        ),
    ] {
        let (verdicts, messages) = agreed(&policy, &object);
        assert_eq!(messages, expected_unset, "{object}");
        let gator = verdicts
            .gator
            .as_ref()
            .expect("gator reviews a created pod");
        let mut gator_messages = gator.messages.clone();
        gator_messages.sort();
        assert_eq!(gator_messages, expected_unset, "gator on {object}");
        let opa = verdicts.opa.as_ref().expect("conftest runs");
        assert!(opa.violated, "conftest on {object}");
    }
    // Values other than zero are set, and a pointer's `false` is present.
    let object = pod(
        json!({"hostNetwork": true, "hostPID": true}),
        container(json!({
            "image": "nginx:1",
            "ports": [{"containerPort": 80, "hostPort": 8080}],
            "securityContext": {"privileged": false, "seLinuxOptions": {"type": "spc_t"}}
        })),
    );
    assert_eq!(
        agreed(&policy, &object).1,
        vec![
            "app binds a host port",
            "app says whether it is privileged",
            "app sets an SELinux type spc_t",
            "host network",
        ]
    );
}

const EXEMPT_SHAPES: &str = r#"
guardrail exempt-shapes {
  title "an image exemption narrows every container list a rule iterates"
  match kinds [Pod]
  deny for c in pod.all_containers
    when c.securityContext.privileged == true
    message "for {c.name}"
  deny for c in object.spec.containers
    when c.securityContext.privileged == true
    message "object {c.name}"
  deny when any c in pod.spec.containers: c.securityContext.privileged == true
    message "any"
  require that all c in object.spec.containers: not (c.securityContext.privileged == true)
    message "all"
  exempt {
    images ["registry.example.com/debug:*", "busybox:1.36"]
    reason "debug sidecars are being phased out"
    expires 2099-01-31
  }
  exempt {
    images ["busybox:1.35"]
    reason "expired: containers with this image are judged again"
    expires 2020-01-31
  }
}
"#;

#[test]
fn image_exemptions_apply_to_loops_quantifiers_and_object_paths() {
    let artifacts = compile("exempt-shapes.guard", EXEMPT_SHAPES);
    let policy = load(&artifacts, "default", "exempt-shapes").unwrap();
    let privileged = |name: &str, image: &str| json!({"name": name, "image": image, "securityContext": {"privileged": true}});
    let pod = |containers: Value| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": containers}});
    let messages = |object: Value| agreed(&policy, &object).1;
    // Exempt images, by prefix and exactly: no rule shape judges them.
    assert!(messages(pod(json!([
        privileged("debug", "registry.example.com/debug:2"),
        privileged("box", "busybox:1.36")
    ])))
    .is_empty());
    // A container the exemption does not cover (an expired exemption covers nothing): every
    // shape judges it, and only it.
    let all = ["all", "any", "for app", "object app"];
    assert_eq!(messages(pod(json!([privileged("app", "nginx:1")]))), all);
    assert_eq!(
        messages(pod(json!([
            privileged("debug", "registry.example.com/debug:2"),
            privileged("app", "busybox:1.35")
        ]))),
        all
    );
}

const NO_EPHEMERAL: &str = r#"
guardrail no-ephemeral-containers {
  title "no debug containers in this cluster"
  match kinds [Pod]
  deny for c in pod.spec.ephemeralContainers
    message "ephemeral container {c.name} is not allowed"
}

guardrail no-nodeport {
  title "no NodePort services"
  match kinds [Service]
  match labels { "expose" = "node" }
  deny message "services labelled expose=node are not allowed"
}
"#;

#[test]
fn a_deny_without_when_denies_every_binding_or_every_matched_object() {
    let artifacts = compile("no-when.guard", NO_EPHEMERAL);
    let pods = load(&artifacts, "default", "no-ephemeral-containers").unwrap();
    let pod = |ephemeral: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
               "spec": {"containers": [{"name": "app", "image": "x:1"}], "ephemeralContainers": ephemeral}})
    };
    assert!(agreed(&pods, &pod(json!([]))).1.is_empty());
    assert_eq!(
        agreed(&pods, &pod(json!([{"name": "debug", "image": "busybox"}, {"name": "shell", "image": "busybox"}]))).1,
        vec![
            "ephemeral container debug is not allowed",
            "ephemeral container shell is not allowed"
        ]
    );
    let services = load(&artifacts, "default", "no-nodeport").unwrap();
    let service = |labels: Value| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "ns", "labels": labels},
               "spec": {"ports": [{"port": 80}]}})
    };
    assert_eq!(
        agreed(&services, &service(json!({"expose": "node"}))).1,
        vec!["services labelled expose=node are not allowed"]
    );
    // The match's object selector leaves the others alone, on every target.
    assert!(agreed(&services, &service(json!({"expose": "cluster"})))
        .1
        .is_empty());
}
