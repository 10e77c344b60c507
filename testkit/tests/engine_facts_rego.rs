//! OPA's recorded results on tricky Rego (`engine-facts/rego-opa.json`) against regorus, the
//! testkit's stand-in, configured as the testkit runs it. Every case either agrees, or its
//! module has a shape the Rego backend never prints — the lint over printed modules flags it
//! (`backend::rego_lint`) — or it is a difference listed below with the reason the emitted
//! Rego cannot meet it. Adding a case to the file adds a test case.

use guardrailc_compiler::backend::rego_lint::unsafe_negations;
use guardrailc_testkit::shared_data::shared_path;
use serde_json::Value;

/// Differences the lint does not flag, each with why emitted Rego never meets it.
const KNOWN: &[(&str, &str)] = &[
    (
        "index-oob-undefined",
        "OPA rejects `[1][5]` at compile time; the printer only indexes references into the input, never a literal array",
    ),
    // Builtins the testkit's regorus is built without (Cargo.toml features); the printer
    // calls none of them (backend::rego, MODULE_NAMES lists the builtins it calls).
    ("yaml.unmarshal", "the printer never calls yaml.unmarshal"),
    ("base64.decode", "the printer never calls base64.decode"),
    ("time.parse_rfc3339_ns", "the printer never calls time builtins"),
    ("time.now_ns>0", "the printer never calls time builtins"),
    ("walk", "the printer never calls walk"),
    ("net.cidr_contains", "the printer never calls net builtins"),
];

/// What the engine gave: a value, undefined, or an error (its text is not compared).
#[derive(Debug, PartialEq)]
enum Result {
    Value(Value),
    Undefined,
    Error,
}

fn opa_result(case: &Value) -> Result {
    let result = &case["opa_result"];
    if result.get("undefined").is_some() {
        Result::Undefined
    } else if result.get("error").is_some() {
        Result::Error
    } else {
        Result::Value(result.clone())
    }
}

fn regorus_result(case: &Value) -> Result {
    let mut engine = regorus::Engine::new();
    // As the testkit runs it (testkit/src/rego/mod.rs): a failing builtin is undefined.
    engine.set_strict_builtin_errors(false);
    let module = case["module"].as_str().expect("a module");
    if engine
        .add_policy("case.rego".to_string(), module.to_string())
        .is_err()
    {
        return Result::Error;
    }
    // A case without `input` ran with none: the input is undefined, not null.
    if let Some(input) = case.get("input").filter(|input| !input.is_null()) {
        let input = serde_json::to_string(input).expect("JSON");
        engine.set_input(regorus::Value::from_json_str(&input).expect("the input is JSON"));
    }
    if let Some(data) = case.get("data") {
        let data = serde_json::to_string(data).expect("JSON");
        engine
            .add_data(regorus::Value::from_json_str(&data).expect("the data is JSON"))
            .expect("the data is an object");
    }
    let query = case["query"].as_str().expect("a query");
    match engine.eval_query(query.to_string(), false) {
        Err(_) => Result::Error,
        Ok(results) => match results.result.first() {
            None => Result::Undefined,
            Some(result) => match result.expressions.first() {
                None => Result::Undefined,
                Some(expression) => {
                    let json = expression
                        .value
                        .to_json_str()
                        .expect("a value prints as JSON");
                    Result::Value(serde_json::from_str(&json).expect("JSON"))
                }
            },
        },
    }
}

#[test]
fn regorus_agrees_with_opa_or_the_printer_avoids_the_construct() {
    let Some(path) = shared_path("engine-facts/rego-opa.json", "OPA's recorded Rego results")
    else {
        return;
    };
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
    assert!(!cases.is_empty());
    let (mut agree, mut avoided, mut known, mut unexplained) = (0, 0, 0, Vec::new());
    for case in &cases {
        let id = case["id"].as_str().expect("an id");
        let module = case["module"].as_str().expect("a module");
        let (opa, ours) = (opa_result(case), regorus_result(case));
        if opa == ours {
            agree += 1;
        } else if !unsafe_negations(module).is_empty() {
            // The emitter avoids the construct: the lint rejects it in every printed module.
            avoided += 1;
        } else if KNOWN.iter().any(|(known, _)| *known == id) {
            known += 1;
        } else {
            unexplained.push(format!("{id}: OPA {opa:?}, regorus {ours:?}"));
        }
    }
    eprintln!(
        "rego-opa.json: {} cases, {agree} agree, {avoided} differ where the printer avoids the shape, {known} known",
        cases.len()
    );
    assert!(
        unexplained.is_empty(),
        "regorus differs from OPA where nothing avoids or models it:\n{}",
        unexplained.join("\n")
    );
    // The facts this file was written for are still in it and still differ: a stand-in that
    // started to agree would not need the lint, a fact that vanished would leave it untested.
    assert!(avoided >= 10, "only {avoided} avoided differences");
}

#[test]
fn every_fact_where_a_negation_differs_is_flagged_by_the_lint() {
    let Some(path) = shared_path("engine-facts/rego-opa.json", "OPA's recorded Rego results")
    else {
        return;
    };
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
    // The `negation-undefined` cases whose note says OPA differs from the naive reading in the
    // inline-`not` form: the lint must flag each.
    for case in cases.iter().filter(|c| c["family"] == "negation-undefined") {
        let module = case["module"].as_str().expect("a module");
        let differs = opa_result(case) != regorus_result(case);
        if differs {
            assert!(
                !unsafe_negations(module).is_empty(),
                "{}: OPA and regorus differ, but the lint accepts\n{module}",
                case["id"]
            );
        }
    }
}
