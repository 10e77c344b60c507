//! Diagnostics for people (rustc style, via codespan-reporting) and for machines (JSON).
//! Pure: rendering goes to strings; the caller prints them.

use crate::span::{floor_char_boundary, LineIndex};
use crate::{Diagnostic, Severity, SourceId, Span};
use codespan_reporting::diagnostic::{
    Diagnostic as Report, Label as ReportLabel, Severity as ReportSeverity,
};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::ops::Range;

/// Human output shows this many diagnostics, then says how many more there are: past a few
/// screens nobody reads them, and rendering each costs time. JSON lists them all.
pub const MAX_SHOWN: usize = 100;

/// A source line longer than this (in bytes) is shown cut around what the diagnostic points
/// at, so one long line does not repeat in full under each of its diagnostics.
pub const MAX_LINE: usize = 200;

/// Of a cut line: how much is shown before the first point of interest, and in all.
const BEFORE: usize = 60;
const WINDOW: usize = 160;

/// The files diagnostics point into, by source id.
pub trait SourceFiles {
    /// Name and text of a source; ids past the end name the project file.
    fn file(&self, id: SourceId) -> (&str, &str);
    /// How many ids there are (the project file included).
    fn count(&self) -> usize;
}

/// The sources as codespan-reporting reads them, with long lines cut to a window around the
/// points the diagnostic being rendered marks (`focus`). Line numbers and columns are those of
/// the whole line; line indexes are built once, when a source is first needed.
struct Windowed<'a> {
    workspace: &'a dyn SourceFiles,
    indexes: Vec<std::sync::OnceLock<LineIndex>>,
    /// `(source, byte offset)` of every label of the diagnostic being rendered.
    focus: RefCell<Vec<(usize, usize)>>,
}

impl<'a> Windowed<'a> {
    fn new(workspace: &'a dyn SourceFiles) -> Windowed<'a> {
        Windowed {
            workspace,
            indexes: (0..workspace.count()).map(|_| Default::default()).collect(),
            focus: RefCell::new(Vec::new()),
        }
    }

    fn text(&self, id: usize) -> &'a str {
        self.workspace.file(SourceId(id as u32)).1
    }

    fn index(&self, id: usize) -> &LineIndex {
        self.indexes[id].get_or_init(|| LineIndex::new(self.text(id)))
    }

    /// The bytes of line `line` that are shown.
    fn window(&self, id: usize, line: usize) -> Range<usize> {
        let text = self.text(id);
        let index = self.index(id);
        let start = index.line_start(line);
        let end = index.line_end(text, line);
        if end - start <= MAX_LINE {
            return start..end;
        }
        let first = self
            .focus
            .borrow()
            .iter()
            .filter(|&&(file, offset)| file == id && (start..end).contains(&offset))
            .map(|&(_, offset)| offset)
            .min()
            .unwrap_or(start);
        let from = floor_char_boundary(text, first.saturating_sub(BEFORE).max(start));
        let to = floor_char_boundary(text, (from + WINDOW).min(end));
        from..to
    }

    /// Says so when the line of `offset` is shown cut.
    fn cut_note(&self, id: usize, offset: usize) -> Option<String> {
        let text = self.text(id);
        let index = self.index(id);
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = index.line_of(offset);
        let window = self.window(id, line);
        let start = index.line_start(line);
        let end = index.line_end(text, line);
        if end - start <= MAX_LINE {
            return None;
        }
        let column = |offset| index.line_col(text, offset).column;
        let content_end = end - usize::from(text[..end].ends_with('\n'));
        Some(format!(
            "note: line {} is long; shown are its columns {} to {} of {}",
            line + 1,
            column(window.start),
            column(window.end) - 1,
            column(content_end) - 1,
        ))
    }

    /// `offset` moved into the shown part of its line.
    fn clamp(&self, id: usize, offset: usize) -> usize {
        let offset = floor_char_boundary(self.text(id), offset.min(self.text(id).len()));
        let window = self.window(id, self.index(id).line_of(offset));
        offset.clamp(window.start, window.end)
    }
}

impl<'a> Files<'a> for Windowed<'a> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(self.workspace.file(SourceId(id as u32)).0)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        Ok(self.text(id))
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.index(id).line_of(byte_index))
    }

    fn column_number(
        &'a self,
        id: usize,
        _line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        Ok(self.index(id).line_col(self.text(id), byte_index).column)
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        if line_index >= self.index(id).line_count() {
            return Err(FilesError::LineTooLarge {
                given: line_index,
                max: self.index(id).line_count() - 1,
            });
        }
        Ok(self.window(id, line_index))
    }
}

/// Renders diagnostics rustc-style to a string (no colour), for stderr and for snapshots:
/// the first [`MAX_SHOWN`], then how many more there are.
pub fn human(workspace: &dyn SourceFiles, diagnostics: &[Diagnostic], color: bool) -> String {
    let count = workspace.count();
    let files = Windowed::new(workspace);
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
        let file_of = |span: Span| (span.source.0 as usize).min(count - 1);
        *files.focus.borrow_mut() = std::iter::once(diagnostic.span)
            .chain(diagnostic.labels.iter().map(|l| l.span))
            .flat_map(|span| {
                [
                    (file_of(span), span.start as usize),
                    (file_of(span), span.end as usize),
                ]
            })
            .collect();
        let range = |span: Span| {
            let file = file_of(span);
            let start = files.clamp(file, span.start as usize);
            start..files.clamp(file, span.end as usize).max(start)
        };
        let file = file_of(diagnostic.span);
        let severity = match diagnostic.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
            Severity::Note => ReportSeverity::Note,
        };
        let mut primary = ReportLabel::primary(file, range(diagnostic.span));
        if let Some(label) = &diagnostic.label {
            primary = primary.with_message(label);
        }
        let mut labels = vec![primary];
        for label in &diagnostic.labels {
            labels.push(
                ReportLabel::secondary(file_of(label.span), range(label.span))
                    .with_message(&label.message),
            );
        }
        let mut notes = Vec::new();
        if let Some(help) = &diagnostic.help {
            notes.push(format!("help: {help}"));
        }
        if let Some(edit) = &diagnostic.edit {
            notes.push(format!("fix: replace with `{}`", edit.replacement));
        }
        notes.extend(files.cut_note(file, diagnostic.span.start as usize));
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
    if let Some(more) = diagnostics.len().checked_sub(MAX_SHOWN).filter(|&n| n > 0) {
        let _ = std::io::Write::write_fmt(
            &mut buffer,
            format_args!(
                "note: {more} more {} not shown\n",
                if more == 1 {
                    "diagnostic is"
                } else {
                    "diagnostics are"
                }
            ),
        );
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
    json_diagnostics(workspace, std::slice::from_ref(diagnostic))
        .pop()
        .expect("one diagnostic in, one out")
}

/// Every diagnostic as JSON, as [`json_diagnostic`] gives each; each source is indexed once.
pub fn json_diagnostics(workspace: &dyn SourceFiles, diagnostics: &[Diagnostic]) -> Vec<Value> {
    let files = Windowed::new(workspace);
    let count = workspace.count();
    diagnostics
        .iter()
        .map(|diagnostic| one_json(&files, count, diagnostic))
        .collect()
}

fn one_json(files: &Windowed, count: usize, diagnostic: &Diagnostic) -> Value {
    let workspace = files.workspace;
    let location = |span: Span| {
        let (name, text) = workspace.file(span.source);
        let index = files.index((span.source.0 as usize).min(count - 1));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    struct One(String);

    impl SourceFiles for One {
        fn file(&self, _: SourceId) -> (&str, &str) {
            ("long.guard", &self.0)
        }
        fn count(&self) -> usize {
            1
        }
    }

    fn error_at(start: usize, end: usize) -> Diagnostic {
        Diagnostic::new(
            Code::UnexpectedCharacter,
            Span::new(SourceId(0), start, end),
            "unexpected `$`",
        )
    }

    #[test]
    fn human_output_shows_the_first_diagnostics_and_counts_the_rest() {
        let text = "$\n".repeat(20_000);
        let diagnostics: Vec<_> = (0..20_000).map(|i| error_at(2 * i, 2 * i + 1)).collect();
        let out = human(&One(text), &diagnostics, false);
        assert_eq!(out.matches("error[G0101]").count(), MAX_SHOWN);
        assert!(
            out.ends_with("note: 19900 more diagnostics are not shown\n"),
            "{out}"
        );
        let one_more = human(&One("$\n".repeat(101)), &diagnostics[..101], false);
        assert!(one_more.ends_with("note: 1 more diagnostic is not shown\n"));
        let all = human(&One("$\n".repeat(100)), &diagnostics[..100], false);
        assert!(!all.contains("not shown"));
    }

    #[test]
    fn a_long_line_is_shown_cut_around_each_diagnostic_with_its_true_column() {
        // One line of a megabyte with a `$` every thousand characters, and a non-ASCII
        // character early on, so columns (characters) differ from byte offsets.
        let mut text = "é".to_string();
        for _ in 0..1000 {
            text.push_str(&"a".repeat(999));
            text.push('$');
        }
        let diagnostics: Vec<_> = text
            .match_indices('$')
            .map(|(i, _)| error_at(i, i + 1))
            .collect();
        let out = human(&One(text.clone()), &diagnostics, false);
        // Each of the hundred shown diagnostics prints a window, not the megabyte line.
        assert!(out.len() < MAX_SHOWN * 1000, "{} bytes", out.len());
        let longest = out.lines().max_by_key(|l| l.chars().count()).unwrap();
        assert!(longest.chars().count() < WINDOW + 40, "{longest}");
        // The fifth `$` is the 5001st character (after `é` and 4999 others).
        assert!(out.contains("long.guard:1:5001\n"), "{}", &out[..2000]);
        assert!(out.contains("note: line 1 is long; shown are its columns 4941 to 5100 of 1000001"));
        let marked = out
            .lines()
            .find(|line| line.starts_with("1 │"))
            .expect("the source line");
        assert!(marked.ends_with(&format!("{}${}", "a".repeat(60), "a".repeat(99))));
    }

    #[test]
    fn json_of_a_hundred_thousand_diagnostics_indexes_the_source_once() {
        // A hang detector, not a benchmark (compiler/benches/compile.rs measures it): each
        // diagnostic used to index the whole source again.
        let text = "$ x\n".repeat(100_000);
        let diagnostics: Vec<_> = (0..100_000).map(|i| error_at(4 * i, 4 * i + 1)).collect();
        let started = std::time::Instant::now();
        let json = json_diagnostics(&One(text), &diagnostics);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(json.len(), 100_000);
        assert_eq!(json[99_999]["location"]["line"], 100_000);
        assert_eq!(json[99_999]["location"]["column"], 1);
        assert_eq!(json[99_999]["location"]["end_column"], 2);
    }
}
