//! The Rego engines, on `regorus` (Rego v1): Gatekeeper ConstraintTemplates with their
//! Constraints, and plain OPA/conftest modules (docs/evaluation.md, "Rego").

pub mod gatekeeper;
mod gatekeeper_match;
pub mod opa;

use crate::outcome::{Outcome, Verdict};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};
use regorus::{CompiledPolicy, Engine};
use std::collections::BTreeSet;
use std::sync::Arc;

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

/// How a Rego rule is evaluated (docs/evaluation.md, "Rego").
pub enum RegoRun<'a> {
    /// regorus's tree-walking interpreter gives the value (and line coverage, when asked);
    /// the VM runs too, and a value that differs from the interpreter's is an error. Every
    /// fixture and conformance case runs this way.
    Reference(Option<&'a mut LineCoverage>),
    /// regorus's bytecode VM (RVM) alone, about four times faster: property mode and
    /// `check`. It differs from OPA in one way the reference run cannot cover: conflicting
    /// values of a complete rule are undefined instead of an error. The Rego guardrailc
    /// emits has no such conflicts (its multi-definition rules exclude each other: the pod
    /// view by kind, `namespace_object` by whether the review holds a namespace object).
    Vm,
}

/// A set rule of some Rego modules, ready to evaluate in regorus's interpreter and, compiled
/// once to bytecode, in its VM.
pub(crate) struct PreparedRule {
    interpreter: Engine,
    compiled: CompiledPolicy,
    program: Arc<Program>,
    /// `data.PACKAGE.RULE`.
    path: String,
}

/// Instructions one evaluation may execute. RVM's default (25,000) is sized for small
/// inputs; a Pod with long container and port lists takes more, and a guardrail's Rego has
/// no unbounded recursion to guard against (Rego forbids it), so the bound only catches a
/// runaway VM.
const MAX_INSTRUCTIONS: usize = 50_000_000;

impl PreparedRule {
    /// Parses `modules` (`(path, source)`), checks that the first declares `rule`, and
    /// compiles `rule` of the first module's package.
    pub(crate) fn new(modules: &[(String, String)], rule: &str) -> Result<PreparedRule, String> {
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
        let rule_path = format!("{package}.{rule}");
        let compiled = engine
            .compile_with_entrypoint(&rule_path.as_str().into())
            .map_err(|e| format!("cannot compile `{rule_path}`: {e}"))?;
        let program = Compiler::compile_from_policy(&compiled, &[rule_path.as_str()])
            .map_err(|e| format!("cannot compile `{rule_path}` to RVM bytecode: {e}"))?;
        // The interpreter analyses and schedules the modules on the first evaluation and
        // remembers it; evaluating once here makes every clone start prepared instead of
        // redoing that work. The rule's value on an empty input does not matter, and an
        // error in it would come back again on real inputs.
        engine.set_input(regorus::Value::new_object());
        let _ = engine.eval_rule(rule_path.clone());
        Ok(PreparedRule {
            interpreter: engine,
            compiled,
            program,
            path: rule_path,
        })
    }

    /// The rule's value on `input`, with `data` (an object) as the data document when given;
    /// an undefined rule is the empty set. Rego errors (conflicting values, failed builtins
    /// in strict places) come back as errors, never as verdicts.
    pub(crate) fn evaluate_set(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
        run: RegoRun<'_>,
    ) -> Result<Vec<regorus::Value>, String> {
        let value = match run {
            RegoRun::Vm => self.execute(input, data),
            RegoRun::Reference(coverage) => {
                let interpreted = self.interpret(input.clone(), data, coverage);
                // The VM makes conflicting values of a complete rule undefined where OPA
                // raises an error, so only a value is compared, not an error.
                if let Ok(expected) = &interpreted {
                    let executed = self.execute(input, data);
                    if executed.as_ref() != Ok(expected) {
                        return Err(format!(
                            "regorus's VM and interpreter disagree on `{}`: {} vs {}",
                            self.path,
                            shown(&executed),
                            shown(&interpreted)
                        ));
                    }
                }
                interpreted
            }
        };
        let rule = &self.path;
        match value.map_err(|e| format!("`{rule}`: {e}"))? {
            regorus::Value::Undefined => Ok(Vec::new()),
            regorus::Value::Set(items) => Ok(items.iter().cloned().collect()),
            other => Err(format!(
                "`{rule}` is not a set: it evaluated to {}",
                shown(&Ok(other))
            )),
        }
    }

    /// The rule's value in a fresh VM running the compiled program.
    fn execute(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
    ) -> Result<regorus::Value, String> {
        let mut vm = RegoVM::new_with_policy(self.compiled.clone());
        vm.set_max_instructions(MAX_INSTRUCTIONS);
        vm.load_program(self.program.clone());
        if let Some(data) = data {
            vm.set_data(data.clone())
                .map_err(|e| format!("the data document conflicts with the rules: {e}"))?;
        }
        vm.set_input(input);
        vm.execute().map_err(|e| e.to_string())
    }

    /// The rule's value in a clone of the prepared interpreter; with `coverage`, the lines
    /// of the template module it reached are merged into it.
    fn interpret(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
        coverage: Option<&mut LineCoverage>,
    ) -> Result<regorus::Value, String> {
        let mut engine = self.interpreter.clone();
        // Adding data makes the interpreter prepare the modules again: only evaluations
        // that need a data document pay for it.
        if let Some(data) = data {
            engine
                .add_data(data.clone())
                .map_err(|e| format!("the data document does not load: {e}"))?;
        }
        engine.set_input(input);
        if coverage.is_some() {
            engine.set_enable_coverage(true);
        }
        let value = engine
            .eval_rule(self.path.clone())
            .map_err(|e| e.to_string());
        if let Some(coverage) = coverage {
            let report = engine
                .get_coverage_report()
                .map_err(|e| format!("no coverage report: {e}"))?;
            if let Some(file) = report.files.iter().find(|f| f.path == TEMPLATE_MODULE) {
                coverage.add(file);
            }
        }
        value
    }
}

/// The case's objects as Rego values, each converted at most once per request however many
/// Rego targets read it (regorus values share their contents, so a copy is a reference
/// count).
#[derive(Default)]
pub(crate) struct RegoObjects {
    object: std::cell::OnceCell<regorus::Value>,
    old_object: std::cell::OnceCell<regorus::Value>,
}

impl RegoObjects {
    /// `case.object`, `null` when the case has none.
    pub fn object(&self, case: &crate::case::AdmissionCase) -> regorus::Value {
        self.object
            .get_or_init(|| {
                case.object
                    .as_ref()
                    .map_or(regorus::Value::Null, rego_value)
            })
            .clone()
    }

    /// `case.old_object`, `null` when the case has none.
    pub fn old_object(&self, case: &crate::case::AdmissionCase) -> regorus::Value {
        self.old_object
            .get_or_init(|| {
                case.old_object
                    .as_ref()
                    .map_or(regorus::Value::Null, rego_value)
            })
            .clone()
    }
}

/// A JSON value as the Rego input regorus's JSON reader would make it, read in place
/// instead of through serde, which needs an owned copy and costs about a fifth of an
/// evaluation on a Pod.
pub(crate) fn rego_value(json: &serde_json::Value) -> regorus::Value {
    use serde_json::Value as Json;
    match json {
        Json::Null => regorus::Value::Null,
        Json::Bool(b) => regorus::Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => regorus::Value::from(i),
            (None, Some(u)) => regorus::Value::from(u),
            // serde_json numbers are finite, the one thing regorus's reader checks.
            (None, None) => regorus::Value::from(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => regorus::Value::String(s.as_str().into()),
        Json::Array(items) => {
            regorus::Value::from(items.iter().map(rego_value).collect::<Vec<_>>())
        }
        Json::Object(fields) => regorus::Value::from(
            fields
                .iter()
                .map(|(k, v)| (regorus::Value::String(k.as_str().into()), rego_value(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

fn shown(value: &Result<regorus::Value, String>) -> String {
    match value {
        Ok(value) => value
            .to_json_str()
            .unwrap_or_else(|_| "a value".to_string()),
        Err(error) => format!("error: {error}"),
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
    fn json_reads_into_the_values_regorus_own_reader_makes() {
        let json = serde_json::json!({
            "s": "ünï", "i": -3, "u": 18446744073709551615u64, "f": 0.5, "b": true,
            "n": null, "l": [1, "x", [], {}], "o": {"k": {"deep": [null]}}
        });
        assert_eq!(rego_value(&json), regorus::Value::from(json.clone()));
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
        let rule = PreparedRule::new(
            &[(
                TEMPLATE_MODULE.to_string(),
                "package t\nviolation contains {\"msg\": \"big\"} if {\n  input.n > 1\n}\n"
                    .to_string(),
            )],
            "violation",
        )
        .unwrap();
        let mut coverage = LineCoverage::default();
        let found = rule
            .evaluate_set(
                serde_json::json!({"n": 0}).into(),
                None,
                RegoRun::Reference(Some(&mut coverage)),
            )
            .unwrap();
        assert!(found.is_empty());
        // The condition on line 3 ran (and failed); the head on line 2 yielded nothing.
        assert!(coverage.reached.contains(&3), "{coverage:?}");
        assert!(coverage.not_reached.contains(&2), "{coverage:?}");
        rule.evaluate_set(
            serde_json::json!({"n": 2}).into(),
            None,
            RegoRun::Reference(Some(&mut coverage)),
        )
        .unwrap();
        assert!(coverage.reached.contains(&2), "{coverage:?}");
    }
}
