//! `guardrailc build`.

use crate::cli::{output, workspace, CliError, Format, EXIT_INTERNAL, EXIT_USER};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::emit::Target;
use guardrailc_compiler::kube::KubeVersion;
use guardrailc_compiler::project::BuildOptions;
use guardrailc_compiler::render;
use guardrailc_compiler::Code;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Project directory (holding guardrails.toml or .guard files)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Build only these environments (repeatable; default: all)
    #[arg(long = "env", value_name = "ENV")]
    pub envs: Vec<String>,
    /// Targets to emit, comma-separated: vap, gatekeeper, opa (default: the project's)
    #[arg(long, value_delimiter = ',', value_parser = parse_target)]
    pub target: Vec<Target>,
    /// Output directory (default: the project's `out`, inside DIR)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Kubernetes version the emitted CEL must run on, e.g. 1.31 (default: the project's, else 1.30)
    #[arg(long, value_parser = parse_kube_version)]
    pub kube_version: Option<KubeVersion>,
    /// Diagnostics format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

fn parse_target(text: &str) -> Result<Target, String> {
    Target::parse(text)
        .ok_or_else(|| format!("`{text}` is not a target; use vap, gatekeeper or opa"))
}

fn parse_kube_version(text: &str) -> Result<KubeVersion, String> {
    match KubeVersion::parse(text) {
        Some(v) if v >= KubeVersion::OLDEST => Ok(v),
        _ => Err(format!(
            "`{text}` is not a supported version; use {} or newer, e.g. 1.31",
            KubeVersion::OLDEST
        )),
    }
}

pub fn run(args: BuildArgs) -> Result<ExitCode, CliError> {
    let (workspace, _) = workspace::load(&args.dir)?;
    let options = BuildOptions {
        environments: (!args.envs.is_empty()).then(|| args.envs.clone()),
        targets: (!args.target.is_empty()).then(|| args.target.clone()),
        kube_version: args.kube_version,
    };
    // The language server shows the same diagnostics (lsp/src/workspace.rs).
    let output = workspace.full_build(&options)?;
    let diagnostics = output.diagnostics;
    let artifacts = output.artifacts;
    let failed = has_errors(&diagnostics);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(&workspace.config.out));
    if !failed {
        output::write(&out, &artifacts, output::Edits::Kept)?;
    }
    match args.format {
        Format::Human => {
            let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
            eprint!("{}", render::human(&workspace, &diagnostics, color));
            if failed {
                eprintln!("build failed: {}", render::summary(&diagnostics));
            } else {
                eprintln!(
                    "wrote {} files to {} ({})",
                    artifacts.len(),
                    out.display(),
                    render::summary(&diagnostics)
                );
            }
        }
        Format::Json => {
            let report = serde_json::json!({
                "success": !failed,
                "out": out.display().to_string(),
                "files": artifacts.iter().map(|a| &a.path).collect::<Vec<_>>(),
                "diagnostics": render::json_diagnostics(&workspace, &diagnostics),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report)
                    .map_err(|e| CliError::Internal(e.to_string()))?
            );
        }
    }
    let internal = diagnostics.iter().any(|d| d.code == Code::Internal);
    Ok(if internal {
        ExitCode::from(EXIT_INTERNAL)
    } else if failed {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    })
}
