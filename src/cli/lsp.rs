//! `guardrailc lsp`: the language server on standard input and output.

use crate::cli::CliError;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: LspArgs) -> Result<ExitCode, CliError> {
    guardrailc_lsp::serve_stdio(crate::cli::workspace::today()?)
        .map_err(|e| CliError::Internal(format!("the language server stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
