//! The files of one project as the editor sees them: `.guard` files read from disk under the
//! folder holding guardrails.toml, replaced by the editor's buffers while they are open.

use crate::document::{Document, Position};
use guardrailc_compiler::config::{self, Config};
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, BuildOutput, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::{Diagnostic, SourceId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "guardrails.toml";

pub struct Workspace {
    config: Config,
    /// `.guard` files by name (the editor's URI), in name order; `SourceId(i)` is the i-th.
    files: BTreeMap<String, Document>,
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
            files: BTreeMap::new(),
            today,
            root_prefix: String::new(),
        }
    }

    /// Names the project folder: file names under it are shown relative to it.
    pub fn set_root_prefix(&mut self, prefix: &str) {
        self.root_prefix = prefix.to_string();
    }

    /// Reads guardrails.toml; a config with errors falls back to the defaults (its errors
    /// are `guardrailc build`'s to report).
    pub fn set_config(&mut self, text: &str) {
        self.config = config::parse(SourceId(u32::MAX), text).unwrap_or_default();
    }

    pub fn set_file(&mut self, name: &str, text: String) {
        self.files.insert(name.to_string(), Document::new(text));
    }

    /// Applies one change; false when the file is unknown.
    pub fn edit_file(
        &mut self,
        name: &str,
        range: Option<(Position, Position)>,
        text: &str,
    ) -> bool {
        match self.files.get_mut(name) {
            Some(document) => {
                document.edit(range, text);
                true
            }
            None => false,
        }
    }

    pub fn remove_file(&mut self, name: &str) {
        self.files.remove(name);
    }

    pub fn document(&self, name: &str) -> Option<&Document> {
        self.files.get(name)
    }

    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    fn sources(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .map(|(name, document)| SourceFile {
                name: name
                    .strip_prefix(&self.root_prefix)
                    .unwrap_or(name)
                    .to_string(),
                text: document.text().to_string(),
            })
            .collect()
    }

    /// Every file's diagnostics from parsing and checking the whole project (so a duplicate
    /// guardrail id in another file shows), with every file present, even without any.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<Diagnostic>> {
        let sources = self.sources();
        let (_, diagnostics) = project::check_sources(&sources, Schema::builtin());
        let mut by_file: BTreeMap<String, Vec<Diagnostic>> = self
            .files
            .keys()
            .map(|name| (name.clone(), Vec::new()))
            .collect();
        for diagnostic in diagnostics {
            if let Some(name) = self.file_of(diagnostic.span.source) {
                if let Some(list) = by_file.get_mut(name) {
                    list.push(diagnostic);
                }
            }
        }
        by_file
    }

    /// Builds the whole project from the buffers, as `guardrailc build` would.
    pub fn build(&self) -> BuildOutput {
        let sources = self.sources();
        project::build(&BuildInput {
            sources: &sources,
            config: &self.config,
            config_source: SourceId(sources.len() as u32),
            schema: Schema::builtin(),
            today: self.today,
            options: &BuildOptions::default(),
        })
    }

    /// The name of the file a diagnostic of [`Workspace::diagnostics`] or
    /// [`Workspace::build`] points into.
    pub fn file_of(&self, source: SourceId) -> Option<&str> {
        self.files.keys().nth(source.0 as usize).map(String::as_str)
    }
}

/// The `.guard` files under `root`, skipping hidden folders, `target`, `node_modules` and the
/// build output `out`.
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
            if path.is_dir() {
                let skipped = name.starts_with('.')
                    || matches!(name.as_str(), "target" | "node_modules" | "out");
                if !skipped {
                    pending.push(path);
                }
            } else if name.ends_with(".guard") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The nearest folder at or above `start` holding guardrails.toml.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}
