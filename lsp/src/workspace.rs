//! The files of one project as the editor sees them, and the project they make: `.guard`
//! files, guardrails.toml and fixture files by name (the editor's URI), the editor's
//! buffers replacing the copies read from disk while they are open. The project is loaded
//! from them by the loader `guardrailc build` uses ([`guardrailc_testkit::loader`]), through
//! [`Documents`], its [`ProjectFiles`] over these files; this module holds no disk IO
//! (`project_io.rs` reads the disk).

use crate::document::{Document, Position};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::project::{self, BuildOptions, BuildOutput, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::{Code, Diagnostic, SourceId, Span};
use guardrailc_testkit::loader::{
    self, FileKind, Library, Project, ProjectConfig, ProjectFiles, CONFIG_FILE,
};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Cheap to clone (the schema is shared), so a long job such as a fixture run or a build
/// can take a copy off the request path.
#[derive(Clone)]
pub struct Workspace {
    /// guardrails.toml's name and text, when the project has one.
    config_file: Option<(String, Document)>,
    /// guardrails.toml as loaded (with the schema of its custom resources and the library
    /// sets it names); reloaded when it or a schema file changes, not on every edit.
    loaded: ProjectConfig,
    /// `.guard` files by name (the editor's URI), in name order.
    files: BTreeMap<String, Document>,
    library: Library,
    /// Every other file the editor has open or the project tests with (fixture YAML files),
    /// by name.
    others: BTreeMap<String, Document>,
    today: (u16, u8, u8),
    /// The project folder as a URI prefix ending in `/`: files under it are named relative
    /// to it in the project, as `guardrailc build` names them.
    root_prefix: String,
}

/// The project as the loader read it from a [`Workspace`], with the file name (URI) of each
/// source: `None` for the library sets' files, which the editor has no document for.
struct Loaded {
    project: Project,
    names: Vec<Option<String>>,
}

impl Workspace {
    /// An empty workspace with the default configuration; `today` decides expired exemptions.
    pub fn new(today: (u16, u8, u8)) -> Workspace {
        Workspace {
            config_file: None,
            loaded: loader::load_config(&NoFiles, Library::default())
                .expect("no guardrails.toml: nothing to read"),
            files: BTreeMap::new(),
            library: Library::default(),
            others: BTreeMap::new(),
            today,
            root_prefix: String::new(),
        }
    }

    /// Where `@library/SET` sources come from (the binary's embedded copy); none by default.
    pub fn with_library(mut self, library: Library) -> Workspace {
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

    /// Loads guardrails.toml again, with the custom resources whose schema files `read`
    /// returns (given the path written in guardrails.toml). A config with errors falls back
    /// to the defaults for the rest of the project; its errors are reported on it.
    pub fn reload_config(&mut self, read: &dyn Fn(&str) -> Result<String, String>) {
        let documents = Documents::new(self, Some(read));
        // Reading from the buffers cannot fail; schema files that cannot be read are
        // diagnostics.
        if let Ok(loaded) = loader::load_config(&documents, self.library) {
            self.loaded = loaded;
        }
    }

    /// The paths of the schema files guardrails.toml names, as written there: a change to
    /// one of them calls for [`Workspace::reload_config`].
    pub fn crd_schema_paths(&self) -> impl Iterator<Item = &str> {
        self.loaded
            .config
            .crds
            .iter()
            .filter_map(|crd| crd.schema.as_deref())
    }

    /// guardrails.toml as loaded: the configuration, which folders hold sources.
    pub fn project_config(&self) -> &ProjectConfig {
        &self.loaded
    }

    /// The name of guardrails.toml, when the project has one.
    pub fn config_name(&self) -> Option<&str> {
        self.config_file.as_ref().map(|(name, _)| name.as_str())
    }

    /// The kinds guardrails may match and the fields of their objects.
    pub fn schema(&self) -> &Schema {
        &self.loaded.schema
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

    /// The `.guard` files that are sources of the project, in source order: those the loader
    /// selects in the project folder, then any file outside it (the editor may open one on
    /// its own). A guardrail declared elsewhere is not built.
    pub fn source_names(&self) -> Vec<String> {
        self.load().names.into_iter().flatten().collect()
    }

    /// The files that are not `.guard` files nor guardrails.toml (fixtures), in name order.
    pub fn other_files(&self) -> impl Iterator<Item = (&str, &Document)> {
        self.others.iter().map(|(name, d)| (name.as_str(), d))
    }

    /// The path of the file named by URI `name` relative to the project folder, decoded as
    /// `guardrailc build` sees it (`my rules/a.guard`, not `my%20rules/a.guard`); `None`
    /// outside the folder.
    fn relative_path<'n>(&self, name: &'n str) -> Option<Cow<'n, str>> {
        if self.root_prefix.is_empty() {
            return None;
        }
        name.strip_prefix(&self.root_prefix)
            .map(|relative| percent_encoding::percent_decode_str(relative).decode_utf8_lossy())
    }

    /// The project the loader makes of these files: the sources `guardrailc build` would
    /// read, then the `.guard` files open from outside the project folder.
    fn load(&self) -> Loaded {
        let documents = Documents::new(self, None);
        let mut project = match self.loaded.load_sources(&documents) {
            Ok(project) => project,
            // Unreachable: every file the documents list can be read from them.
            Err(_) => self
                .loaded
                .load_sources(&NoFiles)
                .expect("no files: nothing to read"),
        };
        let mut names: Vec<Option<String>> = vec![None; project.library_sources];
        names.extend(project.local.iter().map(|path| {
            documents
                .names
                .get(path.as_str())
                .map(|name| name.to_string())
        }));
        for (name, document) in &self.files {
            if self.relative_path(name).is_none() {
                project.sources.push(SourceFile {
                    name: name.clone(),
                    text: document.text().to_string(),
                });
                names.push(Some(name.clone()));
            }
        }
        Loaded { project, names }
    }

    /// Every file's diagnostics, as `guardrailc build` reports them for the whole project
    /// (so a duplicate guardrail id in another file, a missing param value for an
    /// environment or a cost over the limit shows), on the file each points into; with
    /// every `.guard` file and guardrails.toml present, even without any. While
    /// guardrails.toml has errors, the build does not run: the files are checked with the
    /// defaults instead, so they keep their diagnostics while guardrails.toml is fixed.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<Diagnostic>> {
        let Loaded { project, names } = self.load();
        let mut diagnostics = project.diagnostics();
        if has_errors(&diagnostics) {
            diagnostics
                .extend(project::check_sources(&project.sources, &project.schema, self.today).1);
        } else {
            diagnostics = project
                .full_build(self.today, &BuildOptions::default())
                .diagnostics;
        }
        let mut by_file: BTreeMap<String, Vec<Diagnostic>> = self
            .files
            .keys()
            .map(|name| (name.clone(), Vec::new()))
            .collect();
        if let Some(name) = self.config_name() {
            by_file.insert(name.to_string(), Vec::new());
        }
        let config_source = project.config_source();
        for mut diagnostic in diagnostics {
            let source = diagnostic.span.source.0 as usize;
            let name = match names.get(source) {
                Some(Some(name)) => Some(name.as_str()),
                // In a library set's file: shown where guardrails.toml names the set.
                Some(None) => {
                    let file = &project.sources[source].name;
                    diagnostic.message = format!("{file}: {}", diagnostic.message);
                    diagnostic.span = self.library_entry_span(file, config_source);
                    diagnostic.edit = None;
                    self.config_name()
                }
                None => self.config_name(),
            };
            if let Some(list) = name.and_then(|name| by_file.get_mut(name)) {
                list.push(diagnostic);
            }
        }
        // A file in the project folder that the `sources` patterns leave out is neither
        // built nor checked: said on its first line, so that it is not silently ignored.
        let config = &self.loaded.config;
        for relative in &project.unselected {
            let Some(name) = self.files.keys().find(|name| {
                self.relative_path(name)
                    .is_some_and(|path| path == relative.as_str())
            }) else {
                continue;
            };
            let mut note = Diagnostic::new(
                Code::NotASource,
                Span::new(SourceId(0), 0, 0),
                format!(
                    "`{relative}` is not among the sources guardrails.toml selects, so it is not built or checked"
                ),
            );
            note.help = Some(if config.sources.is_empty() {
                "add a `sources` pattern that matches it to guardrails.toml".to_string()
            } else {
                format!(
                    "the patterns are {}: add one that matches it",
                    config
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

    /// Where guardrails.toml names the library set of the library file `file`
    /// (`@library/SET/x.guard`); its start when it cannot be found.
    fn library_entry_span(&self, file: &str, config_source: SourceId) -> Span {
        let text = self
            .config_file
            .as_ref()
            .map_or("", |(_, document)| document.text());
        self.loaded
            .config
            .library_sets()
            .map(|set| format!("{}{set}", guardrailc_compiler::config::LIBRARY_PREFIX))
            .filter(|entry| file.starts_with(&format!("{entry}/")))
            .find_map(|entry| {
                let start = text.find(&format!("\"{entry}\""))?;
                Some(Span::new(config_source, start, start + entry.len() + 2))
            })
            .unwrap_or(Span::new(config_source, 0, 0))
    }

    /// Builds the whole project from the buffers, as `guardrailc build` would (no artifacts
    /// when it has errors).
    pub fn build(&self) -> BuildOutput {
        self.load()
            .project
            .full_build(self.today, &BuildOptions::default())
    }

    /// The name of the file a diagnostic of [`Workspace::diagnostics`] points into:
    /// guardrails.toml past the sources. `None` for a library file: the editor has no
    /// document for it.
    pub fn file_of(&self, source: SourceId) -> Option<String> {
        self.source_files().get(source).map(str::to_string)
    }

    /// The files of every source id of the project, for [`FileNames::get`]: one loading for
    /// all the diagnostics of a run.
    pub fn source_files(&self) -> FileNames {
        FileNames {
            sources: self.load().names,
            config: self.config_name().map(str::to_string),
        }
    }
}

/// The file (URI) of each source id of a project; see [`Workspace::source_files`].
pub struct FileNames {
    sources: Vec<Option<String>>,
    config: Option<String>,
}

impl FileNames {
    /// The file `source` is, guardrails.toml past the sources; `None` for a library file.
    pub fn get(&self, source: SourceId) -> Option<&str> {
        match self.sources.get(source.0 as usize) {
            Some(name) => name.as_deref(),
            None => self.config.as_deref(),
        }
    }
}

/// Reads a custom resource schema file, given its path as guardrails.toml writes it.
pub type ReadSchema<'r> = dyn Fn(&str) -> Result<String, String> + 'r;

/// A [`Workspace`]'s files as the loader reads them: the `.guard` files under the project
/// folder by their path in it, guardrails.toml, and custom resource schemas through `read`.
pub struct Documents<'w> {
    workspace: &'w Workspace,
    /// The URI of each `.guard` file under the project folder, by its path in the folder.
    names: BTreeMap<Cow<'w, str>, &'w str>,
    read_schema: Option<&'w ReadSchema<'w>>,
}

impl<'w> Documents<'w> {
    fn new(workspace: &'w Workspace, read_schema: Option<&'w ReadSchema<'w>>) -> Documents<'w> {
        let names = workspace
            .files
            .keys()
            .filter_map(|name| Some((workspace.relative_path(name)?, name.as_str())))
            .collect();
        Documents {
            workspace,
            names,
            read_schema,
        }
    }
}

impl ProjectFiles for Documents<'_> {
    fn files(&self, _skip: &dyn Fn(&str) -> bool) -> Result<Vec<String>, String> {
        // The loader leaves out what lies in skipped folders.
        Ok(self.names.keys().map(|path| path.to_string()).collect())
    }

    fn read(&self, path: &str, kind: FileKind) -> Result<Option<String>, String> {
        Ok(match kind {
            FileKind::Config if path == CONFIG_FILE => self
                .workspace
                .config_file
                .as_ref()
                .map(|(_, document)| document.text().to_string()),
            FileKind::Config => None,
            FileKind::Source => self
                .names
                .get(path)
                .and_then(|name| self.workspace.files.get(*name))
                .map(|document| document.text().to_string()),
            FileKind::Schema => match self.read_schema {
                Some(read) => Some(read(path)?),
                None => None,
            },
        })
    }
}

/// An empty project folder.
struct NoFiles;

impl ProjectFiles for NoFiles {
    fn files(&self, _: &dyn Fn(&str) -> bool) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }

    fn read(&self, _: &str, _: FileKind) -> Result<Option<String>, String> {
        Ok(None)
    }
}

fn is_guard_file(name: &str) -> bool {
    name.ends_with(".guard")
}
