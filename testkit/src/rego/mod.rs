//! The Rego engines, on `regorus` (Rego v1): Gatekeeper ConstraintTemplates with their
//! Constraints, and plain OPA/conftest modules (docs/evaluation.md, "Rego").

pub mod gatekeeper;
mod gatekeeper_match;
pub mod opa;

use crate::outcome::{Outcome, Verdict};
use regorus::Engine;
use std::collections::BTreeSet;

/// The module name of a ConstraintTemplate's own Rego (its libs are other modules).
const TEMPLATE_MODULE: &str = "template.rego";

/// The lines of a template's own Rego that evaluations reached, from
/// regorus's coverage report, merged over evaluations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineCoverage {
    pub reached: BTreeSet<u32>,
    /// Lines with code that no merged evaluation reached.
    pub not_reached: BTreeSet<u32>,
}

impl LineCoverage {
    /// Lines with code seen by any merged evaluation.
    pub fn lines(&self) -> usize {
        self.reached.len() + self.not_reached.len()
    }

    pub fn merge(&mut self, other: &LineCoverage) {
        self.reached.extend(&other.reached);
        self.not_reached.extend(&other.not_reached);
        self.not_reached.retain(|line| !self.reached.contains(line));
    }

    fn add(&mut self, file: &regorus::coverage::File) {
        self.merge(&LineCoverage {
            reached: file.covered.clone(),
            not_reached: file.not_covered.clone(),
        });
    }
}

/// An engine holding `modules` (`(path, source)`), parsed once, that declares `rule`.
/// Returns the engine and the package of the first module.
fn prepared_engine(modules: &[(String, String)], rule: &str) -> Result<(Engine, String), String> {
    let mut engine = Engine::new();
    let mut package = None;
    for (path, source) in modules {
        let declared = engine
            .add_policy(path.clone(), source.clone())
            .map_err(|e| format!("the Rego in `{path}` does not parse: {e}"))?;
        package.get_or_insert(declared);
    }
    let (path, _) = modules
        .first()
        .ok_or("there is no Rego module to evaluate")?;
    let declares = engine
        .has_declared_rule_rooted_at(path, rule)
        .map_err(|e| format!("cannot inspect `{path}`: {e}"))?;
    if !declares {
        return Err(format!("the Rego in `{path}` declares no `{rule}` rule"));
    }
    // OPA (and so Gatekeeper and conftest) makes a failing builtin undefined; regorus raises
    // an error unless told otherwise.
    engine.set_strict_builtin_errors(false);
    let package = package.expect("the first module set the package");
    // regorus analyses and schedules the modules on the first evaluation and remembers it;
    // evaluating once here makes every clone start prepared instead of redoing that work.
    // The rule's value on an empty input does not matter, and an error in it would come
    // back again on real inputs.
    engine.set_input(regorus::Value::new_object());
    let _ = engine.eval_rule(format!("{package}.{rule}"));
    Ok((engine, package))
}

/// Evaluates `rule` of `package` on a clone of the prepared engine; an undefined rule is
/// the empty set. Rego errors (conflicting values, failed builtins in strict places) come
/// back as errors, never as verdicts. With `coverage`, the lines of the template module
/// the evaluation reached are merged into it.
fn evaluate_set_rule(
    prepared: &Engine,
    package: &str,
    rule: &str,
    input: serde_json::Value,
    coverage: Option<&mut LineCoverage>,
) -> Result<Vec<regorus::Value>, String> {
    let mut engine = prepared.clone();
    engine.set_input(regorus::Value::from(input));
    if coverage.is_some() {
        engine.set_enable_coverage(true);
    }
    let value = engine
        .eval_rule(format!("{package}.{rule}"))
        .map_err(|e| format!("rule `{rule}`: {e}"));
    if let Some(coverage) = coverage {
        let report = engine
            .get_coverage_report()
            .map_err(|e| format!("no coverage report: {e}"))?;
        if let Some(file) = report.files.iter().find(|f| f.path == TEMPLATE_MODULE) {
            coverage.add(file);
        }
    }
    match value? {
        regorus::Value::Undefined => Ok(Vec::new()),
        regorus::Value::Set(items) => Ok(items.iter().cloned().collect()),
        other => Err(format!(
            "rule `{rule}` is not a set: it evaluated to {}",
            other
                .to_json_str()
                .unwrap_or_else(|_| "a value".to_string())
        )),
    }
}

/// A Rego error fails the request: Gatekeeper answers the review with a denial, conftest
/// fails the check.
fn failed(error: String) -> Outcome {
    Outcome {
        verdict: Verdict::Deny,
        violated: false,
        messages: Vec::new(),
        errors: vec![error],
        rules: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(reached: &[u32], not_reached: &[u32]) -> LineCoverage {
        LineCoverage {
            reached: reached.iter().copied().collect(),
            not_reached: not_reached.iter().copied().collect(),
        }
    }

    #[test]
    fn a_line_any_evaluation_reached_is_reached() {
        let mut merged = lines(&[1, 2], &[3, 4]);
        merged.merge(&lines(&[1, 3], &[2, 5]));
        assert_eq!(merged, lines(&[1, 2, 3], &[4, 5]));
        assert_eq!(merged.lines(), 5);
    }

    #[test]
    fn gatekeeper_evaluations_report_the_template_lines_they_reach() {
        let (engine, package) = prepared_engine(
            &[(
                TEMPLATE_MODULE.to_string(),
                "package t\nviolation contains {\"msg\": \"big\"} if {\n  input.n > 1\n}\n"
                    .to_string(),
            )],
            "violation",
        )
        .unwrap();
        let mut coverage = LineCoverage::default();
        let found = evaluate_set_rule(
            &engine,
            &package,
            "violation",
            serde_json::json!({"n": 0}),
            Some(&mut coverage),
        )
        .unwrap();
        assert!(found.is_empty());
        // The condition on line 3 ran (and failed); the head on line 2 yielded nothing.
        assert!(coverage.reached.contains(&3), "{coverage:?}");
        assert!(coverage.not_reached.contains(&2), "{coverage:?}");
        evaluate_set_rule(
            &engine,
            &package,
            "violation",
            serde_json::json!({"n": 2}),
            Some(&mut coverage),
        )
        .unwrap();
        assert!(coverage.reached.contains(&2), "{coverage:?}");
    }
}
