//! Where the reference data beside the repository lives: `../shared` (the PSA fixtures, the
//! Gatekeeper library suites, the OpenAPI documents and the engine facts), or the folder
//! the environment variable `GUARDRAILC_SHARED` names. Tests that need it report that they
//! were skipped when it is missing, so a clone with nothing beside it still passes.

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the shared data is.
pub const SHARED_DIR_VARIABLE: &str = "GUARDRAILC_SHARED";

/// The shared data folder, if it exists: `$GUARDRAILC_SHARED` when set (and not empty),
/// otherwise `shared` beside the repository root.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os(SHARED_DIR_VARIABLE) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repository_root().join("../shared"),
    };
    dir.is_dir().then_some(dir)
}

/// The repository root: the testkit crate's parent folder.
fn repository_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A file or folder inside the shared folder, when it exists; otherwise prints that `what`
/// was skipped (so a test run on a bare clone says so) and returns `None`.
pub fn shared_path(relative: &str, what: &str) -> Option<PathBuf> {
    match shared_dir().map(|dir| dir.join(relative)) {
        Some(path) if path.exists() => Some(path),
        _ => {
            // Written to the standard error stream itself, not through `eprintln!`, which
            // the test harness captures: `cargo test` shows the line for a passing test too.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {what} (needs `{relative}` in the shared folder: set {SHARED_DIR_VARIABLE} or put `shared/` beside the repository)"
            );
            None
        }
    }
}
