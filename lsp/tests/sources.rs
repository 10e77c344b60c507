//! The project's sources in the editor are the ones `guardrailc build` reads: the files the
//! `sources` patterns of guardrails.toml select, and the library sets it names.

use guardrailc_lsp::workspace::Workspace;

mod support;
use support::codes;

const LIBRARY_GUARD: &str = "guardrail shared-check {
  title \"A guardrail of the library\"
  match kinds [Pod]
  deny when object.metadata.name == \"x\"
    message \"no x\"
}
";

/// The library: one set, `team`.
const LIBRARY: guardrailc_lsp::Library = guardrailc_lsp::Library::new(&[
    ("team/guardrails.toml", ""),
    ("team/checks.guard", LIBRARY_GUARD),
]);

fn project(config: &str) -> Workspace {
    let mut workspace =
        Workspace::new(guardrailc_testkit::test_support::TODAY).with_library(LIBRARY);
    workspace.set_root_prefix("file:///project/");
    let read = |path: &str| Err(format!("no file `{path}`"));
    workspace.set_config("file:///project/guardrails.toml", config.into(), &read);
    workspace
}

#[test]
fn library_sets_are_compiled_with_the_project() {
    let mut workspace = project("sources = [\"guardrails/*.guard\", \"@library/team\"]\n");
    // The same id as the library's guardrail: the duplicate is only seen if the set is read.
    workspace.set_file(
        "file:///project/guardrails/mine.guard",
        LIBRARY_GUARD.to_string(),
    );
    let found = codes(&workspace, "file:///project/guardrails/mine.guard");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("shared-check"), "{found:?}");
    assert_eq!(
        codes(&workspace, "file:///project/guardrails.toml"),
        Vec::<String>::new()
    );
    workspace.set_file(
        "file:///project/guardrails/mine.guard",
        LIBRARY_GUARD.replace("shared-check", "my-check"),
    );
    let built = workspace.build();
    assert!(
        built
            .artifacts
            .iter()
            .any(|a| a.contents.contains("@library/team/checks.guard")),
        "compiled output names the library file as `guardrailc build` does"
    );
}

#[test]
fn files_outside_the_source_patterns_are_not_compiled() {
    let mut workspace = project("sources = [\"guardrails/*.guard\"]\n");
    workspace.set_file(
        "file:///project/guardrails/ok.guard",
        LIBRARY_GUARD.to_string(),
    );
    workspace.set_file("file:///project/drafts/broken.guard", "guardrail {".into());
    assert_eq!(
        codes(&workspace, "file:///project/guardrails/ok.guard"),
        Vec::<String>::new()
    );
    // Not compiled: its syntax error does not show, only that it is left out.
    assert_eq!(
        codes(&workspace, "file:///project/drafts/broken.guard"),
        vec!["G0405 `drafts/broken.guard` is not among the sources guardrails.toml selects, so it is not built or checked".to_string()]
    );
    // With the default patterns the draft is a source, and its error shows.
    let mut defaults = project("");
    defaults.set_file("file:///project/drafts/broken.guard", "guardrail {".into());
    assert!(!codes(&defaults, "file:///project/drafts/broken.guard").is_empty());
}

#[test]
fn an_unknown_library_set_is_reported_where_guardrails_toml_names_it() {
    let text = "sources = [\"@library/nope\"]\n";
    let workspace = project(text);
    let diagnostics = &workspace.diagnostics()["file:///project/guardrails.toml"];
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0].message,
        "`@library/nope` names no library set"
    );
    let span = diagnostics[0].span;
    assert_eq!(
        &text[span.start as usize..span.end as usize],
        "\"@library/nope\""
    );
}

#[test]
fn patterns_match_decoded_paths_and_a_bad_pattern_falls_back_to_the_defaults() {
    // The editor names files by URI, percent-encoded; guardrails.toml names them as on disk.
    let mut workspace = project("sources = [\"my rules/*.guard\"]\n");
    workspace.set_file(
        "file:///project/my%20rules/broken.guard",
        "guardrail {".into(),
    );
    assert!(!codes(&workspace, "file:///project/my%20rules/broken.guard").is_empty());

    let text = "sources = [\"guardrails/[x.guard\"]\n";
    let mut workspace = project(text);
    workspace.set_file(
        "file:///project/guardrails/broken.guard",
        "guardrail {".into(),
    );
    let config = &workspace.diagnostics()["file:///project/guardrails.toml"];
    assert_eq!(config.len(), 1, "{config:?}");
    assert!(
        config[0].message.contains("bad source pattern"),
        "{}",
        config[0].message
    );
    assert!(
        !codes(&workspace, "file:///project/guardrails/broken.guard").is_empty(),
        "the files keep their diagnostics while the pattern is wrong"
    );
}

#[test]
fn navigation_and_compiled_output_skip_files_outside_the_sources() {
    let mut workspace = project("sources = [\"guardrails/*.guard\"]\n");
    workspace.set_file(
        "file:///project/drafts/draft.guard",
        LIBRARY_GUARD.to_string(),
    );
    assert_eq!(
        guardrailc_lsp::fixtures::declaration(&workspace, "shared-check"),
        None,
        "a draft outside the sources declares nothing"
    );
    let offset = LIBRARY_GUARD.find("shared-check").unwrap() as u32;
    assert_eq!(
        guardrailc_lsp::compiled::guardrail_id_at(
            &workspace,
            "file:///project/drafts/draft.guard",
            offset
        ),
        None
    );
    workspace.set_file(
        "file:///project/guardrails/real.guard",
        LIBRARY_GUARD.to_string(),
    );
    let (name, _) = guardrailc_lsp::fixtures::declaration(&workspace, "shared-check")
        .expect("declared in a source");
    assert_eq!(name, "file:///project/guardrails/real.guard");
}

#[test]
fn a_guard_file_the_sources_leave_out_is_said_to_be_left_out() {
    let mut workspace = project("sources = [\"guardrails/*.guard\"]\n");
    workspace.set_file(
        "file:///project/drafts/draft.guard",
        LIBRARY_GUARD.to_string(),
    );
    workspace.set_file(
        "file:///project/guardrails/real.guard",
        LIBRARY_GUARD.replace("shared-check", "real-check"),
    );
    let diagnostics = workspace.diagnostics();
    let draft = &diagnostics["file:///project/drafts/draft.guard"];
    assert_eq!(draft.len(), 1, "{draft:?}");
    assert_eq!(draft[0].code.as_str(), "G0405");
    assert_eq!(draft[0].severity, guardrailc_compiler::Severity::Note);
    assert_eq!(
        draft[0].message,
        "`drafts/draft.guard` is not among the sources guardrails.toml selects, so it is not built or checked"
    );
    assert_eq!(
        draft[0].help.as_deref(),
        Some("the patterns are `guardrails/*.guard`: add one that matches it")
    );
    assert!(
        codes(&workspace, "file:///project/guardrails/real.guard").is_empty(),
        "a selected file gets no note"
    );
    // Once a pattern selects it, the note goes.
    let read = |path: &str| Err(format!("no file `{path}`"));
    workspace.set_config(
        "file:///project/guardrails.toml",
        "sources = [\"guardrails/*.guard\", \"drafts/*.guard\"]\n".into(),
        &read,
    );
    assert!(
        !codes(&workspace, "file:///project/drafts/draft.guard")
            .iter()
            .any(|c| c.starts_with("G0405")),
        "{:?}",
        codes(&workspace, "file:///project/drafts/draft.guard")
    );
}
