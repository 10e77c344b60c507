//! Each code's explanation (`guardrailc explain CODE`) against the situations that raise it:
//! every code a diagnostic case raises has an explanation, and every example an explanation
//! shows compiles either cleanly (the fix) or to the code it explains (the mistake), never to
//! some other error.

use guardrailc_compiler::diagnostic::Diagnostic;
use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::testing::TODAY;
use guardrailc_compiler::{Code, Severity};
use std::collections::BTreeMap;
use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn build(name: &str, guard: &str, config: &str) -> Vec<Diagnostic> {
    let sources = [SourceFile {
        name: name.to_string(),
        text: guard.to_string(),
    }];
    project::build_text(&sources, config, TODAY).diagnostics
}

/// The case files and the codes each raises, by file name.
fn cases() -> BTreeMap<String, (Vec<Code>, Vec<Code>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/diagnostics");
    let mut cases = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "guard") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(&path);
        let expected: Vec<Code> = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# expect:"))
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: CODE…`"))
            .split_whitespace()
            .map(|c| Code::parse(c).unwrap_or_else(|| panic!("{name}: unknown code {c}")))
            .collect();
        let config_path = path.with_extension("toml");
        let config = if config_path.exists() {
            read(&config_path)
        } else {
            String::new()
        };
        let raised: Vec<Code> = build(&name, &text, &config)
            .iter()
            .map(|d| d.code)
            .collect();
        cases.insert(name, (expected, raised));
    }
    cases
}

#[test]
fn every_code_a_case_raises_is_explained() {
    let cases = cases();
    assert!(cases.len() > 40, "the diagnostic cases were not found");
    for (name, (expected, raised)) in &cases {
        for code in expected.iter().chain(raised) {
            let explanation = code.explanation().trim();
            assert!(
                !explanation.is_empty(),
                "{name} raises {code}, which has no explanation"
            );
            assert!(
                !code.summary().trim().is_empty(),
                "{name} raises {code}, which has no summary"
            );
        }
    }
}

/// The indented blocks of an explanation (four spaces or more after a blank line, as
/// `guardrailc explain` prints code), dedented.
fn examples(explanation: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut after_blank = true;
    for line in explanation.lines() {
        let indented = line.starts_with("    ") && !line.trim().is_empty();
        if indented && (after_blank || !current.is_empty()) {
            current.push(line);
            continue;
        }
        if !current.is_empty() {
            blocks.push(dedent(&current));
            current.clear();
        }
        after_blank = line.trim().is_empty();
    }
    if !current.is_empty() {
        blocks.push(dedent(&current));
    }
    blocks
}

fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| &l[indent..])
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an example is: guardrails.toml, a whole file, or items of a guardrail (completed
/// with a title, a match on Pods and a rule where it has none).
fn compile_example(example: &str) -> Vec<Diagnostic> {
    let first = example.split_whitespace().next().unwrap_or_default();
    let toml_like = first.starts_with('[')
        || example
            .lines()
            .next()
            .is_some_and(|l| l.contains(" = ") && !l.trim_start().starts_with("let "));
    if toml_like {
        let guard = "guardrail example {\n  title \"Example\"\n  match kinds [Pod]\n  deny when object.metadata.name == \"example\" message \"example\"\n}\n";
        return build("example.guard", guard, example);
    }
    if first == "guardrail" {
        return build("example.guard", example, "");
    }
    let has = |word: &str| {
        example
            .lines()
            .any(|l| l.split_whitespace().next() == Some(word))
    };
    let mut guard = String::from("guardrail example {\n");
    if !has("title") {
        guard.push_str("  title \"Example\"\n");
    }
    if !has("match") {
        guard.push_str("  match kinds [Pod]\n");
    }
    for line in example.lines() {
        guard.push_str("  ");
        guard.push_str(line);
        guard.push('\n');
    }
    if !has("deny") && !has("require") {
        guard.push_str("  deny when object.metadata.name == \"example\" message \"example\"\n");
    }
    guard.push_str("}\n");
    build("example.guard", &guard, "")
}

#[test]
fn every_example_in_an_explanation_compiles_to_its_code_or_cleanly() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for code in Code::ALL {
        for example in examples(code.explanation()) {
            seen += 1;
            let errors: Vec<String> = compile_example(&example)
                .iter()
                .filter(|d| d.severity == Severity::Error && d.code != *code)
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            if !errors.is_empty() {
                failures.push(format!("{code}, example:\n{example}\n→ {errors:?}"));
            }
        }
    }
    assert!(seen > 10, "only {seen} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The test finds examples and judges them: a misspelt example fails it.
#[test]
fn a_wrong_example_is_caught() {
    let examples =
        examples("Text.\n\n    deny when object.spec.hostNetwrk == true message \"m\"\n\nMore.");
    assert_eq!(examples.len(), 1);
    let codes: Vec<Code> = compile_example(&examples[0])
        .iter()
        .map(|d| d.code)
        .collect();
    assert!(codes.contains(&Code::UnknownField), "{codes:?}");
}

/// The situations the checker raises a code in, each with what the code's explanation must
/// say about it: an explanation that describes other mistakes than the ones users hit sends
/// them the wrong way. Each situation must raise the code, so the table follows the checker.
#[test]
fn explanations_describe_the_situations_that_raise_them() {
    let situations: &[(Code, &str, &str)] = &[
        // G0203: the items a guardrail or a rule cannot do without.
        (
            Code::MissingItem,
            "guardrail x {\n  match kinds [Pod]\n  deny when object.metadata.name == \"a\" message \"m\"\n}\n",
            "`title`",
        ),
        (
            Code::MissingItem,
            "guardrail x {\n  title \"T\"\n  deny when object.metadata.name == \"a\" message \"m\"\n}\n",
            "`match`",
        ),
        (Code::MissingItem, "require message \"m\"", "needs `that`"),
        // G0303: a value of the wrong type where the language needs another.
        (
            Code::TypeMismatch,
            "deny when object.metadata.name == 3 message \"m\"",
            "same type",
        ),
        (
            Code::TypeMismatch,
            "deny when object.metadata.name message \"m\"",
            "condition",
        ),
        (
            Code::TypeMismatch,
            "deny when object.metadata.name.starts_with(3) message \"m\"",
            "string tests",
        ),
        (
            Code::TypeMismatch,
            "deny when object.metadata.name.keys().size() > 0 message \"m\"",
            "`keys()`",
        ),
        (
            Code::TypeMismatch,
            "deny when object.metadata.name[0] == \"a\" message \"m\"",
            "indexed",
        ),
        (
            Code::TypeMismatch,
            "deny when object.metadata.name in [1, \"a\"] message \"m\"",
            "list",
        ),
        (
            Code::TypeMismatch,
            "deny when exists(object.metadata.name == \"a\") message \"m\"",
            "`exists`",
        ),
    ];
    let mut failures = Vec::new();
    for (code, snippet, phrase) in situations {
        let codes: Vec<Code> = compile_example(snippet).iter().map(|d| d.code).collect();
        assert!(
            codes.contains(code),
            "`{snippet}` no longer raises {code} but {codes:?}: update the table"
        );
        if !code.explanation().contains(phrase) {
            failures.push(format!(
                "{code} is raised by `{snippet}`, but its explanation does not say {phrase}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
