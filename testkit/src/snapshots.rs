//! Snapshot tests: the compiled output against committed golden files (a project's
//! `snapshots/` folder, laid out like its `out/`), with a unified diff on mismatch.

use guardrailc_compiler::emit::Artifact;
use std::collections::BTreeMap;

/// The check of one file, emitted or golden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotResult {
    /// Relative to the snapshot folder, `/`-separated: `prod/vap/no-latest-tag.policy.yaml`.
    pub path: String,
    pub problem: Option<SnapshotProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotProblem {
    /// The compiler emits the file but no golden file exists.
    Missing,
    /// The golden file differs: a unified diff from golden to compiled.
    Changed { diff: String },
    /// A golden file the compiler no longer emits.
    Stale,
}

impl std::fmt::Display for SnapshotProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotProblem::Missing => {
                f.write_str("no golden file; run `guardrailc test --update` to create it")
            }
            SnapshotProblem::Changed { diff } => write!(
                f,
                "the compiled output differs from the golden file (run `guardrailc test --update` if the change is intended):\n{diff}"
            ),
            SnapshotProblem::Stale => f.write_str(
                "the compiler no longer emits this file; run `guardrailc test --update` to remove it",
            ),
        }
    }
}

/// Compares every artifact with its golden file and lists golden files nothing emits.
/// Sorted by path.
pub fn compare_snapshots(
    artifacts: &[Artifact],
    golden: &BTreeMap<String, String>,
) -> Vec<SnapshotResult> {
    let mut results: Vec<SnapshotResult> = artifacts
        .iter()
        .map(|artifact| SnapshotResult {
            path: artifact.path.clone(),
            problem: match golden.get(&artifact.path) {
                None => Some(SnapshotProblem::Missing),
                Some(expected) if *expected == artifact.contents => None,
                Some(expected) => Some(SnapshotProblem::Changed {
                    diff: unified_diff(&artifact.path, expected, &artifact.contents),
                }),
            },
        })
        .collect();
    for path in golden.keys() {
        if !artifacts.iter().any(|a| &a.path == path) {
            results.push(SnapshotResult {
                path: path.clone(),
                problem: Some(SnapshotProblem::Stale),
            });
        }
    }
    results.sort_by(|a, b| a.path.cmp(&b.path));
    results
}

/// A unified diff with three lines of context, `a/` the golden file and `b/` the compiled one.
pub fn unified_diff(path: &str, golden: &str, compiled: &str) -> String {
    similar::TextDiff::from_lines(golden, compiled)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{path} (golden)"),
            &format!("b/{path} (compiled)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrailc_compiler::emit::Target;

    fn artifact(path: &str, contents: &str) -> Artifact {
        Artifact {
            env: "prod".into(),
            target: Target::Opa,
            guardrail: "g".into(),
            path: path.into(),
            contents: contents.into(),
        }
    }

    #[test]
    fn matching_missing_changed_and_stale_files() {
        let artifacts = [
            artifact("prod/opa/a.rego", "same\n"),
            artifact("prod/opa/b.rego", "one\ntwo\n"),
            artifact("prod/opa/c.rego", "new\n"),
        ];
        let golden: BTreeMap<String, String> = [
            ("prod/opa/a.rego", "same\n"),
            ("prod/opa/b.rego", "one\n2\n"),
            ("prod/opa/old.rego", "gone\n"),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
        let results = compare_snapshots(&artifacts, &golden);
        let problems: Vec<(&str, Option<&SnapshotProblem>)> = results
            .iter()
            .map(|r| (r.path.as_str(), r.problem.as_ref()))
            .collect();
        assert_eq!(problems[0], ("prod/opa/a.rego", None));
        assert_eq!(
            problems[1],
            (
                "prod/opa/b.rego",
                Some(&SnapshotProblem::Changed {
                    diff: "--- a/prod/opa/b.rego (golden)\n+++ b/prod/opa/b.rego (compiled)\n@@ -1,2 +1,2 @@\n one\n-2\n+two\n".into()
                })
            )
        );
        assert_eq!(
            problems[2],
            ("prod/opa/c.rego", Some(&SnapshotProblem::Missing))
        );
        assert_eq!(
            problems[3],
            ("prod/opa/old.rego", Some(&SnapshotProblem::Stale))
        );
    }
}
