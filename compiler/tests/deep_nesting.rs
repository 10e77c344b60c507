//! Deeply nested input is refused with G0109, never a stack overflow, and the deepest input
//! the parser accepts goes through every recursive pass — checking, lowering, both
//! printers, the cost estimate, the formatter — on a thread stack smaller than any the
//! tools run on (Rust threads, tokio workers and blocking threads all get 2 MiB).

use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::syntax::parser::{MAX_NESTING, MAX_OPERATORS};
use guardrailc_compiler::{format, syntax, Code, Diagnostic, SourceId};

/// Half the smallest stack the tools run the compiler on.
const SMALL_STACK: usize = 1024 * 1024;

/// Runs `f` on a thread with [`SMALL_STACK`]; a stack overflow aborts the test binary.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no panic")
}

/// Parses `text`: all its diagnostics, and those that say it nests too deep.
fn parse_too_deep(text: &str) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let diagnostics = syntax::parse(SourceId(0), text).diagnostics;
    let deep = diagnostics
        .iter()
        .filter(|d| d.code == Code::TooDeep)
        .cloned()
        .collect();
    (diagnostics, deep)
}

fn rule(condition: &str) -> String {
    format!(
        "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n  deny when {condition}\n    message \"m\"\n}}\n"
    )
}

/// A kind of nesting: its name, and the whole file nested `n` levels deep.
type Shape = (&'static str, fn(usize) -> String);

fn shapes() -> Vec<Shape> {
    vec![
        ("parentheses", |n| {
            rule(&format!(
                "{}object.spec.hostNetwork{}",
                "(".repeat(n),
                ")".repeat(n)
            ))
        }),
        ("not", |n| {
            rule(&format!("{}object.spec.hostNetwork", "not ".repeat(n)))
        }),
        ("or chain", |n| {
            rule(&format!("{}true", "object.spec.hostNetwork or ".repeat(n)))
        }),
        ("and inside parentheses", |n| {
            let mut expr = "object.spec.hostNetwork".to_string();
            for _ in 0..n {
                expr = format!("(object.spec.hostPID and {expr})");
            }
            rule(&expr)
        }),
        ("quantifiers", |n| {
            let mut expr = String::new();
            for i in 0..n {
                expr.push_str(&format!("any c{i} in pod.all_containers: "));
            }
            expr.push_str("c0.image == \"x\"");
            rule(&expr)
        }),
        ("lists", |n| {
            rule(&format!(
                "object.metadata.name in {}\"a\"{}",
                "[".repeat(n),
                "]".repeat(n)
            ))
        }),
        ("calls", |n| {
            rule(&format!(
                "{}object.metadata.name{} > 0",
                "size(".repeat(n),
                ")".repeat(n)
            ))
        }),
        ("param types and values", |n| {
            format!(
                "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n  param p: {}int{} = {}1{}\n  deny when size(params.p) > 0\n    message \"m\"\n}}\n",
                "list<".repeat(n),
                ">".repeat(n),
                "[".repeat(n),
                "]".repeat(n)
            )
        }),
        ("record types", |n| {
            format!(
                "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n  param p: {}int{}\n  deny when object.spec.hostNetwork\n    message \"m\"\n}}\n",
                "{a: ".repeat(n),
                "}".repeat(n)
            )
        }),
        ("field chain in a loop's list", |n| {
            format!(
                "guardrail deep {{\n  title \"t\"\n  match workloads\n  deny for c in pod.all_containers{}\n    when true\n    message \"m\"\n}}\n",
                ".image".repeat(n)
            )
        }),
        ("message placeholder", |n| {
            format!(
                "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n  deny when object.spec.hostNetwork\n    message \"{{{}object.metadata.name{}}}\"\n}}\n",
                "(".repeat(n),
                ")".repeat(n)
            )
        }),
    ]
}

fn too_deep(text: &str) -> bool {
    syntax::parse(SourceId(0), text)
        .diagnostics
        .iter()
        .any(|d| d.code == Code::TooDeep)
}

/// Every pass the command line and the language server run on a source.
fn whole_pipeline(text: &str) {
    let sources = vec![SourceFile {
        name: "deep.guard".into(),
        text: text.to_string(),
    }];
    project::check_sources(
        &sources,
        Schema::builtin(),
        guardrailc_compiler::testing::TODAY,
    );
    project::build_text(&sources, "", guardrailc_compiler::testing::TODAY);
    let _ = format::format(text);
}

#[test]
fn the_deepest_accepted_nesting_of_every_shape_survives_every_pass_on_a_small_stack() {
    on_small_stack(|| {
        for (name, shape) in shapes() {
            // The deepest nesting that is not refused: every shape is refused somewhere
            // below twice the limit.
            let deepest = (1..2 * MAX_NESTING)
                .take_while(|&n| !too_deep(&shape(n)))
                .last()
                .unwrap_or_else(|| panic!("{name}: even one level is refused"));
            assert!(
                too_deep(&shape(deepest + 1)),
                "{name}: {} levels are refused only by a later error",
                deepest + 1
            );
            whole_pipeline(&shape(deepest));
            whole_pipeline(&shape(deepest + 1));
        }
    });
}

#[test]
fn thousands_of_unclosed_brackets_are_one_nesting_error_not_a_crash() {
    on_small_stack(|| {
        for text in [
            "(".repeat(5000),
            rule(&"(".repeat(5000)),
            rule(&"[".repeat(4000)),
            rule(&format!("{}1{}", "([".repeat(2500), "])".repeat(2500))),
            rule(&"not ".repeat(5000)),
            format!(
                "guardrail g {{\n  param p: {}int\n}}\n",
                "list<".repeat(5000)
            ),
        ] {
            let (diagnostics, deep) = parse_too_deep(&text);
            if text.starts_with('(') {
                // Not inside a guardrail: rejected before any expression is parsed.
                assert!(deep.is_empty());
            } else {
                assert_eq!(deep.len(), 1, "{diagnostics:?}");
                // The skipped closing brackets are not reported once per level.
                let unclosed = diagnostics
                    .iter()
                    .filter(|d| d.code == Code::UnclosedDelimiter)
                    .count();
                assert!(unclosed <= 1, "{unclosed} unclosed-bracket errors");
            }
            whole_pipeline(&text);
        }
    });
}

#[test]
fn a_chain_of_a_hundred_thousand_operators_is_refused_without_recursion() {
    on_small_stack(|| {
        for chain in [
            "object.spec.hostNetwork or ",
            "not object.spec.hostNetwork and ",
        ] {
            let text = rule(&format!("{}true", chain.repeat(100_000)));
            let (diagnostics, deep) = parse_too_deep(&text);
            assert_eq!(deep.len(), 1, "{diagnostics:?}");
            assert!(
                deep[0].message.contains(&MAX_OPERATORS.to_string())
                    || deep[0].message.contains(&MAX_NESTING.to_string())
            );
            whole_pipeline(&text);
        }
    });
}

#[test]
fn a_deep_expression_reports_where_it_goes_too_deep() {
    let text = rule(&format!("{}true{}", "(".repeat(200), ")".repeat(200)));
    let parsed = syntax::parse(SourceId(0), &text);
    let error = parsed
        .diagnostics
        .iter()
        .find(|d| d.code == Code::TooDeep)
        .expect("a nesting error");
    // The span starts at the first bracket past the limit.
    let first = text.find('(').unwrap();
    assert_eq!(error.span.start as usize, first + MAX_NESTING);
    assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
}

#[test]
fn thousands_of_loops_or_chained_lets_in_one_rule_do_not_overflow() {
    on_small_stack(|| {
        let n = 3000;
        let mut loops = String::new();
        for i in 0..n {
            loops.push_str(&format!("for c{i} in pod.all_containers\n    "));
        }
        let text = format!(
            "guardrail deep {{\n  title \"t\"\n  match workloads\n  deny {loops}when c0.image == \"x\"\n    message \"m\"\n}}\n"
        );
        assert!(too_deep(&text));
        whole_pipeline(&text);
        // At the limit, the loops pass and every backend nests them.
        let loops: String = (0..MAX_NESTING)
            .map(|i| format!("for c{i} in pod.all_containers\n    "))
            .collect();
        // ... with a condition of nested quantifiers as deep as the parser accepts.
        let quantifiers: String = (0..MAX_NESTING - 4)
            .map(|i| format!("any q{i} in c1.ports: "))
            .collect();
        let text = format!(
            "guardrail deep {{\n  title \"t\"\n  match workloads\n  deny {loops}when {quantifiers}q0.hostPort == 1\n    message \"m\"\n}}\n"
        );
        assert!(!too_deep(&text));
        whole_pipeline(&text);
        let mut lets = String::from("  let l0 = object.spec.hostNetwork\n");
        for i in 1..n {
            lets.push_str(&format!("  let l{i} = l{} and l{}\n", i - 1, i - 1));
        }
        let text = format!(
            "guardrail deep {{\n  title \"t\"\n  match kinds [Pod]\n{lets}  deny when l{}\n    message \"m\"\n}}\n",
            n - 1
        );
        whole_pipeline(&text);
    });
}
