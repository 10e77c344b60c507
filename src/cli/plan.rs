//! `guardrailc plan --from ENV --to ENV`: what a rollout step changes.

use crate::cli::{workspace, CliError, Format};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::plan;
use guardrailc_compiler::project::BuildOptions;
use guardrailc_compiler::render;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Project directory
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The environment the guardrails run in now
    #[arg(long)]
    pub from: String,
    /// The environment they are promoted to
    #[arg(long)]
    pub to: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: PlanArgs) -> Result<ExitCode, CliError> {
    let (workspace, mut diagnostics) = workspace::load(&args.dir)?;
    let options = BuildOptions {
        environments: Some(vec![args.from.clone(), args.to.clone()]),
        ..BuildOptions::default()
    };
    let output = workspace.build(&options)?;
    diagnostics.extend(output.diagnostics);
    if has_errors(&diagnostics) {
        eprint!("{}", render::human(&workspace, &diagnostics, false));
        eprintln!("plan failed: {}", render::summary(&diagnostics));
        return Ok(ExitCode::from(crate::cli::EXIT_USER));
    }
    let entries = plan::plan(&output.policies, &args.from, &args.to);
    match args.format {
        Format::Human => print!("{}", plan::render_text(&entries, &args.from, &args.to)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "from": args.from, "to": args.to, "guardrails": entries,
            }))
            .map_err(|e| CliError::Internal(e.to_string()))?
        ),
    }
    Ok(ExitCode::SUCCESS)
}
