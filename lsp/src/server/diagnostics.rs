//! Publishing diagnostics: what `guardrailc build` reports for the project, computed off
//! the request path on a copy of the workspace, on open and [`DEBOUNCE`] after the last
//! change, and sent to every file whose diagnostics changed (an empty list clears them).

use super::convert::to_lsp_diagnostic;
use super::state::declined_message;
use super::{guarded, Backend};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tower_lsp_server::ls_types::{self as lsp, *};

/// How long typing must pause before diagnostics are recomputed.
const DEBOUNCE: Duration = Duration::from_millis(150);

impl Backend {
    /// Recomputes every file's diagnostics and sends those that changed.
    pub(super) async fn publish_diagnostics(&self) {
        // One run at a time, each on the state as it starts: results arrive in order.
        let _running = self.publishing.lock().await;
        let untold = self.state().untold();
        for (name, bytes) in untold {
            let Ok(uri) = Uri::from_str(&name) else {
                continue;
            };
            let message = declined_message(bytes);
            let diagnostic = lsp::Diagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::WARNING),
                source: Some("guardrailc".to_string()),
                message: message.clone(),
                ..Default::default()
            };
            self.client
                .publish_diagnostics(uri.clone(), vec![diagnostic], None)
                .await;
            self.client
                .show_message(MessageType::WARNING, format!("{}: {message}", uri.as_str()))
                .await;
        }
        let snapshot = self.state().workspace.clone();
        let job = tokio::task::spawn_blocking(move || {
            let all = guarded("diagnostics", || Some(snapshot.diagnostics()))?;
            Some((snapshot, all))
        });
        let Ok(Some((snapshot, all))) = job.await else {
            return;
        };
        let updates = {
            let mut state = self.state();
            let mut updates: Vec<(String, Vec<lsp::Diagnostic>)> = Vec::new();
            // Files that had diagnostics and are no longer part of the result are cleared.
            let gone: Vec<String> = state
                .published
                .keys()
                .filter(|name| !all.contains_key(*name))
                .cloned()
                .collect();
            for name in gone {
                state.published.remove(&name);
                updates.push((name, Vec::new()));
            }
            let names = snapshot.source_files();
            for (name, diagnostics) in all {
                if state.published.get(&name) == Some(&diagnostics) {
                    continue;
                }
                let Some(document) = snapshot.document(&name) else {
                    continue;
                };
                let converted: Vec<lsp::Diagnostic> = diagnostics
                    .iter()
                    .map(|d| to_lsp_diagnostic(&snapshot, &names, document, d))
                    .collect();
                updates.push((name.clone(), converted));
                state.published.insert(name, diagnostics);
            }
            updates
        };
        for (name, diagnostics) in updates {
            if let Ok(uri) = Uri::from_str(&name) {
                self.client
                    .publish_diagnostics(uri, diagnostics, None)
                    .await;
            }
        }
    }

    /// Publishes diagnostics once changes stop for [`DEBOUNCE`].
    pub(super) fn schedule_diagnostics(&self) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let backend = Backend {
            client: self.client.clone(),
            state: Arc::clone(&self.state),
            generation: Arc::clone(&self.generation),
            publishing: Arc::clone(&self.publishing),
        };
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if backend.generation.load(Ordering::SeqCst) == generation {
                backend.publish_diagnostics().await;
            }
        });
    }
}
