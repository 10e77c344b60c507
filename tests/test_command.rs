//! `guardrailc test` as CI runs it: the quickstart passes, the reports are well formed, and
//! the tester catches what it exists to catch (a changed artifact, a wrong expectation, a
//! malformed fixture).

mod support;

use std::path::Path;
use std::process::Output;
use support::{guardrailc, quickstart, text as text_of_bytes};

/// A copy of the quickstart's sources, fixtures and golden files in a temporary folder.
fn quickstart_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for folder in ["guardrails", "tests", "snapshots"] {
        copy_dir(&quickstart().join(folder), &copy.path().join(folder));
    }
    std::fs::copy(
        quickstart().join("guardrails.toml"),
        copy.path().join("guardrails.toml"),
    )
    .unwrap();
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn last_line(output: &Output) -> String {
    text_of_bytes(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_quickstart_passes_every_case_snapshot_and_property_run() {
    // The default property run: 256 requests per guardrail and environment.
    let output = guardrailc(&["test", quickstart().to_str().unwrap(), "--seed", "42"]);
    let stdout = text_of_bytes(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text_of_bytes(&output.stderr)
    );
    // 7 guardrails' fixture files; every case runs in the environments it selects.
    assert!(stdout.contains("ok case: "), "{stdout}");
    // 7 guardrails × 3 environments × 5 files, less team-label-immutable's opa file (its
    // `targets` leave opa out), and each environment's gatekeeper/sync.yaml
    // (team-label-immutable reads the namespace).
    assert!(
        stdout.contains("ok snapshot: 105 passed, 0 failed"),
        "{stdout}"
    );
    // 7 guardrails × 3 environments.
    assert!(
        stdout.contains("ok property: 21 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("property: 256 generated requests per guardrail and environment, seed 42"),
        "{stdout}"
    );
    let closing = last_line(&output);
    let (passed, failed) = closing.split_once(" passed, ").expect("closing line");
    assert_eq!(failed, "0 failed");
    assert!(passed.parse::<usize>().unwrap() > 105, "{closing}");
}

#[test]
fn json_and_junit_reports_count_the_same_tests() {
    let junit_dir = tempfile::tempdir().unwrap();
    let junit = junit_dir.path().join("report.xml");
    let output = guardrailc(&[
        "test",
        quickstart().to_str().unwrap(),
        "--format",
        "json",
        "--junit",
        junit.to_str().unwrap(),
        "--fuzz",
        "16",
        "--seed",
        "3",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        text_of_bytes(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tests = report["tests"].as_array().unwrap();
    assert_eq!(report["failed"], 0);
    assert_eq!(report["passed"].as_u64().unwrap() as usize, tests.len());
    let case = tests.iter().find(|t| t["kind"] == "case").unwrap();
    for field in [
        "name",
        "guardrail",
        "env",
        "file",
        "line",
        "passed",
        "failures",
    ] {
        assert!(!case[field].is_null(), "a case has `{field}`: {case}");
    }

    let xml = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("the JUnit report is XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests").unwrap(), tests.len().to_string());
    assert_eq!(root.attribute("failures").unwrap(), "0");
    let testcases = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(testcases, tests.len());
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let per_suite: usize = suites
        .iter()
        .map(|s| s.attribute("tests").unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(per_suite, tests.len());
    assert!(suites
        .iter()
        .any(|s| s.attribute("name") == Some("fixtures")));
    assert!(suites
        .iter()
        .any(|s| s.attribute("name") == Some("snapshots")));
    let property = suites
        .iter()
        .find(|s| s.attribute("name") == Some("property"))
        .expect("a property suite");
    assert_eq!(property.attribute("tests"), Some("21"));

    let details = &report["details"]["property"];
    assert_eq!(details["seed"], 3);
    assert_eq!(details["objects"], 16);
    let runs = details["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 21);
    assert!(runs.iter().all(|r| r["evaluated"] == 16), "{runs:#?}");
    // Every quickstart guardrail has a VAP policy, so every run charged some run-time cost,
    // and none came near the API server's limit.
    assert!(
        runs.iter().all(|r| {
            let cost = r["largest_cost"].as_u64().unwrap();
            cost > 0 && cost < 1_000_000
        }),
        "{runs:#?}"
    );
    let rules = &report["details"]["coverage"]["guardrails"][0]["rules"];
    assert_eq!(rules[0]["rule"], 1, "{rules}");
    assert!(rules[0]["fired"].as_u64().unwrap() > 0, "{rules}");
    // Gatekeeper Rego lines: one entry per guardrail and environment, every line reached
    // (the quickstart has a CronJob case for each workload guardrail).
    let rego = report["details"]["coverage"]["rego"].as_array().unwrap();
    assert_eq!(rego.len(), 21);
    for entry in rego {
        assert!(entry["lines"].as_u64().unwrap() > 0, "{entry}");
        assert_eq!(entry["reached"], entry["lines"], "{entry}");
    }
}

#[test]
fn a_changed_golden_file_fails_with_a_unified_diff() {
    let project = quickstart_copy();
    let golden = project.path().join("snapshots/prod/opa/no-latest-tag.rego");
    let original = std::fs::read_to_string(&golden).unwrap();
    let planted = original.replace(
        "endswith(object.get(c, [\"image\"], \"\"), \":latest\")",
        "endswith(object.get(c, [\"image\"], \"\"), \":stable\")",
    );
    assert_ne!(planted, original, "the planted change applies");
    std::fs::write(&golden, planted).unwrap();

    let output = guardrailc(&["test", "--fuzz", "0", project.path().to_str().unwrap()]);
    let stdout = text_of_bytes(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL snapshot snapshots/prod/opa/no-latest-tag.rego"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--- a/prod/opa/no-latest-tag.rego (golden)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-    endswith(object.get(c, [\"image\"], \"\"), \":stable\")"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+    endswith(object.get(c, [\"image\"], \"\"), \":latest\")"),
        "{stdout}"
    );
    assert!(
        last_line(&output).ends_with(" passed, 1 failed"),
        "{stdout}"
    );

    // --update restores it, after which everything passes again.
    let update = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        project.path().to_str().unwrap(),
        "--update",
    ]);
    assert_eq!(
        update.status.code(),
        Some(0),
        "{}",
        text_of_bytes(&update.stdout)
    );
    assert_eq!(std::fs::read_to_string(&golden).unwrap(), original);
}

#[test]
fn a_wrong_expectation_fails_with_what_each_target_gave() {
    let project = quickstart_copy();
    let fixture = project.path().join("tests/no-host-ports.yaml");
    let original = std::fs::read_to_string(&fixture).unwrap();
    let wrong = original.replace(
        "- \"container proxy binds host port 9000\"",
        "- \"container proxy binds host port 9001\"",
    );
    assert_ne!(wrong, original);
    std::fs::write(&fixture, wrong).unwrap();

    let output = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        project.path().to_str().unwrap(),
        "--env",
        "prod",
    ]);
    let stdout = text_of_bytes(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL case tests/no-host-ports.yaml:"),
        "{stdout}"
    );
    for target in ["vap", "gatekeeper", "opa"] {
        assert!(
            stdout.contains(&format!("`{target}`: messages differ; expected but not produced: \"container proxy binds host port 9001\"; produced but not expected: [\"container proxy binds host port 9000\"]")),
            "{target}: {stdout}"
        );
    }
    assert!(
        last_line(&output).ends_with(" passed, 1 failed"),
        "{stdout}"
    );
}

fn write_fixture(project: &Path, text: &str) {
    std::fs::write(project.join("tests/broken.yaml"), text).unwrap();
}

fn malformed(text: &str) -> String {
    let project = quickstart_copy();
    write_fixture(project.path(), text);
    let output = guardrailc(&["test", "--fuzz", "0", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text_of(&output));
    text_of_bytes(&output.stderr)
}

fn text_of(output: &Output) -> String {
    format!(
        "{}{}",
        text_of_bytes(&output.stdout),
        text_of_bytes(&output.stderr)
    )
}

#[test]
fn malformed_fixtures_are_reported_at_their_line() {
    let bad_yaml = malformed(
        "guardrail: no-latest-tag\ncases:\n  - name: x\n    object: {a: [}\n    expect: allow\n",
    );
    assert!(
        bad_yaml.starts_with("error: tests/broken.yaml:4: "),
        "{bad_yaml}"
    );

    let unknown_guardrail = malformed("# a comment\nguardrail: no-latest-tags\ncases: []\n");
    assert!(
        unknown_guardrail.contains("error: tests/broken.yaml:2: unknown guardrail `no-latest-tags`; did you mean `no-latest-tag`?"),
        "{unknown_guardrail}"
    );

    let unknown_field = malformed(
        "guardrail: no-latest-tag\ncases:\n  - name: x\n    expect: allow\n    objekt: {}\n",
    );
    assert!(
        unknown_field.contains("error: tests/broken.yaml:"),
        "{unknown_field}"
    );
    assert!(
        unknown_field.contains("unknown field `objekt`"),
        "{unknown_field}"
    );
    let line: usize = unknown_field["error: tests/broken.yaml:".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3..=5).contains(&line), "{unknown_field}");

    let bad_case = malformed("guardrail: no-latest-tag\ncases:\n  - name: fine\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p}}\n    expect: allow\n  - name: no object\n    expect: deny\n");
    assert!(
        bad_case.contains("error: tests/broken.yaml:6: case `no object`: the case has no `object`"),
        "{bad_case}"
    );

    let bad_env = malformed("guardrail: no-latest-tag\nenv: production\ncases: []\n");
    assert!(
        bad_env.contains("error: tests/broken.yaml:2: unknown environment `production`; the project has dev, prod, staging"),
        "{bad_env}"
    );
}

#[test]
fn guardrails_without_allowed_and_denied_cases_are_reported_and_can_fail_the_run() {
    let project = quickstart_copy();
    std::fs::remove_file(project.path().join("tests/no-host-ports.yaml")).unwrap();
    let output = guardrailc(&["test", "--fuzz", "0", project.path().to_str().unwrap()]);
    let stdout = text_of_bytes(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("coverage: guardrail `no-host-ports` has no passing case"),
        "{stdout}"
    );
    // 6 of the 7 guardrails are covered: 85.7%.
    assert!(stdout.contains("coverage: 86% of guardrails"), "{stdout}");

    let strict = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        project.path().to_str().unwrap(),
        "--min-coverage",
        "90",
    ]);
    let stdout = text_of_bytes(&strict.stdout);
    assert_eq!(strict.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("85.7% of guardrails have both an allowed and a denied case, below 90%"),
        "{stdout}"
    );
    let lenient = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        project.path().to_str().unwrap(),
        "--min-coverage",
        "85",
    ]);
    assert_eq!(lenient.status.code(), Some(0));
}

#[test]
fn rego_lines_no_case_reaches_are_named() {
    let project = quickstart_copy();
    let fixture = project.path().join("tests/no-host-ports.yaml");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let without_cronjob = text
        .split("\n  - name: a CronJob's pod template is checked")
        .next()
        .unwrap();
    assert_ne!(without_cronjob, text, "the CronJob case is removed");
    std::fs::write(&fixture, without_cronjob).unwrap();
    let output = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        "--env",
        "prod",
        "--format",
        "json",
        project.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rego = report["details"]["coverage"]["rego"].as_array().unwrap();
    let host_ports = rego
        .iter()
        .find(|r| r["guardrail"] == "no-host-ports")
        .unwrap();
    let not_reached = host_ports["not_reached"].as_array().unwrap();
    assert_eq!(not_reached.len(), 1, "{host_ports}");
    // The line is the CronJob branch of the pod spec, in the template's Rego.
    let template = std::fs::read_to_string(
        quickstart().join("snapshots/prod/gatekeeper/no-host-ports.template.yaml"),
    )
    .unwrap();
    let rego_text = template.split("rego: |\n").nth(1).unwrap();
    let line = rego_text
        .lines()
        .nth(not_reached[0].as_u64().unwrap() as usize - 1)
        .unwrap();
    assert!(line.contains("jobTemplate"), "{line}");

    let human = guardrailc(&[
        "test",
        "--fuzz",
        "0",
        "--env",
        "prod",
        project.path().to_str().unwrap(),
    ]);
    let stdout = text_of_bytes(&human.stdout);
    assert!(
        stdout.contains(&format!(
            "coverage: Gatekeeper Rego lines of `no-host-ports` no case reached: {} (prod)",
            not_reached[0]
        )),
        "{stdout}"
    );
}
