//! Writing build output safely: everything is written to a temporary directory first, then
//! moved into place. Files guardrailc did not write are never deleted or overwritten.

use crate::cli::CliError;
use guardrailc_compiler::emit::Artifact;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lists, in the output directory, the files the last build wrote. Only those may be
/// replaced or removed by the next build.
pub const MANIFEST: &str = ".guardrailc-manifest";

/// Writes `artifacts` under `out`. A build that fails before this point leaves `out`
/// untouched; a failure while writing leaves the temporary directory, never a half-written
/// `out`.
pub fn write(out: &Path, artifacts: &[Artifact]) -> Result<(), CliError> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        CliError::User(format!("cannot {what} `{}`: {e}", path.display()))
    };
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.guardrailc-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| io("clear", &staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| io("create", &staging, e))?;
    let mut manifest = String::new();
    for artifact in artifacts {
        let path = staging.join(&artifact.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        std::fs::write(&path, &artifact.contents).map_err(|e| io("write", &path, e))?;
        manifest.push_str(&artifact.path);
        manifest.push('\n');
    }
    std::fs::write(staging.join(MANIFEST), &manifest).map_err(|e| io("write", &staging, e))?;

    if !out.exists() {
        return std::fs::rename(&staging, out).map_err(|e| io("move output to", out, e));
    }
    let previous: BTreeSet<String> = std::fs::read_to_string(out.join(MANIFEST))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let foreign = files_under(out)?
        .into_iter()
        .filter(|f| f != MANIFEST && !previous.contains(f))
        .count();
    if foreign == 0 {
        // Only our own files: swap the whole directory.
        let old = parent.join(format!(".{name}.guardrailc-old-{}", std::process::id()));
        std::fs::rename(out, &old).map_err(|e| io("move aside", out, e))?;
        std::fs::rename(&staging, out).map_err(|e| io("move output to", out, e))?;
        return std::fs::remove_dir_all(&old).map_err(|e| io("remove", &old, e));
    }
    // Someone else's files live here too: move ours in one by one, and remove only the
    // files an earlier build wrote that this one no longer produces.
    let current: BTreeSet<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
    for artifact in artifacts {
        let target = out.join(&artifact.path);
        if target.exists() && !previous.contains(&artifact.path) {
            return Err(CliError::User(format!(
                "`{}` exists and was not written by guardrailc; move it away or choose another --out",
                target.display()
            )));
        }
    }
    for artifact in artifacts {
        let target = out.join(&artifact.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        }
        std::fs::rename(staging.join(&artifact.path), &target)
            .map_err(|e| io("write", &target, e))?;
    }
    for stale in previous.iter().filter(|p| !current.contains(p.as_str())) {
        let path = out.join(stale);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|e| io("remove", &path, e))?;
        }
    }
    std::fs::rename(staging.join(MANIFEST), out.join(MANIFEST)).map_err(|e| io("write", out, e))?;
    std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e))
}

fn files_under(dir: &Path) -> Result<Vec<String>, CliError> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry =
            entry.map_err(|e| CliError::User(format!("cannot list `{}`: {e}", dir.display())))?;
        if entry.file_type().is_file() {
            let relative: PathBuf = entry
                .path()
                .strip_prefix(dir)
                .unwrap_or(entry.path())
                .to_path_buf();
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(files)
}
