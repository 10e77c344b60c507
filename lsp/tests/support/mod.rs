//! Helpers the language server's test files share.

use guardrailc_lsp::workspace::Workspace;

/// The diagnostics the workspace shows on `name`, as `CODE message` lines.
pub fn codes(workspace: &Workspace, name: &str) -> Vec<String> {
    workspace.diagnostics()[name]
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect()
}
