//! Snapshot tests generated from case folders: adding a case is adding a file.
//!
//! * `cases/parse/*.guard`: the syntax tree and the parse diagnostics.
//! * `cases/diagnostics/*.guard`: the rendered diagnostics of a full build. The first line
//!   says which codes the case must produce: `# expect: G0301 G0303`. A sibling
//!   `<name>.toml` is used as guardrails.toml.
//! * `cases/build/<name>/`: a project; the snapshot holds the rendered diagnostics and every
//!   emitted file, each under its path (not the IR: the emitted files are what ships).

use guardrailc_compiler::config::{self, Config};
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, SourceFile};
use guardrailc_compiler::render::{self, SourceFiles};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::{syntax, Code, SourceId};
use std::path::Path;

/// The date every case is built on, so expiry cases do not change with the calendar.
use guardrailc_compiler::testing::TODAY;

struct Files {
    sources: Vec<SourceFile>,
    config: String,
}

impl SourceFiles for Files {
    fn file(&self, id: SourceId) -> (&str, &str) {
        match self.sources.get(id.0 as usize) {
            Some(s) => (&s.name, &s.text),
            None => ("guardrails.toml", &self.config),
        }
    }
    fn count(&self) -> usize {
        self.sources.len() + 1
    }
}

fn build(files: &Files) -> project::BuildOutput {
    let config_source = SourceId(files.sources.len() as u32);
    let config = match config::parse(config_source, &files.config) {
        Ok(config) => config,
        Err(diagnostics) => {
            return project::BuildOutput {
                diagnostics,
                ..Default::default()
            }
        }
    };
    build_with(files, &config)
}

fn build_with(files: &Files, config: &Config) -> project::BuildOutput {
    project::build(&BuildInput {
        sources: &files.sources,
        config,
        config_source: SourceId(files.sources.len() as u32),
        schema: Schema::builtin(),
        today: TODAY,
        options: &BuildOptions::default(),
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn parse_cases() {
    insta::glob!("cases/parse/*.guard", |path| {
        let text = read(path);
        let parsed = syntax::parse(SourceId(0), &text);
        let files = Files {
            sources: vec![SourceFile {
                name: path.file_name().unwrap().to_string_lossy().into(),
                text: text.clone(),
            }],
            config: String::new(),
        };
        let rendered = render::human(&files, &parsed.diagnostics, false);
        insta::assert_snapshot!(format!(
            "{}\n--- diagnostics ---\n{rendered}",
            yaml_serde::to_string(&parsed.file).unwrap()
        ));
    });
}

#[test]
fn diagnostic_cases() {
    insta::glob!("cases/diagnostics/*.guard", |path| {
        let text = read(path);
        let expected: Vec<Code> = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# expect:"))
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: CODE…`", path.display()))
            .split_whitespace()
            .map(|c| Code::parse(c).unwrap_or_else(|| panic!("unknown code {c}")))
            .collect();
        let config_path = path.with_extension("toml");
        let files = Files {
            sources: vec![SourceFile {
                name: path.file_name().unwrap().to_string_lossy().into(),
                text,
            }],
            config: if config_path.exists() {
                read(&config_path)
            } else {
                String::new()
            },
        };
        let output = build(&files);
        for code in &expected {
            assert!(
                output.diagnostics.iter().any(|d| d.code == *code),
                "{}: expected {code}, got {:?}",
                path.display(),
                output
                    .diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
            );
        }
        insta::assert_snapshot!(render::human(&files, &output.diagnostics, false));
    });
}

/// Every code a user can trigger has a case that shows it.
#[test]
fn every_code_has_a_diagnostic_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/diagnostics");
    let mut covered = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "guard") {
            let text = read(&path);
            let first = text.lines().next().unwrap_or_default().to_string();
            covered.extend(first.split_whitespace().filter_map(Code::parse));
        }
    }
    // Shown elsewhere: G0404 by the command-line tests (it needs an empty directory), G0405
    // by the language server's tests (only the editor sees files the sources leave out), the
    // backend codes by the backend tests, G0506 by the command-line tests (it takes megabytes
    // of source) and `limits`' unit tests, G0901 cannot be provoked on purpose. G0406 comes
    // from selecting files on disk or in the editor: the command-line and language-server
    // tests show it.
    let elsewhere = [
        Code::NoSources,
        Code::NotASource,
        Code::UnmatchedSourcePattern,
        Code::CostLimit,
        Code::KubeVersionTooOld,
        Code::TooManyMatchConditions,
        Code::OutputTooLarge,
        Code::Internal,
    ];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !covered.contains(c) && !elsewhere.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a case in cases/diagnostics: {missing:?}"
    );
}

#[test]
fn build_cases() {
    insta::glob!("cases/build/*/guardrails.toml", |path| {
        let dir = path.parent().unwrap();
        let mut sources = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for file in entries {
            if file.extension().is_some_and(|e| e == "guard") {
                sources.push(SourceFile {
                    name: file.file_name().unwrap().to_string_lossy().into(),
                    text: read(&file),
                });
            }
        }
        let files = Files {
            sources,
            config: read(path),
        };
        let output = build(&files);
        let mut snapshot = render::human(&files, &output.diagnostics, false);
        for artifact in &output.artifacts {
            snapshot.push_str(&format!(
                "=== {} ===\n{}\n",
                artifact.path, artifact.contents
            ));
        }
        insta::assert_snapshot!(snapshot);
    });
}

/// A `{` that cannot start an expression is skipped with everything up to its `}`: the
/// guardrail goes on after it instead of ending there (which left its rules outside it and
/// reported a bogus G0207).
#[test]
fn a_braced_param_value_does_not_end_the_guardrail() {
    for value in ["{}", "{\"a\": \"b\"}", "{ {} }"] {
        let text = format!(
            "guardrail g {{\n  title \"t\"\n  match workloads\n  param m: map<string, string> = {value}\n  deny when pod.spec.hostNetwork == true message \"m\"\n}}\n"
        );
        let parsed = syntax::parse(SourceId(0), &text);
        let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["G0104"], "{value}: {:#?}", parsed.diagnostics);
        assert_eq!(parsed.file.guardrails.len(), 1, "{value}");
        assert_eq!(parsed.file.guardrails[0].items.len(), 4, "{value}");
        let output = build(&Files {
            sources: vec![SourceFile {
                name: "g.guard".into(),
                text,
            }],
            config: String::new(),
        });
        assert!(
            !output.diagnostics.iter().any(|d| d.code == Code::NoRules),
            "{value}: {:#?}",
            output.diagnostics
        );
    }
}
