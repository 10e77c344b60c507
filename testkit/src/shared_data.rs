//! Where the reference data that lives beside the repository is found: the Kubernetes and
//! Gatekeeper test suites (`external/`) and the recorded behaviour of the real engines
//! (`engine-facts/`). Nothing here is copied into the repository.
//!
//! One setting: the environment variable `GUARDRAILC_SHARED` (which `.ci/run` sets), else the
//! folder `shared` beside the repository. A clone with neither finds nothing, and the tests
//! that need the data say they were skipped.

use std::path::PathBuf;

/// The environment variable that names the shared folder.
pub const SHARED_ENV: &str = "GUARDRAILC_SHARED";

/// The shared folder, when it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os(SHARED_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.is_dir().then_some(dir)
}

/// A file or folder inside the shared folder, when it exists; otherwise prints that `what`
/// was skipped (so a test run on a bare clone says so) and returns `None`.
pub fn shared_path(relative: &str, what: &str) -> Option<PathBuf> {
    let path = shared_dir().map(|dir| dir.join(relative));
    match path {
        Some(path) if path.exists() => Some(path),
        _ => {
            eprintln!(
                "skipped: {what} (needs `{relative}` in the shared folder: set {SHARED_ENV} or put `shared/` beside the repository)"
            );
            None
        }
    }
}
