//! `guardrailc exemptions`: every exemption with its targets, owner, reason and days left.

use crate::cli::{workspace, CliError, Format};
use guardrailc_compiler::exemptions;
use guardrailc_compiler::render::count;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExemptionsArgs {
    /// Project directory
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: ExemptionsArgs) -> Result<ExitCode, CliError> {
    let (workspace, _) = workspace::load(&args.dir)?;
    let list = exemptions::list(&workspace.sources, workspace::today()?);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&list).map_err(|e| CliError::Internal(e.to_string()))?
        ),
        Format::Human => {
            if list.is_empty() {
                println!("no exemptions");
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<[String; 5]> = list
                .iter()
                .map(|e| {
                    let left = match e.days_left {
                        Some(d) if d < 0 => format!("expired {} days ago", -d),
                        Some(d) => format!("{d} days left"),
                        None => "no expiry".into(),
                    };
                    [
                        e.guardrail.clone(),
                        e.targets.clone(),
                        e.owner.clone().unwrap_or_else(|| "-".into()),
                        format!("{} ({left})", e.expires),
                        e.reason.clone(),
                    ]
                })
                .collect();
            let header = ["guardrail", "covers", "owner", "expires", "reason"];
            let widths: Vec<usize> = (0..5)
                .map(|i| {
                    rows.iter()
                        .map(|r| r[i].chars().count())
                        .chain([header[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: [&str; 5]| {
                let mut out = String::new();
                for (i, cell) in cells.iter().enumerate() {
                    if i == 4 {
                        out.push_str(cell);
                    } else {
                        out.push_str(&format!("{cell:w$}  ", w = widths[i]));
                    }
                }
                out.trim_end().to_string()
            };
            println!("{}", line(header));
            for r in &rows {
                println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
            }
            let expired = list
                .iter()
                .filter(|e| e.days_left.is_some_and(|d| d < 0))
                .count();
            println!("\n{}, {expired} expired", count(list.len(), "exemption"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
