//! What property mode generates: the read paths and literals of a guardrail, found by
//! walking its IR, and generated requests that fill in those paths.

use guardrailc_compiler::ir;
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::property::reads::{literals, reads_for_kind, PathStep, PathTree};
use guardrailc_testkit::property::request_strategy;
use guardrailc_testkit::test_support::build_one;
use guardrailc_testkit::Operation;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

const SOURCE: &str = r#"
guardrail privileged {
  title "no privileged containers"
  match workloads
  match operations [CREATE, UPDATE]

  deny for c in pod.all_containers
    when c.securityContext.privileged == true and c.image.starts_with("docker.io/")
    message "container {c.name} is privileged"

  deny when namespace.metadata.labels["tier"] == "public" and pod.spec.hostPID == true
    message "host PID in a public namespace"

  exempt {
    labels { "app" = "node-exporter" }
    reason "reads host metrics"
    expires 2099-01-01
  }
}
"#;

fn policy() -> ir::Policy {
    let output = build_one("privileged.guard", SOURCE);
    assert!(
        output.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        output.diagnostics
    );
    output.policies.into_iter().next().expect("one policy")
}

/// Every path of a tree, as `a.b.*.c` strings.
fn paths(tree: &PathTree) -> Vec<String> {
    fn walk(tree: &PathTree, prefix: &str, into: &mut Vec<String>) {
        if tree.children.is_empty() && !prefix.is_empty() {
            into.push(prefix.to_string());
        }
        for (step, child) in &tree.children {
            let step = match step {
                PathStep::Name(name) => name.as_str(),
                PathStep::Each => "*",
            };
            let path = if prefix.is_empty() {
                step.to_string()
            } else {
                format!("{prefix}.{step}")
            };
            walk(child, &path, into);
        }
    }
    let mut found = Vec::new();
    walk(tree, "", &mut found);
    found
}

#[test]
fn reads_follow_the_pod_view_of_each_kind() {
    let policy = policy();
    let deployment = reads_for_kind(&policy, "Deployment");
    let object_paths = paths(&deployment.object);
    for expected in [
        "spec.template.spec.containers.*.securityContext.privileged",
        "spec.template.spec.initContainers.*.image",
        "spec.template.spec.ephemeralContainers.*.name",
        "spec.template.spec.hostPID",
        "metadata.labels.app",
    ] {
        assert!(
            object_paths.iter().any(|p| p == expected),
            "{expected} missing from {object_paths:#?}"
        );
    }
    assert!(
        object_paths
            .iter()
            .all(|p| !p.starts_with("spec.containers")),
        "a Deployment has no pod spec at `spec`: {object_paths:#?}"
    );
    assert_eq!(paths(&deployment.namespace), vec!["metadata.labels.tier"]);

    let pod = reads_for_kind(&policy, "Pod");
    let pod_paths = paths(&pod.object);
    assert!(
        pod_paths.contains(&"spec.containers.*.securityContext.privileged".to_string()),
        "{pod_paths:#?}"
    );
    let cron = paths(&reads_for_kind(&policy, "CronJob").object);
    assert!(
        cron.contains(&"spec.jobTemplate.spec.template.spec.hostPID".to_string()),
        "{cron:#?}"
    );
}

#[test]
fn literals_include_strings_keys_and_selector_values() {
    let found = literals(&policy());
    for expected in ["docker.io/", "public", "tier", "node-exporter", "app"] {
        assert!(
            found.strings.iter().any(|s| s == expected),
            "{expected} missing from {:?}",
            found.strings
        );
    }
}

#[test]
fn generated_requests_are_of_matched_kinds_and_operations_and_carry_the_read_paths() {
    let policy = policy();
    let strategy = request_strategy(&policy, Schema::builtin()).expect("known kinds");
    let kinds: Vec<&str> = policy
        .matcher
        .resources
        .iter()
        .map(|r| r.kind.as_str())
        .collect();
    let mut runner = TestRunner::deterministic();
    let mut privileged_seen = false;
    let mut public_seen = false;
    for _ in 0..300 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        assert!(matches!(
            case.operation,
            Operation::Create | Operation::Update
        ));
        let object = case
            .object
            .as_ref()
            .expect("CREATE and UPDATE have an object");
        let kind = object["kind"].as_str().unwrap();
        assert!(kinds.contains(&kind), "{kind}");
        assert_eq!(
            case.old_object.is_some(),
            case.operation == Operation::Update
        );
        let namespace = case
            .namespace_object
            .as_ref()
            .expect("workloads are namespaced");
        assert_eq!(
            namespace["metadata"]["name"], object["metadata"]["namespace"],
            "the Namespace is the object's"
        );
        let text = object.to_string();
        privileged_seen |= text.contains("\"privileged\":true");
        public_seen |= namespace["metadata"]["labels"]["tier"] == "public";
    }
    assert!(privileged_seen, "some container is privileged");
    assert!(public_seen, "some namespace is public");
}
