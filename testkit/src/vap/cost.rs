//! The run-time cost of evaluating an expression, counted as the API server counts it.
//!
//! The API server (cel-go's `CostTracker`, with Kubernetes's own call costs) charges as it
//! evaluates: 1 for each identifier and field selection or index, 0 for literals and for the
//! presence test of `has()`, 10 for creating a list and 30 for a map, 1 for most calls, and
//! for string and list functions an amount that grows with the size of their arguments.
//! Logical operators and the conditional cost nothing themselves, and only the operands they
//! evaluate count; a comprehension costs what its loop condition and step cost on each
//! element it reaches. It stops an expression whose cost passes 1,000,000
//! ([`PER_CALL_LIMIT`]) and a policy whose expressions together pass 10,000,000
//! ([`RUNTIME_BUDGET`]) on one request.
//!
//! The `cel` crate counts nothing, so [`runtime_cost`] walks the same expression over the same
//! bindings, with the values that decide what is evaluated (a condition, the left of `&&`, a
//! comprehension's range) and the arguments whose size sets a call's cost: computed along
//! the walk with the interpreter's own operations where it can, asked of the interpreter
//! where it cannot. cel-go resolves some identifiers inside larger attributes without
//! charging them (the branches of a conditional whose branches are both attributes, an
//! identifier used as an index); this count charges them, so it may be a few units above
//! cel-go's and is never below it. The tests pin the count against cel-go's own expected
//! costs (`interpreter/runtimecost_test.go`) and Kubernetes's call costs
//! (`apiserver/pkg/cel/library/cost.go`).
//!
//! Like the API server, the walk stops a comprehension once its cost passes
//! [`PER_CALL_LIMIT`]: the count is then some amount over the limit, not the full cost.

use cel::common::ast::{
    operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, LiteralValue,
};
use cel::common::types::{CelBool, CelBytes, CelInt, CelList, CelMap, CelOptional, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, IdedExpr, Value};
use smallvec::SmallVec;
use std::cell::OnceCell;

/// The most one expression may cost on one request (`PerCallLimit`).
pub const PER_CALL_LIMIT: u64 = 1_000_000;
/// The most a policy's expressions may cost together on one request (`RuntimeCELCostBudget`).
pub const RUNTIME_BUDGET: u64 = 10_000_000;

const LIST_CREATE: u64 = 10;
const MAP_CREATE: u64 = 30;
const STRING_TRAVERSAL: f64 = 0.1;
const REGEX_LENGTH: f64 = 0.25;

/// The cost of evaluating `expr` once in `ctx`, as the API server would charge it.
pub fn runtime_cost(expr: &IdedExpr, ctx: &Context<'_, '_>) -> u64 {
    walk(expr, ctx).0
}

/// A cost, and the value of the expression where the walk produced it on the way (a
/// comprehension, a list literal of such), so that whoever reads the value does not have the
/// interpreter evaluate it again. A value read from the bindings or the expression is
/// borrowed, not copied.
type Walked<'c, 'v> = (u64, Option<CowVal<'c, 'v>>);

static TRUE: CelBool = CelBool::TRUE;
static FALSE: CelBool = CelBool::FALSE;

/// A bool the walk computed, borrowed from a static.
fn boolean<'c, 'v>(b: bool) -> Option<CowVal<'c, 'v>> {
    Some(CowVal::Borrowed(if b { &TRUE } else { &FALSE }))
}

fn walk<'c, 'v>(expr: &'c IdedExpr, ctx: &'c Context<'_, 'v>) -> Walked<'c, 'v> {
    match &expr.expr {
        Expr::Comprehension(comprehension) => comprehension_walk(comprehension, ctx),
        Expr::Call(call) => call_walk(expr, call, ctx),
        Expr::List(list) => {
            let mut cost = LIST_CREATE;
            let mut items = Some(Vec::with_capacity(list.elements.len()));
            for element in &list.elements {
                let (element_cost, value) = walk(element, ctx);
                cost = cost.saturating_add(element_cost);
                match (items.as_mut(), value) {
                    (Some(items), Some(value)) => items.push(value.into_owned()),
                    _ => items = None,
                }
            }
            let optional = !list.optional_indices.is_empty();
            let value = items
                .filter(|_| !optional)
                .map(|items| CowVal::owned(CelList::from(items)));
            (cost, value)
        }
        // The value of a name or a field, read along the walk: the operands of tests and
        // string functions are then not evaluated again.
        // A name bound in a scope is looked up directly; anything else (a type name) is
        // left to the interpreter's resolution.
        Expr::Ident(name) => (1, ctx.get_variable(name).or_else(|| value_of(expr, ctx))),
        Expr::Select(select) => {
            // As the interpreter selects a field of a value that is not an optional; an
            // optional is left to the interpreter.
            let (cost, operand) = walk(&select.operand, ctx);
            let operand = operand.filter(|v| v.downcast_ref::<CelOptional>().is_none());
            let field = CelString::from(select.field.as_str());
            let value = operand.and_then(|operand| {
                if select.test {
                    return match operand.as_indexer()?.get(&field) {
                        Ok(_) => boolean(true),
                        Err(ExecutionError::NoSuchKey(_)) => boolean(false),
                        Err(_) => None,
                    };
                }
                // A field of a borrowed value is borrowed for as long; one of a value made
                // along the walk is copied out of it.
                match operand {
                    CowVal::Borrowed(operand) => operand.as_indexer()?.get(&field).ok(),
                    CowVal::Owned(operand) => operand
                        .as_indexer()?
                        .get(&field)
                        .ok()
                        .map(|v| CowVal::Owned(v.into_owned())),
                }
            });
            // `has()` tests presence without charging for it.
            (cost.saturating_add(u64::from(!select.test)), value)
        }
        Expr::Literal(literal) => (0, Some(literal.to_val())),
        Expr::Unspecified => (0, None),
        Expr::Map(map) => (entries_cost(&map.entries, ctx) + MAP_CREATE, None),
        // Struct literals do not occur in Kubernetes expressions; cel-go charges 40.
        Expr::Struct(s) => (entries_cost(&s.entries, ctx) + 40, None),
    }
}

/// The keys and values of a map literal, or the field values of a struct literal.
fn entries_cost(entries: &[IdedEntryExpr], ctx: &Context<'_, '_>) -> u64 {
    sum(entries.iter().map(|entry| match &entry.expr {
        EntryExpr::MapEntry(e) => runtime_cost(&e.key, ctx) + runtime_cost(&e.value, ctx),
        EntryExpr::StructField(f) => runtime_cost(&f.value, ctx),
    }))
}

fn sum(costs: impl Iterator<Item = u64>) -> u64 {
    costs.fold(0, u64::saturating_add)
}

fn call_walk<'c, 'v>(
    expr: &'c IdedExpr,
    call: &'c CallExpr,
    ctx: &'c Context<'_, 'v>,
) -> Walked<'c, 'v> {
    let name = call.func_name.as_str();
    match (name, call.args.len(), &call.target) {
        (operators::CONDITIONAL, 3, None) => {
            let (cost, condition) = walk_bool(&call.args[0], ctx);
            match condition {
                Some(true) => add(cost, walk(&call.args[1], ctx)),
                Some(false) => add(cost, walk(&call.args[2], ctx)),
                // A condition that is not a bool is an error: neither branch runs.
                None => (cost, None),
            }
        }
        (operators::LOGICAL_AND | operators::LOGICAL_OR, 2, None) => {
            // The right operand runs unless the left decides: false for `&&`, true for `||`.
            let decides = name == operators::LOGICAL_OR;
            let (left_cost, left) = walk_bool(&call.args[0], ctx);
            if left == Some(decides) {
                return (left_cost, boolean(decides));
            }
            let (right_cost, right) = walk_bool(&call.args[1], ctx);
            let value = match (left, right) {
                (_, Some(r)) if r == decides => boolean(decides),
                (Some(_), Some(r)) => boolean(r),
                // An error stands unless the other operand decides.
                _ => None,
            };
            (left_cost.saturating_add(right_cost), value)
        }
        (operators::LOGICAL_NOT, 1, None) => {
            let (cost, operand) = walk_bool(&call.args[0], ctx);
            (cost.saturating_add(1), operand.and_then(|b| boolean(!b)))
        }
        (operators::INDEX | operators::OPT_INDEX | operators::OPT_SELECT, 2, None) => (
            runtime_cost(&call.args[0], ctx)
                .saturating_add(runtime_cost(&call.args[1], ctx))
                .saturating_add(1),
            None,
        ),
        _ => {
            let operands: Operands<&IdedExpr> = call
                .target
                .iter()
                .map(|t| t.as_ref())
                .chain(&call.args)
                .collect();
            let mut evaluated = 0u64;
            let values: Operands<Option<CowVal<'c, 'v>>> = operands
                .iter()
                .map(|e| {
                    let (cost, value) = walk(e, ctx);
                    evaluated = evaluated.saturating_add(cost);
                    value
                })
                .collect();
            let (cost, value) = function_cost(expr, call, &operands, values, ctx);
            (evaluated.saturating_add(cost), value)
        }
    }
}

/// A call's operands, the target first: kept inline, as calls have at most three.
type Operands<T> = SmallVec<[T; 3]>;

/// Adds `cost` to a walk.
fn add<'c, 'v>(cost: u64, (more, value): Walked<'c, 'v>) -> Walked<'c, 'v> {
    (cost.saturating_add(more), value)
}

/// A walk whose value is wanted as a bool: from the walk where it produced one, else asked
/// of the interpreter.
fn walk_bool(expr: &IdedExpr, ctx: &Context<'_, '_>) -> (u64, Option<bool>) {
    let (cost, value) = walk(expr, ctx);
    let value = match value {
        Some(value) => value.downcast_ref::<CelBool>().map(|b| *b.inner()),
        None => bool_of(expr, ctx),
    };
    (cost, value)
}

/// What a call itself costs, its operands (the target first) already evaluated: Kubernetes's
/// library costs first, then cel-go's, else 1. Each operand's value is asked of the
/// interpreter at most once, and only when the cost depends on it.
fn function_cost<'c, 'v>(
    expr: &'c IdedExpr,
    call: &CallExpr,
    operands: &[&'c IdedExpr],
    walked: Operands<Option<CowVal<'c, 'v>>>,
    ctx: &'c Context<'_, 'v>,
) -> Walked<'c, 'v> {
    let cells: Operands<OnceCell<Option<CowVal<'c, 'v>>>> = walked
        .into_iter()
        .map(|value| match value {
            Some(value) => OnceCell::from(Some(value)),
            None => OnceCell::new(),
        })
        .collect();
    let value = |i: usize| {
        cells
            .get(i)
            .and_then(|cell| cell.get_or_init(|| value_of(operands[i], ctx)).as_ref())
    };
    let name = call.func_name.as_str();
    // Whoever reads a test's result (`&&`, `!`, a filter) gets it from here.
    let result = || -> Option<CowVal<'c, 'v>> {
        if let (Some(test), Some(left), Some(right)) = (
            operators_test(name),
            value(0).filter(|_| operands.len() == 2),
            value(1),
        ) {
            // The interpreter's own equality, ordering and containment, on the values the
            // walk already has.
            let outcome = match test {
                Test::Equal(equal) => Some(left.equals(right.as_ref()) == equal),
                Test::Order(accept) => left
                    .as_comparer()
                    .and_then(|c| c.compare(right.as_ref()).ok())
                    .map(accept),
                Test::In => right
                    .as_container()
                    .and_then(|c| c.contains(left.as_ref()).ok()),
            };
            if let Some(outcome) = outcome {
                return boolean(outcome);
            }
        }
        // The loop condition of `all` and `exists`: true unless its operand is `false`
        // (an error goes on).
        if name == operators::NOT_STRICTLY_FALSE && operands.len() == 1 {
            let strictly_false =
                value(0).is_some_and(|v| v.downcast_ref::<CelBool>().is_some_and(|b| !*b.inner()));
            return boolean(!strictly_false);
        }
        // `size` of a list or a map, and `string` of a string or an int: what the
        // interpreter's own functions give, without evaluating the operand again.
        if operands.len() == 1 {
            let operand = value(0).map(|v| v.as_ref());
            match (name, operand) {
                ("size", Some(v)) => {
                    let size = v
                        .downcast_ref::<CelList>()
                        .map(|l| l.inner().len())
                        .or_else(|| v.downcast_ref::<CelMap>().map(|m| m.inner().len()));
                    if let Some(size) = size.and_then(|s| i64::try_from(s).ok()) {
                        return Some(CowVal::owned(CelInt::from(size)));
                    }
                }
                ("string", Some(v)) if call.target.is_none() => {
                    if let Some(text) = v.downcast_ref::<CelString>() {
                        return Some(CowVal::owned(text.clone()));
                    }
                    if let Some(int) = v.downcast_ref::<CelInt>() {
                        return Some(CowVal::owned(CelString::from(int.inner().to_string())));
                    }
                }
                _ => {}
            }
        }
        // The other tests, and those the values above could not settle: evaluated.
        if operators_test(name).is_some()
            || matches!(name, "startsWith" | "endsWith" | "contains" | "matches")
        {
            return value_of(expr, ctx);
        }
        // Concatenated strings, kept so that a chain of `+` is not evaluated again at
        // every link.
        if name == operators::ADD {
            let text = |i: usize| value(i).and_then(|v| v.downcast_ref::<CelString>());
            if let (Some(left), Some(right)) = (text(0), text(1)) {
                let joined = [left.inner(), right.inner()].concat();
                return Some(CowVal::owned(CelString::from(joined)));
            }
            // Concatenated lists, likewise (`a + b + c` of lists).
            let list = |i: usize| value(i).and_then(|v| v.downcast_ref::<CelList>());
            if let (Some(left), Some(right)) = (list(0), list(1)) {
                let items: Vec<Box<dyn Val + 'v>> = left
                    .inner()
                    .iter()
                    .chain(right.inner())
                    .map(|item| item.clone_as_boxed())
                    .collect();
                return Some(CowVal::owned(CelList::from(items)));
            }
        }
        None
    };
    if let Some(cost) = cost_from_literals(call, operands) {
        return (cost, result());
    }
    (own_cost(call, &value, ctx), result())
}

/// What the call itself costs, given its operands' values.
fn own_cost<'b, 'v: 'b>(
    call: &CallExpr,
    value: &dyn Fn(usize) -> Option<&'b CowVal<'b, 'v>>,
    ctx: &Context<'_, '_>,
) -> u64 {
    let size = |i: usize| value(i).map_or(1, |v| actual_size(v.as_ref()));
    let string = |i: usize| value(i).is_some_and(|v| v.downcast_ref::<CelString>().is_some());
    let bytes = |i: usize| value(i).is_some_and(|v| v.downcast_ref::<CelBytes>().is_some());
    let text = |i: usize| string(i) || bytes(i);
    let traversal = |size: u64, factor: f64| (size as f64 * factor).ceil() as u64;
    match call.func_name.as_str() {
        // apiserver/pkg/cel/library/cost.go
        "isSorted" | "sum" | "max" | "min" | "indexOf" | "lastIndexOf" => {
            value(0).map_or(1, |v| traversal_cost(v.as_ref()))
        }
        "url" | "lowerAscii" | "upperAscii" | "substring" | "trim" | "quantity" | "isQuantity"
        | "isIP" | "isCIDR" | "cidr" => traversal(size(0), STRING_TRAVERSAL),
        "replace" | "split" => traversal(size(0), 2.0 * STRING_TRAVERSAL),
        "join" => {
            // Charged on the joined string: the call is evaluated for it.
            let joined = value_of_call(call, ctx);
            traversal(
                joined.map_or(1, |v| match v {
                    Value::String(s) => s.chars().count() as u64,
                    _ => 1,
                }),
                2.0 * STRING_TRAVERSAL,
            )
        }
        "find" | "findAll" => {
            traversal(1 + size(0), STRING_TRAVERSAL) * traversal(size(1), REGEX_LENGTH)
        }
        "sign" | "asInteger" | "isInteger" | "asApproximateFloat" | "isGreaterThan"
        | "isLessThan" | "compareTo" | "add" | "sub" => 1,
        // cel-go interpreter/runtimecost.go
        "startsWith" | "endsWith" if string(0) => traversal(size(0), STRING_TRAVERSAL),
        "contains" if string(0) => {
            traversal(size(0), STRING_TRAVERSAL) * traversal(size(1), STRING_TRAVERSAL)
        }
        "matches" if string(0) => {
            traversal(1 + size(0), STRING_TRAVERSAL) * traversal(size(1), REGEX_LENGTH)
        }
        operators::IN => match value(1) {
            Some(list) if list.downcast_ref::<CelList>().is_some() => actual_size(list.as_ref()),
            _ => 1,
        },
        operators::EQUALS | operators::NOT_EQUALS => {
            traversal(size(0).min(size(1)), STRING_TRAVERSAL)
        }
        operators::LESS
        | operators::LESS_EQUALS
        | operators::GREATER
        | operators::GREATER_EQUALS
            if text(0) && text(1) =>
        {
            traversal(size(0).min(size(1)), STRING_TRAVERSAL)
        }
        operators::ADD if text(0) && text(1) => traversal(size(0) + size(1), STRING_TRAVERSAL),
        // Converting between strings and bytes traverses; any other conversion costs 1.
        "bytes" if string(0) => traversal(size(0), STRING_TRAVERSAL),
        "string" if bytes(0) => traversal(size(0), STRING_TRAVERSAL),
        _ => 1,
    }
}

/// The cost of an equality or an `in` that a literal operand settles without evaluating the
/// other: `x == 'abc'` costs at most a tenth of 3, rounded up, whatever `x` is (the shorter
/// operand counts), and `x == null` at most 1; `x in [a, b]` costs the list's length. An
/// upper bound where the other operand could be shorter than the literal, exact otherwise.
fn cost_from_literals(call: &CallExpr, operands: &[&IdedExpr]) -> Option<u64> {
    let literal_size = |e: &IdedExpr| match &e.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner().chars().count() as u64),
        Expr::Literal(LiteralValue::Bytes(b)) => Some(b.inner().len() as u64),
        Expr::Literal(_) => Some(1),
        _ => None,
    };
    match (call.func_name.as_str(), operands) {
        (operators::EQUALS | operators::NOT_EQUALS, [left, right]) => {
            let size = match (literal_size(left), literal_size(right)) {
                (Some(l), Some(r)) => l.min(r),
                (Some(known), None) | (None, Some(known)) => known,
                (None, None) => return None,
            };
            Some((size as f64 * STRING_TRAVERSAL).ceil() as u64)
        }
        (operators::IN, [_, list]) => match &list.expr {
            Expr::List(items) => Some(items.elements.len() as u64),
            _ => None,
        },
        // Ordering and `+` traverse strings and bytes only: with a number, a bool or null
        // on one side, the call costs 1.
        (
            operators::LESS
            | operators::LESS_EQUALS
            | operators::GREATER
            | operators::GREATER_EQUALS
            | operators::ADD,
            [left, right],
        ) if [left, right].iter().any(|e| non_text_literal(e)) => Some(1),
        _ => None,
    }
}

fn comprehension_walk<'c, 'v>(
    c: &'c ComprehensionExpr,
    ctx: &'c Context<'_, 'v>,
) -> Walked<'c, 'v> {
    let (range_cost, range) = walk(&c.iter_range, ctx);
    let (init_cost, init) = walk(&c.accu_init, ctx);
    let mut cost = range_cost.saturating_add(init_cost);
    let Some(range) = range.or_else(|| value_of(&c.iter_range, ctx)) else {
        return (cost, None);
    };
    let Some(iterable) = range.as_iterable() else {
        return (cost, None);
    };
    let Some(mut accumulator) = init
        .or_else(|| value_of(&c.accu_init, ctx))
        .map(CowVal::into_owned)
    else {
        return (cost, None);
    };
    // A `map` or `filter` step only appends `[e]` to the accumulator, which nothing else
    // reads: the list is built here from the walk of `[e]`, not by the step.
    let append = append_step(c);
    let mut appended: Vec<Box<dyn Val + 'v>> = Vec::new();
    // Where the interpreter fails the whole comprehension, the walk has no value for it
    // (its cost is still counted): a loop condition, a guard or an item in error, a step in
    // error; for `all` and `exists`, a step error stands unless a later element decides
    // the result.
    let mut failed = false;
    let fold = logical_fold(c);
    let mut pending = false;
    let mut items = iterable.iter();
    while let Some(item) = items.next() {
        if cost > PER_CALL_LIMIT {
            // The API server stops the expression here: no value, and no need to walk on
            // (nested loops over long lists would take minutes to walk to the end).
            return (cost, None);
        }
        let mut scope = ctx.new_inner_scope();
        if append.is_none() {
            scope.add_variable_as_val(&c.accu_var, accumulator.clone_as_boxed());
        }
        scope.add_variable_as_val(&c.iter_var, item.clone_as_boxed());
        // cel-go stops when the condition is the bool `false`; an error goes on.
        if !matches!(&c.loop_cond.expr, Expr::Literal(LiteralValue::Boolean(b)) if *b.inner()) {
            let (cond_cost, go_on) = walk_bool(&c.loop_cond, &scope);
            cost = cost.saturating_add(cond_cost);
            match go_on {
                Some(false) => break,
                Some(true) => {}
                None => failed = true,
            }
        }
        match &append {
            Some(step) => {
                if let Some(guard) = step.guard {
                    // `guard ? @result + [e] : @result`: the guard, then one branch.
                    let (guard_cost, keep) = walk_bool(guard, &scope);
                    cost = cost.saturating_add(guard_cost);
                    if keep != Some(true) {
                        failed |= keep.is_none();
                        cost = cost.saturating_add(1);
                        continue;
                    }
                }
                // `@result + [e]`: the accumulator 1, the list, the concatenation 1. The
                // items go to the accumulator directly, without the list around them.
                cost = cost.saturating_add(LIST_CREATE).saturating_add(2);
                let mut items: Operands<Option<Box<dyn Val + 'v>>> = Operands::new();
                for item in step.items {
                    let (item_cost, value) = walk(item, &scope);
                    cost = cost.saturating_add(item_cost);
                    items.push(
                        value
                            .or_else(|| value_of(item, &scope))
                            .map(CowVal::into_owned),
                    );
                }
                // An item in error fails the comprehension.
                if items.iter().all(Option::is_some) {
                    appended.extend(items.into_iter().flatten());
                } else {
                    failed = true;
                }
            }
            None => {
                let (step_cost, next) = walk(&c.loop_step, &scope);
                cost = cost.saturating_add(step_cost);
                // A step that fails leaves the accumulator as it was: for `all` and
                // `exists`, the value that lets the loop, and the next step's right operand,
                // run on, and the error is pending until a step gives the deciding value
                // (`false` for `all`, `true` for `exists`); any other step's error fails
                // the comprehension.
                match (next.or_else(|| value_of(&c.loop_step, &scope)), fold) {
                    (None, Some(_)) => pending = true,
                    (None, None) => failed = true,
                    (Some(next), Some(decides)) if pending => {
                        if next.downcast_ref::<CelBool>().map(|b| *b.inner()) == Some(decides) {
                            pending = false;
                            accumulator = next.into_owned();
                        }
                    }
                    (Some(next), _) => accumulator = next.into_owned(),
                }
            }
        }
    }
    if append.is_some() {
        accumulator = Box::new(CelList::from(appended));
    }
    // The result is most often the accumulator itself: the name costs 1.
    if matches!(&c.result.expr, Expr::Ident(name) if *name == c.accu_var) {
        let value = Some(CowVal::Owned(accumulator)).filter(|_| !failed && !pending);
        return (cost.saturating_add(1), value);
    }
    let mut scope = ctx.new_inner_scope();
    scope.add_variable_as_val(&c.accu_var, accumulator);
    let (result_cost, value) = walk(&c.result, &scope);
    let value = value
        .or_else(|| value_of(&c.result, &scope))
        .filter(|_| !failed && !pending)
        .map(|v| CowVal::Owned(v.into_owned()));
    (cost.saturating_add(result_cost), value)
}

/// For a step that folds the accumulator with `&&` (`all`) or `||` (`exists`), the value
/// that decides the result whatever else the loop meets: `false` for `&&`, `true` for `||`.
fn logical_fold(c: &ComprehensionExpr) -> Option<bool> {
    let Expr::Call(call) = &c.loop_step.expr else {
        return None;
    };
    let folds_accumulator = call.target.is_none()
        && matches!(call.args.first().map(|a| &a.expr), Some(Expr::Ident(name)) if *name == c.accu_var);
    match call.func_name.as_str() {
        operators::LOGICAL_AND if folds_accumulator => Some(false),
        operators::LOGICAL_OR if folds_accumulator => Some(true),
        _ => None,
    }
}

/// The step of a `map` or `filter`: `@result + [e]`, or `guard ? @result + [e] : @result`.
struct AppendStep<'e> {
    guard: Option<&'e IdedExpr>,
    /// The `e` of `[e]`.
    items: &'e [IdedExpr],
}

fn append_step(c: &ComprehensionExpr) -> Option<AppendStep<'_>> {
    let accumulator = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if *name == c.accu_var);
    fn items<'e>(e: &'e IdedExpr, accu_var: &str) -> Option<&'e [IdedExpr]> {
        let accumulator = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if name == accu_var);
        match &e.expr {
            Expr::Call(call)
                if call.func_name == operators::ADD
                    && call.target.is_none()
                    && call.args.len() == 2
                    && accumulator(&call.args[0]) =>
            {
                match &call.args[1].expr {
                    Expr::List(list) if list.optional_indices.is_empty() => Some(&list.elements),
                    _ => None,
                }
            }
            _ => None,
        }
    }
    match &c.loop_step.expr {
        Expr::Call(call)
            if call.func_name == operators::CONDITIONAL
                && call.target.is_none()
                && call.args.len() == 3
                && accumulator(&call.args[2]) =>
        {
            Some(AppendStep {
                guard: Some(&call.args[0]),
                items: items(&call.args[1], &c.accu_var)?,
            })
        }
        _ => Some(AppendStep {
            guard: None,
            items: items(&c.loop_step, &c.accu_var)?,
        }),
    }
}

/// The operators whose result [`function_cost`] computes from its operands' values.
enum Test {
    /// `==` (true) or `!=` (false).
    Equal(bool),
    /// An ordering, accepting these results of the comparison.
    Order(fn(std::cmp::Ordering) -> bool),
    /// `in`.
    In,
}

fn operators_test(name: &str) -> Option<Test> {
    use std::cmp::Ordering;
    Some(match name {
        operators::EQUALS => Test::Equal(true),
        operators::NOT_EQUALS => Test::Equal(false),
        operators::LESS => Test::Order(|o| o == Ordering::Less),
        operators::LESS_EQUALS => Test::Order(|o| o != Ordering::Greater),
        operators::GREATER => Test::Order(|o| o == Ordering::Greater),
        operators::GREATER_EQUALS => Test::Order(|o| o != Ordering::Less),
        operators::IN => Test::In,
        _ => return None,
    })
}

fn non_text_literal(expr: &IdedExpr) -> bool {
    matches!(
        &expr.expr,
        Expr::Literal(literal)
            if !matches!(literal, LiteralValue::String(_) | LiteralValue::Bytes(_))
    )
}

fn value_of<'e, 'v>(expr: &'e IdedExpr, ctx: &'e Context<'_, 'v>) -> Option<CowVal<'e, 'v>> {
    Value::resolve_val(expr, ctx).ok()
}

/// The value of a whole call (for costs charged on the result).
fn value_of_call(call: &CallExpr, ctx: &Context<'_, '_>) -> Option<Value> {
    let expr = IdedExpr {
        id: 0,
        expr: Expr::Call(call.clone()),
    };
    Value::resolve(&expr, ctx).ok()
}

fn bool_of(expr: &IdedExpr, ctx: &Context<'_, '_>) -> Option<bool> {
    value_of(expr, ctx).and_then(|v| v.downcast_ref::<CelBool>().map(|b| *b.inner()))
}

/// cel-go's `actualSize`: the `size()` of a string (code points), bytes, list or map; 1 for
/// anything else.
fn actual_size(value: &dyn Val) -> u64 {
    if let Some(s) = value.downcast_ref::<CelString>() {
        return s.inner().chars().count() as u64;
    }
    if let Some(b) = value.downcast_ref::<CelBytes>() {
        return b.inner().len() as u64;
    }
    if let Some(l) = value.downcast_ref::<CelList>() {
        return l.inner().len() as u64;
    }
    if let Some(m) = value.downcast_ref::<CelMap>() {
        return m.inner().len() as u64;
    }
    1
}

/// Kubernetes's `traversalCost`: a tenth of each string's bytes (rounded down), summed over
/// lists and over maps' keys and values; 1 for anything else.
fn traversal_cost(value: &dyn Val) -> u64 {
    if let Some(s) = value.downcast_ref::<CelString>() {
        return (s.inner().len() as f64 * STRING_TRAVERSAL) as u64;
    }
    if let Some(b) = value.downcast_ref::<CelBytes>() {
        return (b.inner().len() as f64 * STRING_TRAVERSAL) as u64;
    }
    if let Some(l) = value.downcast_ref::<CelList>() {
        return sum(l.inner().iter().map(|item| traversal_cost(item.as_ref())));
    }
    if let Some(m) = value.downcast_ref::<CelMap>() {
        return sum(m
            .inner()
            .iter()
            .map(|(k, v)| traversal_cost(k.inner()) + traversal_cost(v.as_ref())));
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vap::json_to_cel::cel_value_of;
    use crate::vap::library::kubernetes_env;
    use serde_json::json;
    use std::sync::Arc;

    /// The cost of `expression` with the fields of `bindings` as variables, bound as the VAP
    /// engine binds objects.
    fn cost(expression: &str, bindings: serde_json::Value) -> u64 {
        let env = Arc::new(kubernetes_env());
        let program = env
            .compile(expression)
            .unwrap_or_else(|e| panic!("`{expression}` should parse: {e}"));
        let mut context = Context::with_env(env);
        for (name, value) in bindings.as_object().expect("bindings are an object") {
            context.add_variable_as_val(name, cel_value_of(value));
        }
        runtime_cost(program.expression(), &context)
    }

    #[test]
    fn the_walk_stops_a_comprehension_once_it_passes_the_limit() {
        // 1,000 × 1,000 × 1,000 elements: a billion steps to walk to the end.
        let items: Vec<u32> = (0..1000).collect();
        let started = std::time::Instant::now();
        let spent = cost(
            "xs.all(a, xs.all(b, xs.all(c, a + b + c >= 0)))",
            json!({ "xs": items }),
        );
        assert!(spent > PER_CALL_LIMIT);
        // Stopped within one inner loop of the limit, not at the billion-step cost.
        assert!(spent < 2 * PER_CALL_LIMIT, "{spent}");
        // A hang detector, not a benchmark.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }

    fn letters(n: usize) -> String {
        "abcdefghijklmnopqrstuvwxyz"
            .chars()
            .cycle()
            .take(n)
            .collect()
    }

    /// The expected costs of cel-go's `TestRuntimeCost` (interpreter/runtimecost_test.go),
    /// with its inputs written as JSON.
    #[test]
    fn counts_what_cel_go_counts() {
        let none = json!({});
        let cases = [
            (r#""Hello World!""#, none.clone(), 0),
            ("input", json!({"input": [1, 2]}), 1),
            ("input['key']", json!({"input": {"key": "v"}}), 2),
            ("input[0]", json!({"input": ["v"]}), 2),
            ("input['ke' + 'y']", json!({"input": {"key": "v"}}), 3),
            ("input[3-3]", json!({"input": ["v"]}), 3),
            (
                "has(input.testAttr.nestedAttr)",
                json!({"input": {"testAttr": {"nestedAttr": "0"}}}),
                2,
            ),
            ("[1, 2, 3]", none.clone(), 10),
            (r#"{"a": 1, "b": 2, "c": 3}"#, none.clone(), 30),
            ("input.all(x, true)", json!({"input": []}), 2),
            ("input.all(x, x.all(y, true))", json!({"input": []}), 2),
            ("[1, 2, 3].all(x, true)", none.clone(), 20),
            (
                "input.matches('[0-9]')",
                json!({"input": letters(500)}),
                103,
            ),
            ("'123'.matches('[0-9]')", none.clone(), 2),
            ("false || false", none.clone(), 0),
            ("true || false", none.clone(), 0),
            (
                "a || b || c || d",
                json!({"a": false, "b": false, "c": false, "d": false}),
                4,
            ),
            ("true && false", none.clone(), 0),
            ("false && true", none.clone(), 0),
            (
                "a && b && c && d",
                json!({"a": true, "b": true, "c": true, "d": true}),
                4,
            ),
            ("1 < 2", none.clone(), 1),
            ("1 <= 2", none.clone(), 1),
            ("1 == 2", none.clone(), 1),
            ("2 > 1", none.clone(), 1),
            ("2 >= 1", none.clone(), 1),
            ("2 in [1, 2, 3]", none.clone(), 13),
            ("1 + 1", none.clone(), 1),
            ("1 - 1", none.clone(), 1),
            ("1 / 1", none.clone(), 1),
            ("1 * 1", none.clone(), 1),
            ("1 % 1", none.clone(), 1),
            ("true ? 1 : 2", none.clone(), 0),
            (r#"size("123")"#, none.clone(), 1),
            ("size(input)", json!({"input": "500"}), 2),
            ("input.size()", json!({"input": "500"}), 2),
            (
                "'12345678901234567890' == '123456789012345678901234567890'",
                none.clone(),
                2,
            ),
            ("bytes(input)", json!({"input": letters(500)}), 51),
            ("string(1)", none.clone(), 1),
            (
                "input.contains(arg1)",
                json!({"input": letters(500), "arg1": letters(500)}),
                2502,
            ),
            (
                r"input.matches('\\d+a\\d+b')",
                json!({"input": letters(500)}),
                103,
            ),
            (
                "input.startsWith(arg1)",
                json!({"input": "idc", "arg1": letters(500)}),
                3,
            ),
            (
                "input.endsWith(arg1)",
                json!({"input": "idc", "arg1": letters(500)}),
                3,
            ),
            ("true ? false : 1 > 3", none.clone(), 0),
            ("false ? false : 1 > 3", none.clone(), 1),
            (
                "(list1 + list2).all(x, true)",
                json!({"list1": [], "list2": []}),
                4,
            ),
            (
                r#""abcdefg".contains(str1 + str2)"#,
                json!({"str1": "val1", "str2": "val2222222"}),
                6,
            ),
            ("(1 > 2 ? 5 : 3) > 1", none.clone(), 2),
            ("(1 > 2 || 2 > 1) == true", none.clone(), 3),
            ("[{'k1': 1}, {'k2': 2}].all(x, true)", none.clone(), 77),
        ];
        for (expression, bindings, expected) in cases {
            assert_eq!(cost(expression, bindings), expected, "{expression}");
        }
    }

    /// Where cel-go resolves an identifier inside a larger attribute without charging it,
    /// this count charges it: one more than cel-go's expected cost, never less.
    #[test]
    fn charges_identifiers_cel_go_resolves_inside_attributes() {
        // cel-go: 6 (the ternary's branches are both attributes).
        assert_eq!(
            cost(
                "(x > 2 ? input1 : input2).all(y, true)",
                json!({"x": 1, "input1": [{}], "input2": [{}]})
            ),
            6 + 1
        );
        // cel-go: 9 (`k` is an index into `input`).
        assert_eq!(
            cost(
                "input.all(k, input[k].single_int32 > 3)",
                json!({"input": {"val": {"single_int32": 0}}})
            ),
            9 + 1
        );
    }

    /// Kubernetes's costs of the library calls guardrailc emits
    /// (apiserver/pkg/cel/library/cost.go), worked out by hand.
    #[test]
    fn counts_kubernetes_library_calls() {
        let none = json!({});
        // List 10; `join` charges a fifth of the joined string ("a-b", 3), rounded up.
        assert_eq!(cost("['a', 'b'].join('-')", none.clone()), 10 + 1);
        // 12 items of 10 characters, joined with "; ": 142 characters, 29.
        assert_eq!(
            cost("input.join('; ')", json!({"input": vec![letters(10); 12]})),
            1 + 29
        );
        // `max` traverses: 1 for each int.
        assert_eq!(cost("[1, 2, 3].max()", none.clone()), 10 + 3);
        // `find`: (1 + 3) tenths rounded up, times a quarter of the pattern (5) rounded up.
        assert_eq!(cost("'abc'.find('[a-z]')", none.clone()), 2);
        // `quantity` traverses its string; comparisons cost 1.
        assert_eq!(cost("quantity('1Gi')", none.clone()), 1);
        assert_eq!(
            cost(
                "quantity(input).isGreaterThan(quantity('1G'))",
                json!({"input": "2Gi"})
            ),
            1 + 1 + 1 + 1
        );
        // `lowerAscii` traverses the string: 45 characters, 5.
        assert_eq!(
            cost("input.lowerAscii()", json!({"input": letters(45)})),
            1 + 5
        );
    }

    /// `map` starts from an empty list (10), builds a list per element (10) and appends it
    /// (1) after reading the accumulator (1); `filter` does so only for the elements it
    /// keeps.
    #[test]
    fn map_and_filter_charge_per_element() {
        // Range 1, `[]` 10; each of 3 elements: `@result + [x]` = 1 + (1 + 10) + 1 = 13;
        // result 1.
        assert_eq!(
            cost("input.map(x, x)", json!({"input": [1, 2, 3]})),
            1 + 10 + 3 * 13 + 1
        );
        // Each element: guard `x > 1` = 2; kept ones (2 of 3) add 13, dropped ones 1.
        assert_eq!(
            cost("input.filter(x, x > 1)", json!({"input": [1, 2, 3]})),
            1 + 10 + 3 * 2 + 2 * 13 + 1 + 1
        );
        // `exists` stops at the first element that satisfies it: cond 3 + step (1 + 2).
        assert_eq!(
            cost("input.exists(x, x > 1)", json!({"input": [5, 6, 7]})),
            1 + (3 + 3) + 3 + 1
        );
    }

    /// The values the walk produces on its way (and steers by) are the interpreter's.
    #[test]
    fn values_along_the_walk_are_the_interpreters() {
        let bindings = json!({
            "o": {"name": "web", "ports": [{"hostPort": 80}, {"containerPort": 1}], "labels": {}},
            "n": 3,
            "s": "abc",
            "l": ["a", "b"],
        });
        let expressions = [
            "has(o.name)",
            "has(o.missing)",
            "has(o.ports[0].hostPort)",
            "has(l.x)",
            "has(s.x)",
            "o.name == 'web'",
            "o.name != s",
            "n > 2 && n < 3",
            "n >= 3 || n <= 1",
            "!(n == 3)",
            "'a' in l",
            "'c' in l",
            "o.labels == {}",
            "o.ports.filter(p, has(p.hostPort) && p.hostPort > 0).map(p, 'port ' + string(p.hostPort))",
            "o.ports.exists(p, has(p.containerPort))",
            "o.ports.exists(p, p.hostPort > 0)",
            "o.ports.all(p, has(p.hostPort))",
            "[o.name, s + 'd']",
            "o.name + '/' + s",
            "o.ports + l + [n]",
            "l + {'a': 1}",
            "n > 2 ? o.name : s",
            "o.ports[1]",
            "size(l) + size(o) + size(o.labels) + l.size()",
            "size(s) == 3",
            "string(n) + string(s) + string(true)",
            "'name: ' + string(o.name) + ', ' + string(size(l))",
            "[1, 'x', null, true, 2.5]",
            "o.ports.map(p, size(p)).filter(x, x > 0)",
            "o.ports.filter(p, has(p.containerPort)).exists(p, p.containerPort == 1)",
            // The interpreter fails these comprehensions as a whole (a step in error that no
            // later element overrides, an item or a guard in error): so must the walk, and
            // whatever reads them.
            "o.ports.all(p, p.hostPort > 0)",
            "o.ports.exists(p, p.hostPort > 100)",
            "o.ports.all(p, p.hostPort > 100)",
            "o.ports.exists(p, p.hostPort > 0)",
            "o.ports.map(p, p.hostPort)",
            "o.ports.exists_one(p, p.hostPort > 0)",
            "[1, 2].map(x, x).filter(y, y / 0 == 1)",
            "size(o.ports.map(p, p.hostPort)) == 1",
            "l.map(x, x + 'a') + o.ports.map(p, p.hostPort)",
            "o.ports.all(p, p.hostPort > 0) ? 1 : 2",
            "size(o.ports.filter(p, p.hostPort > 0)) == 1 || n == 3",
            "o.ports.all(p, p.hostPort > 0) || n == 3",
        ];
        let env = Arc::new(kubernetes_env());
        let mut context = Context::with_env(Arc::clone(&env));
        for (name, value) in bindings.as_object().unwrap() {
            context.add_variable_as_val(name, cel_value_of(value));
        }
        let (mut produced, mut failing) = (0, 0);
        for expression in expressions {
            let program = env.compile(expression).unwrap();
            // Each part evaluated in the bindings' scope, not only the whole: a value the walk
            // hands to a parent must be the interpreter's too.
            for part in root_scope_parts(program.expression()) {
                let expected = Value::resolve(part, &context);
                match (walk(part, &context).1, expected) {
                    (Some(value), Ok(expected)) => {
                        produced += 1;
                        let value = Value::try_from(value.as_ref()).unwrap();
                        assert_eq!(value, expected, "{expression}: {part:?}");
                    }
                    (Some(value), Err(error)) => {
                        panic!("{expression}: the walk gives {value:?} where the interpreter fails ({error:?}): {part:?}")
                    }
                    (None, Err(_)) => failing += 1,
                    (None, Ok(_)) => {}
                }
            }
        }
        // Most of them: the walk reads the values it can, and asks for the rest.
        assert!(produced >= 100, "{produced}");
        assert!(failing >= 12, "{failing}");
    }

    /// An expression and its parts that evaluate in the same scope: everything but the loop
    /// condition, step and result of a comprehension, which see its variables.
    fn root_scope_parts(expr: &IdedExpr) -> Vec<&IdedExpr> {
        let mut parts = vec![expr];
        match &expr.expr {
            Expr::Call(call) => {
                for operand in call.target.iter().map(|t| t.as_ref()).chain(&call.args) {
                    parts.extend(root_scope_parts(operand));
                }
            }
            Expr::Select(select) => parts.extend(root_scope_parts(&select.operand)),
            Expr::List(list) => {
                for element in &list.elements {
                    parts.extend(root_scope_parts(element));
                }
            }
            Expr::Comprehension(c) => {
                parts.extend(root_scope_parts(&c.iter_range));
                parts.extend(root_scope_parts(&c.accu_init));
            }
            _ => {}
        }
        parts
    }

    /// The count charges the operand a failed `all` leaves to `||`, as cel-go does.
    #[test]
    fn a_comprehension_in_error_does_not_decide_a_logical_operator() {
        let bindings = json!({"o": {"ports": [{"hostPort": 80}, {"containerPort": 1}]}, "n": 3});
        // The range 2; per port the condition `@not_strictly_false(@result)` 2, the step's
        // `@result` 1 and the predicate 3 (`p` 1, `.hostPort` 1, `> 0` 1, charged on the
        // second port too, where `.hostPort` fails); the result 1.
        assert_eq!(cost("o.ports.all(p, p.hostPort > 0)", bindings.clone()), 15);
        // The `all` fails, so `||` evaluates `n == 3` (2) as well.
        assert_eq!(
            cost("o.ports.all(p, p.hostPort > 0) || n == 3", bindings),
            17
        );
    }
}
