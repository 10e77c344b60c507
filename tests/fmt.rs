//! The formatter: meaning-preserving (the emitted artifacts are identical before and after),
//! idempotent, comment-keeping, on every example and parse case and on random re-spacings;
//! and `guardrailc fmt` as a user runs it.

mod support;

use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::format::{format, FormatError};
use guardrailc_compiler::project::{build, BuildInput, BuildOptions, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::syntax::lexer;
use guardrailc_compiler::SourceId;
use guardrailc_testkit::test_support::build_one;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.guard` file of the examples and the parser cases.
fn guard_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples", "compiler/tests/cases/parse"] {
        for entry in walkdir::WalkDir::new(root().join(dir)) {
            let entry = entry.expect("a readable directory");
            if entry.path().extension().is_some_and(|e| e == "guard") {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the example and parse-case files"
    );
    files
}

/// The artifacts of one file built alone with the default configuration.
fn artifacts(text: &str) -> Vec<Artifact> {
    build_one("file.guard", text).artifacts
}

fn comments(text: &str) -> Vec<String> {
    lexer::lex(SourceId(0), text)
        .comments
        .iter()
        .map(|c| text[c.span.range()].trim_end().to_string())
        .collect()
}

/// Each artifact's path and contents. Rego comments name each rule's source line
/// (`# Rule 1 (line 18)`), which moves when the formatter joins or splits lines; the
/// number is masked, everything else must be identical.
fn paths_and_contents(artifacts: &[Artifact]) -> Vec<(String, String)> {
    artifacts
        .iter()
        .map(|a| (a.path.clone(), mask_line_numbers(&a.contents)))
        .collect()
}

fn mask_line_numbers(contents: &str) -> String {
    let mut masked = String::with_capacity(contents.len());
    let mut rest = contents;
    while let Some(at) = rest.find("(line ") {
        let (before, after) = rest.split_at(at + "(line ".len());
        masked.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && after[digits..].starts_with(')') {
            masked.push('N');
        } else {
            masked.push_str(&after[..digits]);
        }
        rest = &after[digits..];
    }
    masked.push_str(rest);
    masked
}

#[test]
fn every_file_formats_to_the_same_artifacts_and_comments_idempotently() {
    let mut formatted_files = 0;
    for path in guard_files() {
        let text = std::fs::read_to_string(&path).expect("a readable file");
        match format(&text) {
            Ok(formatted) => {
                formatted_files += 1;
                let before = artifacts(&text);
                assert_eq!(
                    paths_and_contents(&artifacts(&formatted)),
                    paths_and_contents(&before),
                    "{}",
                    path.display()
                );
                assert_eq!(comments(&formatted), comments(&text), "{}", path.display());
                let again = format(&formatted).expect("formatted text parses");
                assert_eq!(again, formatted, "{} is not idempotent", path.display());
            }
            Err(FormatError::Syntax(_)) => {
                // Only the parser's recovery cases are broken on purpose.
                assert!(
                    path.file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with("recovery")),
                    "{} has syntax errors",
                    path.display()
                )
            }
            Err(error) => panic!("{}: {error}", path.display()),
        }
    }
    assert!(formatted_files >= 4);
}

#[test]
fn the_quickstart_project_builds_identically_after_formatting() {
    let dir = root().join("examples/quickstart");
    let config_text = std::fs::read_to_string(dir.join("guardrails.toml")).expect("config");
    let config = guardrailc_compiler::config::parse(SourceId(99), &config_text)
        .unwrap_or_else(|_| panic!("the quickstart config parses"));
    let mut sources: Vec<SourceFile> = std::fs::read_dir(dir.join("guardrails"))
        .expect("guardrails dir")
        .map(|e| {
            let path = e.expect("entry").path();
            SourceFile {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                text: std::fs::read_to_string(&path).expect("readable"),
            }
        })
        .collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let build_all = |sources: &[SourceFile]| {
        let output = build(&BuildInput {
            sources,
            config: &config,
            config_source: SourceId(sources.len() as u32),
            schema: Schema::builtin(),
            today: guardrailc_testkit::test_support::TODAY,
            options: &BuildOptions::default(),
        });
        assert!(!output.artifacts.is_empty());
        output.artifacts
    };
    let before = build_all(&sources);
    let formatted: Vec<SourceFile> = sources
        .iter()
        .map(|s| SourceFile {
            name: s.name.clone(),
            text: format(&s.text).expect("the quickstart parses"),
        })
        .collect();
    assert_eq!(
        paths_and_contents(&build_all(&formatted)),
        paths_and_contents(&before)
    );
}

/// One of the valid example files, re-spaced: between every two tokens a random gap of
/// spaces, line breaks and comments.
fn respaced() -> impl Strategy<Value = String> {
    let texts: Vec<String> = guard_files()
        .iter()
        .filter(|p| !p.ends_with("recovery.guard"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    let gap = prop_oneof![
        6 => Just(" "),
        2 => Just("\n"),
        1 => Just("   "),
        1 => Just("\n\n\n"),
        1 => Just(" # note\n"),
        1 => Just("\n# own line\n"),
    ];
    (0..texts.len(), prop::collection::vec(gap, 400)).prop_map(move |(which, gaps)| {
        let text = &texts[which];
        let tokens = lexer::lex(SourceId(0), text).tokens;
        let mut out = String::new();
        for (i, token) in tokens.iter().enumerate() {
            out.push_str(&text[token.span.range()]);
            out.push_str(gaps[i % gaps.len()]);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn respaced_files_format_idempotently_keeping_meaning_and_comments(text in respaced()) {
        let parsed = guardrailc_compiler::syntax::parse(SourceId(0), &text);
        match format(&text) {
            Ok(formatted) => {
                prop_assert!(!guardrailc_compiler::diagnostic::has_errors(&parsed.diagnostics));
                let (after, before) = (artifacts(&formatted), artifacts(&text));
                prop_assert_eq!(paths_and_contents(&after), paths_and_contents(&before));
                prop_assert_eq!(comments(&formatted), comments(&text));
                prop_assert_eq!(format(&formatted).ok(), Some(formatted.clone()));
            }
            // A line break before `[` or `(` can turn an index into a list: such re-spacings
            // may not parse, and then the formatter must refuse.
            Err(FormatError::Syntax(_)) => {
                prop_assert!(guardrailc_compiler::diagnostic::has_errors(&parsed.diagnostics));
            }
            Err(error) => prop_assert!(false, "{}", error),
        }
    }
}

fn guardrailc(dir: &Path, args: &[&str]) -> std::process::Output {
    support::command()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn fmt_check_lists_files_that_would_change_and_fmt_rewrites_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let messy = "guardrail a {title \"A\"\n  match workloads deny when pod.spec.hostPID == true message \"m\" }\n";
    let tidy = "guardrail a {\n  title    \"A\"\n  match workloads\n  deny when pod.spec.hostPID == true\n    message \"m\"\n}\n";
    std::fs::write(dir.path().join("messy.guard"), messy).unwrap();
    std::fs::write(dir.path().join("tidy.guard"), tidy).unwrap();

    let check = guardrailc(dir.path(), &["fmt", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&check.stdout), "messy.guard\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.guard")).unwrap(),
        messy
    );

    let write = guardrailc(dir.path(), &["fmt"]);
    assert_eq!(
        write.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&write.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.guard")).unwrap(),
        tidy
    );
    let check = guardrailc(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn fmt_leaves_a_file_with_syntax_errors_unchanged_and_fails() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let broken = "guardrail a {\n  deny when message \"m\"\n";
    let path = dir.path().join("broken.guard");
    std::fs::write(&path, broken).unwrap();
    let output = guardrailc(dir.path(), &["fmt", "broken.guard"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("syntax error"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn fmt_formats_the_projects_own_sources_not_the_library_sets_it_names() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("guardrails.toml"),
        "sources = [\"*.guard\", \"@library/multi-tenancy\"]\n",
    )
    .unwrap();
    let messy = "guardrail a {title \"A\"\n  match workloads deny when pod.spec.hostPID == true message \"m\" }\n";
    std::fs::write(dir.path().join("messy.guard"), messy).unwrap();
    let check = guardrailc(dir.path(), &["fmt", "--check"]);
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "messy.guard\n",
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&check.stderr),
        "",
        "the library's files are not read as files of the project"
    );

    // Which files are sources is not guessed past a broken guardrails.toml.
    std::fs::write(dir.path().join("guardrails.toml"), "sources = [\"[x\"]\n").unwrap();
    let broken = guardrailc(dir.path(), &["fmt"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("bad source pattern"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("messy.guard")).unwrap(),
        messy
    );
}
