//! Every `.guard` file of the quickstart and of the compiler's test cases: realistic starting
//! points for the fuzzers (`compiler/tests/no_panics.rs`, and `tests/adversarial.rs`, which
//! includes this file by path).

use std::path::Path;

/// The texts, in a fixed order; `repository` is the workspace root.
pub fn corpus(repository: &Path) -> Vec<String> {
    let mut texts = Vec::new();
    for dir in [
        "examples/quickstart/guardrails",
        "compiler/tests/cases/parse",
        "compiler/tests/cases/diagnostics",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(repository.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "guard"))
            .collect();
        paths.sort();
        texts.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    }
    texts
}
