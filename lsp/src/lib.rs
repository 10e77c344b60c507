//! The guardrail language server, started by `guardrailc lsp`.
//!
//! The feature modules work on text, byte offsets and the compiler's syntax tree; only
//! `server` (the protocol) knows LSP types (tower-lsp-server), so a protocol library upgrade touches one
//! file. Every answer comes from the same compiler functions the command line calls.

pub mod compiled;
pub mod completion;
pub mod document;
pub mod fixtures;
pub mod help;
pub mod hover;
pub mod names;
pub mod project_io;
pub mod semantic_tokens;
mod server;
pub mod symbols;
pub mod syntax_index;
pub mod transport;
pub mod types;
pub mod workspace;

pub use guardrailc_testkit::loader::Library;
pub use server::{serve, serve_stdio, MAX_DOCUMENT, SHOW_CEL, SHOW_REGO};
