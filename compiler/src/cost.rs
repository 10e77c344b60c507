//! A static estimate of what the API server charges to evaluate the CEL printed for a rule.
//!
//! Modelled on the Kubernetes CEL cost model (docs/cel-backend.md, "Cost"): every field access,
//! presence test, operator and call costs about 1; string operations cost a tenth of the string
//! length; `matches` costs a quarter of length × pattern length; `in` on a list and each list
//! macro multiply by the list size. Nothing is evaluated: sizes come from literals, inline
//! params, the caller's `maxItems` table, or the documented defaults below.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{
    self, Access, CompareOp, Domain, Expr, Literal, ParamValue, Root, StringOp, TemplatePart,
};

/// The API server stops an expression whose run-time cost exceeds this.
pub const EXPRESSION_COST_LIMIT: u64 = 1_000_000;
/// Assumed size of a list with no `maxItems` (matches the `G0501` explanation): a realistic
/// upper bound for pod lists (containers, ports, volumes), so a rule warns when it nests three
/// such loops, not two.
pub const UNBOUNDED_LIST_SIZE: u64 = 64;
/// Assumed length of a string whose value is not known: a label value or DNS label is at most
/// 63 characters, and most names and image references are shorter than this.
pub const UNKNOWN_STRING_LENGTH: u64 = 64;

/// Creating a list literal; cel-go charges a base cost for it.
const LIST_CREATION: u64 = 10;
/// Each iteration of a comprehension, besides its body: the loop step and the accumulator.
const ITERATION: u64 = 2;

/// What the estimate knows about sizes: the params inlined into the expressions and, when the
/// caller has a schema, the `maxItems` of lists by their access path.
pub struct CostModel<'a> {
    params: &'a [ParamValue],
    max_items: &'a dyn Fn(&Access) -> Option<u64>,
}

impl<'a> CostModel<'a> {
    /// A model where every list not given by a literal or a param has [`UNBOUNDED_LIST_SIZE`]
    /// items.
    pub fn new(params: &'a [ParamValue]) -> CostModel<'a> {
        CostModel {
            params,
            max_items: &|_| None,
        }
    }

    /// The same model, asking `max_items` (schema `maxItems`) for the size of a list read at an
    /// access before falling back to [`UNBOUNDED_LIST_SIZE`].
    pub fn with_max_items(self, max_items: &'a dyn Fn(&Access) -> Option<u64>) -> CostModel<'a> {
        CostModel { max_items, ..self }
    }

    fn param(&self, name: &str) -> Option<&Literal> {
        self.params
            .iter()
            .find(|param| param.name == name)
            .map(|param| &param.value)
    }

    /// How many items the list `expr` may hold.
    fn list_size(&self, expr: &Expr) -> u64 {
        match expr {
            Expr::Literal(Literal::List(items)) => items.len() as u64,
            Expr::List(items) => items.len() as u64,
            Expr::Value(access) | Expr::ValueOr { access, .. } => self.list_size_at(access),
            Expr::Keys(map) => self.list_size(map),
            _ => UNBOUNDED_LIST_SIZE,
        }
    }

    fn list_size_at(&self, access: &Access) -> u64 {
        if let Some(size) = (self.max_items)(access) {
            return size;
        }
        // `pod.all_containers` is one list here: a pod with a thousand containers of each kind
        // does not fit in a request.
        match (&access.root, access.steps.as_slice()) {
            (Root::Param(name), []) => match self.param(name) {
                Some(Literal::List(items)) => items.len() as u64,
                _ => UNBOUNDED_LIST_SIZE,
            },
            _ => UNBOUNDED_LIST_SIZE,
        }
    }

    /// How long the string `expr` may be.
    fn string_length(&self, expr: &Expr) -> u64 {
        match expr {
            Expr::Literal(Literal::String(text)) | Expr::Literal(Literal::Quantity(text)) => {
                text.chars().count() as u64
            }
            Expr::Value(Access {
                root: Root::Param(name),
                steps,
            }) if steps.is_empty() => match self.param(name) {
                Some(Literal::String(text)) | Some(Literal::Quantity(text)) => {
                    text.chars().count() as u64
                }
                _ => UNKNOWN_STRING_LENGTH,
            },
            _ => UNKNOWN_STRING_LENGTH,
        }
    }
}

/// The estimated cost of evaluating `expr` once.
pub fn estimate(expr: &Expr, model: &CostModel) -> u64 {
    match expr {
        Expr::Literal(Literal::List(_)) => LIST_CREATION,
        Expr::Literal(Literal::Map(_)) => 3 * LIST_CREATION,
        Expr::Literal(_) => 0,
        Expr::List(items) => {
            sum(items.iter().map(|item| estimate(item, model))).saturating_add(LIST_CREATION)
        }
        Expr::Value(access) => path(access).saturating_add(lookup_keys(access, model)),
        Expr::ValueOr { access, .. } => presence(access)
            .saturating_add(path(access))
            .saturating_add(lookup_keys(access, model).saturating_mul(2))
            .saturating_add(1),
        Expr::Present(access) => presence(access).saturating_add(lookup_keys(access, model)),
        Expr::IsType { value, ty } => {
            let test = estimate(value, model).saturating_add(2);
            if *ty == ir::ValueType::Quantity {
                test.saturating_add(traversal(model.string_length(value)))
            } else {
                test
            }
        }
        Expr::Not(operand) => estimate(operand, model).saturating_add(1),
        Expr::And(operands) | Expr::Or(operands) => {
            sum(operands.iter().map(|operand| estimate(operand, model)))
                .saturating_add(operands.len() as u64)
        }
        Expr::Compare {
            op,
            domain,
            lhs,
            rhs,
        } => {
            let operands = estimate(lhs, model).saturating_add(estimate(rhs, model));
            let comparison = match domain {
                Domain::String => traversal(model.string_length(lhs).min(model.string_length(rhs))),
                Domain::Int | Domain::Bool => 1,
                Domain::Quantity => {
                    // two parses, compareTo, and the comparison with 0
                    traversal(model.string_length(lhs))
                        .saturating_add(traversal(model.string_length(rhs)))
                        .saturating_add(2)
                }
                Domain::List if matches!(op, CompareOp::Eq | CompareOp::Ne) => model
                    .list_size(lhs)
                    .min(model.list_size(rhs))
                    .saturating_add(1),
                Domain::List => 1,
            };
            operands.saturating_add(comparison)
        }
        Expr::StringTest { op, subject, arg } => {
            let operands = estimate(subject, model).saturating_add(estimate(arg, model));
            let length = model.string_length(subject);
            let test = match op {
                StringOp::StartsWith | StringOp::EndsWith | StringOp::Contains => traversal(length),
                StringOp::Matches => {
                    let pattern = model.string_length(arg);
                    length.saturating_mul(pattern).div_ceil(4).saturating_add(1)
                }
            };
            operands.saturating_add(test)
        }
        Expr::InList { item, list } => estimate(item, model)
            .saturating_add(estimate(list, model))
            .saturating_add(model.list_size(list)),
        Expr::Size(value) => estimate(value, model).saturating_add(1),
        Expr::Keys(map) => estimate(map, model),
        Expr::StringFn { subject, arg, .. } => {
            // the test, the size arithmetic and the substring: the subject is read three times,
            // the argument twice
            let subject_cost = estimate(subject, model).saturating_mul(3);
            let arg_cost = estimate(arg, model).saturating_mul(2);
            subject_cost
                .saturating_add(arg_cost)
                .saturating_add(traversal(model.string_length(subject)).saturating_mul(2))
                .saturating_add(4)
        }
        Expr::Quantified { list, body, .. } => loop_over(
            model.list_size(list),
            estimate(list, model),
            estimate(body, model),
        ),
    }
}

/// The estimated cost of a rule's violation list (`variables.rule_N`), its validation and its
/// message expression, evaluated once.
pub fn estimate_rule(rule: &ir::Rule, model: &CostModel) -> u64 {
    let condition = estimate(&rule.condition, model);
    let message = message(&rule.message, model);
    let validation = 3;
    let Some((innermost, outer)) = rule.generators.split_last() else {
        return condition
            .saturating_add(message)
            .saturating_add(LIST_CREATION)
            .saturating_add(validation);
    };
    // filter, then map over what passed (at worst everything)
    let size = model.list_size(&innermost.list);
    let mut cost = loop_over(size, estimate(&innermost.list, model), condition)
        .saturating_add(loop_over(size, 0, message));
    let mut messages = size;
    for generator in outer.iter().rev() {
        let size = model.list_size(&generator.list);
        // map into the inner level, then drop the empty inner lists
        cost = loop_over(size, estimate(&generator.list, model), cost)
            .saturating_add(loop_over(size, 0, 2));
        messages = messages.saturating_mul(size);
    }
    // joining touches every message once
    let join = messages.saturating_mul(traversal(message_length(&rule.message, model)));
    cost.saturating_add(validation).saturating_add(join)
}

/// `Code::CostLimit` warnings for the rules of `policy` whose estimate exceeds
/// [`EXPRESSION_COST_LIMIT`], each at the rule's span.
pub fn check_policy(policy: &ir::Policy, model: &CostModel) -> Vec<Diagnostic> {
    policy
        .rules
        .iter()
        .filter_map(|rule| {
            let cost = estimate_rule(rule, model);
            (cost > EXPRESSION_COST_LIMIT).then(|| {
                Diagnostic::new(
                    Code::CostLimit,
                    rule.span,
                    format!(
                        "rule {} may cost about {cost} units to evaluate, over the api server's limit of {EXPRESSION_COST_LIMIT}",
                        rule.index
                    ),
                )
                .with_label("this rule's loops multiply the sizes of the lists they iterate")
                .with_help(format!(
                    "iterate fewer nested lists, or bound them with `maxItems` (lists without it count as {UNBOUNDED_LIST_SIZE} items)"
                ))
            })
        })
        .collect()
}

/// `size` iterations of `body` over a list that costs `list` to produce.
fn loop_over(size: u64, list: u64, body: u64) -> u64 {
    size.saturating_mul(body.saturating_add(ITERATION))
        .saturating_add(list)
}

/// A field path: the root and one select per step.
/// The cost of computing the run-time keys along a path.
fn lookup_keys(access: &Access, model: &CostModel) -> u64 {
    sum(access.steps.iter().map(|step| match step {
        ir::Step::Lookup(key) => estimate(key, model),
        _ => 0,
    }))
}

fn path(access: &Access) -> u64 {
    1 + access.steps.len() as u64
}

/// One test per step (and the null test of a nullable root), each re-reading its prefix.
fn presence(access: &Access) -> u64 {
    let steps = access.steps.len() as u64;
    let null_test = u64::from(access.root.is_nullable()) * 2;
    // test i reads a prefix of i + 1 selects, plus the test itself
    null_test + (1..=steps).map(|i| i + 2).sum::<u64>()
}

/// Walking a string of `length` characters: a tenth of its length, at least 1.
fn traversal(length: u64) -> u64 {
    length.div_ceil(10).max(1)
}

fn message(template: &ir::Template, model: &CostModel) -> u64 {
    let values = template.parts.iter().map(|part| match part {
        TemplatePart::Text(_) => 0,
        TemplatePart::Value(value) => estimate(value, model).saturating_add(1),
    });
    // one concatenation per part, each copying the message so far
    let parts = template.parts.len() as u64;
    sum(values).saturating_add(parts.saturating_mul(traversal(message_length(template, model))))
}

fn message_length(template: &ir::Template, model: &CostModel) -> u64 {
    sum(template.parts.iter().map(|part| match part {
        TemplatePart::Text(text) => text.chars().count() as u64,
        TemplatePart::Value(value) => model.string_length(value),
    }))
}

fn sum(costs: impl Iterator<Item = u64>) -> u64 {
    costs.fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_a_tenth_of_the_length_and_never_free() {
        assert_eq!(traversal(0), 1);
        assert_eq!(traversal(10), 1);
        assert_eq!(traversal(11), 2);
        assert_eq!(traversal(256), 26);
    }

    #[test]
    fn presence_counts_one_test_per_step() {
        let access = |root, steps: usize| Access {
            root,
            steps: vec![ir::Step::Field("f".into()); steps],
        };
        assert_eq!(presence(&access(Root::Object, 0)), 0);
        // has(o.f): 3; has(o.f.f): 4
        assert_eq!(presence(&access(Root::Object, 2)), 7);
        assert_eq!(presence(&access(Root::OldObject, 1)), 5);
    }
}
