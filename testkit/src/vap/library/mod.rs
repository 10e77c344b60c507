//! The CEL environment the API server gives admission policies: the standard library, the
//! strings extension and the Kubernetes libraries the compiler emits, each with Kubernetes
//! semantics.

mod lists;
pub mod quantity;
mod regex;

use cel::common::types::CelInt;
use cel::common::value::CowVal;
use cel::{extensions, DeclarationError, Env, ExecutionError, Value};

/// The environment every VAP expression is compiled and evaluated in.
pub fn kubernetes_env() -> Env {
    let mut env = Env::stdlib();
    register_kubernetes_libraries(&mut env)
        .expect("the Kubernetes libraries declare each overload once, none shadowing the stdlib");
    env
}

fn register_kubernetes_libraries(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_extension(extensions::strings)?;
    quantity::register(env)?;
    lists::register(env)?;
    regex::register(env)?;
    Ok(())
}

/// The `N` arguments of an overload; the dispatcher only calls it with as many.
fn take_args<'b, 'v, const N: usize>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<[CowVal<'b, 'v>; N], ExecutionError> {
    let given = args.len();
    args.try_into()
        .map_err(|_| ExecutionError::invalid_argument_count(N, given))
}

fn int<'b, 'v>(value: i64) -> CowVal<'b, 'v> {
    CowVal::owned(CelInt::from(value))
}

fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// A [`Value`] as the result of an overload.
fn cel_value<'b, 'v>(value: Value) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let boxed: Box<dyn cel::common::value::Val> = value.try_into()?;
    Ok(CowVal::Owned(boxed))
}
