//! Server time for the two interactive paths: diagnostics of a 2,000-line file after a
//! one-character edit (target ≤ 10 ms) and completion after `.` (target ≤ 5 ms).

use criterion::{criterion_group, criterion_main, Criterion};
use guardrailc_compiler::schema::Schema;
use guardrailc_lsp::completion;
use guardrailc_lsp::syntax_index::FileSyntax;
use guardrailc_lsp::workspace::Workspace;
use std::hint::black_box;

const NAME: &str = "file:///bench/big.guard";

/// About 2,000 lines: copies of a 20-line guardrail with distinct ids.
fn big_file() -> String {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "guardrail limits-{i} {{
  title    \"Containers set a bounded memory limit\"
  why      \"An unbounded container can exhaust node memory.\"
  severity medium

  match workloads
  exclude namespaces [\"kube-system\"]

  param max_memory: quantity = 4Gi

  require for c in pod.spec.containers
    that exists(c.resources.limits[\"memory\"])
    message \"container {{c.name}} has no memory limit\"

  deny for c in pod.all_containers
    let limit = c.resources.limits[\"memory\"]
    when limit > params.max_memory or c.securityContext.privileged == true
    message \"container {{c.name}} asks for {{limit}}\"
}}

"
        ));
    }
    text
}

fn diagnostics_after_an_edit(c: &mut Criterion) {
    let text = big_file();
    assert!(text.lines().count() >= 2000);
    let mut workspace = Workspace::new(guardrailc_testkit::test_support::TODAY);
    workspace.set_file(NAME, text);
    let line = 1010;
    let mut toggle = false;
    c.bench_function(
        "diagnostics after a one-character edit (2,000 lines)",
        |b| {
            b.iter(|| {
                // Type and delete one character in turn, so the text stays the same size.
                let range = if toggle {
                    ((line, 4), (line, 5))
                } else {
                    ((line, 4), (line, 4))
                };
                workspace.edit_file(NAME, Some(range), if toggle { "" } else { "x" });
                toggle = !toggle;
                black_box(workspace.diagnostics());
            })
        },
    );
}

fn completion_after_dot(c: &mut Criterion) {
    let text = big_file();
    let offset = text.find("c.securityContext").expect("present") + 2;
    c.bench_function("completion after `.` (2,000 lines)", |b| {
        b.iter(|| {
            let syntax = FileSyntax::parse(&text);
            black_box(completion::complete(
                &syntax,
                &text,
                Schema::builtin(),
                offset,
            ))
        })
    });
}

criterion_group!(benches, diagnostics_after_an_edit, completion_after_dot);
criterion_main!(benches);
