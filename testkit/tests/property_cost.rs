//! Property mode on guardrails whose loops nest deeply: generated lists are kept short
//! enough for the requests to stay within the API server's cost limit, so a run takes
//! seconds rather than the better part of a minute per guardrail and environment.

use guardrailc_compiler::project::{build_text, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::property::values::{LONG_LIST, SHORT_LIST};
use guardrailc_testkit::property::{long_list_within_cost, run_property, PropertyConfig};
use guardrailc_testkit::SchemaCatalog;
use std::time::{Duration, Instant};

const FIVE_LOOPS: &str = "guardrail nested {
  title \"t\"
  match workloads
  deny for c in pod.all_containers
    for p in c.ports
    for e in c.env
    for m in c.volumeMounts
    for a in c.args
    when p.containerPort == 22 and e.name == m.name and a == \"x\"
    message \"{c.name}\"
}
";

const ONE_LOOP: &str = "guardrail flat {
  title \"t\"
  match workloads
  deny for c in pod.all_containers when c.image == \"x\" message \"{c.name}\"
}
";

fn compiled(text: &str) -> guardrailc_testkit::compiled::CompiledGuardrail {
    let output = build_text(
        &[SourceFile {
            name: "g.guard".into(),
            text: text.into(),
        }],
        "targets = [\"vap\", \"gatekeeper\"]\n",
        guardrailc_testkit::test_support::TODAY,
    );
    assert!(output.artifacts.len() > 1, "{:?}", output.diagnostics);
    load_compiled(output.policies, &output.artifacts)
        .expect("loads")
        .into_iter()
        .next()
        .expect("one guardrail")
}

#[test]
fn long_generated_lists_shrink_until_nested_loops_fit_the_cost_limit() {
    let nested = compiled(FIVE_LOOPS);
    let items = long_list_within_cost(&nested.policy);
    assert!((SHORT_LIST..LONG_LIST).contains(&items), "{items}");
    assert_eq!(long_list_within_cost(&compiled(ONE_LOOP).policy), LONG_LIST);
}

#[test]
fn property_mode_on_five_nested_loops_finishes_in_seconds() {
    let nested = compiled(FIVE_LOOPS);
    let catalog = SchemaCatalog(Schema::builtin());
    let started = Instant::now();
    let result = run_property(
        &nested,
        Schema::builtin(),
        &catalog,
        PropertyConfig {
            objects: 64,
            seed: 7,
        },
        &|| {},
    );
    // A hang detector (it took 30 to 55 s with release builds at 256 requests).
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(result.evaluated, 64, "{:?}", result.failures);
}

#[test]
fn a_variable_past_the_cost_limit_is_stopped_before_it_is_evaluated() {
    // Five nested loops over 12 items each: about 250,000 bindings, well past the
    // 1,000,000 the API server allows one expression. It stops the variable holding the
    // messages when its cost passes the limit, so the request fails with its cost error
    // instead of giving the messages.
    let nested = compiled(FIVE_LOOPS);
    let vap = nested.vap.as_ref().expect("a VAP policy");
    let twelve = |item: &dyn Fn(usize) -> serde_json::Value| -> Vec<serde_json::Value> {
        (0..12).map(item).collect()
    };
    let container = |i: usize| {
        serde_json::json!({
            "name": format!("c{i}"),
            "image": "x",
            "ports": twelve(&|_| serde_json::json!({"containerPort": 22})),
            "env": twelve(&|j| serde_json::json!({"name": format!("v{j}")})),
            "volumeMounts": twelve(&|j| serde_json::json!({"name": format!("v{j}"), "mountPath": "/m"})),
            "args": twelve(&|_| serde_json::json!("x")),
        })
    };
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": twelve(&container)},
    });
    let case = guardrailc_testkit::AdmissionCase {
        operation: guardrailc_testkit::Operation::Create,
        object: Some(pod),
        old_object: None,
        namespace_object: None,
        user: Default::default(),
    };
    let catalog = SchemaCatalog(Schema::builtin());
    let (outcome, _, cost) = vap.evaluate_counted(&case, &catalog).expect("evaluates");
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains("actual cost limit exceeded")),
        "{outcome:?}"
    );
    assert!(!outcome.violated, "the messages were computed: {outcome:?}");
    assert!(
        cost.expressions
            .iter()
            .any(|(what, spent)| what.starts_with("variable") && *spent > 1_000_000),
        "{cost:?}"
    );
}
