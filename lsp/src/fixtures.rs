//! Fixture files in the editor: their cases run as `guardrailc test` runs them, and the
//! guardrail each names, for go to definition and find references.

use crate::syntax_index::FileSyntax;
use crate::workspace::Workspace;
use guardrailc_compiler::Span;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::fixtures::load_fixture;
use guardrailc_testkit::runner::run_fixtures;
use guardrailc_testkit::SchemaCatalog;
use std::ops::Range;
use std::path::Path;

/// Why a fixture file does not pass: a failing case, a malformed file, or a project that
/// does not build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureProblem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known (YAML syntax errors); else the problem covers its line.
    pub column: Option<usize>,
    pub message: String,
}

/// Builds the project from the workspace's buffers and runs the cases of the fixture file at
/// `path` (shown as `shown`, with text `text`) of the project in the folder `root` on every
/// target, checking their expectations
/// and the targets' agreement: the problems `guardrailc test` reports for this file, one
/// per failing case. No problems means every case passed.
pub fn run_fixture_file(
    workspace: &Workspace,
    root: &Path,
    path: &Path,
    shown: &str,
    text: &str,
) -> Vec<FixtureProblem> {
    let at_guardrail_key = |message: String| FixtureProblem {
        line: guardrail_mention(text).map_or(1, |(_, at)| line_of(text, at.start)),
        column: None,
        message,
    };
    let output = workspace.build();
    let errors = output.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        return vec![at_guardrail_key(format!(
            "the cases did not run: the project does not build ({})",
            guardrailc_compiler::render::count(errors, "error")
        ))];
    }
    let compiled = match load_compiled(output.policies, &output.artifacts) {
        Ok(compiled) => compiled,
        Err(e) => {
            return vec![at_guardrail_key(format!(
                "the cases did not run: an engine refused an emitted artifact: {e}"
            ))]
        }
    };
    let catalog = SchemaCatalog(workspace.schema());
    let fixture = match load_fixture(root, path, shown, text, &compiled, &catalog) {
        Ok(fixture) => fixture,
        Err(e) => {
            return vec![FixtureProblem {
                line: e.line,
                column: e.column,
                message: e.message,
            }]
        }
    };
    // One problem per failing case, with what went wrong in each environment.
    let mut problems: Vec<(String, FixtureProblem)> = Vec::new();
    for result in run_fixtures(&[fixture], &compiled, &catalog) {
        if result.passed() {
            continue;
        }
        let details = result
            .failures
            .iter()
            .map(|failure| format!("[{}] {failure}", result.env))
            .collect::<Vec<_>>()
            .join("\n");
        match problems.iter_mut().find(|(name, _)| *name == result.name) {
            Some((_, problem)) => {
                problem.message.push('\n');
                problem.message.push_str(&details);
            }
            None => problems.push((
                result.name.clone(),
                FixtureProblem {
                    line: result.line,
                    column: None,
                    message: format!("case `{}` failed\n{details}", result.name),
                },
            )),
        }
    }
    problems.into_iter().map(|(_, problem)| problem).collect()
}

/// The guardrail id a fixture names in its top-level `guardrail:` key, with the byte range
/// of the id in `text`.
pub fn guardrail_mention(text: &str) -> Option<(String, Range<usize>)> {
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("guardrail:") {
            let value = rest.split(" #").next().unwrap_or(rest);
            let trimmed = value.trim();
            let unquoted = trimmed.trim_matches(|c| c == '"' || c == '\'');
            if unquoted.is_empty() {
                return None;
            }
            let within = rest.find(unquoted)?;
            let start = line_start + "guardrail:".len() + within;
            return Some((unquoted.to_string(), start..start + unquoted.len()));
        }
        line_start += line.len();
    }
    None
}

/// Where guardrail `id` is declared: the file's name and the span of the id.
pub fn declaration(workspace: &Workspace, id: &str) -> Option<(String, Span)> {
    workspace.source_names().into_iter().find_map(|name| {
        let document = workspace.guard_document(&name)?;
        let syntax = FileSyntax::parse(document.text());
        let guardrail = syntax.file.guardrails.iter().find(|g| g.id.name == id)?;
        Some((name, guardrail.id.span))
    })
}

/// The fixture files naming guardrail `id`, with the byte range of the id in each.
pub fn mentions(workspace: &Workspace, id: &str) -> Vec<(String, Range<usize>)> {
    workspace
        .other_files()
        .filter_map(|(name, document)| {
            let (named, at) = guardrail_mention(document.text())?;
            (named == id).then(|| (name.to_string(), at))
        })
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guardrail_key_is_found_quoted_or_commented() {
        let text = "# cases\nguardrail: \"no-latest\"  # the id\ncases: []\n";
        let (id, at) = guardrail_mention(text).expect("a mention");
        assert_eq!(id, "no-latest");
        assert_eq!(&text[at], "no-latest");
        let plain = "guardrail: x\n";
        assert_eq!(guardrail_mention(plain).map(|(id, _)| id), Some("x".into()));
        assert_eq!(guardrail_mention("guardrail:\n"), None);
        assert_eq!(guardrail_mention("  guardrail: nested\n"), None);
    }
}
