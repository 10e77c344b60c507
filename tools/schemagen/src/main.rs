//! schemagen: regenerates the compiler's embedded Kubernetes schema table.
//!
//! ```text
//! cargo run -p schemagen -- [OPENAPI_DIR] [OUT_FILE]
//! ```
//!
//! `OPENAPI_DIR` defaults to `../shared/external/openapi/v1.35` and `OUT_FILE` to
//! `compiler/src/schema/builtin.json`, both relative to the workspace root. The directory
//! holds the OpenAPI v3 documents a Kubernetes API server serves at `/openapi/v3/...`
//! (`api/v1.json`, `apis/<group>/<version>.json`). The table keeps the kinds in
//! [`EMBEDDED_KINDS`] and every object type reachable from them; see `docs/schema.md` for
//! the format. Regenerate after changing the documents, the kind list, the enum overlay or
//! the summarising rules; the `builtin_table_is_fresh` test fails until you do.

mod doc_summary;
mod enum_overlay;
mod openapi;
mod table;

use openapi::{GroupVersionKind, OpenApiDocuments};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The Kubernetes release the default documents come from, recorded in the table.
const SOURCE: &str = "Kubernetes v1.35 OpenAPI v3 (kubectl-validate builtins)";

/// The built-in kinds guardrails can target, as `(group, version, kind)`.
const EMBEDDED_KINDS: &[(&str, &str, &str)] = &[
    ("", "v1", "ConfigMap"),
    ("", "v1", "LimitRange"),
    ("", "v1", "Namespace"),
    ("", "v1", "PersistentVolume"),
    ("", "v1", "PersistentVolumeClaim"),
    ("", "v1", "Pod"),
    ("", "v1", "ReplicationController"),
    ("", "v1", "ResourceQuota"),
    ("", "v1", "Secret"),
    ("", "v1", "Service"),
    ("", "v1", "ServiceAccount"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ("batch", "v1", "CronJob"),
    ("batch", "v1", "Job"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "IngressClass"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    ("storage.k8s.io", "v1", "StorageClass"),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn default_openapi_dir() -> PathBuf {
    workspace_root().join("../shared/external/openapi/v1.35")
}

fn default_out_file() -> PathBuf {
    workspace_root().join("compiler/src/schema/builtin.json")
}

/// The table text for the documents in `openapi_dir`.
fn generate(openapi_dir: &Path) -> Result<String, String> {
    let documents = OpenApiDocuments::read(openapi_dir)?;
    let kinds: Vec<GroupVersionKind> = EMBEDDED_KINDS
        .iter()
        .map(|(group, version, kind)| GroupVersionKind {
            group: (*group).to_owned(),
            version: (*version).to_owned(),
            kind: (*kind).to_owned(),
        })
        .collect();
    let table = table::build_table(&documents, &kinds, SOURCE)?;
    Ok(table::render(&table))
}

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let openapi_dir = args.next().map_or_else(default_openapi_dir, PathBuf::from);
    let out_file = args.next().map_or_else(default_out_file, PathBuf::from);
    if let Some(extra) = args.next() {
        return Err(format!(
            "unexpected argument `{}`; usage: schemagen [OPENAPI_DIR] [OUT_FILE]",
            extra.to_string_lossy()
        ));
    }
    let text = generate(&openapi_dir)?;
    std::fs::write(&out_file, &text)
        .map_err(|e| format!("cannot write `{}`: {e}", out_file.display()))?;
    eprintln!("wrote `{}` ({} bytes)", out_file.display(), text.len());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{default_openapi_dir, default_out_file, generate};

    #[test]
    fn builtin_table_is_fresh() {
        let openapi_dir = default_openapi_dir();
        if !openapi_dir.is_dir() {
            eprintln!(
                "skipped: the OpenAPI documents are not at `{}`",
                openapi_dir.display()
            );
            return;
        }
        let fresh = generate(&openapi_dir).expect("the pinned documents convert");
        let committed = std::fs::read_to_string(default_out_file())
            .expect("compiler/src/schema/builtin.json is committed");
        assert!(
            fresh == committed,
            "compiler/src/schema/builtin.json is stale; run `cargo run -p schemagen`"
        );
        assert_eq!(
            generate(&openapi_dir).expect("the pinned documents convert"),
            fresh,
            "two runs on the same documents differ"
        );
    }
}
