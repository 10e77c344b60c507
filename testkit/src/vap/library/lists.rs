//! The Kubernetes list CEL library: `isSorted`, `sum`, `min`, `max`, `indexOf`,
//! `lastIndexOf` on lists.
//! <https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-list-library>

use super::{cel_value, error, int, take_args};
use cel::common::types::{CelBool, DYN_TYPE, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError, Value};
use std::cmp::Ordering;

pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload("isSorted", "list_isSorted", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list_sum", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list_min", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list_max", LIST_TYPE, vec![], max)?;
    env.add_member_overload(
        "indexOf",
        "list_indexOf",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list_lastIndexOf",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )?;
    Ok(())
}

/// The elements of a list argument.
fn elements<'b, 'v>(list: &'b (dyn Val + 'v)) -> Result<Vec<&'b (dyn Val + 'v)>, ExecutionError> {
    let iterable = list
        .as_iterable()
        .ok_or_else(|| ExecutionError::UnexpectedType {
            got: list.get_type().name().to_string(),
            want: "list".to_string(),
        })?;
    let mut iter = iterable.iter();
    let mut items = Vec::new();
    while let Some(item) = iter.next() {
        items.push(item);
    }
    Ok(items)
}

fn order(function: &str, a: &dyn Val, b: &dyn Val) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| {
            error(
                function,
                format!("`{}` values cannot be ordered", a.get_type().name()),
            )
        })?
        .compare(b)
}

fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = take_args(args)?;
    let items = elements(&*list)?;
    for pair in items.windows(2) {
        if order("isSorted", pair[0], pair[1])? == Ordering::Greater {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

/// The sum of ints, uints or doubles; `0` for an empty list, as Kubernetes gives for a list
/// of ints.
fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = take_args(args)?;
    let mut total = Value::Int(0);
    for (i, item) in elements(&*list)?.into_iter().enumerate() {
        let item = Value::try_from(item)?;
        total = match (total, item) {
            (Value::Int(a), Value::Int(b)) => Value::Int(
                a.checked_add(b)
                    .ok_or_else(|| error("sum", "integer overflow"))?,
            ),
            (Value::Int(0), Value::UInt(b)) if i == 0 => Value::UInt(b),
            (Value::UInt(a), Value::UInt(b)) => Value::UInt(
                a.checked_add(b)
                    .ok_or_else(|| error("sum", "unsigned integer overflow"))?,
            ),
            (Value::Int(0), Value::Float(b)) if i == 0 => Value::Float(b),
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (_, other) => {
                return Err(error(
                    "sum",
                    format!("cannot add `{}` to the sum", other.type_of()),
                ))
            }
        };
    }
    cel_value(total)
}

fn extreme<'b, 'v>(
    function: &str,
    args: Vec<CowVal<'b, 'v>>,
    keep: Ordering,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = take_args(args)?;
    let items = elements(&*list)?;
    let mut best = *items
        .first()
        .ok_or_else(|| error(function, format!("{function} called on empty list")))?;
    for item in &items[1..] {
        if order(function, *item, best)? == keep {
            best = *item;
        }
    }
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

fn min<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("min", args, Ordering::Less)
}

fn max<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("max", args, Ordering::Greater)
}

fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, wanted] = take_args(args)?;
    let position = elements(&*list)?
        .iter()
        .position(|item| item.equals(&*wanted));
    Ok(int(position.map_or(-1, |p| p as i64)))
}

fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, wanted] = take_args(args)?;
    let position = elements(&*list)?
        .iter()
        .rposition(|item| item.equals(&*wanted));
    Ok(int(position.map_or(-1, |p| p as i64)))
}
