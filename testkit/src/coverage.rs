//! Fixture coverage: for each guardrail, whether its cases show it both allowing and
//! denying. A case counts as an allowed or a denied case by what it expects, and only once
//! it passed (a failing case shows nothing).

use crate::fixtures::ExpectedVerdict;
use crate::runner::CaseResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardrailCoverage {
    pub guardrail: String,
    /// Passing runs (case × environment) that expect `allow`.
    pub allowed: usize,
    /// Passing runs that expect a violation.
    pub denied: usize,
}

impl GuardrailCoverage {
    pub fn is_covered(&self) -> bool {
        self.allowed > 0 && self.denied > 0
    }
}

/// Coverage of every guardrail in `guardrails` (sorted, each once) by `results`.
pub fn coverage(guardrails: &[String], results: &[CaseResult]) -> Vec<GuardrailCoverage> {
    guardrails
        .iter()
        .map(|guardrail| {
            let passed = || {
                results
                    .iter()
                    .filter(move |r| &r.guardrail == guardrail && r.passed())
            };
            GuardrailCoverage {
                guardrail: guardrail.clone(),
                allowed: passed()
                    .filter(|r| r.expected == ExpectedVerdict::Allow)
                    .count(),
                denied: passed()
                    .filter(|r| r.expected != ExpectedVerdict::Allow)
                    .count(),
            }
        })
        .collect()
}

/// The share of guardrails covered, in percent (100 when there are none).
pub fn covered_percent(coverage: &[GuardrailCoverage]) -> f64 {
    if coverage.is_empty() {
        return 100.0;
    }
    let covered = coverage.iter().filter(|c| c.is_covered()).count();
    100.0 * covered as f64 / coverage.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(guardrail: &str, expected: ExpectedVerdict, passed: bool) -> CaseResult {
        CaseResult {
            file: "f".into(),
            line: 1,
            guardrail: guardrail.into(),
            env: "prod".into(),
            name: "n".into(),
            expected,
            failures: if passed { vec![] } else { vec!["x".into()] },
            evaluation: None,
        }
    }

    #[test]
    fn a_guardrail_needs_a_passing_allowed_and_denied_case() {
        let guardrails = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let results = [
            result("a", ExpectedVerdict::Allow, true),
            result("a", ExpectedVerdict::Audit, true),
            result("b", ExpectedVerdict::Allow, true),
            result("b", ExpectedVerdict::Deny, false),
        ];
        let found = coverage(&guardrails, &results);
        assert!(found[0].is_covered());
        assert_eq!((found[1].allowed, found[1].denied), (1, 0));
        assert_eq!((found[2].allowed, found[2].denied), (0, 0));
        assert!((covered_percent(&found) - 100.0 / 3.0).abs() < 1e-9);
    }
}
