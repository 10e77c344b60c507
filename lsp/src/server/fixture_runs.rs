//! Fixture runs: a fixture file's cases run, off the request path, on a copy of the
//! workspace as `guardrailc test` would run them, and their failures published on the file.
//! A run that a newer run of the same file overtook is dropped.

use super::convert::{fixture_diagnostic, key};
use super::state::lock;
use super::{guarded, Backend};
use crate::fixtures;
use crate::project_io;
use std::sync::Arc;
use tower_lsp_server::ls_types::{self as lsp, Uri};

impl Backend {
    /// Runs the cases of the fixture file `uri` off the request path, as `guardrailc test`
    /// would on the project built from the current buffers, and publishes one diagnostic
    /// per failing case (none when every case passes). Files that are not fixtures of the
    /// project are left alone.
    pub(super) fn run_fixture(&self, uri: &Uri) {
        let name = key(uri);
        let Some(path) = uri.to_file_path().map(|p| p.into_owned()) else {
            return;
        };
        let (snapshot, run, shown, root) = {
            let mut state = self.state();
            let Some(root) = state.root.clone() else {
                return;
            };
            let is_fixture = project_io::in_tests_folder(&root, &path)
                && state
                    .workspace
                    .document(&name)
                    .is_some_and(|d| guardrailc_testkit::fixtures::is_fixture(d.text()));
            if !is_fixture {
                return;
            }
            let run = state.fixture_runs.get(&name).map_or(0, |run| run + 1);
            state.fixture_runs.insert(name.clone(), run);
            let shown = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            (state.workspace.clone(), run, shown, root)
        };
        let client = self.client.clone();
        let state = Arc::clone(&self.state);
        let uri = uri.clone();
        tokio::spawn(async move {
            let job = tokio::task::spawn_blocking(move || {
                let document = snapshot.document(&name)?.clone();
                let problems = guarded("fixture run", || {
                    Some(fixtures::run_fixture_file(
                        &snapshot,
                        &root,
                        &path,
                        &shown,
                        document.text(),
                    ))
                })?;
                let diagnostics: Vec<lsp::Diagnostic> = problems
                    .iter()
                    .map(|problem| fixture_diagnostic(&document, problem))
                    .collect();
                Some((name, diagnostics))
            });
            let Ok(Some((name, diagnostics))) = job.await else {
                return;
            };
            if lock(&state).fixture_runs.get(&name) != Some(&run) {
                return;
            }
            client.publish_diagnostics(uri, diagnostics, None).await;
        });
    }
}
