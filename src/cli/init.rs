//! `guardrailc init [DIR] [--from SET]`: start a project, from a library set or a small starter.
//! Never overwrites a file that exists.

use crate::cli::{library, CliError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct InitArgs {
    /// Directory of the new project (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// A library set to start from, e.g. `multi-tenancy` or `pod-security/restricted`
    #[arg(long)]
    pub from: Option<String>,
    /// List the library sets and exit
    #[arg(long)]
    pub list: bool,
}

const STARTER_CONFIG: &str = r#"# A guardrails project. Every key is optional; see docs/configuration.md.
sources = ["guardrails/*.guard"]
targets = ["vap", "gatekeeper", "opa"]

# Roll out new guardrails audit → warn → deny.
[environments.dev]
enforcement = "audit"

[environments.prod]
enforcement = "deny"
"#;

const STARTER_GUARD: &str = r#"guardrail no-latest-tag {
  title    "Images are pinned to a version"
  why      "A moving tag makes rollbacks and audits impossible."
  category preventive
  severity medium

  match workloads
  exclude namespaces ["kube-system"]

  deny for c in pod.all_containers
    when c.image.ends_with(":latest") or not c.image.contains(":")
    message "container {c.name} uses {c.image}, which is not pinned"
    fix "pin the image to a version tag or a digest"
}
"#;

const STARTER_TEST: &str = r#"guardrail: no-latest-tag
cases:
  - name: a pinned image is allowed
    object: { apiVersion: v1, kind: Pod, metadata: { name: p, namespace: app }, spec: { containers: [ { name: app, image: "nginx:1.27" } ] } }
    expect: allow
  - name: the latest tag is denied
    object: { apiVersion: v1, kind: Pod, metadata: { name: p, namespace: app }, spec: { containers: [ { name: app, image: "nginx:latest" } ] } }
    expect: deny
"#;

pub fn run(args: InitArgs) -> Result<ExitCode, CliError> {
    if args.list {
        for set in library::EMBEDDED.sets() {
            println!("{set}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let files: Vec<(String, &str)> = match &args.from {
        Some(set) => {
            let files = library::EMBEDDED.files_of(set);
            if !files.iter().any(|(path, _)| *path == "guardrails.toml") {
                let suggestion =
                    guardrailc_compiler::suggest::closest(set, library::EMBEDDED.sets())
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                return Err(CliError::User(format!(
                    "`{set}` is not a library set\nhelp: {suggestion}the sets are {}",
                    library::EMBEDDED.sets().join(", ")
                )));
            }
            files
                .into_iter()
                .map(|(path, text)| (path.to_string(), text))
                .collect()
        }
        None => vec![
            ("guardrails.toml".to_string(), STARTER_CONFIG),
            ("guardrails/no-latest-tag.guard".to_string(), STARTER_GUARD),
            ("tests/no-latest-tag.yaml".to_string(), STARTER_TEST),
        ],
    };
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| args.dir.join(path).exists())
        .map(|(path, _)| path.clone())
        .collect();
    if !existing.is_empty() {
        return Err(CliError::User(format!(
            "`{}` already has {}; nothing was written\nhelp: start the project in an empty directory",
            args.dir.display(),
            existing.join(", ")
        )));
    }
    for (path, text) in &files {
        write(&args.dir.join(path), text)?;
    }
    println!(
        "created a guardrails project in {} ({} files); next: guardrailc build {} && guardrailc test {}",
        args.dir.display(),
        files.len(),
        args.dir.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::User(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| CliError::User(format!("cannot write `{}`: {e}", path.display())))
}
