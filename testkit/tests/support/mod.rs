//! What the testkit's tests and benchmarks share: the quickstart example, built in memory.
#![allow(dead_code)]

use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::ir;
use guardrailc_compiler::project::{self, SourceFile};
use std::path::{Path, PathBuf};

/// `examples/quickstart`.
pub fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart")
}

/// The quickstart's policies and artifacts, built on `test_support::TODAY`.
pub fn build_quickstart() -> (Vec<ir::Policy>, Vec<Artifact>) {
    let mut sources: Vec<SourceFile> = std::fs::read_dir(quickstart().join("guardrails"))
        .expect("the quickstart has guardrails")
        .map(|entry| {
            let path = entry.expect("a readable entry").path();
            SourceFile {
                name: format!("guardrails/{}", path.file_name().unwrap().to_string_lossy()),
                text: std::fs::read_to_string(&path).expect("a readable guardrail"),
            }
        })
        .collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let config_text = std::fs::read_to_string(quickstart().join("guardrails.toml")).unwrap();
    let output = project::build_text(
        &sources,
        &config_text,
        guardrailc_testkit::test_support::TODAY,
    );
    assert!(output.diagnostics.iter().all(|d| !d.is_error()));
    (output.policies, output.artifacts)
}
