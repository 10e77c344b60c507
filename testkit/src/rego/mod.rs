//! The Rego engines, on `regorus` (Rego v1): Gatekeeper ConstraintTemplates with their
//! Constraints, and plain OPA/conftest modules (docs/evaluation.md, "Rego").

pub mod gatekeeper;
mod gatekeeper_match;
pub mod opa;

use crate::outcome::{Outcome, Verdict};
use regorus::Engine;

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
/// back as errors, never as verdicts.
fn evaluate_set_rule(
    prepared: &Engine,
    package: &str,
    rule: &str,
    input: serde_json::Value,
) -> Result<Vec<regorus::Value>, String> {
    let mut engine = prepared.clone();
    engine.set_input(regorus::Value::from(input));
    let value = engine
        .eval_rule(format!("{package}.{rule}"))
        .map_err(|e| format!("rule `{rule}`: {e}"))?;
    match value {
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
