//! Fixture files run from the editor's buffers, as `guardrailc test` runs them.

use guardrailc_lsp::fixtures::{run_fixture_file, FixtureProblem};
use guardrailc_lsp::workspace::Workspace;
use guardrailc_testkit::test_support::pinned_image_fixture;
use std::path::Path;
use std::sync::LazyLock;

const GUARD: &str = "guardrail pinned {
  title \"Images are pinned\"
  match kinds [Pod]
  deny for c in object.spec.containers
    when c.image.ends_with(\":latest\")
    message \"container {c.name} uses {c.image}\"
}
";

/// The fixture: its second case fails.
static FIXTURE: LazyLock<String> = LazyLock::new(|| pinned_image_fixture("pinned"));

fn workspace(guard: &str) -> Workspace {
    let mut workspace = Workspace::new(guardrailc_testkit::test_support::TODAY);
    workspace.set_root_prefix("file:///project/");
    let read = |path: &str| Err(format!("no file `{path}`"));
    workspace.set_config(
        "file:///project/guardrails.toml",
        "targets = [\"vap\", \"gatekeeper\", \"opa\"]\n[environments.dev]\nenforcement = \"audit\"\n[environments.prod]\nenforcement = \"deny\"\n".into(),
        &read,
    );
    workspace.set_file("file:///project/pinned.guard", guard.to_string());
    workspace
}

fn run(workspace: &Workspace, text: &str) -> Vec<FixtureProblem> {
    run_fixture_file(
        workspace,
        Path::new("/project"),
        Path::new("/project/tests/pinned.yaml"),
        "tests/pinned.yaml",
        text,
    )
}

#[test]
fn a_failing_case_is_one_problem_at_its_line_naming_each_environment() {
    let problems = run(&workspace(GUARD), &FIXTURE);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = &problems[0];
    // The second case starts on line 6 (`  - name: the latest tag …`).
    assert_eq!((problem.line, problem.column), (6, None));
    let message = &problem.message;
    assert!(
        message.starts_with("case `the latest tag is wrongly expected to pass` failed\n"),
        "{message}"
    );
    // dev audits and prod denies: the admission targets disagree with `allow` in both, and
    // the plain OPA target denies where the case expected no denial.
    for wanted in [
        "[dev] `vap`: expected verdict `allow`, got `audit`",
        "[dev] `gatekeeper`: expected verdict `allow`, got `audit`",
        "[prod] `vap`: expected verdict `allow`, got `deny`",
        "[prod] `opa`: expected no denial, got a denial",
    ] {
        assert!(message.contains(wanted), "missing {wanted:?} in {message}");
    }
}

#[test]
fn a_passing_file_has_no_problems() {
    // The second case expects the denial it gets (`deny` holds under audit and deny alike).
    let last = FIXTURE
        .rfind("expect: allow")
        .expect("the second case's expectation");
    let passing = format!("{}expect: deny\n", &FIXTURE[..last]);
    assert_eq!(run(&workspace(GUARD), &passing), Vec::new());
}

#[test]
fn malformed_files_and_broken_builds_are_reported_where_they_are() {
    let workspace = workspace(GUARD);
    let unknown = run(
        &workspace,
        &FIXTURE.replace("guardrail: pinned", "guardrail: pined"),
    );
    assert_eq!(
        unknown,
        vec![FixtureProblem {
            line: 1,
            column: None,
            message: "unknown guardrail `pined`; did you mean `pinned`?".into()
        }]
    );
    // A field of the wrong type keeps the parser's 1-based column: the `[` opening a list
    // where the name (a string) belongs, after the ten characters of `  - name: `.
    let syntax = run(&workspace, "guardrail: pinned\ncases:\n  - name: [x\n");
    assert_eq!(syntax.len(), 1, "{syntax:?}");
    assert_eq!(
        (syntax[0].line, syntax[0].column),
        (3, Some(11)),
        "{syntax:?}"
    );

    let broken = self::workspace(&GUARD.replace("c.image.ends_with", "c.imag.ends_with"));
    let problems = run(&broken, &FIXTURE);
    assert_eq!(
        problems,
        vec![FixtureProblem {
            line: 1,
            column: None,
            message: "the cases did not run: the project does not build (1 error)".into()
        }]
    );
}
