//! The editor shows what `guardrailc build` reports for the whole project, on the file each
//! diagnostic points into: project-level errors (a duplicate guardrail across two files, a
//! param without a value in an environment, an environment configuring an unknown
//! guardrail) included, not only each file's parse and check errors.

use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_lsp::workspace::Workspace;

mod support;
use support::codes;

use guardrailc_testkit::test_support::TODAY;

const CONFIG: &str = "sources = [\"*.guard\"]
[environments.dev]
[environments.prod]
[environments.prod.guardrails.no-such-guardrail]
enforcement = \"deny\"
";

fn guardrail(id: &str) -> String {
    format!(
        "guardrail {id} {{\n  title \"t\"\n  match kinds [Pod]\n  deny when object.metadata.name == \"x\"\n    message \"m\"\n}}\n"
    )
}

/// A guardrail whose param has no default: every environment must give it a value.
const NEEDS_LIMIT: &str = "guardrail needs-limit {
  title \"Replicas are limited\"
  match kinds [Deployment]
  param limit: int
  deny when object.spec.replicas > params.limit
    message \"too many replicas\"
}
";

fn project() -> Workspace {
    let mut workspace = Workspace::new(TODAY);
    workspace.set_root_prefix("file:///project/");
    let read = |path: &str| Err(format!("no file `{path}`"));
    workspace.set_config("file:///project/guardrails.toml", CONFIG.into(), &read);
    workspace.set_file("file:///project/a.guard", guardrail("dup-check"));
    workspace.set_file("file:///project/b.guard", NEEDS_LIMIT.into());
    workspace.set_file("file:///project/c.guard", guardrail("dup-check"));
    workspace
}

#[test]
fn project_level_errors_are_shown_on_the_file_they_point_into() {
    let workspace = project();
    assert_eq!(
        codes(&workspace, "file:///project/a.guard"),
        Vec::<String>::new()
    );
    assert_eq!(
        codes(&workspace, "file:///project/b.guard"),
        [
            "G0319 param `limit` has no default and no value in environment `dev`",
            "G0319 param `limit` has no default and no value in environment `prod`",
        ]
    );
    assert_eq!(
        codes(&workspace, "file:///project/c.guard"),
        ["G0201 a guardrail named `dup-check` already exists"]
    );
    let config = codes(&workspace, "file:///project/guardrails.toml");
    assert_eq!(
        config,
        ["G0401 environment `prod` configures an unknown guardrail `no-such-guardrail`"]
    );
    // The duplicate points at the first definition, in the other file.
    let diagnostics = workspace.diagnostics();
    let duplicate = &diagnostics["file:///project/c.guard"][0];
    let first = workspace.file_of(duplicate.labels[0].span.source);
    assert_eq!(first.as_deref(), Some("file:///project/a.guard"));
}

#[test]
fn the_editor_shows_every_diagnostic_build_reports() {
    let workspace = project();
    let sources: Vec<SourceFile> = ["a.guard", "b.guard", "c.guard"]
        .into_iter()
        .map(|name| SourceFile {
            name: name.to_string(),
            text: workspace
                .document(&format!("file:///project/{name}"))
                .unwrap()
                .text()
                .to_string(),
        })
        .collect();
    let built = project::build_text(&sources, CONFIG, TODAY);
    let mut expected: Vec<String> = built
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect();
    let mut shown: Vec<String> = workspace
        .diagnostics()
        .values()
        .flatten()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect();
    expected.sort();
    shown.sort();
    assert_eq!(shown, expected);
}

#[test]
fn a_diagnostic_in_a_library_file_is_shown_where_guardrails_toml_names_the_set() {
    const LIBRARY: guardrailc_lsp::Library = guardrailc_lsp::Library::new(&[
        ("team/guardrails.toml", ""),
        ("team/limits.guard", NEEDS_LIMIT),
    ]);
    let mut workspace = Workspace::new(TODAY).with_library(LIBRARY);
    workspace.set_root_prefix("file:///project/");
    let read = |path: &str| Err(format!("no file `{path}`"));
    let config = "sources = [\"*.guard\", \"@library/team\"]\n";
    workspace.set_config("file:///project/guardrails.toml", config.into(), &read);
    workspace.set_file("file:///project/a.guard", guardrail("mine"));
    let diagnostics = workspace.diagnostics();
    let on_config = &diagnostics["file:///project/guardrails.toml"];
    assert_eq!(on_config.len(), 1, "{on_config:?}");
    assert_eq!(
        on_config[0].message,
        "@library/team/limits.guard: param `limit` has no default and no value in environment `default`"
    );
    assert_eq!(&config[on_config[0].span.range()], "\"@library/team\"");
}
