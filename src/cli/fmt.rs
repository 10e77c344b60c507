//! `guardrailc fmt`: rewrites `.guard` files in the canonical layout.

use crate::cli::{workspace, CliError, EXIT_USER};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::{format, render};
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
        let (project, diagnostics) = workspace::load(Path::new("."))?;
        // Which files are the sources is guardrails.toml's to say: not guessed past its errors.
        if has_errors(&diagnostics) {
            let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
            eprint!("{}", render::human(&project, &diagnostics, color));
            eprintln!("fmt failed: {}", render::summary(&diagnostics));
            return Ok(ExitCode::from(EXIT_USER));
        }
        // The project's own sources: the library sets' files are not the user's to format.
        project.local.iter().map(PathBuf::from).collect()
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
            replace_file(&path, &formatted)?;
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    })
}

/// Replaces the contents of `path` (of the file a symlink points to) with `text`: written in
/// full to a temporary file beside it, given the file's permissions and owner, then renamed
/// over it. A failed write (disk full, quota, `ulimit -f`) leaves the original as it was.
fn replace_file(path: &Path, text: &str) -> Result<(), CliError> {
    let error = |what: &str, e: &dyn std::fmt::Display| {
        CliError::User(format!("cannot {what} `{}`: {e}", path.display()))
    };
    let real = std::fs::canonicalize(path).map_err(|e| error("resolve", &e))?;
    let meta = std::fs::metadata(&real).map_err(|e| error("inspect", &e))?;
    if meta.permissions().readonly() {
        return Err(CliError::User(format!(
            "`{}` is read-only; make it writable to format it",
            path.display()
        )));
    }
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".guardrailc-fmt")
        .tempfile_in(dir)
        .map_err(|e| error("create a temporary file beside", &e))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| error("write", &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root can give the file back to another owner; anyone else already owns it.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    // After the owner: chown clears set-id bits.
    std::fs::set_permissions(temp.path(), meta.permissions())
        .map_err(|e| error("set the permissions of", &e))?;
    temp.persist(&real).map_err(|e| error("write", &e.error))?;
    Ok(())
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
