//! Each place where the `cel` crate could differ from the API server's cel-go, pinned by a
//! test on the environment the VAP engine uses.

use cel::{Context, ExecutionError, Value};
use guardrailc_testkit::vap::library::kubernetes_env;
use std::sync::Arc;

fn eval(expression: &str) -> Result<Value, ExecutionError> {
    let env = Arc::new(kubernetes_env());
    let program = env
        .compile(expression)
        .unwrap_or_else(|e| panic!("`{expression}` should parse: {e}"));
    program.execute(&Context::with_env(env))
}

fn assert_true(expression: &str) {
    assert_eq!(eval(expression), Ok(Value::Bool(true)), "{expression}");
}

fn assert_error(expression: &str) {
    assert!(
        eval(expression).is_err(),
        "`{expression}` should be an error"
    );
}

#[test]
fn string_size_counts_code_points() {
    // "é" is two bytes in UTF-8 and one code point; "日本" six bytes, two code points.
    assert_true("size('é') == 1");
    assert_true("'日本'.size() == 2");
    assert_true("size('abc') == 3");
}

#[test]
fn macros_absorb_errors_an_element_decides() {
    // `'a' > 0` has no overload; another element decides, as in cel-go.
    assert_true("[1, 'a'].exists(x, x > 0)");
    assert_true("['a', 1].exists(x, x > 0)");
    assert_true("[1, 'a'].all(x, x > 5) == false");
    assert_true("['a', 1].all(x, x > 5) == false");
    assert_eq!(eval("['a', 9].all(x, x < 5)"), Ok(Value::Bool(false)));
    // Nothing decides: the error stands.
    assert_error("[0, 'a'].exists(x, x > 0)");
    assert_error("[9, 'a'].all(x, x > 0)");
    assert_error("['a', 9].all(x, x > 5)");
    // exists_one does not absorb errors in cel-go either.
    assert_error("[1, 'a'].exists_one(x, x > 0)");
}

#[test]
fn strings_extension() {
    assert_true("['a', 'b'].join('-') == 'a-b'");
    assert_true("'HeLLo'.lowerAscii() == 'hello'");
    assert_true("'a,b,c'.split(',') == ['a', 'b', 'c']");
    assert_true("'nginx:latest'.replace(':latest', '') == 'nginx'");
    assert_true("'  x '.trim() == 'x'");
    assert_true("'registry/app:1'.indexOf(':') == 12");
    assert_true("'日本語'.indexOf('語') == 2");
}

#[test]
fn quantity_library() {
    assert_true("quantity('1Gi') == quantity('1073741824')");
    assert_true("quantity('500m').isLessThan(quantity('1'))");
    assert_true("quantity('1e3').compareTo(quantity('1k')) == 0");
    assert_true("quantity('2Gi').isGreaterThan(quantity('2G'))");
    assert_true("quantity('1').add(quantity('500m')) == quantity('1500m')");
    assert_true("quantity('1').add(2) == quantity('3')");
    assert_true("quantity('1').sub(quantity('2')).sign() == -1");
    assert_true("quantity('2k').asInteger() == 2000");
    assert_true("quantity('1500m').isInteger() == false");
    assert_true("quantity('1500m').asApproximateFloat() == 1.5");
    assert_true("isQuantity('250Mi') && !isQuantity('250MB') && !isQuantity('')");
    assert_error("quantity('1K')");
    assert_error("quantity('1500m').asInteger()");
}

#[test]
fn list_library() {
    assert_true("[1, 2, 2, 3].isSorted() && !['b', 'a'].isSorted() && [].isSorted()");
    assert_true("[1, 2, 3].sum() == 6 && [].sum() == 0 && [0.5, 0.25].sum() == 0.75");
    assert_true("[3, 1, 2].min() == 1 && ['b', 'c', 'a'].max() == 'c'");
    assert_true("[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2");
    assert_true("['a'].indexOf('z') == -1");
    assert_error("[].min()");
    assert_error("[1, 'a'].sum()");
    // The strings extension's `indexOf` still serves strings.
    assert_true("'abc'.indexOf('c') == 2");
}

#[test]
fn regex_library() {
    assert_true("'abc 123 def 456'.find('[0-9]+') == '123'");
    assert_true("'abc'.find('[0-9]+') == ''");
    assert_true("'a1b2c3'.findAll('[0-9]') == ['1', '2', '3']");
    assert_true("'a1b2c3'.findAll('[0-9]', 2) == ['1', '2']");
    assert_true("'a1b2c3'.findAll('[0-9]', -1) == ['1', '2', '3']");
    assert_error("'a'.find('(')");
}

#[test]
fn optional_syntax_parses_and_evaluates() {
    assert_true("{'a': 1}.?b.orValue(7) == 7");
}
