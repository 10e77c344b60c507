//! `guardrailc fmt`: rewrites `.guard` files in the canonical layout.

use crate::cli::{workspace, CliError, EXIT_USER};
use guardrailc_compiler::format;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct FmtArgs {
    /// Files or directories to format (default: the .guard files of the project in the current directory)
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that would change and exit with 1 if there are any
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: FmtArgs) -> Result<ExitCode, CliError> {
    let files = if args.paths.is_empty() {
        let (project, _) = workspace::load(Path::new("."))?;
        project
            .sources
            .into_iter()
            .map(|source| PathBuf::from(source.name))
            .collect()
    } else {
        guard_files(&args.paths)?
    };
    let mut failed = false;
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::User(format!("cannot read `{}`: {e}", path.display())))?;
        let formatted = match format::format(&text) {
            Ok(formatted) => formatted,
            Err(error) => {
                eprintln!("error: `{}`: {error}", path.display());
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if args.check {
            println!("{}", path.display());
            failed = true;
        } else {
            std::fs::write(&path, formatted)
                .map_err(|e| CliError::User(format!("cannot write `{}`: {e}", path.display())))?;
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    })
}

/// The given files, and the `.guard` files under the given directories (skipping hidden
/// directories and `target`), in path order.
fn guard_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(CliError::User(format!(
                "`{}` is neither a file nor a directory",
                path.display()
            )));
        }
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                let name = entry.file_name().to_string_lossy();
                entry.depth() == 0 || !(name.starts_with('.') || name == "target")
            });
        for entry in walker {
            let entry = entry
                .map_err(|e| CliError::User(format!("cannot list `{}`: {e}", path.display())))?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "guard")
            {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}
