//! Reading a project from disk: guardrails.toml, the sources it names, CRD schemas.

use crate::cli::{library, CliError};
use guardrailc_compiler::config::{self, Config, LIBRARY_PREFIX};
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, BuildOutput, SourceFile};
use guardrailc_compiler::render::SourceFiles;
use guardrailc_compiler::schema::{crd_definitions, Schema};
use guardrailc_compiler::{Diagnostic, SourceId};
use guardrailc_testkit::files::{
    read_in_project, read_regular, MAX_CONFIG_BYTES, MAX_SCHEMA_BYTES, MAX_SOURCE_BYTES,
};
use std::path::Path;

pub const CONFIG_FILE: &str = "guardrails.toml";

/// A project read from disk.
pub struct Workspace {
    pub sources: Vec<SourceFile>,
    pub config: Config,
    /// The text of guardrails.toml ("" when absent), at `SourceId(sources.len())`.
    pub config_text: String,
    pub schema: Schema,
}

impl Workspace {
    pub fn config_source(&self) -> SourceId {
        SourceId(self.sources.len() as u32)
    }

    /// Compiles the project as of today (or `GUARDRAILC_TODAY`).
    pub fn build(&self, options: &BuildOptions) -> Result<BuildOutput, CliError> {
        Ok(project::build(&BuildInput {
            sources: &self.sources,
            config: &self.config,
            config_source: self.config_source(),
            schema: &self.schema,
            today: today()?,
            options,
        }))
    }
}

impl SourceFiles for Workspace {
    fn file(&self, id: SourceId) -> (&str, &str) {
        match self.sources.get(id.0 as usize) {
            Some(source) => (&source.name, &source.text),
            None => (CONFIG_FILE, &self.config_text),
        }
    }

    fn count(&self) -> usize {
        self.sources.len() + 1
    }
}

/// Loads the project at `root`. Config errors come back as diagnostics (with the workspace
/// holding what could be read), IO problems as errors.
pub fn load(root: &Path) -> Result<(Workspace, Vec<Diagnostic>), CliError> {
    if !root.is_dir() {
        return Err(CliError::User(format!(
            "`{}` is not a directory\nhelp: pass the project directory, the one holding guardrails.toml or .guard files",
            root.display()
        )));
    }
    let config_path = root.join(CONFIG_FILE);
    let config_text = if config_path.exists() {
        read(&config_path, MAX_CONFIG_BYTES, "guardrails.toml")?
    } else {
        String::new()
    };
    let mut diagnostics = Vec::new();
    let config = config::parse(SourceId(u32::MAX), &config_text).unwrap_or_else(|errors| {
        diagnostics.extend(errors);
        Config::default()
    });
    let sources = read_sources(root, &config, &mut diagnostics)?;
    // The config's diagnostics were made before its source id was known.
    let config_source = SourceId(sources.len() as u32);
    for d in &mut diagnostics {
        d.span.source = config_source;
    }
    let read_schema = |path: &str| {
        read_in_project(
            root,
            &root.join(path),
            path,
            MAX_SCHEMA_BYTES,
            "CRD schema files",
        )
    };
    let crds = crd_definitions(&config.crds, &read_schema).map_err(CliError::User)?;
    let schema = Schema::builtin()
        .with_crds(&crds)
        .map_err(|e| CliError::User(format!("{CONFIG_FILE}: {e}")))?;
    Ok((
        Workspace {
            sources,
            config,
            config_text,
            schema,
        },
        diagnostics,
    ))
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

/// The text of the regular file at `path`, at most `limit` bytes (`what` names the kind of
/// file in the size error).
fn read(path: &Path, limit: u64, what: &str) -> Result<String, CliError> {
    read_regular(path, &path.display().to_string(), limit, what).map_err(CliError::User)
}

/// The `.guard` files matching the config's source patterns, sorted by path, skipping the
/// output directory and hidden directories; then the library sets named `@library/SET`,
/// from the copy embedded in the binary. A pattern that matches nothing adds a warning to
/// `diagnostics`.
fn read_sources(
    root: &Path,
    config: &Config,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<SourceFile>, CliError> {
    let globs = config
        .local_sources()
        .map_err(|e| CliError::User(format!("{CONFIG_FILE}: {e}")))?;
    let mut sources = match globs {
        Some(_) => read_local_sources(root, config, diagnostics)?,
        None => Vec::new(),
    };
    for set in config.library_sets() {
        let entry = format!("{LIBRARY_PREFIX}{set}");
        let files: Vec<(&str, &str)> = library::files_of(set)
            .into_iter()
            .filter(|(path, _)| path.ends_with(".guard"))
            .collect();
        if files.is_empty() {
            let sets = library::sets().join(", ");
            return Err(CliError::User(format!(
                "{CONFIG_FILE}: `{entry}` names no library set\nhelp: library sets are {sets}"
            )));
        }
        for (path, text) in files {
            sources.push(SourceFile {
                name: format!("{entry}/{path}"),
                text: text.to_string(),
            });
        }
    }
    Ok(sources)
}

/// The project's own sources: the `.guard` files under `root` that the patterns select
/// ([`Config::select_sources`]). A symbolic link to a file is followed when the file is
/// inside the project, and is an error otherwise, as is a source that is not a regular file
/// or is larger than [`MAX_SOURCE_BYTES`]. Links to folders are not followed: the walk
/// would leave the project or loop.
fn read_local_sources(
    root: &Path,
    config: &Config,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<SourceFile>, CliError> {
    let out_dir = root.join(&config.out);
    let mut paths = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            !hidden && entry.path() != out_dir && entry.file_name() != "target"
        });
    for entry in walker {
        let entry =
            entry.map_err(|e| CliError::User(format!("cannot list `{}`: {e}", root.display())))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let name = relative.to_string_lossy().replace('\\', "/");
        paths.push((name, entry.path().to_path_buf()));
    }
    paths.sort();
    let names: Vec<&str> = paths.iter().map(|(name, _)| name.as_str()).collect();
    let selection = config.select_sources(&names);
    diagnostics.extend(selection.unmatched);
    selection
        .selected
        .into_iter()
        .map(|index| {
            let (name, path) = &paths[index];
            Ok(SourceFile {
                name: name.clone(),
                text: read_in_project(root, path, name, MAX_SOURCE_BYTES, ".guard files")
                    .map_err(CliError::User)?,
            })
        })
        .collect()
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
