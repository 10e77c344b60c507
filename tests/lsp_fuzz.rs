//! `guardrailc lsp` under hostile and careless clients, over stdio as an editor runs it:
//! malformed messages, deep nesting, files over the size limit, and random edits and
//! requests. The server must answer every request in time, never crash, and never hide a
//! panic behind an empty answer (its stderr must stay free of internal errors).
//!
//! The random sessions are proptest cases: `GUARDRAILC_LSP_FUZZ_CASES` sessions (2 in CI) of
//! `GUARDRAILC_LSP_FUZZ_STEPS` edits and requests (150); a failure is shrunk to a short
//! session. docs/testing.md records the long runs.

mod support;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A hang detector: no request may take longer (the debug binary, on a loaded machine).
const LATENCY_BOUND: Duration = Duration::from_secs(10);

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
    root_uri: String,
}

impl Server {
    fn start(root: &std::path::Path) -> Server {
        let mut child = support::command()
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let messages = support::lsp_messages(stdout);
        Server {
            child,
            stdin,
            messages,
            stderr,
            next_id: 1,
            root_uri: format!("file://{}", root.display()),
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("the server reads");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next message matching `wanted`, within the latency bound.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LATENCY_BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(_) => {}
                Err(_) => panic!(
                    "no {what} within {LATENCY_BOUND:?}; server stderr:\n{}",
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// Sends a request; returns its reply and how long it took.
    fn request(&mut self, method: &str, params: Value) -> (Value, Duration) {
        let id = self.next_id;
        self.next_id += 1;
        let started = Instant::now();
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let reply = self.wait_for(&format!("reply to {method}"), |m| m["id"] == json!(id));
        (reply, started.elapsed())
    }

    fn initialize(&mut self) {
        let root = self.root_uri.clone();
        let (reply, _) = self.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": {} }),
        );
        assert!(reply.get("result").is_some(), "{reply}");
        self.notify("initialized", json!({}));
    }

    fn diagnostics_for(&mut self, uri: &str) -> Value {
        self.wait_for("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        })["params"]["diagnostics"]
            .clone()
    }

    /// Shuts down politely; the server must exit with success and have logged no internal
    /// error on the way.
    fn finish(mut self) {
        self.request("shutdown", json!(null));
        self.notify("exit", json!(null));
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "{status}");
        self.assert_clean_stderr();
    }

    fn assert_clean_stderr(&self) {
        let stderr = self.stderr.lock().unwrap();
        assert!(
            !stderr.contains("internal error")
                && !stderr.contains("panicked")
                && !stderr.contains("failed; answered with no result"),
            "the server hid a panic:\n{stderr}"
        );
    }
}

fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    std::fs::write(root.join("guardrails.toml"), "sources = [\"*.guard\"]\n").unwrap();
    (dir, root)
}

fn open(server: &mut Server, uri: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "guard", "version": 1, "text": text } }),
    );
}

#[test]
fn malformed_json_is_answered_with_a_parse_error_and_the_server_keeps_serving() {
    let (_dir, root) = project();
    let mut server = Server::start(&root);
    server.initialize();
    for bad in [
        &b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": "[..],
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
    ] {
        server.send_raw(format!("Content-Length: {}\r\n\r\n", bad.len()).as_bytes());
        server.send_raw(bad);
        let answer = server.wait_for("an error answer", |m| m.get("error").is_some());
        let code = answer["error"]["code"].as_i64().unwrap();
        assert!(code == -32700 || code == -32600, "{answer}");
        assert_eq!(answer["id"], Value::Null);
    }
    server.send_raw(b"Content-Length: nope\r\n\r\n");
    let answer = server.wait_for("an error answer", |m| m.get("error").is_some());
    assert_eq!(answer["error"]["code"], -32700);
    // Still serving.
    let uri = format!("{}/a.guard", server.root_uri);
    open(&mut server, &uri, "guardrail a {\n}\n");
    let (reply, _) = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 1 } }),
    );
    assert!(reply.get("result").is_some(), "{reply}");
    server.finish();
}

#[test]
fn thousands_of_unclosed_brackets_in_an_editor_do_not_kill_the_server() {
    let (_dir, root) = project();
    let mut server = Server::start(&root);
    server.initialize();
    let uri = format!("{}/deep.guard", server.root_uri);
    let text = format!(
        "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n  deny when {}\n",
        "(".repeat(5000)
    );
    open(&mut server, &uri, &text);
    let diagnostics = server.diagnostics_for(&uri);
    assert!(
        diagnostics
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "G0109"),
        "{diagnostics}"
    );
    let doc = json!({ "uri": uri });
    let at = json!({ "line": 3, "character": 2000 });
    for (method, params) in [
        (
            "textDocument/hover",
            json!({ "textDocument": doc, "position": at }),
        ),
        (
            "textDocument/completion",
            json!({ "textDocument": doc, "position": at }),
        ),
        (
            "textDocument/documentSymbol",
            json!({ "textDocument": doc }),
        ),
        (
            "textDocument/semanticTokens/full",
            json!({ "textDocument": doc }),
        ),
        (
            "textDocument/formatting",
            json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
        ),
        ("textDocument/codeLens", json!({ "textDocument": doc })),
    ] {
        let (reply, _) = server.request(method, params);
        assert!(reply.get("error").is_none(), "{method}: {reply}");
    }
    server.finish();
}

#[test]
fn a_file_over_the_size_limit_is_declined_with_a_message_and_requests_stay_fast() {
    let (_dir, root) = project();
    let mut server = Server::start(&root);
    server.initialize();
    let uri = format!("{}/big.guard", server.root_uri);
    let guardrail = "guardrail g {\n  title \"t\"\n  match kinds [Pod]\n  deny when object.spec.hostNetwork\n    message \"m\"\n}\n";
    let copies = guardrailc_lsp::MAX_DOCUMENT / guardrail.len() + 1;
    let big: String = (0..copies)
        .map(|i| guardrail.replace("guardrail g", &format!("guardrail g{i}")))
        .collect();
    assert!(big.len() > guardrailc_lsp::MAX_DOCUMENT);
    open(&mut server, &uri, &big);
    let diagnostics = server.diagnostics_for(&uri);
    let message = diagnostics[0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(&format!("{} bytes", big.len())) && message.contains("not analysed"),
        "{message}"
    );
    let shown = server.wait_for("a message to the user", |m| {
        m["method"] == "window/showMessage"
    });
    assert!(shown["params"]["message"]
        .as_str()
        .unwrap()
        .contains("not analysed"));
    let doc = json!({ "uri": uri });
    for (method, params) in [
        (
            "textDocument/hover",
            json!({ "textDocument": doc, "position": { "line": 3, "character": 20 } }),
        ),
        (
            "textDocument/formatting",
            json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
        ),
        (
            "textDocument/semanticTokens/full",
            json!({ "textDocument": doc }),
        ),
    ] {
        let (reply, took) = server.request(method, params);
        assert_eq!(reply["result"], Value::Null, "{method}");
        assert!(took < Duration::from_secs(1), "{method} took {took:?}");
    }
    // Cut back under the limit, the file is analysed again.
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": guardrail }] }),
    );
    assert_eq!(server.diagnostics_for(&uri), json!([]));
    let (reply, _) = server.request(
        "textDocument/hover",
        json!({ "textDocument": doc, "position": { "line": 0, "character": 2 } }),
    );
    assert!(reply["result"]["contents"].is_object(), "{reply}");
    server.finish();
}

/// Pieces random edits insert: the language's words, brackets, quotes, line breaks of every
/// kind, and bytes editors rarely send.
const PIECES: &[&str] = &[
    "guardrail g {\n",
    "}",
    "{",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\\",
    "\n",
    "\r\n",
    "\r",
    " ",
    "title \"t\"\n",
    "match kinds [Pod]\n",
    "match workloads\n",
    "deny ",
    "require ",
    "when ",
    "that ",
    "message \"m {c.name}\"\n",
    "for c in pod.all_containers ",
    "c.image",
    "object.spec.",
    "any x in ",
    "all y in ",
    ": ",
    " and ",
    " or ",
    "not ",
    "==",
    "!=",
    "param p: int = 3\n",
    "let l = ",
    "exempt ",
    "enforce ",
    ".",
    ",",
    "#",
    "😀",
    "é",
    "\u{0}",
    "\u{feff}",
    "\t",
    "1Gi",
    "99999999999999999999",
    "((((((((((((((((((((",
];

fn pieces_text(pieces: &[usize]) -> String {
    pieces.iter().map(|&i| PIECES[i % PIECES.len()]).collect()
}

/// A position from two random numbers: often inside the text, sometimes past its end.
fn position(text: &str, (line, character): (u16, u16)) -> Value {
    let lines: Vec<&str> = text.split('\n').collect();
    let line = line as usize % (lines.len() + 2);
    let width = lines.get(line).map_or(0, |l| l.encode_utf16().count());
    let character = character as usize % (width + 3);
    json!({ "line": line, "character": character })
}

fn utf16_offset_to_byte(line_text: &str, character: usize) -> usize {
    let mut units = 0;
    for (i, c) in line_text.char_indices() {
        if units + c.len_utf16() > character {
            return i;
        }
        units += c.len_utf16();
    }
    line_text.len()
}

/// Applies an LSP range edit to `text` the way the protocol defines it (positions past a
/// line's end clamp to it), so the test knows what the server holds.
fn apply(text: &mut String, start: &Value, end: &Value, new: &str) {
    let byte = |text: &str, position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let mut offset = 0;
        for (i, line_text) in text.split('\n').enumerate() {
            if i == line {
                return offset + utf16_offset_to_byte(line_text, character);
            }
            offset += line_text.len() + 1;
        }
        text.len()
    };
    let from = byte(text, start);
    let to = byte(text, end).max(from);
    text.replace_range(from..to, new);
}

#[derive(Clone, Debug)]
enum Action {
    /// Replace the range between two positions (equal: an insertion) by pieces.
    Edit((u16, u16), Option<(u16, u16)>, Vec<usize>),
    /// Replace the whole text.
    Replace(Vec<usize>),
    /// One of the request kinds, at a position.
    Request(u8, (u16, u16)),
}

fn action() -> impl Strategy<Value = Action> {
    let at = (any::<u16>(), any::<u16>());
    prop_oneof![
        8 => (at, proptest::option::of(at), vec(any::<usize>(), 0..4))
            .prop_map(|(start, end, pieces)| Action::Edit(start, end, pieces)),
        1 => vec(any::<usize>(), 0..60).prop_map(Action::Replace),
        9 => (0u8..11, at).prop_map(|(kind, at)| Action::Request(kind, at)),
    ]
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One session: the quickstart guardrail opened, then `actions` in turn.
fn session(actions: &[Action]) -> Result<Duration, TestCaseError> {
    let (_dir, root) = project();
    let mut server = Server::start(&root);
    server.initialize();
    let uri = format!("{}/fuzz.guard", server.root_uri);
    let doc = json!({ "uri": uri });
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/quickstart/guardrails/images.guard"),
    )
    .expect("the quickstart example");
    open(&mut server, &uri, &text);
    let mut version = 1;
    let mut slowest = Duration::ZERO;
    for action in actions {
        let change = match action {
            Action::Edit(start, end, pieces) => {
                let start = position(&text, *start);
                let end = end.map_or_else(|| start.clone(), |end| position(&text, end));
                let key = |p: &Value| (p["line"].as_u64(), p["character"].as_u64());
                let (start, end) = if key(&end) < key(&start) {
                    (end, start)
                } else {
                    (start, end)
                };
                let new = pieces_text(pieces);
                apply(&mut text, &start, &end, &new);
                Some(json!({ "range": { "start": start, "end": end }, "text": new }))
            }
            Action::Replace(pieces) => {
                text = pieces_text(pieces);
                Some(json!({ "text": text }))
            }
            Action::Request(..) => None,
        };
        if let Some(change) = change {
            version += 1;
            server.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [change] }),
            );
            continue;
        }
        let Action::Request(kind, at) = action else {
            unreachable!()
        };
        let at = position(&text, *at);
        let (method, params) = match kind {
            0 => (
                "textDocument/hover",
                json!({ "textDocument": doc, "position": at }),
            ),
            1 => (
                "textDocument/completion",
                json!({ "textDocument": doc, "position": at }),
            ),
            2 => (
                "textDocument/definition",
                json!({ "textDocument": doc, "position": at }),
            ),
            3 => (
                "textDocument/references",
                json!({ "textDocument": doc, "position": at, "context": { "includeDeclaration": true } }),
            ),
            4 => (
                "textDocument/documentSymbol",
                json!({ "textDocument": doc }),
            ),
            5 => (
                "textDocument/formatting",
                json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
            ),
            6 => (
                "textDocument/codeAction",
                json!({ "textDocument": doc, "range": { "start": at, "end": at }, "context": { "diagnostics": [] } }),
            ),
            7 => ("textDocument/codeLens", json!({ "textDocument": doc })),
            8 => (
                "textDocument/semanticTokens/full",
                json!({ "textDocument": doc }),
            ),
            9 => (
                "workspace/executeCommand",
                json!({ "command": "guardrailc.showCel", "arguments": [uri, at] }),
            ),
            _ => (
                "workspace/executeCommand",
                json!({ "command": "guardrailc.showRego", "arguments": [uri, at] }),
            ),
        };
        let (reply, took) = server.request(method, params.clone());
        slowest = slowest.max(took);
        // An error answers a bad request (Show CEL outside a guardrail), never a failure
        // inside the server.
        if let Some(error) = reply.get("error") {
            prop_assert_ne!(
                &error["code"],
                &json!(-32603),
                "{} {} failed inside the server: {}\ntext: {:?}",
                method,
                params,
                reply,
                text
            );
        }
        server.assert_clean_stderr();
    }
    server.finish();
    Ok(slowest)
}

#[test]
fn random_edits_and_requests_never_crash_or_stall_the_server() {
    let cases = env_number("GUARDRAILC_LSP_FUZZ_CASES", 2);
    let steps = env_number("GUARDRAILC_LSP_FUZZ_STEPS", 150) as usize;
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        // A session is a process; shrinking re-runs many of them.
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let slowest = std::cell::Cell::new(Duration::ZERO);
    runner
        .run(&vec(action(), steps..=steps), |actions| {
            slowest.set(slowest.get().max(session(&actions)?));
            Ok(())
        })
        .unwrap();
    eprintln!(
        "lsp fuzz: {cases} sessions of {steps} steps, slowest request {:?}",
        slowest.get()
    );
}
