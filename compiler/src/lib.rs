//! The guardrail compiler: source text in, policies and diagnostics out.
//!
//! Pure by design: no file system, no network, no clock. Callers (the command line, the
//! language server, the tests) hand it sources and the date, so unsaved editor buffers
//! compile the same way files do. See docs/architecture.md for the pipeline.

pub mod backend;
pub mod catalog;
pub mod check;
pub mod codes;
pub mod config;
pub mod cost;
pub mod diagnostic;
pub mod emit;
pub mod exemptions;
pub mod format;
pub mod ir;
pub mod k8s_names;
pub mod kube;
pub mod limits;
pub mod messages;
pub mod plan;
pub mod project;
pub mod quantity;
pub mod render;
pub mod schema;
pub mod span;
pub mod suggest;
pub mod syntax;
pub mod testing;

pub use codes::{Code, Severity};
pub use diagnostic::Diagnostic;
pub use span::{SourceId, Span};
