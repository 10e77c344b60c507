//! Diagnostics for people (rustc style, via codespan-reporting) and for machines (JSON).
//! Pure: rendering goes to strings; the caller prints them.

use crate::span::LineIndex;
use crate::{Diagnostic, Severity, SourceId, Span};
use codespan_reporting::diagnostic::{
    Diagnostic as Report, Label as ReportLabel, Severity as ReportSeverity,
};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use serde_json::{json, Value};

/// The files diagnostics point into, by source id.
pub trait SourceFiles {
    /// Name and text of a source; ids past the end name the project file.
    fn file(&self, id: SourceId) -> (&str, &str);
    /// How many ids there are (the project file included).
    fn count(&self) -> usize;
}

/// Renders diagnostics rustc-style to a string (no colour), for stderr and for snapshots.
pub fn human(workspace: &dyn SourceFiles, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    let count = workspace.count();
    let ids: Vec<usize> = (0..count)
        .map(|i| {
            let (name, text) = workspace.file(SourceId(i as u32));
            // codespan-reporting counts lines by LF only; CR and CRLF end lines too.
            files.add(
                name.to_string(),
                crate::span::lone_cr_as_lf(text).into_owned(),
            )
        })
        .collect();
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    for diagnostic in diagnostics {
        let file = ids[(diagnostic.span.source.0 as usize).min(count - 1)];
        let severity = match diagnostic.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
            Severity::Note => ReportSeverity::Note,
        };
        let mut primary = ReportLabel::primary(file, diagnostic.span.range());
        if let Some(label) = &diagnostic.label {
            primary = primary.with_message(label);
        }
        let mut labels = vec![primary];
        for label in &diagnostic.labels {
            let file = ids[(label.span.source.0 as usize).min(count - 1)];
            labels.push(
                ReportLabel::secondary(file, label.span.range()).with_message(&label.message),
            );
        }
        let mut notes = Vec::new();
        if let Some(help) = &diagnostic.help {
            notes.push(format!("help: {help}"));
        }
        if let Some(edit) = &diagnostic.edit {
            notes.push(format!("fix: replace with `{}`", edit.replacement));
        }
        let report = Report::new(severity)
            .with_code(diagnostic.code.as_str())
            .with_message(&diagnostic.message)
            .with_labels(labels)
            .with_notes(notes);
        // Writing to an in-memory buffer fails only on a span outside its file; fall back
        // to a plain line so no diagnostic is lost.
        if term::emit_to_write_style(&mut buffer, &config, &files, &report).is_err() {
            let (name, _) = workspace.file(diagnostic.span.source);
            let _ = std::io::Write::write_fmt(
                &mut buffer,
                format_args!(
                    "{}[{}]: {} ({name})\n",
                    severity_word(diagnostic.severity),
                    diagnostic.code,
                    diagnostic.message
                ),
            );
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// One diagnostic as JSON, with 1-based line and column (in characters).
pub fn json_diagnostic(workspace: &dyn SourceFiles, diagnostic: &Diagnostic) -> Value {
    let location = |span: Span| {
        let (name, text) = workspace.file(span.source);
        let index = LineIndex::new(text);
        let start = index.line_col(text, span.start as usize);
        let end = index.line_col(text, span.end as usize);
        json!({
            "file": name,
            "line": start.line,
            "column": start.column,
            "end_line": end.line,
            "end_column": end.column,
        })
    };
    json!({
        "code": diagnostic.code.as_str(),
        "severity": severity_word(diagnostic.severity),
        "message": diagnostic.message,
        "location": location(diagnostic.span),
        "label": diagnostic.label,
        "labels": diagnostic.labels.iter().map(|l| json!({"message": l.message, "location": location(l.span)})).collect::<Vec<_>>(),
        "help": diagnostic.help,
        "fix": diagnostic.edit.as_ref().map(|e| json!({"location": location(e.span), "replacement": e.replacement})),
    })
}

/// A closing line: `2 errors, 1 warning`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    format!("{}, {}", count(errors, "error"), count(warnings, "warning"))
}

/// `1 finding`, `2 findings`: a number and a noun that takes a plain `s` in the plural.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
