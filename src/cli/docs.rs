//! `guardrailc docs`: the catalog of a project's guardrails, as Markdown or HTML.

use crate::cli::{workspace, CliError};
use guardrailc_compiler::catalog::{self, Evidence};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::exemptions;
use guardrailc_compiler::project::{self, BuildInput, BuildOptions};
use guardrailc_compiler::render;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DocsFormat {
    Markdown,
    Html,
}

#[derive(clap::Args)]
pub struct DocsArgs {
    /// Project directory
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: DocsFormat,
    /// Write to this file instead of standard output
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Catalog title (default: "Guardrails of <directory name>")
    #[arg(long)]
    pub title: Option<String>,
}

pub fn run(args: DocsArgs) -> Result<ExitCode, CliError> {
    let (workspace, mut diagnostics) = workspace::load(&args.dir)?;
    let today = workspace::today()?;
    let output = project::build(&BuildInput {
        sources: &workspace.sources,
        config: &workspace.config,
        config_source: workspace.config_source(),
        schema: &workspace.schema,
        today,
        options: &BuildOptions::default(),
    });
    diagnostics.extend(output.diagnostics);
    if has_errors(&diagnostics) {
        eprint!("{}", render::human(&workspace, &diagnostics, false));
        eprintln!("docs failed: {}", render::summary(&diagnostics));
        return Ok(ExitCode::from(crate::cli::EXIT_USER));
    }
    let (checked, _) = project::check_sources(&workspace.sources, &workspace.schema);
    let guardrails: Vec<(String, &_)> = checked
        .iter()
        .map(|(source, g)| (workspace.sources[source.0 as usize].name.clone(), g))
        .collect();
    let exemptions = exemptions::list(&workspace.sources, today);
    let evidence: BTreeMap<String, Evidence> = BTreeMap::new();
    let name = std::fs::canonicalize(&args.dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "the project".into());
    let title = args
        .title
        .unwrap_or_else(|| format!("Guardrails of {name}"));
    let environments: Vec<String> = project::implied_environments(&workspace.config, &checked)
        .into_iter()
        .map(|e| e.name)
        .collect();
    let catalog = catalog::build(
        &title,
        &environments,
        &guardrails,
        &output.policies,
        &exemptions,
        &evidence,
    );
    let text = match args.format {
        DocsFormat::Markdown => catalog::markdown(&catalog),
        DocsFormat::Html => catalog::html(&catalog),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::User(format!("cannot write `{}`: {e}", path.display())))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
