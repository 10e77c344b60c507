//! Every request type on a large file, through the whole server (framing, tower-lsp-server,
//! the handlers) in process: a file just under `MAX_DOCUMENT` (target: every request under
//! one second) and a 5 MB file, which the server declines (its requests answer at once).
//! The numbers are in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

const GUARDRAIL: &str = "guardrail limits-ID {
  title    \"Containers set a bounded memory limit\"
  severity medium
  match workloads
  exclude namespaces [\"kube-system\"]
  param max_memory: quantity = 4Gi

  deny for c in pod.all_containers
    let limit = c.resources.limits[\"memory\"]
    when limit > params.max_memory or c.securityContext.privileged == true
    message \"container {c.name} asks for {limit}\"
}

";

/// Copies of one guardrail with distinct ids, up to `bytes`.
fn file_of(bytes: usize) -> String {
    let mut text = String::new();
    let mut i = 0;
    loop {
        let next = GUARDRAIL.replace("ID", &i.to_string());
        if text.len() + next.len() > bytes {
            return text;
        }
        text.push_str(&next);
        i += 1;
    }
}

struct Client {
    runtime: tokio::runtime::Runtime,
    to_server: DuplexStream,
    from_server: BufReader<DuplexStream>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (to_server, server_input) = tokio::io::duplex(1 << 20);
        let (server_output, from_server) = tokio::io::duplex(1 << 20);
        runtime.spawn(guardrailc_lsp::serve(
            server_input,
            server_output,
            guardrailc_testkit::test_support::TODAY,
            guardrailc_lsp::Library::default(),
        ));
        Client {
            runtime,
            to_server,
            from_server: BufReader::new(from_server),
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.runtime.block_on(async {
            self.to_server.write_all(frame.as_bytes()).await.unwrap();
        });
    }

    fn receive(&mut self) -> Value {
        self.runtime.block_on(async {
            let mut length = 0;
            loop {
                let mut line = String::new();
                self.from_server.read_line(&mut line).await.unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            self.from_server.read_exact(&mut body).await.unwrap();
            serde_json::from_slice(&body).unwrap()
        })
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Waits for the diagnostics of `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].clone();
            }
        }
    }
}

fn every_request(c: &mut Criterion, label: &str, text: String, declined: bool) {
    let mut client = Client::start();
    client.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    client.notify("initialized", json!({}));
    let uri = "file:///bench/large.guard";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "guard", "version": 1, "text": text } }),
    );
    client.diagnostics(uri);
    // In the middle of the file, on `c.securityContext`.
    let middle = text.len() / 2;
    let line = text[..middle].matches('\n').count();
    let line_start = text[..middle].rfind('\n').map_or(0, |i| i + 1);
    let on_line = &text[line_start..];
    let line = line
        + on_line
            .lines()
            .position(|l| l.contains("c.securityContext"))
            .unwrap_or(0);
    let character = 30;
    let doc = json!({ "uri": uri });
    let at = json!({ "line": line, "character": character });
    let requests = [
        (
            "hover",
            "textDocument/hover",
            json!({ "textDocument": doc, "position": at }),
        ),
        (
            "completion",
            "textDocument/completion",
            json!({ "textDocument": doc, "position": at }),
        ),
        (
            "definition",
            "textDocument/definition",
            json!({ "textDocument": doc, "position": at }),
        ),
        (
            "references",
            "textDocument/references",
            json!({ "textDocument": doc, "position": at, "context": { "includeDeclaration": true } }),
        ),
        (
            "document symbols",
            "textDocument/documentSymbol",
            json!({ "textDocument": doc }),
        ),
        (
            "formatting",
            "textDocument/formatting",
            json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
        ),
        (
            "code actions",
            "textDocument/codeAction",
            json!({ "textDocument": doc, "range": { "start": at, "end": at }, "context": { "diagnostics": [] } }),
        ),
        (
            "code lenses",
            "textDocument/codeLens",
            json!({ "textDocument": doc }),
        ),
        (
            "semantic tokens",
            "textDocument/semanticTokens/full",
            json!({ "textDocument": doc }),
        ),
        (
            "show CEL",
            "workspace/executeCommand",
            json!({ "command": "guardrailc.showCel", "arguments": [uri, at] }),
        ),
        (
            "show Rego",
            "workspace/executeCommand",
            json!({ "command": "guardrailc.showRego", "arguments": [uri, at] }),
        ),
    ];
    let mut group = c.benchmark_group(label);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, method, params) in requests {
        group.bench_function(name, |b| b.iter(|| client.request(method, params.clone())));
    }
    if declined {
        // Edits to a declined file publish nothing.
        group.finish();
        return;
    }
    // An edit, and the diagnostics of the whole project after it (after the 150 ms pause
    // the server waits for typing to stop).
    let mut version = 1;
    group.bench_function("edit and diagnostics", |b| {
        b.iter(|| {
            version += 1;
            let edit = if version % 2 == 0 { "x" } else { "" };
            let end = if version % 2 == 0 { 0 } else { 1 };
            client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": end } }, "text": edit }] }),
            );
            client.diagnostics(uri)
        })
    });
    group.finish();
}

fn just_under_the_limit(c: &mut Criterion) {
    every_request(
        c,
        "file just under the size limit",
        file_of(guardrailc_lsp::MAX_DOCUMENT),
        false,
    );
}

fn five_megabytes(c: &mut Criterion) {
    every_request(c, "5 MB file (declined)", file_of(5 * 1024 * 1024), true);
}

criterion_group!(benches, just_under_the_limit, five_megabytes);
criterion_main!(benches);
