//! The ValidatingAdmissionPolicy engine: evaluates an emitted policy and binding the way the
//! API server's admission chain does (docs/evaluation.md, "VAP").

mod activation;
pub mod cost;
mod json_to_cel;
pub mod library;
mod match_resources;
mod shared;

use crate::case::{AdmissionCase, RequestFacts, ResourceCatalog};
use crate::outcome::{Outcome, Verdict};
use crate::CaseError;
use activation::{Activation, CompiledVariable};
use cel::{Env, Program, Value};
use match_resources::MatchResources;
use serde_json::Value as Json;
use std::sync::Arc;

/// A policy and one of its bindings, every expression parsed once.
pub struct VapPolicy {
    env: Arc<Env>,
    failure_policy: FailurePolicy,
    constraints: MatchResources,
    binding_resources: Option<MatchResources>,
    match_conditions: Vec<NamedExpression>,
    variables: Vec<CompiledVariable>,
    validations: Vec<Validation>,
    /// What a violation or (under `Fail`) an error becomes.
    enforcement: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailurePolicy {
    Fail,
    Ignore,
}

struct NamedExpression {
    name: String,
    source: String,
    program: Program,
}

struct Validation {
    source: String,
    program: Program,
    message: Option<String>,
    message_expression: Option<Program>,
    /// Set when the expression is `size(variables.NAME) == 0`: the violation messages are
    /// the strings of that variable's list.
    messages_from: Option<String>,
    /// The guardrail rule the validation checks, when its message list is a `rule_N`
    /// variable (guardrailc names them so).
    rule: Option<usize>,
}

impl VapPolicy {
    /// Prepares `policy` (a ValidatingAdmissionPolicy) with `binding` (one of its
    /// ValidatingAdmissionPolicyBindings), both as YAML text.
    pub fn load(policy: &str, binding: &str) -> Result<VapPolicy, String> {
        let policy = yaml_object(policy, "ValidatingAdmissionPolicy")?;
        let binding = yaml_object(binding, "ValidatingAdmissionPolicyBinding")?;
        let policy_name = policy
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .ok_or("the policy has no `metadata.name`")?;
        let bound = binding.pointer("/spec/policyName").and_then(Json::as_str);
        if bound != Some(policy_name) {
            return Err(format!(
                "the binding names policy `{}`, not `{policy_name}`",
                bound.unwrap_or_default()
            ));
        }
        if policy.pointer("/spec/paramKind").is_some() {
            return Err("`paramKind` is not supported: params must be inlined".to_string());
        }
        let env = Arc::new(library::kubernetes_env());
        let spec = policy.get("spec").ok_or("the policy has no `spec`")?;
        let failure_policy = match spec.get("failurePolicy").and_then(Json::as_str) {
            None | Some("Fail") => FailurePolicy::Fail,
            Some("Ignore") => FailurePolicy::Ignore,
            Some(other) => return Err(format!("unknown failurePolicy `{other}`")),
        };
        let constraints = spec
            .get("matchConstraints")
            .ok_or("the policy has no `spec.matchConstraints`")?;
        let binding_resources = binding
            .pointer("/spec/matchResources")
            .map(|m| MatchResources::parse(m, "spec.matchResources"))
            .transpose()?;
        let variables = named_expressions(&env, spec, "variables")?
            .into_iter()
            .map(|v| CompiledVariable {
                name: v.name,
                program: v.program,
            })
            .collect();
        Ok(VapPolicy {
            failure_policy,
            constraints: MatchResources::parse(constraints, "spec.matchConstraints")?,
            binding_resources,
            match_conditions: named_expressions(&env, spec, "matchConditions")?,
            variables,
            validations: validations(&env, spec)?,
            enforcement: enforcement(&binding)?,
            env,
        })
    }

    /// Runs the admission chain on one request.
    pub fn evaluate(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Outcome, CaseError> {
        self.evaluate_in_scope(case, catalog)
            .map(|(outcome, _)| outcome)
    }

    /// Runs the admission chain on one request, and says whether the request reached the
    /// validations: the policy's and the binding's match resources match and no match
    /// condition is false. A failing match condition counts as in scope, since the failure
    /// policy then decides. One pass, for callers that need both.
    pub fn evaluate_in_scope(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<(Outcome, bool), CaseError> {
        self.run(case, catalog, None)
    }

    /// What the API server would charge for the CEL it evaluates on this request
    /// ([`cost`]): each match condition, each validation, the message expression of each
    /// violated one, and each variable those read, once. Empty when the request is out of
    /// scope.
    pub fn runtime_cost(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<RuntimeCost, CaseError> {
        self.evaluate_counted(case, catalog)
            .map(|(_, _, cost)| cost)
    }

    /// [`VapPolicy::evaluate_in_scope`] and [`VapPolicy::runtime_cost`] in one pass, the
    /// objects bound and the variables evaluated once.
    pub fn evaluate_counted(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<(Outcome, bool, RuntimeCost), CaseError> {
        let mut cost = RuntimeCost::default();
        let (outcome, in_scope) = self.run(case, catalog, Some(&mut cost))?;
        Ok((outcome, in_scope, cost))
    }

    /// The admission chain on one request; with `cost`, each expression evaluated is
    /// charged to it.
    fn run(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        mut cost: Option<&mut RuntimeCost>,
    ) -> Result<(Outcome, bool), CaseError> {
        let facts = RequestFacts::of(case, catalog).map_err(CaseError)?;
        if !self.resources_match(case, &facts)? {
            return Ok((Outcome::allowed(), false));
        }
        let mut activation = Activation::new(Arc::clone(&self.env), case, &facts, &self.variables);
        if cost.is_some() {
            activation = activation.counting_cost();
        }
        // Charges an expression before it runs; true when that passes a limit, where the API
        // server stops the request (so nothing more is evaluated).
        let mut charge = |what: &dyn Fn() -> String, program: &Program| {
            cost.as_deref_mut().is_some_and(|cost| {
                cost.charge(what(), activation.cost(program));
                cost.stopped()
            })
        };
        let mut errors = Vec::new();
        let mut stopped = false;
        for condition in &self.match_conditions {
            if charge(
                &|| format!("matchCondition `{}`", condition.name),
                &condition.program,
            ) {
                stopped = true;
                errors.push(format!("matchCondition `{}`: {OVER_COST}", condition.name));
                break;
            }
        }
        let excluded = !stopped && self.excluded_by_conditions(&activation, &mut errors);
        let mut messages = Vec::new();
        let mut rules = Vec::new();
        let mut violated = false;
        if !excluded && errors.is_empty() {
            for validation in &self.validations {
                if charge(
                    &|| format!("validation `{}`", validation.source),
                    &validation.program,
                ) {
                    errors.push(format!("expression `{}`: {OVER_COST}", validation.source));
                    break;
                }
                match as_bool(activation.evaluate(&validation.program)) {
                    Ok(true) => {}
                    Ok(false) => {
                        violated = true;
                        rules.extend(validation.rule);
                        if let (None, Some(program)) =
                            (&validation.messages_from, &validation.message_expression)
                        {
                            if charge(
                                &|| format!("messageExpression of `{}`", validation.source),
                                program,
                            ) {
                                errors.push(format!(
                                    "messageExpression of `{}`: {OVER_COST}",
                                    validation.source
                                ));
                                break;
                            }
                        }
                        match validation.messages(&activation) {
                            Ok(found) => messages.extend(found),
                            Err(e) => {
                                errors.push(format!("messages of `{}`: {e}", validation.source))
                            }
                        }
                    }
                    Err(e) => errors.push(format!("expression `{}`: {e}", validation.source)),
                }
            }
        }
        if let Some(cost) = cost {
            // Each variable the request read is charged once, at the cost walked before it
            // was evaluated (one past the limit was not evaluated at all).
            for (index, variable) in self.variables.iter().enumerate() {
                if let Some(spent) = activation.variable_cost(index) {
                    cost.charge(format!("variable `{}`", variable.name), spent);
                }
            }
        }
        if excluded {
            return Ok((Outcome::allowed(), false));
        }
        let failed = !errors.is_empty() && self.failure_policy == FailurePolicy::Fail;
        let outcome = Outcome {
            verdict: if violated || failed {
                self.enforcement
            } else {
                Verdict::Allow
            },
            violated,
            messages,
            errors,
            rules,
        };
        Ok((outcome, true))
    }

    fn resources_match(
        &self,
        case: &AdmissionCase,
        facts: &RequestFacts,
    ) -> Result<bool, CaseError> {
        Ok(self.constraints.matches(case, facts).map_err(CaseError)?
            && match &self.binding_resources {
                Some(resources) => resources.matches(case, facts).map_err(CaseError)?,
                None => true,
            })
    }

    /// Evaluates every match condition; true when one is false (which skips the policy
    /// even when another failed). Failures are added to `errors`.
    fn excluded_by_conditions(
        &self,
        activation: &Activation<'_>,
        errors: &mut Vec<String>,
    ) -> bool {
        let mut excluded = false;
        for condition in &self.match_conditions {
            match as_bool(activation.evaluate(&condition.program)) {
                Ok(true) => {}
                Ok(false) => excluded = true,
                Err(e) => errors.push(format!(
                    "matchCondition `{}` (`{}`): {e}",
                    condition.name, condition.source
                )),
            }
        }
        excluded
    }
}

impl Validation {
    /// The messages of a violated validation.
    fn messages(&self, activation: &Activation<'_>) -> Result<Vec<String>, String> {
        let from_expression = || {
            self.message_expression.as_ref().and_then(|program| {
                match activation.evaluate(program) {
                    Ok(Value::String(s)) if shown_by_the_api_server(&s) => Some(s.to_string()),
                    _ => None,
                }
            })
        };
        let fallback = || {
            self.message
                .clone()
                .unwrap_or_else(|| format!("failed expression: {}", self.source))
        };
        if let Some(variable) = &self.messages_from {
            let list = activation.variable(variable).map_err(|e| e.to_string())?;
            let list = Value::try_from(list).map_err(|e| e.to_string())?;
            let mut messages = Vec::new();
            flatten_messages(&list, variable, &mut messages)?;
            // The list is what the messageExpression joins; the API server shows the join
            // only if it passes the same test as any other messageExpression result.
            if self.message_expression.is_some() && from_expression().is_none() {
                return Ok(vec![fallback()]);
            }
            return Ok(messages);
        }
        Ok(vec![from_expression().unwrap_or_else(fallback)])
    }
}

/// The error of an expression the API server stops for its cost.
pub(crate) const OVER_COST: &str = "operation cancelled: actual cost limit exceeded";

/// What the API server would charge for the CEL of one request, expression by expression.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeCost {
    pub expressions: Vec<(String, u64)>,
}

impl RuntimeCost {
    fn charge(&mut self, expression: String, cost: u64) {
        self.expressions.push((expression, cost));
    }

    /// Whether the API server would have stopped the request by now: the last expression
    /// charged passed the per-expression limit, or all of them the budget.
    pub fn stopped(&self) -> bool {
        self.expressions
            .last()
            .is_some_and(|(_, cost)| *cost > cost::PER_CALL_LIMIT)
            || self.total() > cost::RUNTIME_BUDGET
    }

    pub fn total(&self) -> u64 {
        self.expressions
            .iter()
            .fold(0, |total, (_, cost)| total.saturating_add(*cost))
    }

    /// The largest cost of one expression.
    pub fn largest(&self) -> u64 {
        self.expressions
            .iter()
            .map(|(_, cost)| *cost)
            .max()
            .unwrap_or(0)
    }

    /// Each limit of the API server this request would exceed, described.
    pub fn over_limits(&self) -> Vec<String> {
        let mut over: Vec<String> = self
            .expressions
            .iter()
            .filter(|(_, cost)| *cost > cost::PER_CALL_LIMIT)
            .map(|(expression, cost)| {
                format!(
                    "{expression} costs {cost} at run time, over the API server's limit of {} per expression",
                    cost::PER_CALL_LIMIT
                )
            })
            .collect();
        if self.total() > cost::RUNTIME_BUDGET {
            over.push(format!(
                "the policy's expressions cost {} together at run time, over the API server's budget of {} per request",
                self.total(),
                cost::RUNTIME_BUDGET
            ));
        }
        over
    }
}

/// Whether the API server shows a `messageExpression` result: it falls back to `message` (or
/// `failed expression: …`) for one that is blank or has a line break.
fn shown_by_the_api_server(message: &str) -> bool {
    !message.trim().is_empty() && !message.contains('\n')
}

/// Appends the strings of a message list, nested lists depth-first.
fn flatten_messages(value: &Value, variable: &str, into: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::String(s) => into.push(s.to_string()),
        Value::List(items) => {
            for item in items.iter() {
                flatten_messages(item, variable, into)?;
            }
        }
        other => {
            return Err(format!(
                "variable `{variable}` holds a `{}` where a message is expected",
                other.type_of()
            ))
        }
    }
    Ok(())
}

fn as_bool(result: Result<Value, cel::ExecutionError>) -> Result<bool, String> {
    match result {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("evaluated to `{}`, not a bool", other.type_of())),
        Err(e) => Err(e.to_string()),
    }
}

fn yaml_object(text: &str, kind: &str) -> Result<Json, String> {
    let value: Json =
        yaml_serde::from_str(text).map_err(|e| format!("the {kind} is not valid YAML: {e}"))?;
    let found = value.get("kind").and_then(Json::as_str).unwrap_or_default();
    if found != kind {
        return Err(format!("expected a {kind}, found kind `{found}`"));
    }
    Ok(value)
}

fn compile(env: &Env, source: &str, what: &str) -> Result<Program, String> {
    env.compile(source)
        .map_err(|e| format!("{what} `{source}` does not parse: {e}"))
}

/// The `[{name, expression}]` list at `spec.<field>`, each expression compiled.
fn named_expressions(env: &Env, spec: &Json, field: &str) -> Result<Vec<NamedExpression>, String> {
    let Some(entries) = spec.get(field) else {
        return Ok(Vec::new());
    };
    let entries = entries
        .as_array()
        .ok_or_else(|| format!("`spec.{field}` is not a list"))?;
    entries
        .iter()
        .map(|entry| {
            let name = entry.get("name").and_then(Json::as_str);
            let source = entry.get("expression").and_then(Json::as_str);
            let (Some(name), Some(source)) = (name, source) else {
                return Err(format!(
                    "a `spec.{field}` entry lacks a `name` or an `expression`"
                ));
            };
            Ok(NamedExpression {
                name: name.to_string(),
                source: source.to_string(),
                program: compile(env, source, &format!("{field} entry `{name}`"))?,
            })
        })
        .collect()
}

fn validations(env: &Env, spec: &Json) -> Result<Vec<Validation>, String> {
    let entries = spec
        .get("validations")
        .and_then(Json::as_array)
        .ok_or("the policy has no `spec.validations` list")?;
    entries
        .iter()
        .map(|entry| {
            let source = entry
                .get("expression")
                .and_then(Json::as_str)
                .ok_or("a validation has no `expression`")?;
            let message_expression = entry
                .get("messageExpression")
                .and_then(Json::as_str)
                .map(|m| compile(env, m, "messageExpression"))
                .transpose()?;
            Ok(Validation {
                source: source.to_string(),
                program: compile(env, source, "validation")?,
                message: entry
                    .get("message")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                message_expression,
                messages_from: message_list_variable(source).map(str::to_string),
                rule: message_list_variable(source)
                    .and_then(|name| name.strip_prefix("rule_"))
                    .and_then(|n| n.parse().ok()),
            })
        })
        .collect()
}

/// `NAME` when `expression` is exactly `size(variables.NAME) == 0`, the form our compiler
/// emits for a validation whose messages are a list.
fn message_list_variable(expression: &str) -> Option<&str> {
    let name = expression
        .trim()
        .strip_prefix("size(variables.")?
        .strip_suffix(") == 0")?;
    let is_identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_identifier.then_some(name)
}

/// The verdict the binding's `validationActions` give a failed validation.
fn enforcement(binding: &Json) -> Result<Verdict, String> {
    let actions = binding
        .pointer("/spec/validationActions")
        .and_then(Json::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("the binding has no `spec.validationActions`")?;
    let mut verdicts = Vec::new();
    for action in actions {
        verdicts.push(match action.as_str() {
            Some("Deny") => Verdict::Deny,
            Some("Warn") => Verdict::Warn,
            Some("Audit") => Verdict::Audit,
            _ => return Err(format!("unknown validation action `{action}`")),
        });
    }
    // Deny outranks Warn, which outranks Audit: the client sees the strongest.
    Ok([Verdict::Deny, Verdict::Warn, Verdict::Audit]
        .into_iter()
        .find(|v| verdicts.contains(v))
        .expect("every action maps to one of the three verdicts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_message_list_form() {
        assert_eq!(
            message_list_variable("size(variables.violations) == 0"),
            Some("violations")
        );
        assert_eq!(message_list_variable("size(variables.a.b) == 0"), None);
        assert_eq!(message_list_variable("size(variables.v) == 1"), None);
        assert_eq!(message_list_variable("size(variables.) == 0"), None);
    }
}
