//! Subcommands and the IO they need.

pub mod build;
pub mod check;
pub mod completions;
pub mod docs;
pub mod exemptions;
pub mod explain;
pub mod fmt;
pub mod init;
pub mod library;
pub mod lsp;
pub mod output;
pub mod plan;
pub mod test;
pub mod workspace;

use std::process::ExitCode;

/// Exit code for failures the user can fix (bad input, failing checks).
pub const EXIT_USER: u8 = 1;
/// Exit code for bugs in guardrailc.
pub const EXIT_INTERNAL: u8 = 2;

/// An error that ends a command before it could report diagnostics.
#[derive(Debug)]
pub enum CliError {
    /// Bad input: a missing directory, an unreadable file.
    User(String),
    /// A bug or an environment failure we did not expect.
    Internal(String),
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::User(_) => ExitCode::from(EXIT_USER),
            CliError::Internal(_) => ExitCode::from(EXIT_INTERNAL),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::User(message) => f.write_str(message),
            CliError::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

/// A panic is a bug: say so and exit with the internal-error code instead of Rust's 101.
/// A panic the testkit contains (a `check` worker's, for one object) is only reported here:
/// exiting would skip the worker's `catch_unwind`, which reports it as an internal error for
/// that object and lets the run finish (it still exits 2).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in guardrailc: {info}");
        eprintln!("help: this is a bug; please report it with the input that caused it");
        if !guardrailc_testkit::panics::is_contained() {
            std::process::exit(EXIT_INTERNAL as i32);
        }
    }));
}

/// Prints a command-line parse result that ends the run: `--help` and `--version` exit 0;
/// a usage error (unknown flag, bad value) is the user's to fix and exits 1, not clap's 2,
/// which the README reserves for internal errors.
pub fn usage_error(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    }
}

/// Past a file-size limit (`ulimit -f`) a write raises SIGXFSZ, which kills the process by
/// default, leaving temporary files behind. Ignored, the write fails with EFBIG instead, which
/// is reported like any other write error and cleaned up after.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: sets the disposition of one signal to SIG_IGN before any other thread exists;
    // no handler runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// How a command reports: for people or for machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}
