//! The admission-chain details of the VAP engine, each on a small inline policy.

use guardrailc_testkit::{
    AdmissionCase, GatekeeperPolicy, OpaPolicy, Operation, Outcome, ResourceInfo, UserInfo,
    VapPolicy, Verdict,
};
use serde_json::json;

fn catalog(_api_version: &str, kind: &str) -> Option<ResourceInfo> {
    (kind == "Pod").then(|| ResourceInfo {
        group: String::new(),
        version: "v1".to_string(),
        resource: "pods".to_string(),
        namespaced: true,
    })
}

const BINDING: &str = "
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: p, validationActions: [Deny]}
";

/// A policy on pods with the given `spec` entries after matchConstraints.
fn policy(rest: &str) -> VapPolicy {
    let text = format!(
        "
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: p}}
spec:
  matchConstraints:
    resourceRules:
      - {{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: ['*']}}
{rest}"
    );
    VapPolicy::load(&text, BINDING).unwrap_or_else(|e| panic!("{e}"))
}

fn case() -> AdmissionCase {
    AdmissionCase {
        operation: Operation::Create,
        object: Some(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]}]}
        })),
        old_object: None,
        namespace_object: None,
        user: UserInfo::default(),
    }
}

fn run(policy: &VapPolicy) -> Outcome {
    policy.evaluate(&case(), &catalog).expect("complete case")
}

#[test]
fn json_integers_are_cel_ints() {
    let p = policy(
        "  validations:
    - expression: object.spec.containers[0].ports[0].containerPort + 1 == 81
    - expression: type(object.spec.containers[0].ports[0].containerPort) == int",
    );
    assert_eq!(run(&p), Outcome::allowed());
}

#[test]
fn variables_are_lazy() {
    // `broken` divides by zero, but no validation reads it: no error.
    let unused = policy(
        "  variables:
    - {name: broken, expression: '1 / 0 == 1'}
    - {name: fine, expression: 'true'}
  validations:
    - expression: variables.fine",
    );
    assert_eq!(run(&unused), Outcome::allowed());

    let used = policy(
        "  variables:
    - {name: broken, expression: '1 / 0 == 1'}
  validations:
    - expression: variables.broken",
    );
    let outcome = run(&used);
    assert_eq!(outcome.verdict, Verdict::Deny);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
}

#[test]
fn variables_see_earlier_variables() {
    let p = policy(
        "  variables:
    - {name: image, expression: 'object.spec.containers[0].image'}
    - {name: tagged, expression: 'variables.image.contains(\":\")'}
  validations:
    - expression: variables.tagged && variables.image == 'a:1'",
    );
    assert_eq!(run(&p), Outcome::allowed());
}

#[test]
fn a_variable_that_reads_itself_is_an_error_not_a_hang() {
    let p = policy(
        "  variables:
    - {name: loop, expression: 'variables.loop'}
  validations:
    - expression: variables.loop",
    );
    let outcome = run(&p);
    assert!(
        outcome.errors[0].contains("variable `loop` refers to itself"),
        "{:?}",
        outcome.errors
    );
}

#[test]
fn message_expression_falls_back_to_message_then_default() {
    let p = policy(
        "  validations:
    - {expression: 'false', messageExpression: 'string(1 / 0)', message: static text}
    - {expression: 'false', messageExpression: \"''\", message: empty falls back}
    - {expression: 'false', messageExpression: \"'computed ' + object.metadata.name\"}
    - {expression: '1 > 2'}",
    );
    assert_eq!(
        run(&p).messages,
        vec![
            "static text",
            "empty falls back",
            "computed p",
            "failed expression: 1 > 2"
        ]
    );
}

#[test]
fn a_false_match_condition_skips_the_policy_even_beside_an_error() {
    let p = policy(
        "  matchConditions:
    - {name: broken, expression: '1 / 0 == 1'}
    - {name: never, expression: 'false'}
  validations:
    - expression: 'false'",
    );
    assert_eq!(run(&p), Outcome::allowed());
}

#[test]
fn a_failing_match_condition_falls_to_the_failure_policy() {
    let p = policy(
        "  matchConditions:
    - {name: broken, expression: 'object.nope'}
  validations:
    - expression: 'true'",
    );
    let outcome = run(&p);
    assert_eq!(outcome.verdict, Verdict::Deny);
    assert!(
        outcome.errors[0].starts_with("matchCondition `broken`"),
        "{:?}",
        outcome.errors
    );
}

#[test]
fn non_bool_validations_are_errors() {
    let p = policy(
        "  validations:
    - expression: \"'yes'\"",
    );
    assert_eq!(
        run(&p).errors,
        vec!["expression `'yes'`: evaluated to `string`, not a bool"]
    );
}

#[test]
fn load_errors_name_the_problem() {
    let parse_error = VapPolicy::load(
        "
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints: {resourceRules: []}
  validations: [{expression: '1 +'}]
",
        BINDING,
    )
    .err()
    .expect("the expression does not parse");
    assert!(
        parse_error.starts_with("validation `1 +` does not parse"),
        "{parse_error}"
    );

    let wrong_binding = VapPolicy::load(
        "
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: other}
spec:
  matchConstraints: {resourceRules: []}
  validations: [{expression: 'true'}]
",
        BINDING,
    )
    .err()
    .expect("the binding names another policy");
    assert_eq!(wrong_binding, "the binding names policy `p`, not `other`");
}

#[test]
fn rego_conflicts_are_errors_not_verdicts() {
    let opa = OpaPolicy::load(
        "package conflict

kind := input.kind
kind := \"other\"

deny contains \"x\" if kind == \"Pod\"
",
    )
    .expect("parses");
    let outcome = opa.evaluate(&case()).expect("complete case");
    assert!(!outcome.violated);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(
        outcome.errors[0].contains("conflict") || outcome.errors[0].contains("multiple"),
        "{:?}",
        outcome.errors
    );
    // The known difference of regorus's VM (docs/evaluation.md, "Rego"): the conflicting
    // `kind` is undefined, so `deny` is empty, where OPA and the interpreter fail.
    let on_vm = opa.evaluate_on_vm(&case()).expect("complete case");
    assert!(!on_vm.violated && on_vm.errors.is_empty(), "{on_vm:?}");
}

#[test]
fn gatekeeper_sees_parameters_and_namespace_object() {
    let template = "
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: t}
spec:
  crd: {spec: {names: {kind: T}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package t
        violation contains {\"msg\": msg} if {
          input.review.namespaceObject.metadata.labels.tier == input.parameters.tier
          msg := sprintf(\"%s/%s in tier %s\", [input.review.kind.kind, input.review.name, input.parameters.tier])
        }
";
    let constraint = "
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: T
metadata: {name: c}
spec:
  match:
    namespaceSelector: {matchLabels: {tier: gold}}
  parameters: {tier: gold}
";
    let policy = GatekeeperPolicy::load(template, constraint).expect("valid");
    let mut gold = case();
    gold.namespace_object =
        Some(json!({"metadata": {"name": "default", "labels": {"tier": "gold"}}}));
    let outcome = policy.evaluate(&gold, &catalog).expect("complete case");
    assert_eq!(outcome.messages, vec!["Pod/p in tier gold"]);

    let mut silver = case();
    silver.namespace_object =
        Some(json!({"metadata": {"name": "default", "labels": {"tier": "silver"}}}));
    assert_eq!(policy.evaluate(&silver, &catalog), Ok(Outcome::allowed()));
}

/// A template that reads the namespace as guardrailc emits it: the review's
/// `namespaceObject`, else the replicated Namespace named `fallback_name`. guardrailc looks
/// it up by the request's namespace; another name makes a template whose older-Gatekeeper
/// reading is wrong.
fn namespace_template(fallback_name: &str) -> String {
    format!(
        "
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {{name: t}}
spec:
  crd: {{spec: {{names: {{kind: T}}}}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package t
        default namespace_object := null
        namespace_object := input.review.namespaceObject if {{
          is_object(input.review.namespaceObject)
        }}
        namespace_object := data.inventory.cluster[\"v1\"].Namespace[{fallback_name}] if {{
          not is_object(input.review.namespaceObject)
        }}
        violation contains {{\"msg\": \"gold tier\"}} if {{
          namespace_object.metadata.labels.tier == \"gold\"
        }}
"
    )
}

const MATCH_ALL: &str = "
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: T
metadata: {name: c}
spec: {}
";

#[test]
fn gatekeeper_reads_the_namespace_from_the_review_or_from_data_inventory() {
    use guardrailc_testkit::NamespaceSource::{Inventory, Review};
    let policy = GatekeeperPolicy::load(&namespace_template("input.review.namespace"), MATCH_ALL)
        .expect("valid");
    let in_tier = |tier: &str| {
        let mut case = case();
        case.namespace_object =
            Some(json!({"metadata": {"name": "default", "labels": {"tier": tier}}}));
        case
    };
    for source in [Review, Inventory] {
        let gold = policy
            .evaluate_with_namespace_from(&in_tier("gold"), &catalog, source)
            .expect("complete case");
        assert_eq!(gold.messages, vec!["gold tier"], "{source:?}");
        assert_eq!(
            policy.evaluate_with_namespace_from(&in_tier("silver"), &catalog, source),
            Ok(Outcome::allowed()),
            "{source:?}"
        );
    }
    // `evaluate` makes both readings and they agree.
    let gold = policy
        .evaluate(&in_tier("gold"), &catalog)
        .expect("complete case");
    assert_eq!(gold.messages, vec!["gold tier"]);
    assert!(gold.errors.is_empty(), "{:?}", gold.errors);
}

#[test]
fn a_template_whose_older_gatekeeper_reading_differs_is_an_error() {
    use guardrailc_testkit::NamespaceSource::{Inventory, Review};
    let policy =
        GatekeeperPolicy::load(&namespace_template("\"elsewhere\""), MATCH_ALL).expect("valid");
    let mut gold = case();
    gold.namespace_object =
        Some(json!({"metadata": {"name": "default", "labels": {"tier": "gold"}}}));
    let review = policy
        .evaluate_with_namespace_from(&gold, &catalog, Review)
        .expect("complete case");
    assert_eq!(review.messages, vec!["gold tier"]);
    // The replicated Namespace is stored under the request's namespace, `default`; the
    // template looks elsewhere and finds nothing.
    let older = policy
        .evaluate_with_namespace_from(&gold, &catalog, Inventory)
        .expect("complete case");
    assert_eq!(older, Outcome::allowed());
    let checked = policy.evaluate(&gold, &catalog).expect("complete case");
    assert_eq!(checked.verdict, Verdict::Deny);
    assert!(!checked.violated);
    assert_eq!(
        checked.errors,
        vec![
            "with the namespace from data.inventory (Gatekeeper before 3.22) the template gives no violation, with input.review.namespaceObject the violations [\"gold tier\"]"
        ]
    );
    // Without a namespace object there is nothing to replicate and nothing to compare.
    let mut cluster_scoped = case();
    cluster_scoped.namespace_object = None;
    assert_eq!(
        policy.evaluate(&cluster_scoped, &catalog),
        Ok(Outcome::allowed())
    );
}

fn named(name: &str) -> AdmissionCase {
    let mut case = case();
    case.object.as_mut().unwrap()["metadata"]["name"] = json!(name);
    case
}

#[test]
fn run_time_cost_is_charged_per_expression_and_checked_against_the_limits() {
    // A string contains itself: always true, at a cost of a tenth of its length squared.
    let policy = policy(
        "  variables:
    - {name: name, expression: object.metadata.name}
  validations:
    - expression: variables.name.contains(object.metadata.name)
    - expression: size(variables.name) > 1000
      messageExpression: \"'short: ' + variables.name\"",
    );
    let short = policy
        .runtime_cost(&named(&"a".repeat(100)), &catalog)
        .unwrap();
    // `variables.name` 2, `object.metadata.name` 3, `contains` 10 × 10.
    let contains = "validation `variables.name.contains(object.metadata.name)`";
    assert_eq!(short.expressions[0], (contains.to_string(), 2 + 3 + 100));
    // `size(variables.name) > 1000`: 2 + size 1 + `>` 1; it fails, so the message
    // expression runs: 2 + the concatenation of 7 and 100 characters, 11.
    assert_eq!(short.expressions[1].1, 4);
    assert_eq!(short.expressions[2].1, 2 + 11);
    // The variable is charged once, however many expressions read it: `object.metadata.name`.
    assert_eq!(short.expressions[3], ("variable `name`".to_string(), 3));
    assert_eq!(short.expressions.len(), 4);
    assert_eq!(short.total(), 105 + 4 + 13 + 3);
    assert!(short.over_limits().is_empty());

    // 10,000 characters: 1,000 × 1,000 for `contains` alone, over the per-expression limit.
    let long = policy
        .runtime_cost(&named(&"a".repeat(10_000)), &catalog)
        .unwrap();
    assert_eq!(long.largest(), 1_000_005);
    let over = long.over_limits();
    assert_eq!(over.len(), 1, "{over:?}");
    assert!(
        over[0].starts_with(&format!(
            "{contains} costs 1000005 at run time, over the API server's limit of 1000000"
        )),
        "{over:?}"
    );
}

#[test]
fn the_runtime_budget_is_for_all_expressions_of_a_request_together() {
    // Eleven expressions of 998,007 each: each under the per-expression limit,
    // together over the budget of 10,000,000.
    let validations: String = (0..11)
        .map(|_| "    - expression: object.metadata.name.contains(object.metadata.name)\n")
        .collect();
    let policy = policy(&format!("  validations:\n{validations}"));
    let cost = policy
        .runtime_cost(&named(&"a".repeat(9_990)), &catalog)
        .unwrap();
    // 999 × 999 + 6 identifier and field costs.
    assert_eq!(cost.largest(), 999 * 999 + 6);
    let over = cost.over_limits();
    assert_eq!(over.len(), 1, "{over:?}");
    assert!(
        over[0].contains("over the API server's budget of 10000000"),
        "{over:?}"
    );
}

#[test]
fn a_request_out_of_scope_costs_nothing() {
    let policy = policy(
        "  matchConditions:
    - {name: never, expression: 'false'}
  validations:
    - expression: object.metadata.name.contains('x')",
    );
    let cost = policy.runtime_cost(&case(), &catalog).unwrap();
    // Only the match condition runs: a literal, free.
    assert_eq!(
        cost.expressions,
        vec![("matchCondition `never`".to_string(), 0)]
    );
}
