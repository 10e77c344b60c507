//! The protocol side: the only module that knows LSP types. Each handler converts positions
//! to offsets, asks a feature module, and converts the answer back.

use crate::compiled::{self, Language};
use crate::completion::{self, CompletionKind};
use crate::document::Document;
use crate::fixtures::{self, FixtureProblem};
use crate::hover;
use crate::names;
use crate::semantic_tokens::{self, TokenType};
use crate::symbols::{self, SymbolKind as OutlineKind};
use crate::syntax_index::FileSyntax;
use crate::transport;
use crate::workspace::{self, LibraryFiles, Workspace, CONFIG_FILE};
use guardrailc_compiler::{Diagnostic, Severity, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{self as lsp, *};
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

pub const SHOW_CEL: &str = "guardrailc.showCel";
pub const SHOW_REGO: &str = "guardrailc.showRego";

/// The largest document the server analyses, in bytes. Guardrail files are kilobytes (the
/// largest in library/ is 11 KB); past this size a file is kept but not analysed: it gets
/// one warning saying so, requests on it answer nothing, and the project is compiled
/// without it, so every request stays well under a second (lsp/benches/editing.rs).
pub const MAX_DOCUMENT: usize = 512 * 1024;

/// How long typing must pause before diagnostics are recomputed.
const DEBOUNCE: Duration = Duration::from_millis(150);

struct State {
    workspace: Workspace,
    root: Option<PathBuf>,
    /// What each file last got, so unchanged files are not re-sent.
    published: BTreeMap<String, Vec<Diagnostic>>,
    /// Files with an editor buffer, which wins over the file on disk.
    open: BTreeSet<String>,
    /// The client can be asked to watch files for us.
    can_watch_files: bool,
    /// The latest fixture run of each fixture file: an older run finishing late is dropped.
    fixture_runs: BTreeMap<String, u64>,
    /// Documents over [`MAX_DOCUMENT`], kept out of the workspace (and edited here, so they
    /// come back when they shrink), with whether the client was told.
    declined: BTreeMap<String, (Document, bool)>,
}

impl State {
    /// Makes `text` the document `name`: in the workspace, or aside when it is too big.
    fn store(&mut self, name: &str, text: String) {
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
    fn edit(&mut self, name: &str, range: Option<((u32, u32), (u32, u32))>, text: &str) {
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
    fn untold(&mut self) -> Vec<(String, usize)> {
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
fn declined_message(bytes: usize) -> String {
    format!(
        "this file is {bytes} bytes, over the language server's limit of {MAX_DOCUMENT} bytes \
         ({} KiB): it is not analysed, so it gets no diagnostics, hovers or completions, and \
         the project is checked without it. `guardrailc build` checks it (docs/security.md).",
        MAX_DOCUMENT / 1024
    )
}

struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Bumped by every edit; a debounced diagnostics run only proceeds if it is still current.
    generation: Arc<AtomicU64>,
}

/// Runs the server on stdin/stdout until the client exits. `today` decides which exemptions
/// have expired in compiled output; `library` gives the files of the `@library/SET` sets
/// guardrails.toml may name.
pub fn serve_stdio(today: (u16, u8, u8), library: LibraryFiles) -> std::io::Result<()> {
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
pub async fn serve<R, W>(input: R, output: W, today: (u16, u8, u8), library: LibraryFiles)
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
            state: Arc::new(Mutex::new(State {
                workspace: Workspace::new(today).with_library(library),
                root: None,
                published: BTreeMap::new(),
                open: BTreeSet::new(),
                can_watch_files: false,
                fixture_runs: BTreeMap::new(),
                declined: BTreeMap::new(),
            })),
            generation: Arc::new(AtomicU64::new(0)),
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

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic inside a handler leaves the state consistent (edits are applied whole).
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs a feature; a panic is logged and answered with nothing instead of killing the server.
fn guarded<T>(what: &str, feature: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(feature)).unwrap_or_else(|_| {
        eprintln!("guardrailc lsp: {what} failed; answered with no result");
        None
    })
}

/// The workspace name of a document: file URIs in one spelling, so a file loaded from disk
/// and the same file opened by the client (which may percent-encode differently) are one.
fn key(uri: &Uri) -> String {
    uri.to_file_path()
        .and_then(Uri::from_file_path)
        .map_or_else(
            || uri.as_str().to_string(),
            |normal| normal.as_str().to_string(),
        )
}

fn range(document: &Document, span: Span) -> Range {
    let (start_line, start_col) = document.position(span.start as usize);
    let (end_line, end_col) = document.position(span.end as usize);
    Range::new(
        Position::new(start_line, start_col),
        Position::new(end_line, end_col),
    )
}

fn offset(document: &Document, position: Position) -> usize {
    document.offset((position.line, position.character))
}

fn to_lsp_diagnostic(
    workspace: &Workspace,
    document: &Document,
    d: &Diagnostic,
) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|label| {
            let name = workspace.file_of(label.span.source)?;
            let other = workspace.document(name)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(Uri::from_str(name).ok()?, range(other, label.span)),
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(document, d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("guardrailc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

impl Backend {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Loads guardrails.toml and every `.guard` file of the project at `root`.
    fn load_project(&self, root: &Path) {
        let mut state = self.state();
        let config = root.join(CONFIG_FILE);
        if let (Some(uri), Ok(text)) = (
            Uri::from_file_path(&config),
            std::fs::read_to_string(&config),
        ) {
            state
                .workspace
                .set_config(&key(&uri), text, &schema_reader(root));
        }
        for (path, text) in workspace::fixture_files_under(root) {
            if let Some(uri) = Uri::from_file_path(&path) {
                state.store(&key(&uri), text);
            }
        }
        for path in workspace::guard_files_under(root) {
            let (Some(uri), Ok(text)) =
                (Uri::from_file_path(&path), std::fs::read_to_string(&path))
            else {
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
            .and_then(|p| std::fs::read_to_string(p).ok());
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

    /// Recomputes every file's diagnostics and sends those that changed.
    async fn publish_diagnostics(&self) {
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
        let updates = {
            let mut state = self.state();
            let Some(all) = guarded("diagnostics", || Some(state.workspace.diagnostics())) else {
                return;
            };
            let mut updates: Vec<(String, Vec<lsp::Diagnostic>)> = Vec::new();
            for (name, diagnostics) in all {
                if state.published.get(&name) == Some(&diagnostics) {
                    continue;
                }
                let Some(document) = state.workspace.document(&name) else {
                    continue;
                };
                let converted: Vec<lsp::Diagnostic> = diagnostics
                    .iter()
                    .map(|d| to_lsp_diagnostic(&state.workspace, document, d))
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

    fn schedule_diagnostics(&self) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let backend = Backend {
            client: self.client.clone(),
            state: Arc::clone(&self.state),
            generation: Arc::clone(&self.generation),
        };
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if backend.generation.load(Ordering::SeqCst) == generation {
                backend.publish_diagnostics().await;
            }
        });
    }

    /// Runs `feature` on the document's text and syntax.
    fn with_syntax<T>(
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
    /// Runs the cases of the fixture file `uri` off the request path, as `guardrailc test`
    /// would on the project built from the current buffers, and publishes one diagnostic
    /// per failing case (none when every case passes). Files that are not fixtures of the
    /// project are left alone.
    fn run_fixture(&self, uri: &Uri) {
        let name = key(uri);
        let Some(path) = uri.to_file_path().map(|p| p.into_owned()) else {
            return;
        };
        let (snapshot, run, shown, root) = {
            let mut state = self.state();
            let Some(root) = state.root.clone() else {
                return;
            };
            let is_fixture = workspace::in_tests_folder(&root, &path)
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

impl Backend {
    /// The guardrail id under the cursor in a fixture file's `guardrail:` key.
    fn fixture_guardrail_at(&self, uri: &Uri, position: Position) -> Option<String> {
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

/// Where guardrail `id` is declared (when wanted) and every fixture file naming it.
fn guardrail_references(
    workspace: &Workspace,
    id: &str,
    include_declaration: bool,
) -> Vec<Location> {
    let declaration = fixtures::declaration(workspace, id).filter(|_| include_declaration);
    let mentions = fixtures::mentions(workspace, id)
        .into_iter()
        .map(|(name, at)| {
            let span = Span::new(guardrailc_compiler::SourceId(0), at.start, at.end);
            (name, span)
        });
    declaration
        .into_iter()
        .chain(mentions)
        .filter_map(|(name, span)| {
            let document = workspace.document(&name)?;
            Some(Location::new(
                Uri::from_str(&name).ok()?,
                range(document, span),
            ))
        })
        .collect()
}

/// A fixture problem at its line (from its column when known, else from the line's first
/// non-blank character to its end).
fn fixture_diagnostic(document: &Document, problem: &FixtureProblem) -> lsp::Diagnostic {
    let text = document.text();
    let line_start = text
        .split_inclusive('\n')
        .take(problem.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let line = text[line_start..]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r');
    let indent = line.len() - line.trim_start().len();
    let start = match problem.column {
        Some(column) => line
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i),
        None => indent,
    };
    let whole = Span::new(
        guardrailc_compiler::SourceId(0),
        line_start + start,
        line_start + line.len().max(start),
    );
    lsp::Diagnostic {
        range: range(document, whole),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("guardrailc test".to_string()),
        message: problem.message.clone(),
        ..Default::default()
    }
}

/// Reads the schema files guardrails.toml names, relative to the project folder.
fn schema_reader(root: &Path) -> impl Fn(&str) -> std::result::Result<String, String> {
    let root = root.to_path_buf();
    move |path: &str| {
        guardrailc_testkit::files::read_in_project(
            &root,
            &root.join(path),
            path,
            guardrailc_testkit::files::MAX_SCHEMA_BYTES,
            "CRD schema files",
        )
    }
}

/// Whether `uri` is the project's guardrails.toml.
fn is_config_file(state: &State, uri: &Uri) -> bool {
    let name = key(uri);
    state.workspace.config_name() == Some(name.as_str())
        || state.root.as_ref().is_some_and(|root| {
            uri.to_file_path()
                .is_some_and(|path| path.as_ref() == root.join(CONFIG_FILE))
        })
}

/// [`schema_reader`] for the project of `state` (the current folder before one is known).
fn schema_reader_of(state: &State) -> impl Fn(&str) -> std::result::Result<String, String> {
    schema_reader(state.root.as_deref().unwrap_or(Path::new(".")))
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
    Some(workspace::project_root(&path).unwrap_or(path))
}

fn command_arguments(uri: &Uri, position: Position) -> Vec<serde_json::Value> {
    vec![
        serde_json::Value::String(uri.as_str().to_string()),
        serde_json::json!({ "line": position.line, "character": position.character }),
    ]
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
                self.load_project(&workspace::project_root(&dir).unwrap_or(dir));
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
                    .is_some_and(|root| workspace::in_tests_folder(root, &path));
            if is_project_file && !is_open {
                self.reload_from_disk(&change.uri).await;
            }
        }
        self.schedule_diagnostics();
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        Ok(self.with_syntax(
            &p.text_document.uri,
            "hover",
            |workspace, document, syntax| {
                let at = offset(document, p.position) as u32;
                let found = hover::hover(syntax, document.text(), workspace.schema(), at)?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: found.markdown,
                    }),
                    range: Some(range(document, found.span)),
                })
            },
        ))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        Ok(self.with_syntax(
            &p.text_document.uri,
            "completion",
            |workspace, document, syntax| {
                let at = offset(document, p.position);
                let items = completion::complete(syntax, document.text(), workspace.schema(), at)
                    .into_iter()
                    .map(|c| CompletionItem {
                        label: c.label,
                        kind: Some(match c.kind {
                            CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                            CompletionKind::Field => CompletionItemKind::FIELD,
                            CompletionKind::Method => CompletionItemKind::METHOD,
                            CompletionKind::Function => CompletionItemKind::FUNCTION,
                            CompletionKind::Kind => CompletionItemKind::CLASS,
                            CompletionKind::Variable => CompletionItemKind::VARIABLE,
                            CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
                            CompletionKind::Type => CompletionItemKind::TYPE_PARAMETER,
                        }),
                        detail: c.detail,
                        documentation: c.documentation.map(|value| {
                            Documentation::MarkupContent(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value,
                            })
                        }),
                        ..Default::default()
                    })
                    .collect();
                Some(CompletionResponse::Array(items))
            },
        ))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let uri = p.text_document.uri.clone();
        if let Some(id) = self.fixture_guardrail_at(&uri, p.position) {
            let state = self.state();
            return Ok(guarded("definition", || {
                let (name, span) = fixtures::declaration(&state.workspace, &id)?;
                let document = state.workspace.document(&name)?;
                Some(GotoDefinitionResponse::Scalar(Location::new(
                    Uri::from_str(&name).ok()?,
                    range(document, span),
                )))
            }));
        }
        Ok(self.with_syntax(&uri, "definition", |_, document, syntax| {
            let at = offset(document, p.position) as u32;
            let target = names::definition_at(syntax.guardrail_at(at)?, at)?;
            Some(GotoDefinitionResponse::Scalar(Location::new(
                uri.clone(),
                range(document, target),
            )))
        }))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let uri = p.text_document.uri.clone();
        let include_declaration = params.context.include_declaration;
        let guardrail = self.fixture_guardrail_at(&uri, p.position).or_else(|| {
            self.with_syntax(&uri, "references", |_, document, syntax| {
                let at = offset(document, p.position) as u32;
                let guardrail = syntax.guardrail_at(at)?;
                let id = &guardrail.id;
                (id.span.start <= at && at <= id.span.end).then(|| id.name.clone())
            })
        });
        if let Some(id) = guardrail {
            let state = self.state();
            return Ok(guarded("references", || {
                Some(guardrail_references(
                    &state.workspace,
                    &id,
                    include_declaration,
                ))
            }));
        }
        Ok(self.with_syntax(&uri, "references", |_, document, syntax| {
            let at = offset(document, p.position) as u32;
            let (definition, uses) = names::references_at(syntax.guardrail_at(at)?, at)?;
            let spans = include_declaration
                .then_some(definition)
                .into_iter()
                .chain(uses);
            Some(
                spans
                    .map(|s| Location::new(uri.clone(), range(document, s)))
                    .collect(),
            )
        }))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        Ok(self.with_syntax(
            &params.text_document.uri,
            "document symbols",
            |_, document, syntax| {
                #[allow(deprecated)] // `deprecated` is a required field of the struct
                fn convert(document: &Document, symbol: symbols::Symbol) -> DocumentSymbol {
                    DocumentSymbol {
                        name: symbol.name,
                        detail: None,
                        kind: match symbol.kind {
                            OutlineKind::Guardrail => SymbolKind::MODULE,
                            OutlineKind::Param => SymbolKind::PROPERTY,
                            OutlineKind::Let => SymbolKind::VARIABLE,
                            OutlineKind::Rule => SymbolKind::FUNCTION,
                            OutlineKind::Exemption => SymbolKind::OBJECT,
                        },
                        tags: None,
                        deprecated: None,
                        range: range(document, symbol.span),
                        selection_range: range(document, symbol.selection),
                        children: Some(
                            symbol
                                .children
                                .into_iter()
                                .map(|c| convert(document, c))
                                .collect(),
                        ),
                    }
                }
                let outline = symbols::symbols(syntax)
                    .into_iter()
                    .map(|s| convert(document, s))
                    .collect();
                Some(DocumentSymbolResponse::Nested(outline))
            },
        ))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let state = self.state();
        let Some(document) = state
            .workspace
            .guard_document(&key(&params.text_document.uri))
        else {
            return Ok(None);
        };
        Ok(guarded("formatting", || {
            let formatted = guardrailc_compiler::format::format(document.text()).ok()?;
            if formatted == document.text() {
                return Some(Vec::new());
            }
            let whole = Span::new(guardrailc_compiler::SourceId(0), 0, document.text().len());
            Some(vec![TextEdit::new(range(document, whole), formatted)])
        }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let name = key(&uri);
        let state = self.state();
        let Some(document) = state.workspace.document(&name) else {
            return Ok(None);
        };
        let wanted = params.range;
        Ok(guarded("code actions", || {
            let diagnostics = state
                .workspace
                .diagnostics()
                .remove(&name)
                .unwrap_or_default();
            let actions = diagnostics
                .iter()
                .filter_map(|d| {
                    let edit = d.edit.as_ref()?;
                    let at = range(document, d.span);
                    let overlaps = at.start <= wanted.end && wanted.start <= at.end;
                    if !overlaps {
                        return None;
                    }
                    let title = if edit.replacement.is_empty() {
                        format!("remove `{}`", &document.text()[edit.span.range()])
                    } else {
                        format!("replace with `{}`", edit.replacement)
                    };
                    let changes = [(
                        uri.clone(),
                        vec![TextEdit::new(
                            range(document, edit.span),
                            edit.replacement.clone(),
                        )],
                    )];
                    Some(CodeActionOrCommand::CodeAction(CodeAction {
                        title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![to_lsp_diagnostic(&state.workspace, document, d)]),
                        edit: Some(WorkspaceEdit {
                            changes: Some(changes.into_iter().collect()),
                            ..Default::default()
                        }),
                        is_preferred: Some(true),
                        ..Default::default()
                    }))
                })
                .collect();
            Some(actions)
        }))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri.clone();
        Ok(
            self.with_syntax(&uri, "code lenses", |_, document, syntax| {
                let mut lenses = Vec::new();
                for guardrail in syntax
                    .file
                    .guardrails
                    .iter()
                    .filter(|g| !g.id.name.is_empty())
                {
                    let at = range(document, guardrail.id.span);
                    for (title, command) in [("Show CEL", SHOW_CEL), ("Show Rego", SHOW_REGO)] {
                        lenses.push(CodeLens {
                            range: at,
                            command: Some(Command::new(
                                title.to_string(),
                                command.to_string(),
                                Some(command_arguments(&uri, at.start)),
                            )),
                            data: None,
                        });
                    }
                }
                Some(lenses)
            }),
        )
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let language = match params.command.as_str() {
            SHOW_CEL => Language::Cel,
            SHOW_REGO => Language::Rego,
            other => return Err(Error::invalid_params(format!("unknown command `{other}`"))),
        };
        let (uri, position) = match params.arguments.as_slice() {
            [uri, position] => (
                uri.as_str().and_then(|u| Uri::from_str(u).ok()),
                serde_json::from_value::<Position>(position.clone()).ok(),
            ),
            _ => (None, None),
        };
        let (Some(uri), Some(position)) = (uri, position) else {
            return Err(Error::invalid_params(
                "expected the arguments [uri, position]",
            ));
        };
        let state = self.state();
        let name = key(&uri);
        let Some(document) = state.workspace.document(&name) else {
            return Err(Error::invalid_params(format!("`{name}` is not open")));
        };
        let at = offset(document, position) as u32;
        let result = guarded("compiled output", || {
            let id = compiled::guardrail_id_at(&state.workspace, &name, at)?;
            Some(compiled::compiled(&state.workspace, &id, language))
        });
        match result {
            Some(Ok(text)) => Ok(Some(LSPAny::String(text))),
            Some(Err(message)) => Err(Error::invalid_params(message)),
            None => Err(Error::invalid_params("no guardrail at this position")),
        }
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        Ok(self.with_syntax(
            &params.text_document.uri,
            "semantic tokens",
            |_, document, syntax| {
                let mut data = Vec::new();
                let (mut line, mut column) = (0u32, 0u32);
                for (span, role) in semantic_tokens::classify(syntax, document.text()) {
                    let (start_line, start_column) = document.position(span.start as usize);
                    let (end_line, end_column) = document.position(span.end as usize);
                    // A token spanning lines (a string with a line break) is marked on its first line.
                    let length = if end_line == start_line {
                        end_column - start_column
                    } else {
                        let line_end = document.text()[span.start as usize..]
                            .find('\n')
                            .map_or(span.end as usize, |i| span.start as usize + i);
                        document.position(line_end).1 - start_column
                    };
                    data.push(SemanticToken {
                        delta_line: start_line - line,
                        delta_start: if start_line == line {
                            start_column - column
                        } else {
                            start_column
                        },
                        length,
                        token_type: role.index(),
                        token_modifiers_bitset: 0,
                    });
                    line = start_line;
                    column = start_column;
                }
                Some(SemanticTokensResult::Tokens(SemanticTokens {
                    result_id: None,
                    data,
                }))
            },
        ))
    }
}
