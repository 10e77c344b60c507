//! Fixture coverage: for each guardrail, whether its cases show it both allowing and
//! denying, and which of its rules they made fire. A case counts as an allowed or a denied
//! case by what it expects, and only once it passed (a failing case shows nothing). A rule
//! fired when a target named it among the rules that yielded a violation
//! ([`crate::Outcome::rules`]: VAP's `rule_N` variables, Gatekeeper's `details.rule`) in
//! any evaluated run. Within rules, the Gatekeeper template's Rego lines the fixtures reached
//! come from regorus's coverage report ([`rego_line_coverage`]).

use crate::case::ResourceCatalog;
use crate::compiled::CompiledGuardrail;
use crate::fixtures::{ExpectedVerdict, FixtureFile};
use crate::rego::LineCoverage;
use crate::runner::CaseResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardrailCoverage {
    pub guardrail: String,
    /// Passing runs (case × environment) that expect `allow`.
    pub allowed: usize,
    /// Passing runs that expect a violation.
    pub denied: usize,
    /// Every rule of the guardrail, in order.
    pub rules: Vec<RuleCoverage>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCoverage {
    /// 1-based, as `ir::Rule::index`.
    pub index: usize,
    /// The source line of the rule.
    pub line: usize,
    /// Runs in which the rule yielded a violation on some target.
    pub fired: usize,
}

impl GuardrailCoverage {
    pub fn is_covered(&self) -> bool {
        self.allowed > 0 && self.denied > 0
    }

    /// The rules no run made fire.
    pub fn unfired_rules(&self) -> impl Iterator<Item = &RuleCoverage> {
        self.rules.iter().filter(|rule| rule.fired == 0)
    }
}

/// Coverage of every guardrail of `compiled` (sorted by id, each once) by `results`.
pub fn coverage(compiled: &[CompiledGuardrail], results: &[CaseResult]) -> Vec<GuardrailCoverage> {
    let mut guardrails: Vec<(&str, Vec<(usize, usize)>)> = compiled
        .iter()
        .map(|c| {
            let rules = c.policy.rules.iter().map(|r| (r.index, r.line)).collect();
            (c.policy.id.as_str(), rules)
        })
        .collect();
    guardrails.sort_by(|a, b| a.0.cmp(b.0));
    guardrails.dedup_by(|a, b| a.0 == b.0);
    coverage_of(&guardrails, results)
}

/// Coverage of guardrails given as `(id, [(rule index, rule line)])`.
fn coverage_of(
    guardrails: &[(&str, Vec<(usize, usize)>)],
    results: &[CaseResult],
) -> Vec<GuardrailCoverage> {
    guardrails
        .iter()
        .map(|(guardrail, rules)| {
            let runs = || results.iter().filter(move |r| r.guardrail == *guardrail);
            let passed = || runs().filter(|r| r.passed());
            GuardrailCoverage {
                guardrail: guardrail.to_string(),
                allowed: passed()
                    .filter(|r| r.expected == ExpectedVerdict::Allow)
                    .count(),
                denied: passed()
                    .filter(|r| r.expected != ExpectedVerdict::Allow)
                    .count(),
                rules: rules
                    .iter()
                    .map(|&(index, line)| RuleCoverage {
                        index,
                        line,
                        fired: runs()
                            .filter_map(|r| r.evaluation.as_ref())
                            .filter(|evaluation| {
                                evaluation
                                    .outcomes
                                    .iter()
                                    .any(|(_, outcome)| outcome.rules.contains(&index))
                            })
                            .count(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The Rego lines of one guardrail's Gatekeeper template in one environment that the
/// fixtures reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegoCoverage {
    pub guardrail: String,
    pub env: String,
    pub lines: LineCoverage,
}

/// Evaluates every fixture case on the Gatekeeper target once more, with regorus's coverage
/// on, in each environment `selected` keeps (as the runner selects them), and merges the
/// lines reached per guardrail and environment. Cases that cannot be evaluated add nothing.
pub fn rego_line_coverage(
    fixtures: &[FixtureFile],
    compiled: &[CompiledGuardrail],
    catalog: &dyn ResourceCatalog,
    selected: &dyn Fn(&CompiledGuardrail) -> bool,
) -> Vec<RegoCoverage> {
    let mut found: Vec<RegoCoverage> = Vec::new();
    for guardrail in compiled.iter().filter(|c| selected(c)) {
        let Some(gatekeeper) = &guardrail.gatekeeper else {
            continue;
        };
        let mut lines = LineCoverage::default();
        for file in fixtures
            .iter()
            .filter(|f| f.guardrail == guardrail.policy.id)
        {
            for case in file
                .cases
                .iter()
                .filter(|c| c.envs.is_empty() || c.envs.contains(&guardrail.policy.env))
            {
                // A case the engine cannot evaluate is reported by the runner.
                let _ = gatekeeper.evaluate_covered(&case.case, catalog, &mut lines);
            }
        }
        found.push(RegoCoverage {
            guardrail: guardrail.policy.id.clone(),
            env: guardrail.policy.env.clone(),
            lines,
        });
    }
    found
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
        let guardrails = [("a", vec![]), ("b", vec![]), ("c", vec![])];
        let results = [
            result("a", ExpectedVerdict::Allow, true),
            result("a", ExpectedVerdict::Audit, true),
            result("b", ExpectedVerdict::Allow, true),
            result("b", ExpectedVerdict::Deny, false),
        ];
        let found = coverage_of(&guardrails, &results);
        assert!(found[0].is_covered());
        assert_eq!((found[1].allowed, found[1].denied), (1, 0));
        assert_eq!((found[2].allowed, found[2].denied), (0, 0));
        assert!((covered_percent(&found) - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_rule_fired_when_any_target_of_any_run_names_it() {
        use crate::compiled::Evaluation;
        use crate::outcome::Outcome;
        use guardrailc_compiler::emit::Target;
        let fired = |rules: Vec<usize>| {
            let mut run = result("a", ExpectedVerdict::Deny, false);
            let mut outcome = Outcome::allowed();
            outcome.rules = rules;
            run.evaluation = Some(Evaluation {
                outcomes: vec![
                    (Target::Vap, Outcome::allowed()),
                    (Target::Gatekeeper, outcome),
                ],
                opa_comparable: false,
                vap_cost: None,
                audit: None,
                gator: None,
                audit_comparable: false,
            });
            run
        };
        let guardrails = [("a", vec![(1, 10), (2, 20), (3, 30)])];
        let results = [
            fired(vec![1, 3]),
            fired(vec![3]),
            result("a", ExpectedVerdict::Allow, true),
        ];
        let found = coverage_of(&guardrails, &results);
        let counts: Vec<(usize, usize, usize)> = found[0]
            .rules
            .iter()
            .map(|r| (r.index, r.line, r.fired))
            .collect();
        assert_eq!(counts, vec![(1, 10, 1), (2, 20, 0), (3, 30, 2)]);
        let unfired: Vec<usize> = found[0].unfired_rules().map(|r| r.index).collect();
        assert_eq!(unfired, vec![2]);
    }
}
