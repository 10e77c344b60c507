//! The three engines on hand-written artifacts of three guardrails, one case per behaviour
//! of the admission chain.

use guardrailc_compiler::emit::Target;
use guardrailc_testkit::{
    compare, AdmissionCase, GatekeeperPolicy, OpaPolicy, Operation, Outcome, ResourceInfo,
    UserInfo, VapPolicy, Verdict,
};
use serde_json::{json, Value};
use std::path::Path;

fn catalog(api_version: &str, kind: &str) -> Option<ResourceInfo> {
    let (resource, namespaced) = match (api_version, kind) {
        ("v1", "Pod") => ("pods", true),
        ("v1", "ConfigMap") => ("configmaps", true),
        ("v1", "Namespace") => ("namespaces", false),
        _ => return None,
    };
    Some(ResourceInfo {
        group: String::new(),
        version: "v1".to_string(),
        resource: resource.to_string(),
        namespaced,
    })
}

fn read(guardrail: &str, file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(guardrail)
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn vap(guardrail: &str) -> VapPolicy {
    vap_edited(guardrail, |policy, binding| (policy, binding))
}

/// The guardrail's VAP after `edit` rewrote the policy and binding texts.
fn vap_edited(guardrail: &str, edit: impl FnOnce(String, String) -> (String, String)) -> VapPolicy {
    let (policy, binding) = edit(
        read(guardrail, "vap.policy.yaml"),
        read(guardrail, "vap.binding.yaml"),
    );
    VapPolicy::load(&policy, &binding).unwrap_or_else(|e| panic!("{guardrail}: {e}"))
}

fn gatekeeper(guardrail: &str) -> GatekeeperPolicy {
    gatekeeper_edited(guardrail, |constraint| constraint)
}

fn gatekeeper_edited(guardrail: &str, edit: impl FnOnce(String) -> String) -> GatekeeperPolicy {
    GatekeeperPolicy::load(
        &read(guardrail, "gatekeeper.template.yaml"),
        &edit(read(guardrail, "gatekeeper.constraint.yaml")),
    )
    .unwrap_or_else(|e| panic!("{guardrail}: {e}"))
}

fn opa(guardrail: &str) -> OpaPolicy {
    OpaPolicy::load(&read(guardrail, "opa.rego")).unwrap_or_else(|e| panic!("{guardrail}: {e}"))
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}})
}

fn pod(namespace: &str, labels: Value, containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "namespace": namespace, "labels": labels},
           "spec": {"containers": containers}})
}

/// A CREATE of Pod `p` in `namespace`, with the namespace's object.
fn pod_case(namespace: &str, labels: Value, containers: Value) -> AdmissionCase {
    create(pod(namespace, labels, containers), namespace)
}

fn create(object: Value, namespace_name: &str) -> AdmissionCase {
    AdmissionCase {
        operation: Operation::Create,
        object: Some(object),
        old_object: None,
        namespace_object: Some(namespace(namespace_name)),
        user: UserInfo {
            username: "alice".to_string(),
            groups: vec!["dev".to_string()],
        },
    }
}

struct Outcomes {
    vap: Outcome,
    gatekeeper: Outcome,
    opa: Outcome,
}

fn all_three(guardrail: &str, case: &AdmissionCase) -> Outcomes {
    Outcomes {
        vap: vap(guardrail)
            .evaluate(case, &catalog)
            .expect("case is complete"),
        gatekeeper: gatekeeper(guardrail)
            .evaluate(case, &catalog)
            .expect("case is complete"),
        opa: opa_outcome(guardrail, case),
    }
}

fn opa_outcome(guardrail: &str, case: &AdmissionCase) -> Outcome {
    opa(guardrail).evaluate(case).expect("case is complete")
}

/// Both admission targets allow `case` without an error.
fn assert_admission_allows(guardrail: &str, case: &AdmissionCase) {
    assert_eq!(
        vap(guardrail).evaluate(case, &catalog),
        Ok(Outcome::allowed())
    );
    assert_eq!(
        gatekeeper(guardrail).evaluate(case, &catalog),
        Ok(Outcome::allowed())
    );
}

fn assert_all_agree(outcomes: &Outcomes) {
    let Outcomes {
        vap,
        gatekeeper,
        opa,
    } = outcomes;
    for (left, right) in [
        ((Target::Vap, vap), (Target::Gatekeeper, gatekeeper)),
        ((Target::Vap, vap), (Target::Opa, opa)),
        ((Target::Gatekeeper, gatekeeper), (Target::Opa, opa)),
    ] {
        if let Err(difference) = compare(left, right) {
            panic!("{difference}");
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn pinned_images_are_allowed_everywhere() {
    let case = pod_case(
        "default",
        json!({}),
        json!([{"name": "app", "image": "nginx:1.27"}]),
    );
    assert_admission_allows("no-latest-tag", &case);
    assert_eq!(opa_outcome("no-latest-tag", &case), Outcome::allowed());
}

#[test]
fn unpinned_images_are_denied_with_one_message_each() {
    let case = pod_case(
        "default",
        json!({}),
        json!([{"name": "app", "image": "nginx:latest"}, {"name": "side", "image": "busybox"}]),
    );
    let outcomes = all_three("no-latest-tag", &case);
    let expected = strings(&[
        "container app uses nginx:latest, which is not pinned",
        "container side uses busybox, which is not pinned",
    ]);
    assert_eq!(outcomes.vap.verdict, Verdict::Deny);
    assert_eq!(outcomes.vap.messages, expected);
    assert_eq!(outcomes.gatekeeper.verdict, Verdict::Deny);
    assert_eq!(outcomes.opa.verdict, Verdict::Deny);
    assert_all_agree(&outcomes);
}

#[test]
fn excluded_namespace_is_out_of_scope_for_admission_targets() {
    let case = pod_case(
        "kube-system",
        json!({}),
        json!([{"name": "app", "image": "nginx"}]),
    );
    assert_admission_allows("no-latest-tag", &case);
    // The plain OPA target checks manifests: it has no notion of scope.
    assert_eq!(opa_outcome("no-latest-tag", &case).verdict, Verdict::Deny);
}

#[test]
fn object_selector_skips_labelled_objects() {
    let skip = json!({"guardrails.example.com/skip": "yes"});
    let case = pod_case("default", skip, json!([{"name": "app", "image": "nginx"}]));
    assert_admission_allows("no-latest-tag", &case);
}

#[test]
fn object_and_label_selectors_also_match_the_old_object() {
    // Adding the skip label in an UPDATE: the old object still matches the selector, so the
    // API server evaluates the policy; so does Gatekeeper, whose matcher tries the object and
    // then the old object (open-policy-agent/gatekeeper, pkg/target/matcher.go, `matchAny`).
    let containers = json!([{"name": "app", "image": "nginx"}]);
    let mut case = pod_case(
        "default",
        json!({"guardrails.example.com/skip": "yes"}),
        containers.clone(),
    );
    case.operation = Operation::Update;
    case.old_object = Some(pod("default", json!({}), containers));
    let vap_outcome = vap("no-latest-tag").evaluate(&case, &catalog).unwrap();
    assert_eq!(vap_outcome.verdict, Verdict::Deny);
    let gatekeeper_outcome = gatekeeper("no-latest-tag")
        .evaluate(&case, &catalog)
        .unwrap();
    assert_eq!(gatekeeper_outcome.verdict, Verdict::Deny);
    assert_eq!(gatekeeper_outcome.messages, vap_outcome.messages);
    // Neither object matching is out of scope for both.
    case.old_object = case.object.clone();
    assert_admission_allows("no-latest-tag", &case);
}

#[test]
fn namespace_selector_needs_the_namespace_object() {
    let mut case = pod_case(
        "default",
        json!({}),
        json!([{"name": "app", "image": "nginx"}]),
    );
    case.namespace_object = None;
    let error = vap("no-latest-tag").evaluate(&case, &catalog).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the namespace selector needs the namespace object of `default`, and the case gives none"
    );
}

#[test]
fn unknown_kinds_are_case_errors() {
    let case = create(json!({"apiVersion": "v9", "kind": "Gizmo"}), "default");
    let error = vap("no-latest-tag").evaluate(&case, &catalog).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown kind `Gizmo` of `v9`: no resource serves it"
    );
}

#[test]
fn duplicate_messages_collapse_in_rego_sets() {
    // Two identical violations: VAP lists both; OPA's `deny` and Gatekeeper's `violation`
    // are sets, so each holds one.
    let app = json!({"name": "app", "image": "nginx:latest"});
    let case = pod_case("default", json!({}), json!([app.clone(), app]));
    let outcomes = all_three("no-latest-tag", &case);
    assert_eq!(outcomes.vap.messages.len(), 2);
    assert_eq!(outcomes.gatekeeper.messages.len(), 1);
    assert_eq!(outcomes.opa.messages.len(), 1);
    assert_eq!(
        compare((Target::Vap, &outcomes.vap), (Target::Opa, &outcomes.opa)),
        Ok(())
    );
    assert!(compare(
        (Target::Vap, &outcomes.vap),
        (Target::Gatekeeper, &outcomes.gatekeeper)
    )
    .is_err());
}

fn limited(name: &str, memory: &str) -> Value {
    json!({"name": name, "image": "app:1", "resources": {"limits": {"memory": memory}}})
}

#[test]
fn quantities_compare_as_numbers() {
    for (memory, over) in [
        ("2Gi", false),
        ("2147483648", false),
        ("2049Mi", true),
        ("3G", true),
        ("500m", false),
    ] {
        let case = pod_case("default", json!({}), json!([limited("app", memory)]));
        let outcomes = all_three("memory-limit", &case);
        assert_eq!(outcomes.vap.violated, over, "{memory}");
        assert_all_agree(&outcomes);
    }
}

#[test]
fn message_lists_are_flattened_and_other_validations_give_one_message() {
    let case = pod_case(
        "default",
        json!({}),
        json!([limited("a", "3Gi"), limited("b", "4Gi"), {"name": "c", "image": "app:1"}]),
    );
    let outcomes = all_three("memory-limit", &case);
    assert_eq!(
        outcomes.vap.messages,
        strings(&[
            "container a memory limit 3Gi exceeds 2Gi",
            "container b memory limit 4Gi exceeds 2Gi",
            "every container needs resources",
        ])
    );
    assert_all_agree(&outcomes);
}

#[test]
fn failure_policy_decides_what_an_error_does() {
    let case = pod_case("default", json!({}), json!([limited("app", "lots")]));
    let failing = vap("memory-limit").evaluate(&case, &catalog).unwrap();
    assert_eq!(failing.verdict, Verdict::Deny);
    assert!(!failing.violated);
    assert_eq!(failing.errors.len(), 1, "{:?}", failing.errors);
    assert!(
        failing.errors[0].contains("quantities must match"),
        "{:?}",
        failing.errors
    );

    let ignoring = vap_edited("memory-limit", |policy, binding| {
        (
            policy.replace("failurePolicy: Fail", "failurePolicy: Ignore"),
            binding,
        )
    })
    .evaluate(&case, &catalog)
    .unwrap();
    assert_eq!(ignoring.verdict, Verdict::Allow);
    assert_eq!(ignoring.errors, failing.errors);

    // Rego's `units.parse` fails quietly: the rule is undefined, nothing is violated.
    let rego = gatekeeper("memory-limit")
        .evaluate(&case, &catalog)
        .unwrap();
    assert_eq!(rego, Outcome::allowed());
}

fn configmap(labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "settings", "namespace": "default", "labels": labels}})
}

fn change(
    operation: Operation,
    object: Option<Value>,
    old: Value,
    user: &str,
    groups: &[&str],
) -> AdmissionCase {
    AdmissionCase {
        operation,
        object,
        old_object: Some(old),
        namespace_object: Some(namespace("default")),
        user: UserInfo {
            username: user.to_string(),
            groups: strings(groups),
        },
    }
}

#[test]
fn update_sees_the_old_object_and_warns() {
    let case = change(
        Operation::Update,
        Some(configmap(json!({"team": "b"}))),
        configmap(json!({"team": "a"})),
        "alice",
        &[],
    );
    let vap_outcome = vap("protect-team-label").evaluate(&case, &catalog).unwrap();
    let gatekeeper_outcome = gatekeeper("protect-team-label")
        .evaluate(&case, &catalog)
        .unwrap();
    // The binding's actions are [Warn, Audit]: the client sees a warning.
    assert_eq!(vap_outcome.verdict, Verdict::Warn);
    assert_eq!(
        vap_outcome.messages,
        strings(&["label team may not change"])
    );
    assert_eq!(gatekeeper_outcome.verdict, Verdict::Warn);
    assert_eq!(
        compare(
            (Target::Vap, &vap_outcome),
            (Target::Gatekeeper, &gatekeeper_outcome)
        ),
        Ok(())
    );

    let unchanged = change(
        Operation::Update,
        Some(configmap(json!({"team": "a", "other": "x"}))),
        configmap(json!({"team": "a"})),
        "alice",
        &[],
    );
    assert_eq!(
        vap("protect-team-label").evaluate(&unchanged, &catalog),
        Ok(Outcome::allowed())
    );
}

#[test]
fn delete_has_no_object_and_reads_request_user() {
    let protected = configmap(json!({"protected": "true"}));
    let by_alice = change(
        Operation::Delete,
        None,
        protected.clone(),
        "alice",
        &["dev"],
    );
    let expected = strings(&["protected configmap settings cannot be deleted by alice"]);
    let vap_outcome = vap("protect-team-label")
        .evaluate(&by_alice, &catalog)
        .unwrap();
    assert_eq!(vap_outcome.messages, expected);
    // Gatekeeper reviews the old object as `object` on DELETE; the template reads oldObject.
    let gatekeeper_outcome = gatekeeper("protect-team-label")
        .evaluate(&by_alice, &catalog)
        .unwrap();
    assert_eq!(gatekeeper_outcome.messages, expected);

    let by_admin = change(
        Operation::Delete,
        None,
        protected,
        "bob",
        &["platform-admins"],
    );
    assert_admission_allows("protect-team-label", &by_admin);
}

#[test]
fn operations_outside_the_rules_are_not_matched() {
    let case = create(configmap(json!({"protected": "true"})), "default");
    assert_eq!(
        vap("protect-team-label").evaluate(&case, &catalog),
        Ok(Outcome::allowed())
    );
}

#[test]
fn audit_and_dryrun_record_without_blocking() {
    let case = pod_case(
        "default",
        json!({}),
        json!([{"name": "app", "image": "nginx"}]),
    );
    let vap_outcome = vap_edited("no-latest-tag", |policy, binding| {
        (policy, binding.replace("[Deny]", "[Audit]"))
    })
    .evaluate(&case, &catalog)
    .unwrap();
    assert_eq!(vap_outcome.verdict, Verdict::Audit);
    assert!(vap_outcome.violated);
    let gatekeeper_outcome = gatekeeper_edited("no-latest-tag", |constraint| {
        constraint.replace("enforcementAction: deny", "enforcementAction: dryrun")
    })
    .evaluate(&case, &catalog)
    .unwrap();
    assert_eq!(gatekeeper_outcome.verdict, Verdict::Audit);
    assert!(gatekeeper_outcome.violated);
}
