//! The Kubernetes regex CEL library: `find` and `findAll` on strings.
//! <https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-regex-library>

use super::{cel_value, error, take_args};
use cel::common::types::{INT_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError, Value};
use regex::Regex;
use std::sync::Arc;

pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload(
        "find",
        "string_find_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find,
    )?;
    env.add_member_overload(
        "findAll",
        "string_findAll_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find_all,
    )?;
    env.add_member_overload(
        "findAll",
        "string_findAll_string_int",
        STRING_TYPE,
        vec![STRING_TYPE, INT_TYPE],
        find_all_limited,
    )?;
    Ok(())
}

fn string(function: &str, value: &dyn Val) -> Result<Arc<String>, ExecutionError> {
    match Value::try_from(value)? {
        Value::String(s) => Ok(s),
        other => Err(error(
            function,
            format!("expected a string, got `{}`", other.type_of()),
        )),
    }
}

fn pattern(function: &str, value: &dyn Val) -> Result<Regex, ExecutionError> {
    Regex::new(&string(function, value)?).map_err(|e| error(function, e))
}

/// The first match, or the empty string when there is none.
fn find<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [text, regex] = take_args(args)?;
    let text = string("find", &*text)?;
    let found = pattern("find", &*regex)?
        .find(&text)
        .map_or("", |m| m.as_str())
        .to_string();
    cel_value(Value::from(found))
}

fn all_matches(text: &str, regex: &Regex, limit: Option<usize>) -> Value {
    let found = regex
        .find_iter(text)
        .take(limit.unwrap_or(usize::MAX))
        .map(|m| Value::from(m.as_str()))
        .collect::<Vec<_>>();
    Value::List(Arc::new(found))
}

fn find_all<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [text, regex] = take_args(args)?;
    let text = string("findAll", &*text)?;
    cel_value(all_matches(&text, &pattern("findAll", &*regex)?, None))
}

/// `findAll(regex, n)`: at most `n` matches; a negative `n` means all of them.
fn find_all_limited<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [text, regex, limit] = take_args(args)?;
    let text = string("findAll", &*text)?;
    let limit = match Value::try_from(&*limit)? {
        Value::Int(n) => usize::try_from(n).ok(),
        other => {
            return Err(error(
                "findAll",
                format!("expected an int limit, got `{}`", other.type_of()),
            ))
        }
    };
    cel_value(all_matches(&text, &pattern("findAll", &*regex)?, limit))
}
