//! `guardrailc lsp` as an editor runs it: a process speaking LSP over stdio. Each reply is
//! an insta snapshot, with the temporary project folder written as `ROOT`.

mod support;

use guardrailc_testkit::test_support::pinned_image_fixture;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::LazyLock;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

struct Editor {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    root_uri: String,
}

impl Editor {
    fn start(root: &std::path::Path) -> Editor {
        let mut child = support::command()
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let messages = support::lsp_messages(stdout);
        let root_uri = format!("file://{}", root.display());
        Editor {
            child,
            stdin,
            messages,
            next_id: 1,
            root_uri,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .expect("the server reads");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its reply, skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self
                .messages
                .recv_timeout(TIMEOUT)
                .expect("a reply in time");
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(TIMEOUT)
                .expect("diagnostics in time");
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].clone();
            }
        }
    }

    /// A reply with the project folder written as `ROOT`.
    fn redact(&self, value: &Value) -> String {
        serde_json::to_string_pretty(value)
            .expect("JSON prints")
            .replace(&self.root_uri, "file:///ROOT")
    }
}

const SOURCE: &str = "# Images are pinned.
guardrail pinned-images {
  title    \"Images are pinned\"
  severity high
  match workloads
  param allowed: list<string> = [\"registry.example.com/\"]

  deny for c in pod.all_containers
    let img = c.imagee
    when img.ends_with(\":latest\") and not any r in params.allowed: img.starts_with(r)
    message \"container {c.name} uses {img} — not pinned\"
}
";

/// Cases for SOURCE's guardrail: the second expects `allow` of an unpinned image, so it fails.
static FIXTURE: LazyLock<String> = LazyLock::new(|| pinned_image_fixture("pinned-images"));

fn position(text: &str, needle: &str, nth: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .expect("the needle occurs")
        .0;
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

#[test]
fn an_editor_session_over_stdio() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    std::fs::write(
        root.join("guardrails.toml"),
        "sources = [\"*.guard\"]\ntargets = [\"vap\", \"opa\"]\n",
    )
    .unwrap();
    std::fs::write(root.join("images.guard"), SOURCE).unwrap();
    std::fs::create_dir(root.join("tests")).unwrap();
    std::fs::write(root.join("tests/images.yaml"), &*FIXTURE).unwrap();
    let mut editor = Editor::start(&root);
    let uri = format!("{}/images.guard", editor.root_uri);
    let doc = json!({ "uri": uri });

    let init = editor.request(
        "initialize",
        json!({ "processId": null, "rootUri": editor.root_uri, "capabilities": {} }),
    );
    insta::assert_snapshot!("initialize", editor.redact(&init["result"]["capabilities"]));
    editor.notify("initialized", json!({}));

    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "guard", "version": 1, "text": SOURCE } }));
    let diagnostics = editor.diagnostics_for(&uri);
    insta::assert_snapshot!("did_open_diagnostics", editor.redact(&diagnostics));

    // The fixture file's cases cannot run while the project does not build.
    let fixture_uri = format!("{}/tests/images.yaml", editor.root_uri);
    let fixture_doc = json!({ "uri": fixture_uri });
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": fixture_uri, "languageId": "yaml", "version": 1, "text": FIXTURE.as_str() } }));
    assert_eq!(
        editor.diagnostics_for(&fixture_uri),
        json!([{
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 24 } },
            "severity": 1,
            "source": "guardrailc test",
            "message": "the cases did not run: the project does not build (1 error)"
        }]),
        "the problem sits on the `guardrail:` line"
    );

    let action = editor.request("textDocument/codeAction", json!({
        "textDocument": doc,
        "range": { "start": position(SOURCE, "imagee", 0), "end": position(SOURCE, "imagee", 0) },
        "context": { "diagnostics": [] }
    }));
    insta::assert_snapshot!("code_action", editor.redact(&action["result"]));

    // Fix the typo with an incremental edit: delete the second `e` of `imagee`.
    let typo_end = position(SOURCE, "imagee", 0);
    let (line, character) = (
        typo_end["line"].as_u64().unwrap(),
        typo_end["character"].as_u64().unwrap() + 5,
    );
    editor.notify("textDocument/didChange", json!({
        "textDocument": { "uri": uri, "version": 2 },
        "contentChanges": [{ "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character + 1 } }, "text": "" }]
    }));
    let fixed = SOURCE.replace("imagee", "image");
    assert_eq!(
        editor.diagnostics_for(&uri),
        json!([]),
        "the fix leaves no diagnostic"
    );

    // Saved, the fixture runs on the fixed buffer: the second case fails.
    editor.notify(
        "textDocument/didSave",
        json!({ "textDocument": fixture_doc }),
    );
    let failures = editor.diagnostics_for(&fixture_uri);
    insta::assert_snapshot!("fixture_failures", editor.redact(&failures));
    let expecting_denial = FIXTURE.replace(
        "pass\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: [{name: app, image: \"nginx:latest\"}]}}\n    expect: allow",
        "pass\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: [{name: app, image: \"nginx:latest\"}]}}\n    expect: deny",
    );
    assert_ne!(expecting_denial, *FIXTURE);
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": fixture_uri, "version": 2 },
            "contentChanges": [{ "text": expecting_denial }]
        }),
    );
    editor.notify(
        "textDocument/didSave",
        json!({ "textDocument": fixture_doc }),
    );
    assert_eq!(
        editor.diagnostics_for(&fixture_uri),
        json!([]),
        "a passing fixture clears its diagnostics"
    );

    // The fixture's `guardrail:` leads to the declaration, and the declaration's
    // references include the fixture.
    let definition = editor.request(
        "textDocument/definition",
        json!({ "textDocument": fixture_doc, "position": position(&FIXTURE, "images", 0) }),
    );
    insta::assert_snapshot!(
        "definition_from_fixture",
        editor.redact(&definition["result"])
    );
    let references = editor.request("textDocument/references", json!({
        "textDocument": doc, "position": position(SOURCE, "pinned-images", 0), "context": { "includeDeclaration": true }
    }));
    insta::assert_snapshot!(
        "references_of_guardrail",
        editor.redact(&references["result"])
    );

    let hover = editor.request(
        "textDocument/hover",
        json!({ "textDocument": doc, "position": position(&fixed, "mage\n", 0) }),
    );
    insta::assert_snapshot!("hover_field", editor.redact(&hover["result"]));
    let hover = editor.request(
        "textDocument/hover",
        json!({ "textDocument": doc, "position": position(&fixed, "pinned-images", 0) }),
    );
    insta::assert_snapshot!("hover_guardrail", editor.redact(&hover["result"]));

    // Type `c.` on a new clause line and ask for completion after the dot.
    let insert_at = position(&fixed, "    message", 0);
    editor.notify("textDocument/didChange", json!({
        "textDocument": { "uri": uri, "version": 3 },
        "contentChanges": [{ "range": { "start": insert_at, "end": insert_at }, "text": "    and c.\n" }]
    }));
    let after_dot = json!({ "line": insert_at["line"], "character": 10 });
    let completion = editor.request(
        "textDocument/completion",
        json!({ "textDocument": doc, "position": after_dot }),
    );
    let labels: Vec<String> = completion["result"]
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|item| {
            format!(
                "{} ({})",
                item["label"].as_str().unwrap(),
                item["detail"].as_str().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!("completion_after_dot", labels.join("\n"));
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 4 },
            "contentChanges": [{ "text": fixed }]
        }),
    );

    let definition = editor.request(
        "textDocument/definition",
        json!({ "textDocument": doc, "position": position(&fixed, "img", 1) }),
    );
    insta::assert_snapshot!("definition_of_let", editor.redact(&definition["result"]));
    let references = editor.request("textDocument/references", json!({
        "textDocument": doc, "position": position(&fixed, "allowed", 0), "context": { "includeDeclaration": true }
    }));
    insta::assert_snapshot!("references_of_param", editor.redact(&references["result"]));

    let messy = fixed
        .replace("  match workloads\n", "  match   workloads ")
        .replace("    message", "  message");
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 5 },
            "contentChanges": [{ "text": messy }]
        }),
    );
    let formatting = editor.request(
        "textDocument/formatting",
        json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(
        formatting["result"][0]["newText"],
        json!(fixed),
        "formatting restores the canonical layout"
    );
    insta::assert_snapshot!(
        "formatting_range",
        editor.redact(&formatting["result"][0]["range"])
    );
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 6 },
            "contentChanges": [{ "text": fixed }]
        }),
    );

    let lenses = editor.request("textDocument/codeLens", json!({ "textDocument": doc }));
    insta::assert_snapshot!("code_lens", editor.redact(&lenses["result"]));
    let lens = &lenses["result"][0]["command"];
    let cel = editor.request(
        "workspace/executeCommand",
        json!({ "command": lens["command"], "arguments": lens["arguments"] }),
    );
    insta::assert_snapshot!("show_cel", cel["result"].as_str().expect("the CEL as text"));
    let rego = editor.request(
        "workspace/executeCommand",
        json!({
            "command": "guardrailc.showRego", "arguments": [uri, position(&fixed, "deny", 0)]
        }),
    );
    insta::assert_snapshot!(
        "show_rego",
        rego["result"].as_str().expect("the Rego as text")
    );

    let symbols = editor.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": doc }),
    );
    insta::assert_snapshot!("document_symbols", editor.redact(&symbols["result"]));

    // A file created on disk joins the project: its guardrail id clashes with the open one,
    // reported on the later file with the first definition as a related location.
    let copy = root.join("copy.guard");
    std::fs::write(&copy, "guardrail pinned-images {\n  title \"Copy\"\n}\n").unwrap();
    let copy_uri = format!("{}/copy.guard", editor.root_uri);
    editor.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": copy_uri, "type": 1 }] }),
    );
    let copy_diagnostics = editor.diagnostics_for(&copy_uri);
    insta::assert_snapshot!("created_file_diagnostics", editor.redact(&copy_diagnostics));
    let clash = editor.diagnostics_for(&uri);
    insta::assert_snapshot!("duplicate_id_diagnostics", editor.redact(&clash));
    std::fs::remove_file(&copy).unwrap();
    editor.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": copy_uri, "type": 3 }] }),
    );
    assert_eq!(
        editor.diagnostics_for(&copy_uri),
        json!([]),
        "a deleted file is cleared"
    );
    assert_eq!(editor.diagnostics_for(&uri), json!([]), "the clash is gone");

    let shutdown = editor.request("shutdown", json!(null));
    assert_eq!(shutdown["result"], json!(null));
    editor.notify("exit", json!(null));
    let status = editor.child.wait().expect("the server exits");
    assert!(status.success());
}

const WIDGET_CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
                description: How many parts the widget has.
              colour:
                type: string
";

const WIDGET_CONFIG: &str = "[[crds]]
kind = \"Widget\"
group = \"example.com\"
version = \"v1\"
resource = \"widgets\"
schema = \"widget-crd.yaml\"
";

const WIDGET_GUARD: &str = "guardrail small-widgets {
  title \"Widgets are small\"
  match kinds [Widget]
  deny when object.spec.size > 10
    message \"too big\"
}
";

/// The labels of a completion reply, sorted.
fn completion_labels(reply: &Value) -> Vec<String> {
    let mut labels: Vec<String> = reply["result"]
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|item| item["label"].as_str().expect("a label").to_string())
        .collect();
    labels.sort();
    labels
}

#[test]
fn custom_resources_and_config_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    std::fs::write(root.join("guardrails.toml"), WIDGET_CONFIG).unwrap();
    std::fs::write(root.join("widget-crd.yaml"), WIDGET_CRD).unwrap();
    std::fs::write(root.join("w.guard"), WIDGET_GUARD).unwrap();
    let mut editor = Editor::start(&root);
    let uri = format!("{}/w.guard", editor.root_uri);
    let config_uri = format!("{}/guardrails.toml", editor.root_uri);
    let crd_uri = format!("{}/widget-crd.yaml", editor.root_uri);
    let doc = json!({ "uri": uri });
    editor.request(
        "initialize",
        json!({ "processId": null, "rootUri": editor.root_uri, "capabilities": {} }),
    );
    editor.notify("initialized", json!({}));

    // The custom kind is known from the start: no `unknown kind`, and its fields resolve.
    // guardrails.toml has a (so far empty) list of diagnostics of its own.
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "guard", "version": 1, "text": WIDGET_GUARD } }));
    assert_eq!(editor.diagnostics_for(&config_uri), json!([]));
    assert_eq!(editor.diagnostics_for(&uri), json!([]));
    let hover = editor.request(
        "textDocument/hover",
        json!({ "textDocument": doc, "position": position(WIDGET_GUARD, "size", 0) }),
    );
    insta::assert_snapshot!("hover_custom_field", editor.redact(&hover["result"]));
    let after_dot = position(WIDGET_GUARD, "size", 0);
    let completion = editor.request(
        "textDocument/completion",
        json!({ "textDocument": doc, "position": after_dot }),
    );
    assert_eq!(completion_labels(&completion), ["colour", "size"]);

    // A broken guardrails.toml is reported on itself; the project falls back to the
    // defaults, which know no Widget.
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": config_uri, "languageId": "toml", "version": 1, "text": WIDGET_CONFIG } }));
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": config_uri, "version": 2 },
            "contentChanges": [{
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "text": "targets = [\"kyverno\"]\n"
            }]
        }),
    );
    let config_errors = editor.diagnostics_for(&config_uri);
    insta::assert_snapshot!("config_error", editor.redact(&config_errors));
    let fallback = editor.diagnostics_for(&uri);
    assert_eq!(
        fallback[0]["code"],
        json!("G0210"),
        "{}",
        editor.redact(&fallback)
    );

    // A schema file that cannot be read is reported at its path in guardrails.toml.
    let missing = WIDGET_CONFIG.replace("widget-crd.yaml", "missing.yaml");
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": config_uri, "version": 3 },
            "contentChanges": [{ "text": missing }]
        }),
    );
    let unreadable = editor.diagnostics_for(&config_uri);
    assert_eq!(
        unreadable[0]["range"],
        json!({ "start": { "line": 5, "character": 9 }, "end": { "line": 5, "character": 23 } }),
        "{}",
        editor.redact(&unreadable)
    );
    assert!(unreadable[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("cannot read `"));

    // Fixed, both files are clean again.
    editor.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": config_uri, "version": 4 },
            "contentChanges": [{ "text": WIDGET_CONFIG }]
        }),
    );
    assert_eq!(editor.diagnostics_for(&config_uri), json!([]));
    assert_eq!(editor.diagnostics_for(&uri), json!([]));

    // The CRD file changes on disk: its new field completes.
    std::fs::write(
        root.join("widget-crd.yaml"),
        format!("{WIDGET_CRD}              weight:\n                type: integer\n"),
    )
    .unwrap();
    editor.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": crd_uri, "type": 2 }] }),
    );
    let completion = editor.request(
        "textDocument/completion",
        json!({ "textDocument": doc, "position": after_dot }),
    );
    assert_eq!(completion_labels(&completion), ["colour", "size", "weight"]);

    editor.request("shutdown", json!(null));
    editor.notify("exit", json!(null));
    assert!(editor.child.wait().expect("the server exits").success());
}

#[test]
fn library_sets_named_in_guardrails_toml_are_part_of_the_project() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    std::fs::write(
        root.join("guardrails.toml"),
        "sources = [\"mine.guard\", \"@library/multi-tenancy\"]\n",
    )
    .unwrap();
    // The id of a multi-tenancy guardrail: the clash shows only if the embedded set is read.
    let text = "guardrail loadbalancer-namespaces {\n  title \"Mine\"\n  match kinds [Service]\n  deny when object.spec.type == \"LoadBalancer\"\n    message \"no\"\n}\n";
    std::fs::write(root.join("mine.guard"), text).unwrap();
    let mut editor = Editor::start(&root);
    let uri = format!("{}/mine.guard", editor.root_uri);
    editor.request(
        "initialize",
        json!({ "processId": null, "rootUri": editor.root_uri, "capabilities": {} }),
    );
    editor.notify("initialized", json!({}));
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "guard", "version": 1, "text": text } }));
    let diagnostics = editor.diagnostics_for(&uri);
    let messages: Vec<&str> = diagnostics
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("loadbalancer-namespaces")),
        "{messages:?}"
    );
    editor.request("shutdown", json!(null));
    editor.notify("exit", json!(null));
}

/// A guardrail `id` that passes every check.
fn plain_guardrail(id: &str) -> String {
    format!(
        "guardrail {id} {{\n  title \"t\"\n  match kinds [Pod]\n  deny when object.metadata.name == \"x\"\n    message \"m\"\n}}\n"
    )
}

/// The codes and messages of a `publishDiagnostics` list.
fn codes_of(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            let message = d["message"].as_str().unwrap_or("");
            // Without the help that follows the message.
            let message = message.split("\nhelp: ").next().unwrap_or(message);
            format!("{} {message}", d["code"].as_str().unwrap_or(""))
        })
        .collect()
}

#[test]
fn project_level_errors_reach_the_files_they_point_into_and_leave_when_fixed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    let config = "sources = [\"*.guard\"]\n[environments.dev]\n[environments.prod]\n[environments.prod.guardrails.no-such-guardrail]\nenforcement = \"deny\"\n";
    let needs_limit = "guardrail needs-limit {\n  title \"Replicas are limited\"\n  match kinds [Deployment]\n  param limit: int\n  deny when object.spec.replicas > params.limit\n    message \"too many replicas\"\n}\n";
    std::fs::write(root.join("guardrails.toml"), config).unwrap();
    std::fs::write(root.join("a.guard"), plain_guardrail("dup-check")).unwrap();
    std::fs::write(root.join("b.guard"), needs_limit).unwrap();
    std::fs::write(root.join("c.guard"), plain_guardrail("dup-check")).unwrap();
    let mut editor = Editor::start(&root);
    let uri = |name: &str| format!("{}/{name}", editor.root_uri);
    let (a, b, c, toml) = (
        uri("a.guard"),
        uri("b.guard"),
        uri("c.guard"),
        uri("guardrails.toml"),
    );
    editor.request(
        "initialize",
        json!({ "processId": null, "rootUri": editor.root_uri, "capabilities": {} }),
    );
    editor.notify("initialized", json!({}));

    // Only a.guard is open; the other files get what `guardrailc build` reports on them.
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": a, "languageId": "guard", "version": 1, "text": plain_guardrail("dup-check") } }));
    assert_eq!(
        codes_of(&editor.diagnostics_for(&b)),
        [
            "G0319 param `limit` has no default and no value in environment `dev`",
            "G0319 param `limit` has no default and no value in environment `prod`",
        ]
    );
    let duplicate = editor.diagnostics_for(&c);
    assert_eq!(
        codes_of(&duplicate),
        ["G0201 a guardrail named `dup-check` already exists"]
    );
    assert_eq!(
        duplicate[0]["relatedInformation"][0]["location"]["uri"],
        json!(a),
        "the first definition, in the other file"
    );
    assert_eq!(
        codes_of(&editor.diagnostics_for(&toml)),
        ["G0401 environment `prod` configures an unknown guardrail `no-such-guardrail`"]
    );

    // Fixed in the buffers, each file's diagnostics are cleared.
    let with_default = needs_limit.replace("param limit: int", "param limit: int = 10");
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": b, "languageId": "guard", "version": 1, "text": needs_limit } }));
    editor.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": b, "version": 2 }, "contentChanges": [{ "text": with_default }] }),
    );
    assert_eq!(editor.diagnostics_for(&b), json!([]));
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": toml, "languageId": "toml", "version": 1, "text": config } }));
    editor.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": toml, "version": 2 }, "contentChanges": [{ "text": config.replace("no-such-guardrail", "needs-limit") }] }),
    );
    assert_eq!(editor.diagnostics_for(&toml), json!([]));
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": c, "languageId": "guard", "version": 1, "text": plain_guardrail("dup-check") } }));
    editor.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": c, "version": 2 }, "contentChanges": [{ "text": plain_guardrail("other-check") }] }),
    );
    assert_eq!(editor.diagnostics_for(&c), json!([]));

    editor.request("shutdown", json!(null));
    editor.notify("exit", json!(null));
    assert!(editor.child.wait().expect("the server exits").success());
}

/// Which sources are read, and in which order, made visible: for every two files the tree
/// holds, both declare guardrail `p-X-Y`, so the later of the two is told the id already
/// exists. The pairs (later file, id) give the order of every two sources; a file that is
/// not a source gets no pair. Every file also declares an id of the `multi-tenancy` library
/// set, which is reported on the file when the set is read before it.
#[test]
fn the_command_line_and_the_server_read_the_same_sources_in_the_same_order() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().canonicalize().expect("a real path");
    std::fs::write(
        root.join("guardrails.toml"),
        "sources = [\"**/*.guard\", \"@library/multi-tenancy\"]\nout = \"./dist/\"\ntargets = [\"vap\"]\n",
    )
    .unwrap();
    let files = [
        ("b.guard", "b"),
        ("a/z.guard", "z"),
        ("nested/out/n.guard", "n"),
        // Never sources: the default and the configured output folders, Node's and Rust's
        // build folders, hidden folders.
        ("out/o.guard", "o"),
        ("dist/d.guard", "d"),
        ("node_modules/pkg/m.guard", "m"),
        ("target/t.guard", "t"),
        (".hidden/h.guard", "h"),
    ];
    for (path, tag) in files {
        let mut text = plain_guardrail("loadbalancer-namespaces");
        for (_, other) in files.iter().filter(|(_, other)| other != &tag) {
            let (x, y) = if tag < *other {
                (tag, *other)
            } else {
                (*other, tag)
            };
            text.push_str(&plain_guardrail(&format!("p-{x}-{y}")));
        }
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // Sources after the library, by path: a/z.guard, b.guard, nested/out/n.guard.
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("a/z.guard", "loadbalancer-namespaces"),
        ("b.guard", "loadbalancer-namespaces"),
        ("b.guard", "p-b-z"),
        ("nested/out/n.guard", "loadbalancer-namespaces"),
        ("nested/out/n.guard", "p-n-z"),
        ("nested/out/n.guard", "p-b-n"),
    ]
    .into_iter()
    .map(|(file, id)| (file.to_string(), id.to_string()))
    .collect();
    let duplicate = |file: &str, message: &str| {
        let id = message
            .strip_prefix("a guardrail named `")?
            .strip_suffix("` already exists")?;
        Some((file.to_string(), id.to_string()))
    };

    let output = support::guardrailc(&["build", root.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let by_cli: std::collections::BTreeSet<(String, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| duplicate(d["location"]["file"].as_str()?, d["message"].as_str()?))
        .collect();
    assert_eq!(by_cli, expected, "{report:#}");

    let mut editor = Editor::start(&root);
    editor.request(
        "initialize",
        json!({ "processId": null, "rootUri": editor.root_uri, "capabilities": {} }),
    );
    editor.notify("initialized", json!({}));
    let opened = format!("{}/b.guard", editor.root_uri);
    let text = std::fs::read_to_string(root.join("b.guard")).unwrap();
    editor.notify("textDocument/didOpen", json!({ "textDocument": { "uri": opened, "languageId": "guard", "version": 1, "text": text } }));
    // One run publishes every file of the project: wait for the three sources and
    // guardrails.toml, then for anything else that comes (a file that is not a source).
    let mut by_server = std::collections::BTreeSet::new();
    let mut published = std::collections::BTreeSet::new();
    let prefix = format!("{}/", editor.root_uri);
    let wanted = [
        "a/z.guard",
        "b.guard",
        "nested/out/n.guard",
        "guardrails.toml",
    ];
    loop {
        let seen_all = wanted.iter().all(|file| published.contains(*file));
        let wait = if seen_all {
            Duration::from_millis(500)
        } else {
            TIMEOUT
        };
        let Ok(message) = editor.messages.recv_timeout(wait) else {
            assert!(seen_all, "diagnostics in time: {published:?}");
            break;
        };
        if message["method"] != "textDocument/publishDiagnostics" {
            continue;
        }
        let uri = message["params"]["uri"].as_str().unwrap().to_string();
        let file = uri.strip_prefix(&prefix).expect("a file of the project");
        published.insert(file.to_string());
        for d in message["params"]["diagnostics"].as_array().unwrap() {
            let text = d["message"].as_str().unwrap();
            by_server.extend(duplicate(file, text.split("\nhelp: ").next().unwrap()));
        }
    }
    assert_eq!(
        published,
        wanted.iter().map(|file| file.to_string()).collect(),
        "only the sources and guardrails.toml"
    );
    assert_eq!(by_server, by_cli);
    editor.request("shutdown", json!(null));
    editor.notify("exit", json!(null));
}
