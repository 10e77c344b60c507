//! Every project under examples/ (and library/, once it exists) builds, and every emitted file
//! is what its consumer accepts: VAP objects round-trip through the `k8s-openapi` types
//! (a misspelt or misplaced field would be lost), every CEL expression parses and every Rego
//! module compiles as Rego v1 in the engines the testkit runs. Gatekeeper's sync.yaml is a
//! `SyncSet` of Namespaces exactly where templates read the replicated Namespaces.

mod support;

use guardrailc_testkit::test_support::namespace_sync_set;
use guardrailc_testkit::{GatekeeperPolicy, OpaPolicy, VapPolicy};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use std::path::{Path, PathBuf};

/// Every directory under examples/ and library/ that holds .guard files directly.
fn projects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for top in ["examples", "library"] {
        collect(&root.join(top), &mut found);
    }
    found.sort();
    found
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut has_guard = false;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "out") {
            collect(&path, found);
        } else if path.extension().is_some_and(|e| e == "guard") {
            has_guard = true;
        }
    }
    if has_guard || dir.join("guardrails.toml").exists() {
        found.push(dir.to_path_buf());
    }
}

fn build(project: &Path, out: &Path) {
    let output = support::command()
        .args([
            "build",
            project.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env(
            "GUARDRAILC_TODAY",
            guardrailc_testkit::test_support::TODAY_ISO,
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} does not build:\n{}",
        project.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn yaml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn round_trips<T: serde::de::DeserializeOwned + serde::Serialize>(path: &Path) {
    let value = yaml(path);
    let typed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{} is not a valid object of its kind: {e}", path.display()));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        back,
        value,
        "{} loses fields through its Kubernetes type",
        path.display()
    );
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_with_suffix(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_emitted_artifact_is_accepted_by_its_consumer() {
    let projects = projects();
    assert!(!projects.is_empty(), "no example projects found");
    let mut sync_sets = 0;
    for project in projects {
        let out = tempfile::tempdir().unwrap();
        build(&project, out.path());
        let policies = files_with_suffix(out.path(), ".policy.yaml");
        assert!(
            !policies.is_empty(),
            "{}: no VAP emitted",
            project.display()
        );
        for policy in &policies {
            let binding = PathBuf::from(
                policy
                    .to_string_lossy()
                    .replace(".policy.yaml", ".binding.yaml"),
            );
            round_trips::<ValidatingAdmissionPolicy>(policy);
            round_trips::<ValidatingAdmissionPolicyBinding>(&binding);
            let (p, b) = (
                std::fs::read_to_string(policy).unwrap(),
                std::fs::read_to_string(&binding).unwrap(),
            );
            VapPolicy::load(&p, &b).unwrap_or_else(|e| panic!("{}: {e}", policy.display()));
        }
        for template in files_with_suffix(out.path(), ".template.yaml") {
            let constraint = PathBuf::from(
                template
                    .to_string_lossy()
                    .replace(".template.yaml", ".constraint.yaml"),
            );
            let (t, c) = (
                std::fs::read_to_string(&template).unwrap(),
                std::fs::read_to_string(&constraint).unwrap(),
            );
            GatekeeperPolicy::load(&t, &c)
                .unwrap_or_else(|e| panic!("{}: {e}", template.display()));
            let (t, c) = (yaml(&template), yaml(&constraint));
            assert_eq!(t["kind"], "ConstraintTemplate");
            assert_eq!(t["apiVersion"], "templates.gatekeeper.sh/v1");
            assert_eq!(
                c["kind"],
                t["spec"]["crd"]["spec"]["names"]["kind"],
                "{}",
                template.display()
            );
            assert_eq!(
                t["metadata"]["name"].as_str().unwrap(),
                c["kind"].as_str().unwrap().to_lowercase(),
                "Gatekeeper names the template after the lowercased kind"
            );
        }
        sync_sets += check_sync_sets(out.path());
        for module in files_with_suffix(out.path(), ".rego") {
            let text = std::fs::read_to_string(&module).unwrap();
            OpaPolicy::load(&text).unwrap_or_else(|e| panic!("{}: {e}", module.display()));
        }
    }
    // The quickstart's three environments and the multi-tenancy library read the namespace.
    assert!(sync_sets >= 4, "only {sync_sets} sync.yaml files checked");
}

/// Each environment's `gatekeeper/sync.yaml` is the cluster-scoped `SyncSet` `guardrailc`
/// replicating v1 Namespaces, written exactly when a template of that environment falls back
/// to `data.inventory`, and naming those guardrails. Returns how many there are.
fn check_sync_sets(out: &Path) -> usize {
    let mut checked = 0;
    let mut environments: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("gatekeeper").is_dir())
        .collect();
    environments.sort();
    for env in environments {
        let gatekeeper = env.join("gatekeeper");
        let mut readers: Vec<String> = files_with_suffix(&gatekeeper, ".template.yaml")
            .into_iter()
            .filter(|template| {
                yaml(template)["spec"]["targets"][0]["code"][0]["source"]["rego"]
                    .as_str()
                    .unwrap()
                    .contains("data.inventory")
            })
            .map(|template| {
                let name = template.file_name().unwrap().to_string_lossy().into_owned();
                name.trim_end_matches(".template.yaml").to_string()
            })
            .collect();
        readers.sort();
        let sync = gatekeeper.join("sync.yaml");
        if readers.is_empty() {
            assert!(!sync.exists(), "{}: no template needs it", sync.display());
            continue;
        }
        let text = std::fs::read_to_string(&sync).unwrap_or_else(|e| {
            panic!(
                "{}: {e}, but {readers:?} read data.inventory",
                sync.display()
            )
        });
        assert!(
            text.starts_with("# Generated by guardrailc "),
            "{}",
            sync.display()
        );
        let sync_set = yaml(&sync);
        let env_name = env.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            sync_set,
            namespace_sync_set(&env_name, &readers.join(",")),
            "{}",
            sync.display()
        );
        checked += 1;
    }
    checked
}
