//! `guardrailc explain CODE` and `guardrailc explain GUARDRAIL`.

use crate::cli::{workspace, CliError};
use guardrailc_compiler::catalog;
use guardrailc_compiler::exemptions;
use guardrailc_compiler::project::{self, BuildOptions};
use guardrailc_compiler::render::SourceFiles;
use guardrailc_compiler::Code;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as G0301, or the id of a guardrail in the project
    pub what: String,
    /// Project directory, for guardrail ids
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
}

pub fn run(args: ExplainArgs) -> Result<ExitCode, CliError> {
    if let Some(code) = Code::parse(&args.what) {
        println!("{code}: {}\n", code.summary());
        println!("{}", code.explanation());
        return Ok(ExitCode::SUCCESS);
    }
    let looks_like_code = args.what.len() == 5 && args.what.to_uppercase().starts_with('G');
    if looks_like_code {
        return Err(CliError::User(format!(
            "`{}` is not a diagnostic code\nhelp: codes run from {} to {}",
            args.what,
            Code::ALL[0],
            Code::ALL[Code::ALL.len() - 1]
        )));
    }
    let (workspace, _) = workspace::load(&args.project)?;
    let (guardrails, _) =
        project::check_sources(&workspace.sources, &workspace.schema, workspace::today()?);
    let Some((source, guardrail)) = guardrails.iter().find(|(_, g)| g.id == args.what) else {
        let ids: Vec<&str> = guardrails.iter().map(|(_, g)| g.id.as_str()).collect();
        let hint = match guardrailc_compiler::suggest::closest(&args.what, ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "guardrails in `{}`: {}",
                args.project.display(),
                ids.join(", ")
            ),
        };
        return Err(CliError::User(format!(
            "`{}` is neither a diagnostic code nor a guardrail of the project\nhelp: {hint}",
            args.what
        )));
    };
    let meta = &guardrail.meta;
    println!("{} — {}", guardrail.id, meta.title);
    println!("  defined in {}", workspace.file(*source).0);
    if let Some(why) = &meta.why {
        println!("  why: {why}");
    }
    println!(
        "  category: {}, severity: {}",
        json_word(&meta.category),
        json_word(&meta.severity)
    );
    if let Some(owner) = &meta.owner {
        println!("  owner: {owner}");
    }
    if !meta.controls.is_empty() {
        println!("  controls: {}", meta.controls.join(", "));
    }
    let kinds: Vec<&str> = guardrail
        .matcher
        .resources
        .iter()
        .map(|r| r.kind.as_str())
        .collect();
    println!("  matches: {}", kinds.join(", "));
    for line in catalog::scope(&guardrail.matcher) {
        println!("  {line}");
    }
    println!("  rules: {}", guardrail.rules.len());
    // The policies of every environment: the param values each gets. A guardrail that does
    // not lower in an environment (a param without a value there) has none for it.
    let output = workspace.build(&BuildOptions::default())?;
    let environments = project::implied_environments(&workspace.config, &guardrails);
    for param in catalog::params(guardrail, &environments, &output.policies) {
        println!("  param {}", param.declaration);
        for value in &param.values {
            let default = if value.default { " (default)" } else { "" };
            println!("    {}: {}{default}", value.env, value.value);
        }
    }
    println!("  enforcement:");
    for env in &environments {
        let (action, source) = project::enforcement_with_source(guardrail, env);
        println!(
            "    in {}: {} (from {})",
            env.name,
            json_word(&action),
            source.describe(&guardrail.id, &env.name)
        );
    }
    let today = workspace::today()?;
    for exemption in exemptions::list(&workspace.sources, today)
        .into_iter()
        .filter(|e| e.guardrail == guardrail.id)
    {
        let days = match exemption.days_left {
            Some(d) if d < 0 => format!(", expired {} days ago", -d),
            Some(d) => format!(", {d} days left"),
            None => String::new(),
        };
        println!(
            "  exemption: {} — {} (owner {}, until {}{days})",
            exemption.targets,
            exemption.reason,
            exemption.owner.as_deref().unwrap_or("none"),
            exemption.expires
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The word an enum serialises to (`preventive`, `deny`), as config files spell it.
fn json_word(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
