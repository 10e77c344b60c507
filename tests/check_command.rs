//! `guardrailc check` on manifests: multi-document files, list exports on standard input,
//! and the JSON and SARIF reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}

fn check(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardrailc"))
        .arg("check")
        .arg("--project")
        .arg(quickstart())
        .args(args)
        .env("GUARDRAILC_TODAY", "2026-11-28")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// A `kubectl get -A -o yaml`-shaped export of `count` Pods; every tenth uses `:latest`,
/// and one object is of a kind no guardrail knows.
fn export(count: usize) -> String {
    let mut text = String::from("apiVersion: v1\nitems:\n");
    for i in 0..count {
        let image = if i % 10 == 0 {
            "registry.example.com/app:latest".to_string()
        } else {
            format!("registry.example.com/app:1.{i}")
        };
        text.push_str(&format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    namespace: shop\n  spec:\n    containers:\n    - name: app\n      image: {image}\n      resources:\n        limits:\n          memory: 1Gi\n"
        ));
    }
    text.push_str("- apiVersion: example.com/v1\n  kind: Widget\n  metadata:\n    name: w\nkind: List\nmetadata:\n  resourceVersion: \"\"\n");
    text
}

#[test]
fn a_list_export_on_stdin_is_checked_object_by_object() {
    let output = check(
        &["--env", "prod", "--format", "json", "-"],
        Some(&export(200)),
    );
    assert_eq!(output.status.code(), Some(1), "denials fail the gate");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["objects"], 201);
    assert_eq!(report["skipped"], 1);
    let findings = report["findings"].as_array().unwrap();
    // 20 Pods use `:latest`: one no-latest-tag finding each, nothing else violated.
    assert_eq!(findings.len(), 20, "{findings:#?}");
    assert!(findings.iter().all(|f| f["guardrail"] == "no-latest-tag"
        && f["verdict"] == "deny"
        && f["env"] == "prod"));
    assert_eq!(findings[0]["line"], 3);
    assert_eq!(findings[0]["object"], "Pod shop/p0");
}

#[test]
fn audit_only_environments_do_not_fail_the_gate() {
    let output = check(&["--env", "dev", "-"], Some(&export(20)));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("audit  dev"), "{stdout}");
    assert!(
        stdout.ends_with(
            "checked 21 objects (1 of kinds no guardrail knows): 2 findings, 0 denied\n"
        ),
        "{stdout}"
    );
}

#[test]
fn sarif_has_the_required_2_1_0_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\nspec:\n  containers: [{name: app, image: nginx, securityContext: {privileged: true}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: lb, namespace: shop}\nspec: {type: LoadBalancer}\n",
    )
    .unwrap();
    let output = check(
        &[
            "--env",
            "staging",
            "--format",
            "sarif",
            file.to_str().unwrap(),
        ],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "guardrailc");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 7, "one rule per guardrail");
    let results = run["results"].as_array().unwrap();
    let service = results
        .iter()
        .find(|r| r["ruleId"] == "no-loadbalancer-outside-edge")
        .expect("the LoadBalancer is found");
    assert_eq!(service["level"], "warning", "staging warns");
    assert_eq!(
        service["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["message"]["text"].as_str().is_some());
        assert!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("pods.yaml")
        );
    }
    // The privileged Pod without a pinned image: denied in staging by allowed-registries.
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn malformed_manifests_name_the_line() {
    let output = check(
        &["-"],
        Some("kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: [\n"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: <stdin>: line "), "{stderr}");
}
