//! The guardrail language server, started by `guardrailc lsp`.
//!
//! The feature modules work on text, byte offsets and the compiler's syntax tree; only
//! `server` knows LSP types (tower-lsp-server), so a protocol library upgrade touches one
//! file. Every answer comes from the same compiler functions the command line calls.

pub mod compiled;
pub mod completion;
pub mod document;
pub mod fixtures;
pub mod help;
pub mod hover;
pub mod names;
pub mod semantic_tokens;
mod server;
pub mod symbols;
pub mod syntax_index;
pub mod transport;
pub mod types;
pub mod workspace;

pub use server::{serve, serve_stdio, MAX_DOCUMENT, SHOW_CEL, SHOW_REGO};
pub use workspace::LibraryFiles;
