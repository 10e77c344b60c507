//! Runs fixture cases on the compiled guardrails: each case in each environment it
//! selects, on every target, checking its expectation and the targets' agreement.

use crate::agreement::disagreements;
use crate::case::ResourceCatalog;
use crate::compiled::{CompiledGuardrail, Evaluation};
use crate::fixtures::{Expectation, ExpectedVerdict, FixtureCase, FixtureFile, MessagePattern};
use guardrailc_compiler::emit::Target;

/// The result of one case in one environment.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub file: String,
    pub line: usize,
    pub guardrail: String,
    pub env: String,
    pub name: String,
    pub expected: ExpectedVerdict,
    /// Why the case failed; empty when it passed.
    pub failures: Vec<String>,
    /// What each target gave (empty when the case could not be evaluated).
    pub evaluation: Option<Evaluation>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every case of `fixtures`, in each environment it selects (all environments that
/// compiled its guardrail when it selects none), in file order.
pub fn run_fixtures(
    fixtures: &[FixtureFile],
    compiled: &[CompiledGuardrail],
    catalog: &dyn ResourceCatalog,
) -> Vec<CaseResult> {
    run_selected(fixtures, compiled, catalog, &|_| true, &mut || {})
}

/// [`run_fixtures`] on the compiled guardrails `selected` keeps (`guardrailc test --env`),
/// calling `on_run` after each run (a progress bar).
pub fn run_selected(
    fixtures: &[FixtureFile],
    compiled: &[CompiledGuardrail],
    catalog: &dyn ResourceCatalog,
    selected: &dyn Fn(&CompiledGuardrail) -> bool,
    on_run: &mut dyn FnMut(),
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for file in fixtures {
        for case in &file.cases {
            for guardrail in runs(file, case, compiled, selected) {
                results.push(run_case(file, case, guardrail, catalog));
                on_run();
            }
        }
    }
    results
}

/// How many runs [`run_selected`] makes: one per case and environment it selects.
pub fn count_runs(
    fixtures: &[FixtureFile],
    compiled: &[CompiledGuardrail],
    selected: &dyn Fn(&CompiledGuardrail) -> bool,
) -> usize {
    fixtures
        .iter()
        .flat_map(|file| file.cases.iter().map(move |case| (file, case)))
        .map(|(file, case)| runs(file, case, compiled, selected).count())
        .sum()
}

/// The compiled guardrails one case runs on: its guardrail, in each environment the case
/// selects (all when it selects none) that `selected` keeps.
fn runs<'c>(
    file: &FixtureFile,
    case: &FixtureCase,
    compiled: &'c [CompiledGuardrail],
    selected: &'c dyn Fn(&CompiledGuardrail) -> bool,
) -> impl Iterator<Item = &'c CompiledGuardrail> + 'c {
    let guardrail = file.guardrail.clone();
    let envs = case.envs.clone();
    compiled
        .iter()
        .filter(move |c| {
            c.policy.id == guardrail && (envs.is_empty() || envs.contains(&c.policy.env))
        })
        .filter(move |c| selected(c))
}

/// Evaluates one case on one compiled guardrail and checks it.
pub fn run_case(
    file: &FixtureFile,
    case: &FixtureCase,
    guardrail: &CompiledGuardrail,
    catalog: &dyn ResourceCatalog,
) -> CaseResult {
    let mut result = CaseResult {
        file: file.file.clone(),
        line: case.line,
        guardrail: file.guardrail.clone(),
        env: guardrail.policy.env.clone(),
        name: case.name.clone(),
        expected: case.expect.verdict,
        failures: Vec::new(),
        evaluation: None,
    };
    match guardrail.evaluate(&case.case, catalog) {
        Ok(evaluation) => {
            result.failures = check_expectation(&case.expect, guardrail, &evaluation);
            result.failures.extend(
                disagreements(&evaluation)
                    .into_iter()
                    .map(|difference| difference.to_string()),
            );
            result.evaluation = Some(evaluation);
        }
        Err(error) => result
            .failures
            .push(format!("the case cannot be evaluated: {error}")),
    }
    result
}

/// What is wrong with each target's outcome against the expectation. The plain OPA target
/// is held to the expectation only where it is comparable (it has no enforcement, so only
/// whether it denied and with which messages).
fn check_expectation(
    expect: &Expectation,
    guardrail: &CompiledGuardrail,
    evaluation: &Evaluation,
) -> Vec<String> {
    let mut failures = Vec::new();
    let enforcement = guardrail.enforcement();
    let Some(wanted) = expect.verdict.verdict_under(enforcement) else {
        return vec![format!(
            "expected `{}`, but `{}` is enforced as `{enforcement}` in `{}`; expect `deny` (a violation under any enforcement) or select the environment with `env`",
            expect.verdict.as_str(),
            guardrail.policy.id,
            guardrail.policy.env,
        )];
    };
    let wants_violation = expect.verdict != ExpectedVerdict::Allow;
    for (target, outcome) in &evaluation.outcomes {
        let name = target.as_str();
        if *target == Target::Opa {
            if !evaluation.opa_comparable {
                continue;
            }
            if outcome.violated != wants_violation {
                failures.push(format!(
                    "`{name}`: expected {}, got {}",
                    if wants_violation {
                        "a denial"
                    } else {
                        "no denial"
                    },
                    if outcome.violated { "a denial" } else { "none" }
                ));
            }
        } else if outcome.verdict != wanted {
            failures.push(format!(
                "`{name}`: expected verdict `{wanted}`, got `{}`{}",
                outcome.verdict,
                describe_messages(&outcome.messages)
            ));
        }
        for error in &outcome.errors {
            failures.push(format!("`{name}` raised an error: {error}"));
        }
        if let Some(patterns) = &expect.messages {
            if let Some(problem) = match_messages(patterns, &outcome.messages) {
                failures.push(format!("`{name}`: {problem}"));
            }
        }
    }
    // Gatekeeper's audit is held to agreement with its admission review (`agreement`), and
    // must not fail where admission does not.
    for (review, outcome) in evaluation.reviews() {
        for error in &outcome.errors {
            let review = review.as_str();
            failures.push(format!("`gatekeeper ({review})` raised an error: {error}"));
        }
    }
    failures
}

fn describe_messages(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        format!(" with messages {messages:?}")
    }
}

/// `None` when the messages and the patterns pair up one to one; otherwise what is
/// missing or unexpected.
fn match_messages(patterns: &[MessagePattern], messages: &[String]) -> Option<String> {
    let pairing = pair_up(patterns, messages);
    let unmatched_patterns: Vec<String> = patterns
        .iter()
        .enumerate()
        .filter(|(i, _)| !pairing.iter().any(|(p, _)| p == i))
        .map(|(_, p)| p.to_string())
        .collect();
    let unexpected: Vec<&String> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| !pairing.iter().any(|(_, m)| m == i))
        .map(|(_, m)| m)
        .collect();
    if unmatched_patterns.is_empty() && unexpected.is_empty() {
        return None;
    }
    let mut problem = String::from("messages differ");
    if !unmatched_patterns.is_empty() {
        problem.push_str(&format!(
            "; expected but not produced: {}",
            unmatched_patterns.join(", ")
        ));
    }
    if !unexpected.is_empty() {
        problem.push_str(&format!("; produced but not expected: {unexpected:?}"));
    }
    Some(problem)
}

/// A maximum pairing of patterns with messages they match (augmenting paths; the lists are
/// short), as `(pattern index, message index)`.
fn pair_up(patterns: &[MessagePattern], messages: &[String]) -> Vec<(usize, usize)> {
    let mut owner: Vec<Option<usize>> = vec![None; messages.len()];
    fn augment(
        pattern: usize,
        patterns: &[MessagePattern],
        messages: &[String],
        owner: &mut Vec<Option<usize>>,
        seen: &mut Vec<bool>,
    ) -> bool {
        for (m, message) in messages.iter().enumerate() {
            if seen[m] || !patterns[pattern].matches(message) {
                continue;
            }
            seen[m] = true;
            let free = match owner[m] {
                None => true,
                Some(other) => augment(other, patterns, messages, owner, seen),
            };
            if free {
                owner[m] = Some(pattern);
                return true;
            }
        }
        false
    }
    for pattern in 0..patterns.len() {
        let mut seen = vec![false; messages.len()];
        augment(pattern, patterns, messages, &mut owner, &mut seen);
    }
    owner
        .iter()
        .enumerate()
        .filter_map(|(m, p)| p.map(|p| (p, m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(text: &str) -> MessagePattern {
        MessagePattern::Regex(regex::Regex::new(text).unwrap())
    }

    #[test]
    fn messages_pair_up_in_any_order_with_regexes() {
        let patterns = [
            regex("^container .* is privileged$"),
            MessagePattern::Exact("b".into()),
        ];
        let messages = ["b".to_string(), "container app is privileged".to_string()];
        assert_eq!(match_messages(&patterns, &messages), None);
    }

    #[test]
    fn a_greedy_choice_is_undone_when_needed() {
        // The regex could take "a"; it must take "ab" so that the exact "a" pairs too.
        let patterns = [regex("a"), MessagePattern::Exact("a".into())];
        let messages = ["a".to_string(), "ab".to_string()];
        assert_eq!(match_messages(&patterns, &messages), None);
    }

    #[test]
    fn missing_and_unexpected_messages_are_named() {
        let patterns = [MessagePattern::Exact("x".into())];
        let messages = ["y".to_string()];
        assert_eq!(
            match_messages(&patterns, &messages).unwrap(),
            "messages differ; expected but not produced: \"x\"; produced but not expected: [\"y\"]"
        );
        let duplicate = ["x".to_string(), "x".to_string()];
        assert!(match_messages(&patterns, &duplicate)
            .unwrap()
            .contains("produced but not expected: [\"x\"]"));
    }
}
