//! The files of one project as the editor sees them: `.guard` files read from disk under the
//! folder holding guardrails.toml, replaced by the editor's buffers while they are open;
//! guardrails.toml with the custom resources it declares; and the project's fixture files.

use crate::document::{Document, Position};
use guardrailc_compiler::config::{self, Config, LIBRARY_PREFIX};
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, BuildOutput, SourceFile};
use guardrailc_compiler::schema::{crd_definitions, Schema};
use guardrailc_compiler::{Code, Diagnostic, SourceId, Span};
use guardrailc_testkit::files::{inside_project, read_regular, MAX_FIXTURE_BYTES};
use guardrailc_testkit::fixtures::{is_fixture, TESTS_DIR};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_FILE: &str = "guardrails.toml";

/// The source id of guardrails.toml in the diagnostics about it (never a `.guard` file's).
const CONFIG_SOURCE: SourceId = SourceId(u32::MAX);

/// The files of the standard library's set `SET` (paths relative to it, texts), as the
/// binary embeds them; empty for an unknown set.
pub type LibraryFiles = fn(&str) -> Vec<(&'static str, &'static str)>;

fn no_library(_: &str) -> Vec<(&'static str, &'static str)> {
    Vec::new()
}

/// Cheap to clone (the schema is shared), so a long job such as a fixture run can take a
/// copy off the request path.
#[derive(Clone)]
pub struct Workspace {
    config: Config,
    /// guardrails.toml's name and text, when the project has one.
    config_file: Option<(String, Document)>,
    /// Why guardrails.toml could not be used as written: its parse errors, or a custom
    /// resource whose schema cannot be read. The project then builds with the defaults.
    config_diagnostics: Vec<Diagnostic>,
    /// The built-in kinds plus the custom resources guardrails.toml declares.
    schema: Arc<Schema>,
    /// `.guard` files by name (the editor's URI), in name order. Those that the `sources`
    /// patterns select are the project's sources, after the library's.
    files: BTreeMap<String, Document>,
    /// The project's own `.guard` files, by path relative to the project folder; `None`
    /// when `sources` names library sets only.
    local_sources: Option<globset::GlobSet>,
    /// The `.guard` files of the library sets `sources` names; the first source ids.
    library_sources: Vec<SourceFile>,
    library: LibraryFiles,
    /// Every other file the editor has open or the project tests with (fixture YAML files),
    /// by name.
    others: BTreeMap<String, Document>,
    today: (u16, u8, u8),
    /// Stripped from file names in compiled output, so headers name `guardrails/x.guard`
    /// as `guardrailc build` does, not the editor's URI.
    root_prefix: String,
}

impl Workspace {
    /// An empty workspace with the default configuration; `today` decides expired exemptions.
    pub fn new(today: (u16, u8, u8)) -> Workspace {
        Workspace {
            config: Config::default(),
            config_file: None,
            config_diagnostics: Vec::new(),
            schema: Arc::new(Schema::builtin().clone()),
            files: BTreeMap::new(),
            local_sources: Config::default().local_sources().unwrap_or_default(),
            library_sources: Vec::new(),
            library: no_library,
            others: BTreeMap::new(),
            today,
            root_prefix: String::new(),
        }
    }

    /// Where `@library/SET` sources come from (the binary's embedded copy); none by default.
    pub fn with_library(mut self, library: LibraryFiles) -> Workspace {
        self.library = library;
        self
    }

    /// Names the project folder: file names under it are shown relative to it.
    pub fn set_root_prefix(&mut self, prefix: &str) {
        self.root_prefix = prefix.to_string();
    }

    /// The folder the file names are relative to, as a URI prefix ending in `/`.
    pub fn root_prefix(&self) -> &str {
        &self.root_prefix
    }

    /// Takes `text` as guardrails.toml (named `name`) and reloads the configuration and the
    /// custom resources from it; see [`Workspace::reload_config`].
    pub fn set_config(
        &mut self,
        name: &str,
        text: String,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) {
        self.config_file = Some((name.to_string(), Document::new(text)));
        self.reload_config(read);
    }

    /// Parses guardrails.toml again and rebuilds the schema with its custom resources, whose
    /// schema files `read` returns (given the path written in guardrails.toml). A config
    /// with errors falls back to the defaults for the rest of the project; its errors are
    /// reported on guardrails.toml.
    pub fn reload_config(&mut self, read: &dyn Fn(&str) -> Result<String, String>) {
        self.config_diagnostics.clear();
        let text = self
            .config_file
            .as_ref()
            .map_or(String::new(), |(_, document)| document.text().to_string());
        let text = text.as_str();
        self.config = config::parse(CONFIG_SOURCE, text).unwrap_or_else(|errors| {
            self.config_diagnostics = errors;
            Config::default()
        });
        self.reload_sources(text);
        let with_crds = crd_definitions(&self.config.crds, read).and_then(|crds| {
            Schema::builtin()
                .with_crds(&crds)
                .map_err(|e| e.to_string())
        });
        self.schema = Arc::new(match with_crds {
            Ok(schema) => schema,
            Err(message) => {
                // Point at the schema path (or the kind) of the custom resource at fault.
                let at = config_span(
                    text,
                    &message,
                    self.config
                        .crds
                        .iter()
                        .flat_map(|crd| crd.schema.iter().chain([&crd.kind]))
                        .map(String::as_str),
                );
                self.config_diagnostics
                    .push(Diagnostic::new(Code::InvalidConfig, at, message));
                Schema::builtin().clone()
            }
        });
    }

    /// Reads the `sources` patterns of the configuration (guardrails.toml's `text`): the
    /// project's own files they select, and the library sets they name. A bad pattern or an
    /// unknown set is reported on guardrails.toml where it is written.
    fn reload_sources(&mut self, text: &str) {
        self.local_sources = match self.config.local_sources() {
            Ok(globs) => globs,
            Err(message) => {
                let at = config_span(
                    text,
                    &message,
                    self.config.sources.iter().map(String::as_str),
                );
                self.config_diagnostics
                    .push(Diagnostic::new(Code::InvalidConfig, at, message));
                // As for a guardrails.toml that does not parse: the defaults, so the files
                // keep their diagnostics while the pattern is being fixed.
                Config::default().local_sources().unwrap_or_default()
            }
        };
        self.library_sources.clear();
        for set in self.config.library_sets() {
            let files: Vec<(&str, &str)> = (self.library)(set)
                .into_iter()
                .filter(|(path, _)| is_guard_file(path))
                .collect();
            if files.is_empty() {
                let written = format!("{LIBRARY_PREFIX}{set}");
                let message = format!("`{written}` names no library set");
                let at = config_span(text, &message, [written.as_str()]);
                self.config_diagnostics
                    .push(Diagnostic::new(Code::InvalidConfig, at, message));
            }
            for (path, text) in files {
                self.library_sources.push(SourceFile {
                    name: format!("{LIBRARY_PREFIX}{set}/{path}"),
                    text: text.to_string(),
                });
            }
        }
    }

    /// The paths of the schema files guardrails.toml names, as written there: a change to
    /// one of them calls for [`Workspace::reload_config`].
    pub fn crd_schema_paths(&self) -> impl Iterator<Item = &str> {
        self.config
            .crds
            .iter()
            .filter_map(|crd| crd.schema.as_deref())
    }

    /// The name of guardrails.toml, when the project has one.
    pub fn config_name(&self) -> Option<&str> {
        self.config_file.as_ref().map(|(name, _)| name.as_str())
    }

    /// The kinds guardrails may match and the fields of their objects.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Adds or replaces a file: a `.guard` file joins the project's sources, any other file
    /// (a fixture) is kept for the features that read it.
    pub fn set_file(&mut self, name: &str, text: String) {
        let files = if is_guard_file(name) {
            &mut self.files
        } else {
            &mut self.others
        };
        files.insert(name.to_string(), Document::new(text));
    }

    /// Applies one change; false when the file is unknown. After an edit of guardrails.toml
    /// the caller calls [`Workspace::reload_config`].
    pub fn edit_file(
        &mut self,
        name: &str,
        range: Option<(Position, Position)>,
        text: &str,
    ) -> bool {
        let document = match &mut self.config_file {
            Some((config, document)) if config == name => Some(document),
            _ => None,
        };
        match document
            .or_else(|| self.files.get_mut(name))
            .or_else(|| self.others.get_mut(name))
        {
            Some(document) => {
                document.edit(range, text);
                true
            }
            None => false,
        }
    }

    pub fn remove_file(&mut self, name: &str) {
        self.files.remove(name);
        self.others.remove(name);
    }

    /// Any file of the workspace: a `.guard` file, guardrails.toml or a fixture.
    pub fn document(&self, name: &str) -> Option<&Document> {
        match &self.config_file {
            Some((config, document)) if config == name => Some(document),
            _ => self.files.get(name).or_else(|| self.others.get(name)),
        }
    }

    /// A `.guard` file of the project.
    pub fn guard_document(&self, name: &str) -> Option<&Document> {
        self.files.get(name)
    }

    /// The `.guard` files, in name order.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The `.guard` files that are sources of the project (see [`Workspace::selected`]), in
    /// name order: a guardrail declared elsewhere is not built.
    pub fn source_names(&self) -> impl Iterator<Item = &str> {
        self.selected().map(|(name, _)| name.as_str())
    }

    /// The files that are not `.guard` files nor guardrails.toml (fixtures), in name order.
    pub fn other_files(&self) -> impl Iterator<Item = (&str, &Document)> {
        self.others.iter().map(|(name, d)| (name.as_str(), d))
    }

    /// The `.guard` files that are the project's sources, in name order: those the
    /// `sources` patterns select by their path in the project folder, and any file outside
    /// it (the editor may open one on its own).
    fn selected(&self) -> impl Iterator<Item = (&String, &Document)> {
        self.files.iter().filter(|(name, _)| {
            match (self.relative_path(name), &self.local_sources) {
                _ if self.root_prefix.is_empty() => true,
                (None, _) => true,
                (Some(relative), Some(globs)) => globs.is_match(relative.as_ref()),
                (Some(_), None) => false,
            }
        })
    }

    /// The path of the file named by URI `name` relative to the project folder, decoded as
    /// `guardrailc build` sees it (`my rules/a.guard`, not `my%20rules/a.guard`); `None`
    /// outside the folder.
    fn relative_path<'n>(&self, name: &'n str) -> Option<std::borrow::Cow<'n, str>> {
        name.strip_prefix(&self.root_prefix)
            .map(|relative| percent_encoding::percent_decode_str(relative).decode_utf8_lossy())
    }

    /// What the compiler reads: the library sets' files, then the selected files, named
    /// relative to the project folder as `guardrailc build` names them. The library comes
    /// first so that a clash between the two (a duplicate id) is reported on the file the
    /// editor can show.
    fn sources(&self) -> Vec<SourceFile> {
        let selected = self.selected().map(|(name, document)| SourceFile {
            name: self
                .relative_path(name)
                .map_or_else(|| name.clone(), |relative| relative.into_owned()),
            text: document.text().to_string(),
        });
        self.library_sources
            .iter()
            .cloned()
            .chain(selected)
            .collect()
    }

    /// Every file's diagnostics from parsing and checking the whole project (so a duplicate
    /// guardrail id in another file shows), and guardrails.toml's, with every `.guard` file
    /// and guardrails.toml present, even without any.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<Diagnostic>> {
        let sources = self.sources();
        let (_, diagnostics) = project::check_sources(&sources, &self.schema, self.today);
        let mut by_file: BTreeMap<String, Vec<Diagnostic>> = self
            .files
            .keys()
            .map(|name| (name.clone(), Vec::new()))
            .collect();
        if let Some(name) = self.config_name() {
            let mut config_diagnostics = self.config_diagnostics.clone();
            config_diagnostics.extend(self.unmatched_patterns());
            by_file.insert(name.to_string(), config_diagnostics);
        }
        for diagnostic in diagnostics {
            if let Some(name) = self.file_of(diagnostic.span.source) {
                if let Some(list) = by_file.get_mut(name) {
                    list.push(diagnostic);
                }
            }
        }
        // A file in the project folder that the `sources` patterns leave out is neither
        // built nor checked: said on its first line, so that it is not silently ignored.
        for (name, relative) in self.unselected() {
            let mut note = Diagnostic::new(
                Code::NotASource,
                Span::new(SourceId(0), 0, 0),
                format!(
                    "`{relative}` is not among the sources guardrails.toml selects, so it is not built or checked"
                ),
            );
            note.help = Some(if self.config.sources.is_empty() {
                "add a `sources` pattern that matches it to guardrails.toml".to_string()
            } else {
                format!(
                    "the patterns are {}: add one that matches it",
                    self.config
                        .sources
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            if let Some(list) = by_file.get_mut(name) {
                list.push(note);
            }
        }
        by_file
    }

    /// A warning (G0406) on each `sources` pattern of guardrails.toml that selects none of
    /// the project folder's `.guard` files, as `guardrailc build` warns: the selection is
    /// [`Config::select_sources`] for both.
    fn unmatched_patterns(&self) -> Vec<Diagnostic> {
        if self.root_prefix.is_empty() {
            return Vec::new();
        }
        let relative: Vec<std::borrow::Cow<str>> = self
            .files
            .keys()
            .filter_map(|name| self.relative_path(name))
            .collect();
        let paths: Vec<&str> = relative.iter().map(AsRef::as_ref).collect();
        self.config.select_sources(&paths).unmatched
    }

    /// The `.guard` files in the project folder that the `sources` patterns do not select,
    /// with their paths in the folder.
    fn unselected(&self) -> Vec<(&str, String)> {
        if self.root_prefix.is_empty() {
            return Vec::new();
        }
        let Some(globs) = &self.local_sources else {
            return Vec::new();
        };
        self.files
            .keys()
            .filter_map(|name| {
                let relative = self.relative_path(name)?;
                (!globs.is_match(relative.as_ref())).then(|| (name.as_str(), relative.into_owned()))
            })
            .collect()
    }

    /// Builds the whole project from the buffers, as `guardrailc build` would.
    pub fn build(&self) -> BuildOutput {
        let sources = self.sources();
        project::build(&BuildInput {
            sources: &sources,
            config: &self.config,
            config_source: SourceId(sources.len() as u32),
            schema: &self.schema,
            today: self.today,
            options: &BuildOptions::default(),
        })
    }

    /// The name of the file a diagnostic of [`Workspace::diagnostics`] or
    /// [`Workspace::build`] points into.
    /// `None` for a library file: the editor has no document for it.
    pub fn file_of(&self, source: SourceId) -> Option<&str> {
        let index = (source.0 as usize).checked_sub(self.library_sources.len())?;
        self.selected().nth(index).map(|(name, _)| name.as_str())
    }
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

fn is_guard_file(name: &str) -> bool {
    name.ends_with(".guard")
}

/// The `.guard` files under `root`, skipping hidden folders, `target`, `node_modules` and the
/// build output `out`. As in `guardrailc build`, symbolic links to folders are not followed
/// and a link to a file counts only when the file is a regular one inside `root` (the
/// build reports the others as errors).
pub fn guard_files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skipped = name.starts_with('.')
                    || matches!(name.as_str(), "target" | "node_modules" | "out");
                if !skipped {
                    pending.push(path);
                }
            } else if name.ends_with(".guard") && readable_inside(root, &path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Whether `path` is a regular file inside `root` once symbolic links are resolved.
fn readable_inside(root: &Path, path: &Path) -> bool {
    inside_project(root, path, "").is_ok_and(|resolved| resolved.is_file())
}

/// The fixture files under `<root>/tests/` (YAML files with a top-level `guardrail:` key)
/// with their text, as `guardrailc test` finds them.
pub fn fixture_files_under(root: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root.join(TESTS_DIR)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(path);
            } else if is_yaml(&path) && readable_inside(root, &path) {
                // Regular files only (a FIFO would block) and of a bounded size.
                if let Ok(text) = read_regular(&path, "", MAX_FIXTURE_BYTES, "fixture files") {
                    if is_fixture(&text) {
                        found.push((path, text));
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// Whether `path` is where `guardrailc test` of the project at `root` looks for fixtures:
/// a YAML file under `<root>/tests/`.
pub fn in_tests_folder(root: &Path, path: &Path) -> bool {
    path.starts_with(root.join(TESTS_DIR)) && is_yaml(path)
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// The nearest folder at or above `start` holding guardrails.toml.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}
