//! The one project loader of the command line and the language server: guardrails.toml,
//! which `.guard` files are the project's sources and in which order, the `@library` sets
//! it names, and the schema with its custom resources.
//!
//! Every read goes through [`ProjectFiles`], so the loader decides and the caller only
//! supplies bytes: the command line reads the disk with [`DiskFiles`] (through [`crate::files`],
//! bounded and inside the project), the language server answers from its documents, the
//! editor's unsaved buffers over the files read from disk. The library sets embedded in the
//! binary come in as a [`Library`].
//!
//! Loading never fails on what the project's files say: a guardrails.toml that does not
//! parse, a bad or unmatched pattern, an unknown library set or an unreadable custom
//! resource schema is a diagnostic on guardrails.toml (and the rest loads with the
//! defaults). Only the file system failing (a source that cannot be read, a folder that
//! cannot be listed) is an error.

use crate::files::{
    read_in_project, read_regular, MAX_CONFIG_BYTES, MAX_SCHEMA_BYTES, MAX_SOURCE_BYTES,
};
use guardrailc_compiler::config::{self, Config, LIBRARY_PREFIX};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, BuildOutput, SourceFile};
use guardrailc_compiler::render::SourceFiles;
use guardrailc_compiler::schema::{crd_definitions, Schema};
use guardrailc_compiler::{Code, Diagnostic, SourceId, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The project file, at the top of the project folder.
pub const CONFIG_FILE: &str = "guardrails.toml";

/// The source id the loader gives guardrails.toml until the number of sources is known;
/// [`Project::diagnostics`] moves them to [`Project::config_source`].
const CONFIG_SOURCE: SourceId = SourceId(u32::MAX);

/// Folders never searched for sources, at any depth: hidden ones (`.git`), Rust's and
/// Node's build folders.
const SKIPPED_FOLDERS: [&str; 2] = ["target", "node_modules"];

/// The output folder a project has when guardrails.toml does not say: skipped at the top of
/// the project even when guardrails.toml names another one, since a project that changed its
/// `out` may still hold the old output.
const DEFAULT_OUT: &str = "out";

/// What a file is read as: each kind has its size limit (docs/security.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A `.guard` source.
    Source,
    /// guardrails.toml.
    Config,
    /// A custom resource schema that guardrails.toml names.
    Schema,
}

/// How the loader reads a project. Paths are relative to the project folder and
/// `/`-separated.
pub trait ProjectFiles {
    /// Every file under the project folder, in any order. Folders for which `skip` (given
    /// the folder's path) is true need not be entered; links to folders are not followed.
    fn files(&self, skip: &dyn Fn(&str) -> bool) -> Result<Vec<String>, String>;

    /// The text of the file at `path`, `None` when there is none. An error says why an
    /// existing file cannot be read (not a regular file, too large, outside the project).
    fn read(&self, path: &str, kind: FileKind) -> Result<Option<String>, String>;
}

/// The project folder on disk, read through [`crate::files`]: regular files only, bounded
/// by kind, and sources and schemas only inside the folder once links are resolved.
pub struct DiskFiles {
    root: PathBuf,
}

impl DiskFiles {
    pub fn new(root: &Path) -> DiskFiles {
        DiskFiles {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl ProjectFiles for DiskFiles {
    fn files(&self, skip: &dyn Fn(&str) -> bool) -> Result<Vec<String>, String> {
        let mut found = Vec::new();
        let mut pending = vec![String::new()];
        while let Some(dir) = pending.pop() {
            let path = self.root.join(&dir);
            let entries = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
            for entry in entries {
                let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let relative = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                // Not followed: a link to a folder is listed as a file, which reading refuses.
                let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
                if !is_dir {
                    found.push(relative);
                } else if !skip(&relative) {
                    pending.push(relative);
                }
            }
        }
        Ok(found)
    }

    fn read(&self, path: &str, kind: FileKind) -> Result<Option<String>, String> {
        let full = self.root.join(path);
        if std::fs::symlink_metadata(&full).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            return Ok(None);
        }
        match kind {
            FileKind::Config => read_regular(&full, path, MAX_CONFIG_BYTES, CONFIG_FILE),
            FileKind::Source => {
                read_in_project(&self.root, &full, path, MAX_SOURCE_BYTES, ".guard files")
            }
            FileKind::Schema => read_in_project(
                &self.root,
                &full,
                path,
                MAX_SCHEMA_BYTES,
                "CRD schema files",
            ),
        }
        .map(Some)
    }
}

/// The standard library's files (`library/`, embedded in the binary by build.rs): paths
/// relative to `library/` with their text. Empty by default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Library {
    files: &'static [(&'static str, &'static str)],
}

impl Library {
    pub const fn new(files: &'static [(&'static str, &'static str)]) -> Library {
        Library { files }
    }

    /// The files of one set (or of every set under a folder), with paths relative to it.
    pub fn files_of(&self, set: &str) -> Vec<(&'static str, &'static str)> {
        let set = set.trim_matches('/');
        let prefix = format!("{set}/");
        self.files
            .iter()
            .filter_map(|(path, text)| path.strip_prefix(&prefix).map(|rest| (rest, *text)))
            .collect()
    }

    /// The sets: folders holding a guardrails.toml, sorted.
    pub fn sets(&self) -> Vec<&'static str> {
        let mut sets: Vec<&str> = self
            .files
            .iter()
            .filter_map(|(path, _)| path.strip_suffix("/guardrails.toml"))
            .collect();
        sets.sort();
        sets
    }
}

/// Whether the folder at `path` (relative to the project folder) is never searched for
/// sources: a hidden folder, `target` or `node_modules` anywhere; `out` or the output folder
/// guardrails.toml names (`out = "..."`) at the top.
pub fn is_skipped_folder(path: &str, config: &Config) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with('.')
        || SKIPPED_FOLDERS.contains(&name)
        || path == DEFAULT_OUT
        || normal_path(&config.out).is_some_and(|out| out == path)
}

/// Whether the file at `path` lies in a folder [`is_skipped_folder`] skips.
fn in_skipped_folder(path: &str, config: &Config) -> bool {
    path.match_indices('/')
        .any(|(end, _)| is_skipped_folder(&path[..end], config))
}

/// `path` as [`ProjectFiles`] writes paths (`./gen//out/` is `gen/out`); `None` when it
/// is not inside the project folder.
fn normal_path(path: &str) -> Option<String> {
    if path.starts_with(['/', '\\']) || path.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    (!parts.contains(&"..") && !parts.is_empty()).then(|| parts.join("/"))
}

/// guardrails.toml as loaded: the configuration (the defaults when it has errors), the
/// schema with its custom resources, and the library sets it names. The part of a project
/// that changes only when guardrails.toml or a schema file does; the language server keeps
/// it between edits.
#[derive(Clone)]
pub struct ProjectConfig {
    pub config: Config,
    /// guardrails.toml's text; `None` when the project has none.
    pub text: Option<String>,
    /// The built-in kinds plus the custom resources guardrails.toml declares.
    pub schema: Arc<Schema>,
    /// The `.guard` files of the library sets `sources` names, in the order named.
    library_sources: Vec<SourceFile>,
    /// What is wrong with guardrails.toml, at [`CONFIG_SOURCE`].
    diagnostics: Vec<Diagnostic>,
}

/// Reads guardrails.toml and what it names (custom resource schemas, library sets). Its
/// problems are diagnostics; an error only when guardrails.toml exists but cannot be read.
pub fn load_config(files: &dyn ProjectFiles, library: Library) -> Result<ProjectConfig, String> {
    let text = files.read(CONFIG_FILE, FileKind::Config)?;
    let source = text.as_deref().unwrap_or("");
    let mut diagnostics = Vec::new();
    let mut config = config::parse(CONFIG_SOURCE, source).unwrap_or_else(|errors| {
        diagnostics.extend(errors);
        Config::default()
    });
    if let Err(message) = config.local_sources() {
        let at = config_span(source, &message, config.sources.iter().map(String::as_str));
        diagnostics.push(Diagnostic::new(Code::InvalidConfig, at, message));
        // As for a guardrails.toml that does not parse: the default patterns, so that the
        // files keep their diagnostics in the editor while the pattern is being fixed.
        let library_sets: Vec<String> = config
            .sources
            .iter()
            .filter(|p| p.starts_with(LIBRARY_PREFIX))
            .cloned()
            .collect();
        config.sources = Config::default().sources;
        config.sources.extend(library_sets);
        config.source_spans.clear();
    }
    let mut library_sources = Vec::new();
    for set in config.library_sets() {
        let written = format!("{LIBRARY_PREFIX}{set}");
        let guard_files: Vec<(&str, &str)> = library
            .files_of(set)
            .into_iter()
            .filter(|(path, _)| path.ends_with(".guard"))
            .collect();
        if guard_files.is_empty() {
            let message = format!("`{written}` names no library set");
            let at = config_span(source, &message, [written.as_str()]);
            let help = match library.sets().as_slice() {
                [] => "this build of guardrailc embeds no library sets".to_string(),
                sets => format!("library sets are {}", sets.join(", ")),
            };
            diagnostics.push(Diagnostic::new(Code::InvalidConfig, at, message).with_help(help));
        }
        for (path, text) in guard_files {
            library_sources.push(SourceFile {
                name: format!("{written}/{path}"),
                text: text.to_string(),
            });
        }
    }
    let read_schema = |path: &str| match files.read(path, FileKind::Schema)? {
        Some(text) => Ok(text),
        None => Err(format!("cannot read `{path}`: no such file")),
    };
    let with_crds = crd_definitions(&config.crds, &read_schema).and_then(|crds| {
        Schema::builtin()
            .with_crds(&crds)
            .map_err(|e| e.to_string())
    });
    let schema = match with_crds {
        Ok(schema) => schema,
        Err(message) => {
            // At the schema path (or the kind) of the custom resource at fault.
            let written = config
                .crds
                .iter()
                .flat_map(|crd| crd.schema.iter().chain([&crd.kind]))
                .map(String::as_str);
            let at = config_span(source, &message, written);
            diagnostics.push(Diagnostic::new(Code::InvalidConfig, at, message));
            Schema::builtin().clone()
        }
    };
    Ok(ProjectConfig {
        config,
        text,
        schema: Arc::new(schema),
        library_sources,
        diagnostics,
    })
}

/// Where guardrails.toml's `text` writes, as a quoted string, the first of `written` that
/// `message` names; the start of the file when none is found.
fn config_span<'w>(text: &str, message: &str, written: impl IntoIterator<Item = &'w str>) -> Span {
    written
        .into_iter()
        .filter(|written| message.contains(written))
        .find_map(|written| {
            let start = text.find(&format!("\"{written}\""))?;
            Some(Span::new(CONFIG_SOURCE, start, start + written.len() + 2))
        })
        .unwrap_or(Span::new(CONFIG_SOURCE, 0, 0))
}

impl ProjectConfig {
    /// The `.guard` files under the project folder that may be sources: outside the skipped
    /// folders ([`is_skipped_folder`]), sorted by path.
    pub fn guard_files(&self, files: &dyn ProjectFiles) -> Result<Vec<String>, String> {
        let skip = |folder: &str| is_skipped_folder(folder, &self.config);
        let mut paths: Vec<String> = files
            .files(&skip)?
            .into_iter()
            .filter(|path| path.ends_with(".guard") && !in_skipped_folder(path, &self.config))
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// The project's sources: the library sets' files first (so that a clash between a
    /// library guardrail and one of the project's is reported on the project's file), then
    /// the project's own `.guard` files the `sources` patterns select, by path. A pattern
    /// that selects nothing is warned about (G0406).
    pub fn load_sources(&self, files: &dyn ProjectFiles) -> Result<Project, String> {
        let candidates = self.guard_files(files)?;
        let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let selection = self.config.select_sources(&names);
        let mut sources = self.library_sources.clone();
        let mut local = Vec::new();
        let mut selected = vec![false; candidates.len()];
        for index in selection.selected {
            selected[index] = true;
            let name = &candidates[index];
            let text = files
                .read(name, FileKind::Source)?
                .ok_or_else(|| format!("cannot read `{name}`: no such file"))?;
            local.push(name.clone());
            sources.push(SourceFile {
                name: name.clone(),
                text,
            });
        }
        let unselected = candidates
            .into_iter()
            .zip(selected)
            .filter_map(|(name, selected)| (!selected).then_some(name))
            .collect();
        let mut diagnostics = self.diagnostics.clone();
        diagnostics.extend(selection.unmatched);
        Ok(Project {
            config: self.config.clone(),
            config_text: self.text.clone(),
            schema: Arc::clone(&self.schema),
            sources,
            library_sources: self.library_sources.len(),
            local,
            unselected,
            diagnostics,
        })
    }
}

/// A project as `guardrailc build` and the language server compile it.
#[derive(Clone)]
pub struct Project {
    /// guardrails.toml's configuration; the defaults when it has errors.
    pub config: Config,
    /// guardrails.toml's text; `None` when the project has none.
    pub config_text: Option<String>,
    pub schema: Arc<Schema>,
    /// `sources[i]` has `SourceId(i)`: the library sets' files, then the project's own.
    /// A caller may add more after them (the language server: files opened from outside
    /// the project folder).
    pub sources: Vec<SourceFile>,
    /// How many of `sources` come from the library.
    pub library_sources: usize,
    /// The paths of the project's own sources, in source order (after the library's).
    pub local: Vec<String>,
    /// The `.guard` files of the project folder that the `sources` patterns leave out.
    pub unselected: Vec<String>,
    /// What is wrong with guardrails.toml, at [`CONFIG_SOURCE`].
    diagnostics: Vec<Diagnostic>,
}

/// Loads the project `files` holds: guardrails.toml, then its sources.
pub fn load(files: &dyn ProjectFiles, library: Library) -> Result<Project, String> {
    load_config(files, library)?.load_sources(files)
}

impl Project {
    /// guardrails.toml's source id in diagnostics: the one after the last source.
    pub fn config_source(&self) -> SourceId {
        SourceId(self.sources.len() as u32)
    }

    /// What loading found wrong with guardrails.toml (its errors, bad patterns, unknown
    /// sets, unreadable schemas, patterns that select nothing), at [`Project::config_source`].
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let at = self.config_source();
        let mut diagnostics = self.diagnostics.clone();
        for d in &mut diagnostics {
            if d.span.source == CONFIG_SOURCE {
                d.span.source = at;
            }
            for label in &mut d.labels {
                if label.span.source == CONFIG_SOURCE {
                    label.span.source = at;
                }
            }
        }
        diagnostics
    }

    /// Compiles the sources as they are (what follows loading when it found no error).
    pub fn compile(&self, today: (u16, u8, u8), options: &BuildOptions) -> BuildOutput {
        project::build(&BuildInput {
            sources: &self.sources,
            config: &self.config,
            config_source: self.config_source(),
            schema: &self.schema,
            today,
            options,
        })
    }

    /// What `guardrailc build` reports and emits, and what the language server shows: the
    /// loading's diagnostics; when they hold no error, the compilation's (or, without a
    /// single source, that there is nothing to build).
    pub fn full_build(&self, today: (u16, u8, u8), options: &BuildOptions) -> BuildOutput {
        let mut diagnostics = self.diagnostics();
        if has_errors(&diagnostics) {
            return BuildOutput {
                diagnostics,
                ..BuildOutput::default()
            };
        }
        if self.sources.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::NoSources,
                    Span::new(self.config_source(), 0, 0),
                    "no .guard files in the project folder",
                )
                .with_help("add a .guard file, or start from the library with `guardrailc init`"),
            );
            return BuildOutput {
                diagnostics,
                ..BuildOutput::default()
            };
        }
        let mut output = self.compile(today, options);
        diagnostics.append(&mut output.diagnostics);
        output.diagnostics = diagnostics;
        output
    }
}

impl SourceFiles for Project {
    fn file(&self, id: SourceId) -> (&str, &str) {
        match self.sources.get(id.0 as usize) {
            Some(source) => (&source.name, &source.text),
            None => (CONFIG_FILE, self.config_text.as_deref().unwrap_or("")),
        }
    }

    fn count(&self) -> usize {
        self.sources.len() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        config::parse(SourceId(0), text).expect("a valid guardrails.toml")
    }

    #[test]
    fn the_skipped_folders() {
        let custom = config("out = \"./build//dist/\"\n");
        for skipped in [
            ".git",
            "a/.cache",
            "target",
            "a/node_modules",
            "out",
            "build/dist",
        ] {
            assert!(is_skipped_folder(skipped, &custom), "{skipped}");
        }
        for kept in ["guardrails", "a/out", "build", "dist", "outer"] {
            assert!(!is_skipped_folder(kept, &custom), "{kept}");
        }
        // An output folder outside the project skips nothing inside it.
        assert!(!is_skipped_folder("x", &config("out = \"../x\"\n")));
        assert!(in_skipped_folder("build/dist/a.guard", &custom));
        assert!(!in_skipped_folder("build/a.guard", &custom));
    }

    const GUARD: &str = "guardrail g {\n  title \"t\"\n  match kinds [Pod]\n  deny when object.metadata.name == \"x\"\n    message \"m\"\n}\n";

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_library_comes_first_then_the_selected_files_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            CONFIG_FILE,
            "sources = [\"**/*.guard\", \"@library/set\"]\nout = \"gen\"\n",
        );
        for path in [
            "b.guard",
            "a/c.guard",
            "gen/x.guard",
            "out/y.guard",
            "node_modules/z.guard",
        ] {
            write(root, path, GUARD);
        }
        write(root, "notes.txt", "");
        const LIBRARY: Library = Library::new(&[
            ("set/guardrails.toml", ""),
            ("set/lib.guard", GUARD),
            ("set/README.md", ""),
        ]);
        let project = load(&DiskFiles::new(root), LIBRARY).unwrap();
        let names: Vec<&str> = project.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["@library/set/lib.guard", "a/c.guard", "b.guard"]);
        assert_eq!(project.local, ["a/c.guard", "b.guard"]);
        assert_eq!(project.library_sources, 1);
        assert!(project.diagnostics().is_empty());
    }

    #[test]
    fn what_guardrails_toml_gets_wrong_is_a_diagnostic_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let text = "sources = [\"[x.guard\", \"@library/nope\"]\n";
        write(root, CONFIG_FILE, text);
        write(root, "a.guard", GUARD);
        let project = load(&DiskFiles::new(root), Library::default()).unwrap();
        let diagnostics = project.diagnostics();
        let found: Vec<(&str, &str)> = diagnostics
            .iter()
            .map(|d| (d.message.as_str(), &text[d.span.range()]))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].0.starts_with("bad source pattern `[x.guard`"),
            "{found:?}"
        );
        assert_eq!(found[0].1, "\"[x.guard\"");
        assert_eq!(
            found[1],
            ("`@library/nope` names no library set", "\"@library/nope\"")
        );
        assert!(diagnostics
            .iter()
            .all(|d| d.span.source == project.config_source()));
        // The rest loads with the default patterns.
        assert_eq!(project.local, ["a.guard"]);
        let built = project.full_build((2026, 1, 1), &BuildOptions::default());
        assert_eq!(built.diagnostics.len(), 2, "the build stops at them");
    }

    #[cfg(unix)]
    #[test]
    fn a_source_linked_from_outside_the_project_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        write(&root, "a.guard", GUARD);
        write(dir.path(), "stray.guard", GUARD);
        std::os::unix::fs::symlink(dir.path().join("stray.guard"), root.join("b.guard")).unwrap();
        let error = load(&DiskFiles::new(&root), Library::default())
            .err()
            .expect("refused");
        assert!(
            error.contains("`b.guard` is outside the project folder"),
            "{error}"
        );
    }
}
