//! `guardrailc check` on manifests: multi-document files, list exports on standard input,
//! and the JSON and SARIF reports.

mod support;

use std::process::Output;
use support::{output_with_stdin, quickstart, text};

fn check(args: &[&str], stdin: Option<&str>) -> Output {
    output_with_stdin(
        support::command()
            .arg("check")
            .arg("--project")
            .arg(quickstart())
            .args(args),
        stdin.unwrap_or_default(),
    )
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

/// A worker that panics on one object reports an internal error for that object; the other
/// objects are still checked and reported, and the run exits 2 (a bug, not a verdict). The
/// panic is injected through the documented test hook (docs/testing.md).
#[test]
fn a_panic_while_checking_one_object_is_an_internal_error_for_that_object() {
    let output = output_with_stdin(
        support::command()
            .env("GUARDRAILC_INJECT_CHECK_PANIC", "name: p3\n")
            .args(["check", "--project"])
            .arg(quickstart())
            .args(["--env", "prod", "--format", "json", "-"]),
        &export(20),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("internal error: <stdin>:")
            && stderr.contains("checking this object failed"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The other 19 Pods and the Widget are counted; p0 and p10 still have their findings.
    assert_eq!(report["objects"], 20, "{report:#}");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
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

/// Two LoadBalancer Services, one in an edge namespace, with the Namespaces after them (so
/// only a first pass can know their labels), and a Pod labelled with its own team.
const NAMESPACED_EXPORT: &str = "\
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: edge}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: shop}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop, labels: {team: web}}
spec:
  containers: [{name: app, image: registry.example.com/app:latest}]
---
apiVersion: v1
kind: Namespace
metadata: {name: edge, labels: {network.example.com/edge: \"true\", team: net}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: payments}}
";

#[test]
fn namespace_labels_come_from_the_export_and_findings_group_by_owner() {
    let output = check(
        &["--env", "prod", "--format", "json", "-"],
        Some(NAMESPACED_EXPORT),
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["namespaces"], 2);
    let findings = report["findings"].as_array().unwrap();
    let services: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["guardrail"] == "no-loadbalancer-outside-edge")
        .collect();
    // The edge namespace's label excludes its Service; the shop Service is found.
    assert_eq!(services.len(), 1, "{findings:#?}");
    assert_eq!(services[0]["object"], "Service shop/lb");
    assert_eq!(services[0]["owner"], "payments", "the namespace's team");
    // Found by every target the quickstart builds that has the request in scope.
    assert_eq!(
        services[0]["targets"],
        serde_json::json!(["vap", "gatekeeper", "opa"])
    );
    let latest = findings
        .iter()
        .find(|f| f["guardrail"] == "no-latest-tag")
        .expect("the :latest Pod is found");
    assert_eq!(latest["owner"], "web", "the object's own label wins");
    assert_eq!(latest["namespace"], "shop");

    let groups = &report["groups"];
    let by_namespace = groups["namespace"].as_array().unwrap();
    assert_eq!(by_namespace.len(), 1, "{groups}");
    assert_eq!(by_namespace[0]["namespace"], "shop");
    assert_eq!(by_namespace[0]["findings"], findings.len());
    assert_eq!(groups["label"]["key"], "team");
    let teams: Vec<&str> = groups["label"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    assert_eq!(teams, vec!["payments", "web"]);
}

#[test]
fn the_human_report_groups_by_namespace_and_the_chosen_label() {
    let output = check(
        &[
            "--env",
            "prod",
            "--group-by-label",
            "network.example.com/edge",
            "-",
        ],
        Some(NAMESPACED_EXPORT),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let namespace_section = stdout
        .split("findings by namespace:\n")
        .nth(1)
        .expect("a namespace section");
    assert!(namespace_section.starts_with("  shop "), "{stdout}");
    let label_section = stdout
        .split("findings by network.example.com/edge:\n")
        .nth(1)
        .expect("a label section");
    // No finding's object or namespace carries that label.
    assert!(label_section.starts_with("  (no label) "), "{stdout}");
    assert!(stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("checked 5 objects"));
}

/// A project of the default-deny check alone (configured by `config`, the body of its
/// section), checked against `export` in `format`: the standard output.
fn default_deny_check(config: &str, export: &str, format: &str) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("guardrails.toml"),
        format!("[detective.default-deny-network-policy]\n{config}"),
    )
    .unwrap();
    let manifests = dir.path().join("export.yaml");
    std::fs::write(&manifests, export).unwrap();
    let output = support::command()
        .args(["check", "--format", format, "--project"])
        .arg(dir.path())
        .arg(&manifests)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The JSON report of [`default_deny_check`] with the default configuration.
fn default_deny_report(export: &str) -> serde_json::Value {
    serde_json::from_str(&default_deny_check("", export, "json")).expect("the report is JSON")
}

/// Its findings.
fn default_deny_findings(export: &str) -> Vec<serde_json::Value> {
    default_deny_report(export)["findings"]
        .as_array()
        .expect("findings")
        .clone()
}

/// An export with a Namespace object for `alpha` (labelled `team: a`) and objects in `beta`
/// and `gamma`, which it has no Namespace objects for.
const PARTLY_LABELLED: &str = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: { name: alpha, labels: { team: a } }
- apiVersion: v1
  kind: Pod
  metadata: { name: p, namespace: alpha }
  spec: { containers: [{ name: app, image: nginx }] }
- apiVersion: v1
  kind: Pod
  metadata: { name: q, namespace: beta }
  spec: { containers: [{ name: app, image: nginx }] }
- apiVersion: v1
  kind: Pod
  metadata: { name: r, namespace: gamma }
  spec: { containers: [{ name: app, image: nginx }] }
";

#[test]
fn namespaces_whose_labels_are_unknown_are_listed_as_unchecked() {
    let config = "namespace_label = \"team\"\nexclude_namespaces = [\"gamma\"]\n";
    let report: serde_json::Value =
        serde_json::from_str(&default_deny_check(config, PARTLY_LABELLED, "json")).unwrap();
    // alpha carries the label and has no default deny; beta cannot be decided on; gamma is
    // excluded.
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["namespace"], "alpha");
    assert_eq!(report["unchecked_namespaces"], serde_json::json!(["beta"]));

    let table = default_deny_check(config, PARTLY_LABELLED, "human");
    assert!(
        table.contains("default-deny-network-policy: not checked in 1 namespace the input holds no Namespace object for, so their `team` label is unknown: beta"),
        "{table}"
    );

    // Without a label every namespace is checked, and none is unchecked.
    let report = default_deny_report(PARTLY_LABELLED);
    assert_eq!(report["unchecked_namespaces"], serde_json::json!([]));
    assert_eq!(report["findings"].as_array().unwrap().len(), 3);
}

#[test]
fn the_default_deny_check_covers_namespaces_without_a_namespace_object() {
    // No Namespace objects at all (`kubectl get all,networkpolicies -A`) and no guardrails:
    // beta's pod has no default deny; gamma's policy, with an empty `policyTypes`, denies
    // ingress as Kubernetes defaults it.
    let export = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: { name: p, namespace: beta }
  spec: { containers: [{ name: app, image: nginx }] }
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: deny, namespace: gamma }
  spec: { podSelector: {}, policyTypes: [] }
- apiVersion: v1
  kind: Pod
  metadata: { name: q, namespace: gamma }
  spec: { containers: [{ name: app, image: nginx }] }
";
    let findings = default_deny_findings(export);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["guardrail"], "default-deny-network-policy");
    assert_eq!(finding["namespace"], "beta");
    assert_eq!(finding["line"], 4, "on beta's first object");
    assert_eq!(finding["env"], "default");
    assert_eq!(finding["verdict"], "audit");
}

/// Findings stream out as the workers finish each object, reordered to the report's order:
/// by file name, line, environment, guardrail and message, whatever order the files are
/// given in and however the workers interleave.
#[test]
fn findings_come_in_report_order_whatever_the_order_of_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, export(400)).unwrap();
    let pods: Vec<String> = (0..50)
        .map(|i| {
            let tag = if i % 3 == 0 { ":latest" } else { "" };
            // Two containers, the second named first in sorted order: one message each.
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: q{i}\n  namespace: shop\nspec:\n  containers:\n  - name: zeta\n    image: nginx{tag}\n  - name: alpha\n    image: redis{tag}\n")
        })
        .collect();
    std::fs::write(&b, pods.join("---\n")).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for format in ["human", "json", "sarif"] {
        let forward = check(&["--format", format, a, b], None);
        let backward = check(&["--format", format, b, a], None);
        assert_eq!(forward.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&forward.stdout),
            String::from_utf8_lossy(&backward.stdout),
            "{format}"
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&check(&["--format", "json", b, a], None).stdout).unwrap();
    let order: Vec<(String, u64, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_string();
            let line = f["line"].as_u64().unwrap();
            (
                text("file"),
                line,
                text("env"),
                text("guardrail"),
                text("message"),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // Both files, every environment, and several findings on one object.
    assert!(order.iter().any(|f| f.0 == a) && order.iter().any(|f| f.0 == b));
    assert!(order
        .windows(2)
        .any(|w| (&w[0].0, w[0].1, &w[0].2, &w[0].3) == (&w[1].0, w[1].1, &w[1].2, &w[1].3)));
    assert!(["dev", "staging", "prod"]
        .iter()
        .all(|env| order.iter().any(|f| f.2 == *env)));
    assert!(order.len() > 100, "{}", order.len());
}

#[test]
fn a_file_given_twice_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.yaml");
    std::fs::write(&path, export(30)).unwrap();
    let path = path.to_str().unwrap();
    let once = check(&["--format", "json", path], None);
    let twice = check(&["--format", "json", path, path], None);
    assert_eq!(text(&once.stdout), text(&twice.stdout));
    let report: serde_json::Value = serde_json::from_slice(&once.stdout).unwrap();
    assert_eq!(report["objects"], 31);
}

/// The quickstart with only the plain OPA target.
fn opa_only_quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in walkdir_files(&quickstart()) {
        let relative = entry.strip_prefix(quickstart()).unwrap();
        if relative.starts_with("out") || relative.starts_with("snapshots") {
            continue;
        }
        let target = dir.path().join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let config = dir.path().join("guardrails.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let opa_only = text.replace(
        "targets = [\"vap\", \"gatekeeper\", \"opa\"]",
        "targets = [\"opa\"]",
    );
    assert_ne!(opa_only, text, "the quickstart names its targets");
    std::fs::write(&config, opa_only).unwrap();
    dir
}

fn walkdir_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn check_with_only_the_opa_target_applies_the_match_and_exclusions() {
    // The plain OPA package applies the guardrail's kinds and excluded namespaces to the
    // object itself: no-privileged excludes kube-system and matches workloads only.
    let project = opa_only_quickstart();
    let manifests = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: kube-system}\nspec:\n  containers: [{name: c, image: \"registry.example.com/x:1\", resources: {limits: {memory: 1Gi}}, securityContext: {privileged: true}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\nspec:\n  containers: [{name: c, image: \"registry.example.com/x:1\", resources: {limits: {memory: 1Gi}}, securityContext: {privileged: true}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\ndata: {a: b}\n";
    let output = output_with_stdin(
        support::command()
            .args(["check", "--env", "prod", "--format", "json", "--project"])
            .arg(project.path())
            .arg("-"),
        manifests,
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)));
    let findings: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["guardrail"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![("no-privileged".to_string(), "Pod shop/b".to_string())],
        "{report:#}"
    );
}
