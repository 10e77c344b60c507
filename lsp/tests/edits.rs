//! Random edit sequences, as a client sends them: insertions and deletions at random UTF-16
//! positions, some inside multi-byte characters or past the end of a line. After each edit
//! every feature runs at a random offset without panicking; at the end the diagnostics
//! equal a fresh compile (`project::check_sources`) of the final text.

use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_lsp::syntax_index::FileSyntax;
use guardrailc_lsp::workspace::Workspace;
use guardrailc_lsp::{completion, hover, names, semantic_tokens, symbols};
use proptest::prelude::*;

const NAME: &str = "file:///project/edited.guard";

const START: &str = "# Größen: limits in “quotes” 😀
guardrail memory-limits {
  title    \"Containers set a memory limit — always\"
  match workloads
  param max_memory: quantity = 4Gi
  let team_key = \"example.com/team\"

  deny for c in pod.spec.containers
    let limit = c.resources.limits[\"memory\"]
    when limit > params.max_memory or any p in c.ports: p.hostPort > 0
    message \"container {c.name} asks for {limit} — é😀\"
  enforce { dev: audit, prod: deny }
}
";

#[derive(Clone, Debug)]
struct Edit {
    line: u32,
    column: u32,
    deleted: u32,
    inserted: &'static str,
}

fn edit() -> impl Strategy<Value = Edit> {
    let inserted = prop::sample::select(vec![
        "",
        "x",
        "é",
        "😀",
        "\n",
        "{",
        "}",
        "\"",
        ".",
        "c.",
        "deny ",
        " when ",
        "[",
        "#",
        " ",
        "guardrail ",
    ]);
    (0u32..16, 0u32..90, 0u32..6, inserted).prop_map(|(line, column, deleted, inserted)| Edit {
        line,
        column,
        deleted,
        inserted,
    })
}

/// Every read-only feature at `offset`; each must return without panicking.
fn exercise_features(text: &str, offset: usize) {
    let syntax = FileSyntax::parse(text);
    let schema = Schema::builtin();
    let at = offset as u32;
    let _ = hover::hover(&syntax, text, schema, at);
    let _ = completion::complete(&syntax, text, schema, offset);
    if let Some(guardrail) = syntax.guardrail_at(at) {
        let _ = names::definition_at(guardrail, at);
        let _ = names::references_at(guardrail, at);
    }
    let _ = symbols::symbols(&syntax);
    let _ = semantic_tokens::classify(&syntax, text);
    let _ = guardrailc_compiler::format::format(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_edits_never_crash_and_end_in_fresh_diagnostics(
        edits in prop::collection::vec(edit(), 1..24),
        probe in 0usize..2000,
    ) {
        let mut workspace = Workspace::new(guardrailc_testkit::test_support::TODAY);
        workspace.set_file(NAME, START.to_string());
        for e in &edits {
            let range = ((e.line, e.column), (e.line, e.column + e.deleted));
            prop_assert!(workspace.edit_file(NAME, Some(range), e.inserted));
            let text = workspace.document(NAME).expect("the file stays open").text().to_string();
            exercise_features(&text, probe % (text.len() + 1));
        }
        let final_text = workspace.document(NAME).expect("open").text().to_string();
        let sources = [SourceFile { name: NAME.to_string(), text: final_text }];
        // What `guardrailc build` reports for the file as it ends up.
        let fresh = project::build_text(&sources, "", guardrailc_testkit::test_support::TODAY).diagnostics;
        let served = workspace.diagnostics().remove(NAME).expect("the file has an entry");
        prop_assert_eq!(served, fresh);
    }
}

#[test]
fn an_edit_inside_a_surrogate_pair_and_past_a_line_end_is_well_defined() {
    let mut workspace = Workspace::new(guardrailc_testkit::test_support::TODAY);
    workspace.set_file(NAME, "a😀b\nc".to_string());
    // Column 2 is between the two UTF-16 units of 😀: the edit lands before the emoji.
    workspace.edit_file(NAME, Some(((0, 2), (0, 2))), "X");
    assert_eq!(workspace.document(NAME).unwrap().text(), "aX😀b\nc");
    // Column 40 is past the end of line 0: the edit lands at its end, before the newline.
    workspace.edit_file(NAME, Some(((0, 40), (0, 41))), "!");
    assert_eq!(workspace.document(NAME).unwrap().text(), "aX😀b!\nc");
}
