//! `guardrailc lsp`: the language server on standard input and output.

use crate::cli::{library, workspace, CliError};
use std::process::ExitCode;

pub fn run() -> Result<ExitCode, CliError> {
    guardrailc_lsp::serve_stdio(workspace::today()?, library::EMBEDDED)
        .map_err(|e| CliError::Internal(format!("the language server stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
