//! The adversarial suite: the whole pipeline fed random bytes as a careless or hostile user
//! would — sources, guardrails.toml, fixtures and manifests, with invalid UTF-8, NUL, lone
//! CRs, BOMs, deep nesting and long lines among pieces of the real language — in process,
//! with no panic and no case over a time bound allowed.
//!
//! Each case runs on its own thread (2 MiB of stack, the size of the tools' worker threads)
//! watched by a timer, so a hang fails the test with the input that caused it instead of
//! stalling CI. A failure is shrunk by proptest to a small input.
//!
//! `GUARDRAILC_FUZZ_CASES` sets the number of cases in all (10,000 by default, in CI), shared
//! by the five properties in the proportions 4:3:1:1:1; docs/testing.md records the long
//! runs, e.g. `GUARDRAILC_FUZZ_CASES=1000000 cargo test --release --test adversarial`.

#[path = "../compiler/tests/corpus/mod.rs"]
mod corpus;

use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::render::{self, SourceFiles};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::{format, ir, SourceId};
use guardrailc_testkit::compiled::{load_compiled, CompiledGuardrail};
use guardrailc_testkit::fixtures::{parse_fixture, ProjectFacts};
use guardrailc_testkit::manifest_check::{check_object, Namespaces};
use guardrailc_testkit::manifests::ObjectTexts;
use guardrailc_testkit::runner::run_fixtures;
use guardrailc_testkit::SchemaCatalog;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// A hang detector: no case may take longer (a debug build on a loaded machine).
const CASE_BOUND: Duration = Duration::from_secs(30);

use guardrailc_testkit::test_support::{FUZZ_PUNCTUATION, TODAY};

/// This property's share of `GUARDRAILC_FUZZ_CASES`, in tenths.
fn cases(tenths: u32) -> u32 {
    let all: u32 = std::env::var("GUARDRAILC_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    (all / 10 * tenths).max(1)
}

/// Runs `case` on a thread of its own; a panic or a run past [`CASE_BOUND`] fails the case.
fn bounded(what: &str, case: impl FnOnce() + Send + 'static) -> Result<(), TestCaseError> {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
            let _ = done.send(result.is_ok());
        })
        .expect("a thread starts");
    match finished.recv_timeout(CASE_BOUND) {
        Ok(true) => {
            worker.join().ok();
            Ok(())
        }
        Ok(false) => Err(TestCaseError::fail(format!("{what} panicked"))),
        // The worker is left running: the test fails, and the process ends with it.
        Err(_) => panic!("{what} ran past {CASE_BOUND:?}: a hang (this input is not shrunk)"),
    }
}

fn run(name: &str, tenths: u32, strategy: impl Strategy<Value = Vec<u8>>, case: fn(Vec<u8>)) {
    let cases = cases(tenths);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |bytes| {
        if let Ok(dir) = std::env::var("GUARDRAILC_FUZZ_LAST") {
            let _ = std::fs::write(Path::new(&dir).join(name.replace(' ', "-")), &bytes);
        }
        let input = bytes.clone();
        bounded(name, move || case(input))
    });
    if let Err(error) = result {
        panic!("{name}: {error}");
    }
    eprintln!("{name}: {cases} cases, no panic, none over {CASE_BOUND:?}");
}

// ---- inputs -------------------------------------------------------------------------------

/// Pieces of the language, of YAML and TOML, and of what breaks text: random inputs are
/// mostly these, so they reach deep into the parsers instead of stopping at the first byte.
fn pieces() -> Vec<&'static str> {
    [
        &["guardrail g {\n", "guardrail h {\n", "}\n"][..],
        FUZZ_PUNCTUATION,
        OWN_PIECES,
    ]
    .concat()
}

/// The rest of [`pieces`], after the punctuation.
const OWN_PIECES: &[&str] = &[
    "<",
    ">=",
    "=",
    "#",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\t",
    "title \"t\"\n",
    "why \"w\"\n",
    "severity high\n",
    "category detective\n",
    "match kinds [Pod]\n",
    "match workloads\n",
    "match kinds [Deployment, Service]\n",
    "exclude namespaces [\"kube-system\"]\n",
    "deny ",
    "require ",
    "when ",
    "that ",
    "message \"m {c.name} {object.metadata.name}\"\n",
    "fix \"f\"\n",
    "for c in pod.all_containers ",
    "for p in c.ports ",
    "c.image",
    "c.name",
    "object.spec.hostNetwork",
    "object.metadata.labels[\"a\"]",
    "pod.spec.volumes",
    "any x in c.ports: x.hostPort > 0",
    "all y in c.env: y.name != \"\"",
    " and ",
    " or ",
    "not ",
    " in ",
    "[\"a\", \"b\"]",
    "1Gi",
    "500m",
    "80",
    "-1",
    "99999999999999999999",
    "exists(",
    "size(",
    "starts_with(",
    ".matches(\"^a+$\")",
    "keys(",
    "param p: int = 3\n",
    "param q: list<string> = [\"x\"]\n",
    "param r: {a: int}\n",
    "params.p",
    "let l = c.image\n",
    "enforce warn in dev\n",
    "enforce deny\n",
    "exempt namespaces [\"a\"] reason \"r\" expires 2027-01-31\n",
    "old.spec",
    "namespace.metadata.labels",
    "request.userInfo.username",
    "\u{0}",
    "\u{feff}",
    "😀",
    "é",
    "\u{202e}",
    "((((((((((((((((((((((((((((((((((((((((",
    "[[[[[[[[[[[[[[[[[[[[",
    "not not not not not not not not not not ",
    // guardrails.toml
    "sources = [\"*.guard\"]\n",
    "targets = [\"vap\", \"gatekeeper\", \"opa\"]\n",
    "kube_version = \"1.30\"\n",
    "out = \"out\"\n",
    "[[environments]]\n",
    "name = \"dev\"\n",
    "[params.g]\n",
    "p = 5\n",
    "[[crds]]\n",
    "schema = \"crd.yaml\"\n",
    "[detective]\n",
    // fixtures and manifests
    "guardrail: no-latest-tag\n",
    "cases:\n",
    "- name: c\n",
    "  operation: CREATE\n",
    "  expect: deny\n",
    "  expect: allow\n",
    "  object:\n",
    "    apiVersion: v1\n",
    "    kind: Pod\n",
    "apiVersion: v1\n",
    "kind: Pod\n",
    "kind: List\n",
    "items:\n",
    "metadata:\n",
    "  name: p\n",
    "  namespace: ns\n",
    "spec:\n",
    "  containers:\n",
    "  - name: app\n",
    "    image: nginx:latest\n",
    "---\n",
    "...\n",
    "- ",
    "  ",
    "&a ",
    "*a ",
    "!!binary ",
    "{\"a\": [1, {\"b\": null}]}",
    "<<: *a\n",
    "? ",
    "| \n",
    "> \n",
];

/// Random input bytes: pieces, raw bytes (invalid UTF-8 among them), and now and then a
/// deep or long run of one piece.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        12 => proptest::sample::select(pieces()).prop_map(|p| p.as_bytes().to_vec()),
        2 => vec(any::<u8>(), 1..8),
        // Deep nesting and long lines: past the parser's limits, not much further (each
        // costs a debug build about a millisecond per kilobyte).
        1 => (proptest::sample::select(pieces()), 70usize..1200)
            .prop_map(|(p, n)| p.as_bytes().repeat(n.min(6_000 / p.len().max(1)))),
    ];
    vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

/// A real guardrail with random bytes spliced in: inputs that get past the parser.
fn mutated_guardrail() -> impl Strategy<Value = Vec<u8>> {
    let corpus = corpus();
    (
        0..corpus.len(),
        vec((any::<prop::sample::Index>(), 0usize..8, input()), 1..4),
    )
        .prop_map(move |(which, edits)| {
            let mut text = corpus[which].as_bytes().to_vec();
            for (at, delete, insert) in edits {
                let start = at.index(text.len() + 1);
                let end = (start + delete).min(text.len());
                text.splice(start..end, insert);
            }
            text
        })
}

/// Every `.guard` file of the quickstart and of the compiler's test cases.
fn corpus() -> Vec<String> {
    corpus::corpus(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// Text as the tools read it: UTF-8 as is; anything else the way a lossy reader would
/// (the command line refuses such files, the language server gets UTF-8 from the editor).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- the pipeline -------------------------------------------------------------------------

struct Files<'a> {
    sources: &'a [SourceFile],
    config: &'a str,
}

impl SourceFiles for Files<'_> {
    fn file(&self, id: SourceId) -> (&str, &str) {
        match self.sources.get(id.0 as usize) {
            Some(s) => (&s.name, &s.text),
            None => ("guardrails.toml", self.config),
        }
    }
    fn count(&self) -> usize {
        self.sources.len() + 1
    }
}

/// `guardrailc build` and `fmt` in memory: config, every target, the formatter, and the
/// diagnostics rendered both ways.
fn build(sources: &[SourceFile], config_text: &str) -> project::BuildOutput {
    let output = project::build_text(sources, config_text, TODAY);
    for source in sources {
        let _ = format::format(&source.text);
    }
    let files = Files {
        sources,
        config: config_text,
    };
    render::human(&files, &output.diagnostics, false);
    render::json_diagnostics(&files, &output.diagnostics);
    output
}

fn source(bytes: &[u8]) -> Vec<SourceFile> {
    vec![SourceFile {
        name: "fuzz.guard".into(),
        text: text(bytes),
    }]
}

const ALL_TARGETS: &str = "targets = [\"vap\", \"gatekeeper\", \"opa\"]\n";

/// The quickstart, built and loaded into every engine once.
fn quickstart() -> &'static (Vec<ir::Policy>, Vec<Artifact>, Vec<CompiledGuardrail>) {
    static QUICKSTART: OnceLock<(Vec<ir::Policy>, Vec<Artifact>, Vec<CompiledGuardrail>)> =
        OnceLock::new();
    QUICKSTART.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
        let mut sources: Vec<SourceFile> = std::fs::read_dir(root.join("guardrails"))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                SourceFile {
                    name: path.file_name().unwrap().to_string_lossy().into_owned(),
                    text: std::fs::read_to_string(&path).unwrap(),
                }
            })
            .collect();
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        let config = std::fs::read_to_string(root.join("guardrails.toml")).unwrap();
        let output = project::build_text(&sources, &config, TODAY);
        let compiled = load_compiled(output.policies.clone(), &output.artifacts).unwrap();
        (output.policies, output.artifacts, compiled)
    })
}

/// `guardrailc test` on one fixture file against `compiled`.
fn run_fixture(bytes: &[u8], compiled: &[CompiledGuardrail]) {
    let catalog = SchemaCatalog(Schema::builtin());
    let mut guardrails: Vec<String> = compiled.iter().map(|c| c.policy.id.clone()).collect();
    guardrails.dedup();
    let mut environments: Vec<String> = compiled.iter().map(|c| c.policy.env.clone()).collect();
    environments.sort();
    environments.dedup();
    let facts = ProjectFacts {
        guardrails: &guardrails,
        environments: &environments,
        catalog: &catalog,
    };
    // `file:` references are given random bytes too, never the disk.
    let read = |path: &str| {
        Ok(format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {path}\n"
        ))
    };
    if let Ok(fixture) = parse_fixture("tests/fuzz.yaml", &text(bytes), &facts, &read) {
        run_fixtures(&[fixture], compiled, &catalog);
    }
}

// ---- the properties -----------------------------------------------------------------------

fn source_case(bytes: Vec<u8>) {
    build(&source(&bytes), ALL_TARGETS);
}

#[test]
fn random_sources_build_format_and_render_without_panics_or_hangs() {
    run("a random source", 4, input(), source_case);
}

#[test]
fn mutated_guardrails_build_and_their_policies_run_without_panics_or_hangs() {
    run("a mutated guardrail", 3, mutated_guardrail(), mutated_case);
}

fn mutated_case(bytes: Vec<u8>) {
    {
        let output = build(&source(&bytes), ALL_TARGETS);
        // One in twenty that build are loaded into the engines and given a request (loading
        // is a debug build's slowest step).
        let sampled = bytes
            .iter()
            .fold(0u8, |h, b| h.wrapping_mul(31).wrapping_add(*b))
            % 20
            == 0;
        if sampled && !output.artifacts.is_empty() {
            if let Ok(compiled) = load_compiled(output.policies, &output.artifacts) {
                let fixture = format!(
                    "guardrail: {}\ncases:\n- name: c\n  operation: CREATE\n  expect: allow\n  object:\n    apiVersion: v1\n    kind: Pod\n    metadata: {{name: p, namespace: ns}}\n    spec: {{containers: [{{name: a, image: 'x:latest', ports: [{{hostPort: 1}}]}}]}}\n",
                    compiled.first().map_or("g", |c| c.policy.id.as_str())
                );
                run_fixture(fixture.as_bytes(), &compiled);
            }
        }
    }
}

#[test]
fn random_project_files_are_diagnostics_not_panics() {
    run("a random guardrails.toml", 1, input(), config_case);
}

fn config_case(bytes: Vec<u8>) {
    let guardrail = "guardrail g {\n  title \"t\"\n  match kinds [Pod]\n  param p: int = 1\n  deny when object.spec.hostNetwork\n    message \"m\"\n}\n";
    build(&source(guardrail.as_bytes()), &text(&bytes));
}

#[test]
fn random_fixtures_run_against_the_quickstart_without_panics_or_hangs() {
    quickstart();
    run("a random fixture", 1, input(), fixture_case);
}

fn fixture_case(bytes: Vec<u8>) {
    run_fixture(&bytes, &quickstart().2);
}

#[test]
fn random_manifests_are_checked_against_the_quickstart_without_panics_or_hangs() {
    quickstart();
    run("a random manifest", 1, input(), manifest_case);
}

fn manifest_case(bytes: Vec<u8>) {
    {
        let catalog = SchemaCatalog(Schema::builtin());
        for chunk in ObjectTexts::new(&bytes[..]) {
            let Ok(chunk) = chunk else { break };
            let Ok(objects) = chunk.parse() else { continue };
            for object in objects {
                check_object(
                    &quickstart().2,
                    object,
                    ("fuzz.yaml", chunk.line),
                    &Namespaces::default(),
                    "team",
                    &catalog,
                );
            }
        }
    }
}

/// Replays one saved input: `GUARDRAILC_FUZZ_REPLAY=PROPERTY:FILE`, PROPERTY one of
/// `source`, `mutated`, `config`, `fixture`, `manifest` (with `GUARDRAILC_FUZZ_LAST=DIR` the
/// properties save each input before running it, so the input of a crash that kills the
/// process, like a stack overflow, is kept).
#[test]
fn replay_a_saved_input() {
    let Ok(replay) = std::env::var("GUARDRAILC_FUZZ_REPLAY") else {
        return;
    };
    let (property, file) = replay.split_once(':').expect("PROPERTY:FILE");
    let bytes = std::fs::read(file).expect("a readable input");
    let case: fn(Vec<u8>) = match property {
        "source" => source_case,
        "mutated" => mutated_case,
        "config" => config_case,
        "fixture" => fixture_case,
        "manifest" => manifest_case,
        other => panic!("unknown property `{other}`"),
    };
    bounded(property, move || case(bytes)).unwrap();
}
