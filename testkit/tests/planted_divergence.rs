//! Tests of the tester: a divergence planted in one emitted artifact is caught by the
//! agreement check on the quickstart's own fixtures, and printed with both sides.

mod support;

use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::ir;
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::fixtures::{parse_fixture, ProjectFacts};
use guardrailc_testkit::property::{check_request, run_property, PropertyConfig, PropertyResult};
use guardrailc_testkit::runner::run_fixtures;
use guardrailc_testkit::SchemaCatalog;
use support::{build_quickstart, quickstart};

/// Alters the emitted artifact at `path` in place: each `(from, to)` must change it.
fn plant(artifacts: &mut [Artifact], path: &str, changes: &[(&str, &str)]) {
    let artifact = artifacts
        .iter_mut()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no artifact `{path}`"));
    for (from, to) in changes {
        let altered = artifact.contents.replace(from, to);
        assert_ne!(
            altered, artifact.contents,
            "the planted change `{from}` applies"
        );
        artifact.contents = altered;
    }
}

fn run_host_port_fixtures(artifacts: &[Artifact], policies: Vec<ir::Policy>) -> Vec<String> {
    run_quickstart_fixtures("no-host-ports", artifacts, policies)
}

/// The failures of the quickstart's fixtures of `guardrail` on `artifacts`.
fn run_quickstart_fixtures(
    guardrail: &str,
    artifacts: &[Artifact],
    policies: Vec<ir::Policy>,
) -> Vec<String> {
    let compiled = load_compiled(policies, artifacts).unwrap();
    let catalog = SchemaCatalog(Schema::builtin());
    let guardrails = vec![guardrail.to_string()];
    let environments = vec!["dev".into(), "prod".into(), "staging".into()];
    let facts = ProjectFacts {
        guardrails: &guardrails,
        environments: &environments,
        catalog: &catalog,
    };
    let folder = quickstart().join("tests");
    let file = format!("{guardrail}.yaml");
    let text = std::fs::read_to_string(folder.join(&file)).unwrap();
    let read = |path: &str| std::fs::read_to_string(folder.join(path)).map_err(|e| e.to_string());
    let fixture = parse_fixture(&format!("tests/{file}"), &text, &facts, &read).unwrap();
    run_fixtures(&[fixture], &compiled, &catalog)
        .into_iter()
        .flat_map(|result| result.failures)
        .collect()
}

#[test]
fn the_unaltered_quickstart_agrees() {
    let (policies, artifacts) = build_quickstart();
    assert_eq!(
        run_host_port_fixtures(&artifacts, policies),
        Vec::<String>::new()
    );
}

#[test]
fn an_altered_rego_message_is_a_disagreement_showing_both_sides() {
    let (policies, mut artifacts) = build_quickstart();
    plant(
        &mut artifacts,
        "prod/gatekeeper/no-host-ports.template.yaml",
        &[("binds host port", "uses host port")],
    );

    let failures = run_host_port_fixtures(&artifacts, policies);
    let disagreement = failures
        .iter()
        .find(|f| f.starts_with("`vap` and `gatekeeper` disagree"))
        .unwrap_or_else(|| panic!("no disagreement among {failures:#?}"));
    assert!(
        disagreement.contains("   !container app binds host port 8080"),
        "{disagreement}"
    );
    assert!(
        disagreement.contains("   !container app uses host port 8080"),
        "{disagreement}"
    );
    // Only the altered environment is affected.
    assert!(failures.iter().all(|f| !f.contains("dev")));
}

#[test]
fn an_altered_cel_condition_is_a_disagreement() {
    let (policies, mut artifacts) = build_quickstart();
    plant(
        &mut artifacts,
        "staging/vap/no-host-ports.policy.yaml",
        &[(
            "(has(p.hostPort) ? p.hostPort : 0) > 0",
            "(has(p.hostPort) ? p.hostPort : 0) > 8080",
        )],
    );

    let failures = run_host_port_fixtures(&artifacts, policies);
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("`vap` and `gatekeeper` disagree")),
        "{failures:#?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("`vap`: messages differ")),
        "{failures:#?}"
    );
}

fn property_run(
    policies: Vec<ir::Policy>,
    artifacts: &[Artifact],
    env: &str,
    guardrail: &str,
    objects: u32,
) -> PropertyResult {
    let compiled = load_compiled(policies, artifacts).unwrap();
    let guardrail = compiled
        .iter()
        .find(|c| c.policy.id == guardrail && c.policy.env == env)
        .unwrap();
    let catalog = SchemaCatalog(Schema::builtin());
    run_property(
        guardrail,
        Schema::builtin(),
        &catalog,
        PropertyConfig { objects, seed: 7 },
        &|| {},
    )
}

#[test]
fn property_mode_passes_on_every_unaltered_quickstart_guardrail() {
    let (policies, artifacts) = build_quickstart();
    let compiled = load_compiled(policies, &artifacts).unwrap();
    let catalog = SchemaCatalog(Schema::builtin());
    for guardrail in &compiled {
        let result = run_property(
            guardrail,
            Schema::builtin(),
            &catalog,
            PropertyConfig {
                objects: 64,
                seed: 11,
            },
            &|| {},
        );
        assert!(
            result.passed(),
            "{} [{}]: {:#?}",
            result.guardrail,
            result.env,
            result.failures
        );
        assert!(result.evaluated >= 64, "{result:?}");
    }
}

#[test]
fn property_mode_finds_an_altered_cel_condition_and_shrinks_it() {
    let (policies, mut artifacts) = build_quickstart();
    plant(
        &mut artifacts,
        "prod/vap/no-host-ports.policy.yaml",
        &[(
            "(has(p.hostPort) ? p.hostPort : 0) > 0",
            "(has(p.hostPort) ? p.hostPort : 0) > 8080",
        )],
    );

    let result = property_run(policies, &artifacts, "prod", "no-host-ports", 256);
    assert!(!result.passed(), "the divergence went unnoticed");
    let report = &result.failures[0];
    assert!(
        report.contains("`vap` and `gatekeeper` disagree"),
        "{report}"
    );
    assert!(report.contains("reproduce with `--seed 7`"), "{report}");
    // Shrunk: one port in all the containers, with the smallest host port the two sides
    // judge differently (the pool tries 0 first, which both allow).
    let case = result
        .counterexample
        .expect("a failing run keeps its request");
    let subject = case.object.as_ref().or(case.old_object.as_ref()).unwrap();
    let text = subject.to_string();
    assert_eq!(text.matches("hostPort").count(), 1, "{text}");
    assert!(text.contains("\"hostPort\":1"), "{text}");
    assert!(report.contains("hostPort: 1"), "{report}");
}

#[test]
fn property_mode_finds_an_altered_rego_message() {
    let (policies, mut artifacts) = build_quickstart();
    plant(
        &mut artifacts,
        "dev/gatekeeper/no-latest-tag.template.yaml",
        &[("which is not pinned", "which is unpinned")],
    );

    let result = property_run(policies, &artifacts, "dev", "no-latest-tag", 256);
    let report = result.failures.first().expect("the divergence is found");
    assert!(report.contains("which is unpinned"), "{report}");
    assert!(report.contains("minimal request (seed 7"), "{report}");
}

/// A request on which the emitted CEL would pass the API server's run-time cost limit fails
/// property mode, even where every target agrees.
#[test]
fn property_mode_checks_the_run_time_cost_of_each_request() {
    let (policies, mut artifacts) = build_quickstart();
    // The same messages, after a test that is always true and costs a tenth of the name's
    // length, squared.
    plant(
        &mut artifacts,
        "prod/vap/no-host-ports.policy.yaml",
        &[
            (
                "expression: 'variables.allContainers.map(",
                "expression: 'object.metadata.name.contains(object.metadata.name) ? variables.allContainers.map(",
            ),
            (".filter(l, size(l) > 0)'", ".filter(l, size(l) > 0) : []'"),
        ],
    );
    let compiled = load_compiled(policies, &artifacts).unwrap();
    let guardrail = compiled
        .iter()
        .find(|c| c.policy.id == "no-host-ports" && c.policy.env == "prod")
        .unwrap();
    let catalog = SchemaCatalog(Schema::builtin());
    let pod = |name: &str| guardrailc_testkit::AdmissionCase {
        operation: guardrailc_testkit::Operation::Create,
        object: Some(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": "a:1"}]}
        })),
        old_object: None,
        namespace_object: None,
        user: Default::default(),
    };
    let checked = check_request(guardrail, &pod("web"), &catalog).expect("a short name fits");
    assert!(!checked.violated);
    assert!(
        checked.largest_cost > 0 && checked.largest_cost < 1_000,
        "{checked:?}"
    );
    let report = check_request(guardrail, &pod(&"a".repeat(10_000)), &catalog)
        .expect_err("a 10,000-character name costs 1,000,000 in `contains` alone");
    assert!(
        report.contains("variable `rule_1` costs")
            && report
                .contains("at run time, over the API server's limit of 1000000 per expression"),
        "{report}"
    );
    assert!(!report.contains("disagree"), "{report}");
}

#[test]
fn a_template_that_ignores_audit_reviews_is_a_disagreement_with_admission() {
    // Gatekeeper's audit and gator review existing objects with no operation
    // (engine-facts/gatekeeper-review.json); a template guarded by the operation alone
    // never fires there.
    let (policies, mut artifacts) = build_quickstart();
    plant(
        &mut artifacts,
        "prod/gatekeeper/no-host-ports.template.yaml",
        &[(
            "operation_applies if object.get(input.review, \"operation\", \"\") == \"\"",
            "",
        )],
    );
    let failures = run_host_port_fixtures(&artifacts, policies);
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("`gatekeeper` and `gatekeeper (audit)` disagree")),
        "{failures:#?}"
    );
}

#[test]
fn an_escaped_namespace_field_fails_the_namespace_exemption() {
    // The API server binds objects as unstructured maps: `object.metadata.__namespace__`
    // names no key (engine-facts/vap-compile.json), so `has()` is false and the exempt
    // node-exporter in monitoring is denied.
    let (policies, mut artifacts) = build_quickstart();
    assert!(run_quickstart_fixtures("no-privileged", &artifacts, policies.clone()).is_empty());
    plant(
        &mut artifacts,
        "prod/vap/no-privileged.policy.yaml",
        &[("object.metadata.namespace", "object.metadata.__namespace__")],
    );
    let failures = run_quickstart_fixtures("no-privileged", &artifacts, policies);
    assert!(
        failures
            .iter()
            .any(|f| f == "`vap`: expected verdict `allow`, got `deny` with messages [\"pod shares the node's network or process namespace\"]"),
        "{failures:#?}"
    );
}

#[test]
fn an_inline_negation_opa_reads_differently_is_rejected_by_the_rego_lint() {
    use guardrailc_compiler::backend::rego_lint::unsafe_negations;
    let (_, mut artifacts) = build_quickstart();
    // The Rego of each plain module and ConstraintTemplate, linted.
    let rego = |artifacts: &[Artifact]| -> Vec<(String, usize)> {
        artifacts
            .iter()
            .filter_map(|a| {
                let source = if a.path.ends_with(".rego") {
                    a.contents.clone()
                } else if a.path.ends_with(".template.yaml") {
                    let template: serde_json::Value = yaml_serde::from_str(&a.contents).unwrap();
                    template
                        .pointer("/spec/targets/0/code/0/source/rego")
                        .and_then(|rego| rego.as_str())
                        .expect("a template holds its Rego")
                        .to_string()
                } else {
                    return None;
                };
                Some((a.path.clone(), unsafe_negations(&source).len()))
            })
            .filter(|(_, found)| *found > 0)
            .collect()
    };
    assert_eq!(
        rego(&artifacts),
        Vec::new(),
        "the emitted Rego passes the lint"
    );
    // The shape the printer emitted before: never fires on a missing field in OPA.
    plant(
        &mut artifacts,
        "prod/gatekeeper/memory-limits.template.yaml",
        &[(
            "not rule_1_not_1(c)",
            "not c.resources.limits[\"memory\"] != null",
        )],
    );
    assert_eq!(
        rego(&artifacts),
        vec![("prod/gatekeeper/memory-limits.template.yaml".to_string(), 1)]
    );
}
