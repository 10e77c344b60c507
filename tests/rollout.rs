//! The rollout example's commands, with the clock fixed: their outputs are snapshots, and the
//! HTML catalog is well-formed and self-contained.

mod support;

use std::path::Path;
use support::text;

fn run(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = support::command()
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn plan_shows_what_promoting_staging_to_prod_changes() {
    let (code, stdout, stderr) = run(&[
        "plan",
        "examples/rollout",
        "--from",
        "staging",
        "--to",
        "prod",
    ]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
    let (code, stdout, _) = run(&[
        "plan",
        "examples/rollout",
        "--from",
        "dev",
        "--to",
        "staging",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let changes: Vec<&str> = plan["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["changes"].as_array().unwrap().is_empty())
        .map(|g| g["guardrail"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        ["no-privileged", "replica-ceiling", "resource-limits"],
        "dev audits, staging warns: all three change"
    );
}

#[test]
fn exemptions_list_days_left_and_expired_ones() {
    let (code, stdout, stderr) = run(&["exemptions", "examples/rollout"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn build_drops_the_expired_exemption_with_a_warning() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&[
        "build",
        "examples/rollout",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning[G0214]: this exemption expired on 2026-10-31"),
        "{stderr}"
    );
    let policy =
        std::fs::read_to_string(out.path().join("prod/vap/no-privileged.policy.yaml")).unwrap();
    assert!(
        policy.contains("monitoring"),
        "the valid exemption is compiled"
    );
    assert!(!policy.contains("csi-node"), "the expired one is not");
}

/// `check --env prod` of the example's cluster export, in `format`.
fn check_prod_export(format: &str) -> (i32, String, String) {
    run(&[
        "check",
        "--project",
        "examples/rollout",
        "--env",
        "prod",
        "--format",
        format,
        "examples/rollout/cluster-export.yaml",
    ])
}

#[test]
fn check_reports_the_impact_of_prod_on_the_cluster_export() {
    let (code, stdout, stderr) = check_prod_export("human");
    assert_eq!(code, 1, "denied findings fail the gate: {stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn docs_write_markdown_and_a_self_contained_html_catalog() {
    let (code, markdown, stderr) = run(&["docs", "examples/rollout"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(markdown);
    let (code, html, _) = run(&["docs", "examples/rollout", "--format", "html"]);
    assert_eq!(code, 0);
    assert_self_contained_and_balanced(&html);
    assert!(
        html.contains("expired 28 days ago"),
        "the expired exemption stands out"
    );
}

/// No scripts or external assets, and every element opened is closed: a cheap
/// well-formedness check of our own markup (the browser check is scripts/check-html.sh).
fn assert_self_contained_and_balanced(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(external),
            "the page must not load `{external}`"
        );
    }
    for tag in [
        "html", "head", "body", "table", "thead", "tbody", "section", "ul", "div", "h1", "h2",
        "h3", "p", "li", "tr", "td", "th", "a", "code", "style", "title", "span", "b",
    ] {
        let opened =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let closed = html.matches(&format!("</{tag}>")).count();
        assert_eq!(
            opened, closed,
            "<{tag}> opened {opened} times, closed {closed}"
        );
    }
}

#[test]
fn check_writes_an_impact_page_grouped_by_namespace_and_team() {
    let (code, html, stderr) = check_prod_export("html");
    assert_eq!(code, 1, "{stderr}");
    assert_self_contained_and_balanced(&html);
    assert_eq!(
        html.matches("<tr><td class=\"v-").count(),
        8,
        "one row per finding: five guardrail findings, three namespaces without a default deny"
    );
    assert!(
        html.contains("<b>3</b><span class=\"muted\">would be denied</span>"),
        "{html}"
    );
    for group in [
        "books",
        "shop",
        "storage",
        "monitoring",
        "catalogue",
        "commerce",
        "observability",
    ] {
        assert!(
            html.contains(&format!("<div>{group}</div>")),
            "a bar for {group}"
        );
    }
}

#[test]
fn test_fails_while_an_expired_exemption_remains() {
    let (code, stdout, _) = run(&["test", "examples/rollout", "--fuzz", "16", "--seed", "7"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL exemption guardrails/workloads.guard:42"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expired on 2026-10-31 (28 days ago)"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("passed, 1 failed"),
        "only the exemption fails: {stdout}"
    );
}

#[test]
fn the_default_deny_check_reaches_sarif_with_its_own_rule() {
    let (code, sarif, stderr) = check_prod_export("sarif");
    assert_eq!(code, 1, "{stderr}");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let index = rules
        .iter()
        .position(|r| r["id"] == "default-deny-network-policy")
        .expect("the check has a rule");
    let results: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "default-deny-network-policy")
        .collect();
    // books (egress open), monitoring and storage (both open); shop denies both.
    assert_eq!(results.len(), 3);
    for result in results {
        assert_eq!(result["ruleIndex"], index);
        assert_eq!(result["level"], "note", "audit unless configured otherwise");
        assert_eq!(result["properties"]["targets"], serde_json::json!([]));
    }
}
