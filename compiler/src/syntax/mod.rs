//! Lexing and parsing: text → [`ast::File`] with diagnostics, recovering from errors.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod strings;
pub mod token;

pub use parser::{parse, Parsed};

/// What a `match` clause can name after `match`.
pub const MATCH_TARGETS: &[&str] = &[
    "workloads",
    "kinds",
    "operations",
    "namespaces",
    "namespace_labels",
    "labels",
];

/// What an `exclude` clause can name: the targets of `match` that narrow by namespace or label.
pub const EXCLUDE_TARGETS: &[&str] = &["namespaces", "namespace_labels", "labels"];

/// The closest word by edit distance, if it is close enough to be a typo.
pub fn closest_word<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    crate::suggest::closest(word, candidates.iter().copied())
}
