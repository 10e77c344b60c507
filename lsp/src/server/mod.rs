//! The protocol: the only modules with LSP types (tower-lsp-server). Each handler converts
//! positions to offsets, asks a feature module, and converts the answer back.
//!
//! `state.rs` what the server keeps, `convert.rs` LSP types from and to the compiler's,
//! `diagnostics.rs` publishing the project's diagnostics (debounced), `fixture_runs.rs`
//! fixture runs off the request path, `features.rs` the requests on a document; the disk is
//! read by `project_io.rs`, outside the protocol.

mod convert;
mod diagnostics;
mod features;
mod fixture_runs;
mod state;

pub use state::MAX_DOCUMENT;

use crate::document::Document;
use crate::fixtures;
use crate::project_io;
use crate::semantic_tokens::TokenType;
use crate::syntax_index::FileSyntax;
use crate::transport;
use crate::workspace::Workspace;
use convert::{key, offset};
use guardrailc_testkit::loader::{Library, CONFIG_FILE};
use state::{lock, State};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

pub const SHOW_CEL: &str = "guardrailc.showCel";
pub const SHOW_REGO: &str = "guardrailc.showRego";

struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Bumped by every edit; a debounced diagnostics run only proceeds if it is still current.
    generation: Arc<AtomicU64>,
    /// Held by the diagnostics run in progress.
    publishing: Arc<tokio::sync::Mutex<()>>,
}

/// Runs the server on stdin/stdout until the client exits. `today` decides which exemptions
/// have expired in compiled output; `library` gives the files of the `@library/SET` sets
/// guardrails.toml may name.
pub fn serve_stdio(today: (u16, u8, u8), library: Library) -> std::io::Result<()> {
    // The command line's panic hook exits the process; a server logs and keeps serving.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("guardrailc lsp: internal error (the request was dropped): {info}");
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        today,
        library,
    ));
    // Reading standard input may still block a thread; it is not waited for.
    runtime.shutdown_background();
    Ok(())
}

/// Serves one client on `input` and `output` until it exits or its input ends: what
/// [`serve_stdio`] runs, and what benchmarks drive in process.
pub async fn serve<R, W>(input: R, output: W, today: (u16, u8, u8), library: Library)
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    {
        let (server_input, to_server) = tokio::io::duplex(1 << 16);
        let (from_server, server_output) = tokio::io::duplex(1 << 16);
        let (frames, outgoing) = tokio::sync::mpsc::channel(64);
        let writer = tokio::spawn(transport::write_output(output, outgoing));
        let pump = tokio::spawn(transport::forward_output(from_server, frames.clone()));
        let reader = tokio::spawn(transport::forward_input(input, to_server, frames));
        let (service, socket) = LspService::new(|client| Backend {
            client,
            state: Arc::new(Mutex::new(State::new(
                Workspace::new(today).with_library(library),
            ))),
            generation: Arc::new(AtomicU64::new(0)),
            publishing: Arc::new(tokio::sync::Mutex::new(())),
        });
        Server::new(server_input, server_output, socket)
            .serve(service)
            .await;
        // The server has answered everything; its output ends with it, and the client's
        // input is no longer read.
        reader.abort();
        let _ = pump.await;
        let _ = writer.await;
    }
}

/// Runs a feature; a panic is logged and answered with nothing instead of killing the server.
pub(super) fn guarded<T>(what: &str, feature: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(feature)).unwrap_or_else(|_| {
        eprintln!("guardrailc lsp: {what} failed; answered with no result");
        None
    })
}

impl Backend {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Loads guardrails.toml, the fixture files and the `.guard` files of the project at
    /// `root` (those the loader finds, as `guardrailc build` does).
    fn load_project(&self, root: &Path) {
        let mut state = self.state();
        if let (Some(uri), Some(text)) = (
            Uri::from_file_path(project_io::config_path(root)),
            project_io::read_config(root),
        ) {
            state
                .workspace
                .set_config(&key(&uri), text, &project_io::schema_reader(root));
        }
        for (path, text) in project_io::fixture_files_under(root) {
            if let Some(uri) = Uri::from_file_path(&path) {
                state.store(&key(&uri), text);
            }
        }
        for (path, text) in project_io::guard_files(root, state.workspace.project_config()) {
            let Some(uri) = Uri::from_file_path(&path) else {
                continue;
            };
            let name = key(&uri);
            if state.workspace.document(&name).is_none() && !state.declined.contains_key(&name) {
                state.store(&name, text);
            }
        }
        if let Some(uri) = Uri::from_file_path(root) {
            state
                .workspace
                .set_root_prefix(&format!("{}/", uri.as_str().trim_end_matches('/')));
        }
        state.root = Some(root.to_path_buf());
    }

    /// Makes the file on disk the truth for `uri` again: re-reads it, or, when it is gone,
    /// drops it from the project and clears its diagnostics.
    async fn reload_from_disk(&self, uri: &Uri) {
        let name = key(uri);
        let text = uri
            .to_file_path()
            .and_then(|path| project_io::read_changed(&path));
        let cleared = {
            let mut state = self.state();
            let is_config = is_config_file(&state, uri);
            match text {
                Some(text) if is_config => {
                    let read = schema_reader_of(&state);
                    state.workspace.set_config(&name, text, &read);
                    false
                }
                Some(text) => {
                    state.store(&name, text);
                    false
                }
                None => {
                    state.workspace.remove_file(&name);
                    state.declined.remove(&name);
                    // A fixture's results go too (and a run still going is dropped).
                    let had_results = state.fixture_runs.remove(&name).is_some();
                    state.published.remove(&name).is_some() || had_results
                }
            }
        };
        if cleared {
            self.client
                .publish_diagnostics(uri.clone(), Vec::new(), None)
                .await;
        }
    }

    /// Runs `feature` on the document's text and syntax.
    pub(super) fn with_syntax<T>(
        &self,
        uri: &Uri,
        what: &str,
        feature: impl FnOnce(&Workspace, &Document, &FileSyntax) -> Option<T>,
    ) -> Option<T> {
        let state = self.state();
        let document = state.workspace.guard_document(&key(uri))?;
        guarded(what, || {
            let syntax = FileSyntax::parse(document.text());
            feature(&state.workspace, document, &syntax)
        })
    }
}

impl Backend {
    /// The guardrail id under the cursor in a fixture file's `guardrail:` key.
    pub(super) fn fixture_guardrail_at(&self, uri: &Uri, position: Position) -> Option<String> {
        let state = self.state();
        let name = key(uri);
        if state.workspace.guard_document(&name).is_some() {
            return None;
        }
        let document = state.workspace.document(&name)?;
        let at = offset(document, position);
        let (id, span) = fixtures::guardrail_mention(document.text())?;
        (span.start <= at && at <= span.end).then_some(id)
    }
}

/// Whether `uri` is the project's guardrails.toml.
fn is_config_file(state: &State, uri: &Uri) -> bool {
    let name = key(uri);
    state.workspace.config_name() == Some(name.as_str())
        || state.root.as_ref().is_some_and(|root| {
            uri.to_file_path()
                .is_some_and(|path| path.as_ref() == project_io::config_path(root))
        })
}

/// [`project_io::schema_reader`] for the project of `state` (the current folder before one is known).
fn schema_reader_of(state: &State) -> impl Fn(&str) -> std::result::Result<String, String> {
    project_io::schema_reader(state.root.as_deref().unwrap_or(Path::new(".")))
}

fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|f| f.uri.clone());
    #[allow(deprecated)] // older clients send only rootUri
    let uri = folder.or_else(|| params.root_uri.clone())?;
    let path = uri.to_file_path()?.into_owned();
    Some(project_io::project_root(&path).unwrap_or(path))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        if let Some(root) = root_of(&params) {
            self.load_project(&root);
        }
        self.state().can_watch_files = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        let legend = SemanticTokensLegend {
            token_types: TokenType::LEGEND
                .iter()
                .map(|t| SemanticTokenType::new(t.name()))
                .collect(),
            token_modifiers: Vec::new(),
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "guardrailc".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".to_string()]),
                    ..Default::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![SHOW_CEL.to_string(), SHOW_REGO.to_string()],
                    ..Default::default()
                }),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend,
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            ..Default::default()
                        },
                    ),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if !self.state().can_watch_files {
            return;
        }
        // YAML and JSON: fixtures and the schema files of custom resources.
        let watchers = ["**/*.guard", "**/guardrails.toml", "**/*.{yaml,yml,json}"]
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob.to_string()),
                kind: None,
            })
            .to_vec();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "guardrailc-watched-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(error) = self.client.register_capability(vec![registration]).await {
            eprintln!("guardrailc lsp: the client would not watch files: {error}");
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri;
        let needs_root = self.state().root.is_none();
        if needs_root {
            if let Some(dir) = uri
                .to_file_path()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                self.load_project(&project_io::project_root(&dir).unwrap_or(dir));
            }
        }
        {
            let mut state = self.state();
            let name = key(&uri);
            state.open.insert(name.clone());
            if is_config_file(&state, &uri) {
                let read = schema_reader_of(&state);
                state
                    .workspace
                    .set_config(&name, params.text_document.text, &read);
            } else {
                state.store(&name, params.text_document.text);
            }
        }
        self.publish_diagnostics().await;
        self.run_fixture(&uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        {
            let mut state = self.state();
            let name = key(&params.text_document.uri);
            for change in params.content_changes {
                let range = change.range.map(|r| {
                    (
                        (r.start.line, r.start.character),
                        (r.end.line, r.end.character),
                    )
                });
                state.edit(&name, range, &change.text);
            }
            if is_config_file(&state, &params.text_document.uri) {
                let read = schema_reader_of(&state);
                state.workspace.reload_config(&read);
            }
        }
        self.schedule_diagnostics();
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.schedule_diagnostics();
        let uri = params.text_document.uri;
        if uri.path().as_str().ends_with(".guard") {
            // The guardrails changed: the open fixture files' results may have too.
            let open: Vec<String> = self.state().open.iter().cloned().collect();
            for name in open {
                if let Ok(fixture) = Uri::from_str(&name) {
                    self.run_fixture(&fixture);
                }
            }
        } else {
            self.run_fixture(&uri);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.state().open.remove(&key(&uri));
        self.reload_from_disk(&uri).await;
        self.schedule_diagnostics();
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            let Some(path) = change.uri.to_file_path().map(|p| p.into_owned()) else {
                continue;
            };
            let (is_open, is_crd_schema) = {
                let state = self.state();
                let is_crd_schema = state.root.as_ref().is_some_and(|root| {
                    state
                        .workspace
                        .crd_schema_paths()
                        .any(|schema| root.join(schema) == path)
                });
                (state.open.contains(&key(&change.uri)), is_crd_schema)
            };
            if is_crd_schema {
                let mut state = self.state();
                let read = schema_reader_of(&state);
                state.workspace.reload_config(&read);
            }
            let is_project_file = path.extension().is_some_and(|e| e == "guard")
                || path.file_name().is_some_and(|n| n == CONFIG_FILE)
                || self
                    .state()
                    .root
                    .as_ref()
                    .is_some_and(|root| project_io::in_tests_folder(root, &path));
            if is_project_file && !is_open {
                self.reload_from_disk(&change.uri).await;
            }
        }
        self.schedule_diagnostics();
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.hover_request(params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.completion_request(params).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.goto_definition_request(params).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.references_request(params).await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.document_symbol_request(params).await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.formatting_request(params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.code_action_request(params).await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.code_lens_request(params).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        self.execute_command_request(params).await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.semantic_tokens_full_request(params).await
    }
}
