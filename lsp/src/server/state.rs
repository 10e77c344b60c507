//! What the server keeps between messages: the workspace, the project folder, the open
//! documents, what each file was last sent, the documents too large to analyse. No LSP
//! types.

use crate::document::Document;
use crate::workspace::Workspace;
use guardrailc_compiler::Diagnostic;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// The largest document the server analyses, in bytes. Guardrail files are kilobytes (the
/// largest in library/ is 11 KB); past this size a file is kept but not analysed: it gets
/// one warning saying so, requests on it answer nothing, and the project is compiled
/// without it, so every request stays well under a second (lsp/benches/editing.rs).
pub const MAX_DOCUMENT: usize = 512 * 1024;

pub(super) struct State {
    pub workspace: Workspace,
    pub root: Option<PathBuf>,
    /// What each file last got, so unchanged files are not re-sent.
    pub published: BTreeMap<String, Vec<Diagnostic>>,
    /// Files with an editor buffer, which wins over the file on disk.
    pub open: BTreeSet<String>,
    /// The client can be asked to watch files for us.
    pub can_watch_files: bool,
    /// The latest fixture run of each fixture file: an older run finishing late is dropped.
    pub fixture_runs: BTreeMap<String, u64>,
    /// Documents over [`MAX_DOCUMENT`], kept out of the workspace (and edited here, so they
    /// come back when they shrink), with whether the client was told.
    pub declined: BTreeMap<String, (Document, bool)>,
}

impl State {
    pub fn new(workspace: Workspace) -> State {
        State {
            workspace,
            root: None,
            published: BTreeMap::new(),
            open: BTreeSet::new(),
            can_watch_files: false,
            fixture_runs: BTreeMap::new(),
            declined: BTreeMap::new(),
        }
    }
    /// Makes `text` the document `name`: in the workspace, or aside when it is too big.
    pub fn store(&mut self, name: &str, text: String) {
        if text.len() > MAX_DOCUMENT {
            self.workspace.remove_file(name);
            self.published.remove(name);
            let told = self.declined.get(name).is_some_and(|(_, told)| *told);
            self.declined
                .insert(name.to_string(), (Document::new(text), told));
        } else {
            self.declined.remove(name);
            self.workspace.set_file(name, text);
        }
    }

    /// Applies one change from the client to the document `name`.
    pub fn edit(&mut self, name: &str, range: Option<((u32, u32), (u32, u32))>, text: &str) {
        if let Some((document, _)) = self.declined.get_mut(name) {
            document.edit(range, text);
            if document.text().len() <= MAX_DOCUMENT {
                let text = document.text().to_string();
                self.store(name, text);
            }
            return;
        }
        if !self.workspace.edit_file(name, range, text) {
            self.store(name, text.to_string());
            return;
        }
        let grown = self
            .workspace
            .document(name)
            .filter(|document| document.text().len() > MAX_DOCUMENT)
            .map(|document| document.text().to_string());
        if let Some(text) = grown {
            self.store(name, text);
        }
    }

    /// The declined documents the client was not told about yet, marked as told.
    pub fn untold(&mut self) -> Vec<(String, usize)> {
        self.declined
            .iter_mut()
            .filter(|(_, (_, told))| !*told)
            .map(|(name, (document, told))| {
                *told = true;
                (name.clone(), document.text().len())
            })
            .collect()
    }
}

/// What a declined document shows.
pub(super) fn declined_message(bytes: usize) -> String {
    format!(
        "this file is {bytes} bytes, over the language server's limit of {MAX_DOCUMENT} bytes \
         ({} KiB): it is not analysed, so it gets no diagnostics, hovers or completions, and \
         the project is checked without it. `guardrailc build` checks it (docs/security.md).",
        MAX_DOCUMENT / 1024
    )
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic inside a handler leaves the state consistent (edits are applied whole).
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
