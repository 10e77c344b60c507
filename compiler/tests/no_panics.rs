//! The compiler never panics: random text, and mutations of real guardrails, go through
//! parsing, checking, lowering and every backend.

mod corpus;

use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::testing::FUZZ_PUNCTUATION;
use guardrailc_compiler::Code;
use proptest::prelude::*;

/// Every .guard file of the examples and the test cases.
fn corpus() -> Vec<String> {
    corpus::corpus(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// Compiles `text`; an internal error (G0901: a printer met IR it cannot print, or printed
/// output its own checks refuse) fails like a panic would.
fn compile(text: &str, emit: bool) {
    let sources = vec![SourceFile {
        name: "fuzz.guard".into(),
        text: text.to_string(),
    }];
    let diagnostics = if emit {
        project::build_text(&sources, "", guardrailc_compiler::testing::TODAY).diagnostics
    } else {
        project::check_sources(
            &sources,
            Schema::builtin(),
            guardrailc_compiler::testing::TODAY,
        )
        .1
    };
    let internal: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == Code::Internal)
        .collect();
    assert!(internal.is_empty(), "{text:?}\n{internal:#?}");
}

/// Fragments that make random text look like the language.
fn pieces() -> Vec<&'static str> {
    [&["guardrail", " g "][..], FUZZ_PUNCTUATION, OWN_PIECES].concat()
}

/// The rest of [`pieces`], after the punctuation.
const OWN_PIECES: &[&str] = &[
    "<=",
    ">",
    "=",
    "title \"t\"\n",
    "match workloads\n",
    "match kinds [",
    "Service",
    "Pod",
    "deny",
    "require",
    "for",
    " c ",
    "in",
    "pod.all_containers",
    "pod.spec",
    "object.metadata.labels[\"a\"]",
    "when",
    "that",
    "message",
    "\"m {c.name}\"",
    "fix",
    "let",
    "x",
    "=",
    "and",
    "or",
    "not",
    "any",
    "all",
    "exists(",
    "missing(",
    ".starts_with(",
    ".matches(\"",
    "500m",
    "2Gi",
    "1.5",
    "-1",
    "99999999999999999999",
    "2027-02-30",
    "param p: list<string> = [\"a\"]",
    "params.p",
    "enforce { prod: deny }",
    "exempt {",
    "reason \"r\"",
    "expires 2027-01-01",
    "namespaces [\"ns\"]",
    "\n",
    "  ",
    "#c\n",
    "é",
    "😀",
    "\u{0}",
    "old.",
    "request.user",
    "namespace.metadata",
    ".size()",
    "{",
    "\\{",
];

fn mutated() -> impl Strategy<Value = String> {
    let corpus = corpus();
    (
        0..corpus.len(),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0..12usize,
                prop::sample::select(pieces()),
            ),
            1..6,
        ),
    )
        .prop_map(move |(which, edits)| {
            let mut text = corpus[which].clone();
            for (at, delete, insert) in edits {
                let mut start = at.index(text.len() + 1);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + delete).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(start..end, insert);
            }
            text
        })
}

fn assembled() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces()), 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_guardrails_never_panic_in_parse_and_check(text in mutated()) {
        compile(&text, false);
    }

    #[test]
    fn assembled_fragments_never_panic_in_parse_and_check(text in assembled()) {
        compile(&text, false);
    }

    #[test]
    fn arbitrary_text_never_panics_in_parse_and_check(text in ".{0,400}") {
        compile(&text, false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 800, ..ProptestConfig::default() })]

    /// Mutations that still check go on through lowering and all three backends.
    #[test]
    fn mutated_guardrails_never_panic_in_the_backends(text in mutated()) {
        compile(&text, true);
    }
}
