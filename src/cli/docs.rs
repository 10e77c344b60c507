//! `guardrailc docs`: the catalog of a project's guardrails, as Markdown or HTML.

use crate::cli::{workspace, CliError};
use guardrailc_compiler::catalog::{self, Evidence};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::exemptions;
use guardrailc_compiler::project::{self, BuildOptions};
use guardrailc_compiler::render;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::coverage;
use guardrailc_testkit::fixtures::ExpectedVerdict;
use guardrailc_testkit::runner::run_fixtures;
use guardrailc_testkit::SchemaCatalog;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    let name = std::fs::canonicalize(&args.dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "the project".into());
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("Guardrails of {name}"));
    // A folder of projects (such as library/) gets one catalog, its entries named set/id.
    let mut catalog = catalog::Catalog {
        title,
        environments: Vec::new(),
        entries: Vec::new(),
    };
    for project in workspace::projects_under(&args.dir) {
        let prefix = project
            .strip_prefix(&args.dir)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| !p.is_empty());
        let Some(part) = project_catalog(&project)? else {
            return Ok(ExitCode::from(crate::cli::EXIT_USER));
        };
        for env in part.environments {
            if !catalog.environments.contains(&env) {
                catalog.environments.push(env);
            }
        }
        for mut entry in part.entries {
            if let Some(prefix) = &prefix {
                entry.id = format!("{prefix}/{}", entry.id);
                entry.file = format!("{prefix}/{}", entry.file);
            }
            catalog.entries.push(entry);
        }
    }
    let text = match args.format {
        DocsFormat::Markdown => catalog::markdown(&catalog),
        DocsFormat::Html => guardrailc_testkit::report::html::catalog::catalog_page(&catalog),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::User(format!("cannot write `{}`: {e}", path.display())))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The catalog of one project, with the evidence its fixtures give; `None` (after printing
/// the diagnostics) when it does not build.
fn project_catalog(dir: &Path) -> Result<Option<catalog::Catalog>, CliError> {
    let (workspace, mut diagnostics) = workspace::load(dir)?;
    let today = workspace::today()?;
    let output = workspace.build(&BuildOptions::default())?;
    diagnostics.extend(output.diagnostics);
    if has_errors(&diagnostics) {
        eprint!("{}", render::human(&workspace, &diagnostics, false));
        eprintln!(
            "docs failed in {}: {}",
            dir.display(),
            render::summary(&diagnostics)
        );
        return Ok(None);
    }
    let (checked, _) =
        project::check_sources(&workspace.sources, &workspace.schema, workspace::today()?);
    let guardrails: Vec<(String, &_)> = checked
        .iter()
        .map(|(source, g)| (workspace.sources[source.0 as usize].name.clone(), g))
        .collect();
    let exemptions = exemptions::list(&workspace.sources, today);
    let evidence = evidence(dir, &workspace, &output.policies, &output.artifacts)?;
    let declared = project::implied_environments(&workspace.config, &checked);
    let environments: Vec<String> = declared.iter().map(|e| e.name.clone()).collect();
    let mut catalog = catalog::build(
        "",
        &declared,
        &guardrails,
        &output.policies,
        &exemptions,
        &evidence,
    );
    if let Some(check) = &workspace.config.default_deny_network_policy {
        catalog
            .entries
            .push(catalog::default_deny_entry(check, &environments));
        catalog.entries.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(Some(catalog))
}

/// What the project's fixtures show for each guardrail: the cases that allow and deny, how
/// many pass, and which rules they make fire.
fn evidence(
    dir: &Path,
    workspace: &workspace::Workspace,
    policies: &[guardrailc_compiler::ir::Policy],
    artifacts: &[guardrailc_compiler::emit::Artifact],
) -> Result<BTreeMap<String, Evidence>, CliError> {
    let compiled = load_compiled(policies.to_vec(), artifacts)
        .map_err(|e| CliError::Internal(format!("an engine refused an emitted artifact: {e}")))?;
    let catalog = SchemaCatalog(&workspace.schema);
    let fixtures = match crate::cli::test::load_fixtures(dir, &compiled, &catalog)? {
        Ok(fixtures) => fixtures,
        Err(errors) => {
            return Err(CliError::User(format!(
                "malformed fixtures in {}:\n{}",
                dir.display(),
                errors.join("\n")
            )))
        }
    };
    let results = run_fixtures(&fixtures, &compiled, &catalog);
    let mut evidence: BTreeMap<String, Evidence> = BTreeMap::new();
    for result in &results {
        let entry = evidence.entry(result.guardrail.clone()).or_default();
        if matches!(result.expected, ExpectedVerdict::Allow) {
            entry.allowed_cases += 1;
        } else {
            entry.denied_cases += 1;
        }
        if result.passed() {
            entry.passed += 1;
        } else {
            entry.failed += 1;
        }
    }
    for guardrail in coverage::coverage(&compiled, &results) {
        if let Some(entry) = evidence.get_mut(&guardrail.guardrail) {
            entry.rules = guardrail.rules.len();
            entry.rules_covered = guardrail.rules.iter().filter(|r| r.fired > 0).count();
        }
    }
    Ok(evidence)
}
