//! What the command-line tests share: the built binary, run with the clock fixed, and the
//! quickstart example. Each test file uses some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `guardrailc` binary under test, with today's date fixed (exemption expiry).
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardrailc"));
    command.env("GUARDRAILC_TODAY", "2026-11-28");
    command
}

/// Runs `guardrailc ARGS` to completion.
pub fn guardrailc(args: &[&str]) -> Output {
    command().args(args).output().expect("the binary runs")
}

/// `examples/quickstart`.
pub fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
