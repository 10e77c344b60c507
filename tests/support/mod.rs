//! What the command-line tests share: the built binary, run with the clock fixed, and the
//! quickstart example. Each test file uses some of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};

/// The `guardrailc` binary under test, with today's date fixed (exemption expiry).
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardrailc"));
    command.env(
        "GUARDRAILC_TODAY",
        guardrailc_testkit::test_support::TODAY_ISO,
    );
    command
}

/// Runs `guardrailc ARGS` to completion.
pub fn guardrailc(args: &[&str]) -> Output {
    command().args(args).output().expect("the binary runs")
}

/// Starts `command` with its standard streams piped: the child, and its input to write to.
pub fn spawn_piped(command: &mut Command) -> (Child, ChildStdin) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    let input = child.stdin.take().unwrap();
    (child, input)
}

/// Runs `command` to completion with `stdin` as its whole input.
pub fn output_with_stdin(command: &mut Command, stdin: &str) -> Output {
    let (child, mut input) = spawn_piped(command);
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// `examples/quickstart`.
pub fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The messages a language server writes to `stdout` (`Content-Length` framed JSON), read on
/// a thread of their own; the channel closes when the stream ends or breaks.
pub fn lsp_messages(stdout: ChildStdout) -> Receiver<serde_json::Value> {
    let (sender, messages) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("every message has a Content-Length")];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let message = serde_json::from_slice(&body).expect("the server writes JSON");
            if sender.send(message).is_err() {
                return;
            }
        }
    });
    messages
}
