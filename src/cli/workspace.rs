//! A project on disk for the commands: the shared loader ([`guardrailc_testkit::loader`])
//! reading the project folder through [`DiskFiles`] with the library sets embedded in the
//! binary, the folders that hold projects, and today's date.

use crate::cli::{library, CliError};
use guardrailc_compiler::project::{BuildOptions, BuildOutput};
use guardrailc_compiler::render::SourceFiles;
use guardrailc_compiler::{Diagnostic, SourceId};
use guardrailc_testkit::loader::{self, DiskFiles, Project, CONFIG_FILE};
use std::path::Path;

/// A project read from disk ([`Project`]'s fields: `sources`, `config`, `schema` …).
pub struct Workspace(Project);

impl std::ops::Deref for Workspace {
    type Target = Project;

    fn deref(&self) -> &Project {
        &self.0
    }
}

impl Workspace {
    /// Compiles the project as of today (or `GUARDRAILC_TODAY`): what follows [`load`]
    /// when its diagnostics hold no error.
    pub fn build(&self, options: &BuildOptions) -> Result<BuildOutput, CliError> {
        Ok(self.0.compile(today()?, options))
    }

    /// What `guardrailc build` reports and emits: the loading's diagnostics, then, when they
    /// hold no error, the build's ([`Project::full_build`]).
    pub fn full_build(&self, options: &BuildOptions) -> Result<BuildOutput, CliError> {
        Ok(self.0.full_build(today()?, options))
    }
}

impl SourceFiles for Workspace {
    fn file(&self, id: SourceId) -> (&str, &str) {
        self.0.file(id)
    }

    fn count(&self) -> usize {
        self.0.count()
    }
}

/// Loads the project at `root`. What guardrails.toml gets wrong comes back as diagnostics
/// (with the workspace holding what could be read), IO problems as errors.
pub fn load(root: &Path) -> Result<(Workspace, Vec<Diagnostic>), CliError> {
    if !root.is_dir() {
        return Err(CliError::User(format!(
            "`{}` is not a directory\nhelp: pass the project directory, the one holding guardrails.toml or .guard files",
            root.display()
        )));
    }
    let project = loader::load(&DiskFiles::new(root), library::EMBEDDED).map_err(CliError::User)?;
    let diagnostics = project.diagnostics();
    Ok((Workspace(project), diagnostics))
}

/// The projects a command given `dir` works on: `dir` itself when it is a project (it has
/// guardrails.toml or .guard files of its own), else every folder below it that has a
/// guardrails.toml (so `library/` means each library set), sorted.
pub fn projects_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let own_guard = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "guard"))
        })
        .unwrap_or(false);
    if dir.join(CONFIG_FILE).is_file() || own_guard {
        return vec![dir.to_path_buf()];
    }
    let mut projects: Vec<std::path::PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.file_name() == CONFIG_FILE)
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .collect();
    projects.sort();
    if projects.is_empty() {
        projects.push(dir.to_path_buf());
    }
    projects
}

/// Today's date in UTC, or `GUARDRAILC_TODAY` (YYYY-MM-DD) when set, so tests and
/// reproducible builds can fix the clock.
pub fn today() -> Result<(u16, u8, u8), CliError> {
    if let Ok(text) = std::env::var("GUARDRAILC_TODAY") {
        return guardrailc_compiler::syntax::parser::parse_date(&text).ok_or_else(|| {
            CliError::User(format!(
                "GUARDRAILC_TODAY=`{text}` is not a YYYY-MM-DD date"
            ))
        });
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| CliError::Internal(format!("the system clock is before 1970: {e}")))?
        .as_secs();
    Ok(civil_from_days((seconds / 86_400) as i64))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u16, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
