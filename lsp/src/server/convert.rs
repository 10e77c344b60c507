//! Between the compiler's answers and LSP types: document names, positions, diagnostics.

use crate::document::Document;
use crate::fixtures::FixtureProblem;
use crate::workspace::{FileNames, Workspace};
use guardrailc_compiler::{Diagnostic, Severity, Span};
use std::str::FromStr;
use tower_lsp_server::ls_types::{self as lsp, *};

/// The workspace name of a document: file URIs in one spelling, so a file loaded from disk
/// and the same file opened by the client (which may percent-encode differently) are one.
pub(super) fn key(uri: &Uri) -> String {
    uri.to_file_path()
        .and_then(Uri::from_file_path)
        .map_or_else(
            || uri.as_str().to_string(),
            |normal| normal.as_str().to_string(),
        )
}

pub(super) fn range(document: &Document, span: Span) -> Range {
    let (start_line, start_col) = document.position(span.start as usize);
    let (end_line, end_col) = document.position(span.end as usize);
    Range::new(
        Position::new(start_line, start_col),
        Position::new(end_line, end_col),
    )
}

pub(super) fn offset(document: &Document, position: Position) -> usize {
    document.offset((position.line, position.character))
}

/// `d`, a diagnostic of `document`, with its related locations in the files `names` gives.
pub(super) fn to_lsp_diagnostic(
    workspace: &Workspace,
    names: &FileNames,
    document: &Document,
    d: &Diagnostic,
) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|label| {
            let name = names.get(label.span.source)?;
            let other = workspace.document(name)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(Uri::from_str(name).ok()?, range(other, label.span)),
                message: label.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(document, d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("guardrailc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// A fixture problem at its line (from its column when known, else from the line's first
/// non-blank character to its end).
pub(super) fn fixture_diagnostic(document: &Document, problem: &FixtureProblem) -> lsp::Diagnostic {
    let text = document.text();
    let line_start = text
        .split_inclusive('\n')
        .take(problem.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let line = text[line_start..]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r');
    let indent = line.len() - line.trim_start().len();
    let start = match problem.column {
        Some(column) => line
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i),
        None => indent,
    };
    let whole = Span::new(
        guardrailc_compiler::SourceId(0),
        line_start + start,
        line_start + line.len().max(start),
    );
    lsp::Diagnostic {
        range: range(document, whole),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("guardrailc test".to_string()),
        message: problem.message.clone(),
        ..Default::default()
    }
}

pub(super) fn command_arguments(uri: &Uri, position: Position) -> Vec<serde_json::Value> {
    vec![
        serde_json::Value::String(uri.as_str().to_string()),
        serde_json::json!({ "line": position.line, "character": position.character }),
    ]
}
