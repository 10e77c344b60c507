//! `engine-facts/apiserver-encoding.json` (in the shared data beside the repository) as
//! tests: every object recorded there, re-encoded by [`as_admitted`], must be exactly what
//! the real API server handed admission, or fail to decode where the API server refused it.
//! Adding a case to the file adds a case here. Without the shared data the tests say that
//! they were skipped and pass.

use guardrailc_compiler::schema::{FieldType, Schema, TypeId};
use guardrailc_testkit::apiserver::{as_admitted, FieldsByType, GoFieldTable};
use guardrailc_testkit::shared_data::shared_path;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn re_encoding_matches_every_recorded_apiserver_case() {
    let Some(path) = shared_path(
        "engine-facts/apiserver-encoding.json",
        "the apiserver re-encoding facts",
    ) else {
        return;
    };
    let facts = read_json(&path);
    let cases = facts["cases"].as_array().expect("a `cases` list");
    assert!(!cases.is_empty(), "{} records no case", path.display());
    let mut failures = Vec::new();
    let mut refused = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap_or("(no id)");
        let expected = &case["as_admission_sees_it"];
        let input = as_sent(id, &case["input"], &case["input_yaml"]);
        let result = as_admitted(&input, Schema::builtin());
        match (result, expected.is_null()) {
            (Ok(actual), false) if actual != *expected => failures.push(format!(
                "{id}: admission saw\n  {expected}\nthe model gives\n  {actual}"
            )),
            (Ok(_), false) => {}
            (Err(_), true) => refused += 1,
            (Ok(actual), true) => failures.push(format!(
                "{id}: the API server could not decode it ({}), the model gives\n  {actual}",
                case["decode_errors"]
            )),
            (Err(error), false) => failures.push(format!(
                "{id}: the API server decoded it, the model refuses it: {error}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the API server:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{} cases agree with the API server ({refused} of them undecodable)",
        cases.len()
    );
}

/// The object the recorded harness received. Each case's `input` is its `input_yaml` read
/// by a YAML 1.1 reader, which takes an unquoted `1e9` for a string; Go's YAML reader (like
/// YAML 1.2) reads a number there, and README section 7 records that "the number `1e9`
/// becomes `"1G"`". So where the YAML 1.2 reading of `input_yaml` has a number and `input`
/// a string, the number is what was sent. (The YAML 1.1 booleans, `ON` in case 18, are
/// booleans to Go's reader too: `input` keeps them.)
fn as_sent(id: &str, input: &Value, input_yaml: &Value) -> Value {
    let Some(text) = input_yaml.as_str() else {
        return input.clone();
    };
    let read: Value =
        yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{id}: input_yaml is not YAML: {e}"));
    let mut sent = input.clone();
    take_numbers(&mut sent, &read);
    if sent != *input {
        eprintln!(
            "{id}: unquoted numbers that the recorded `input` holds as strings are sent as numbers"
        );
    }
    sent
}

fn take_numbers(sent: &mut Value, read: &Value) {
    match (sent, read) {
        (sent @ Value::String(_), Value::Number(number)) => *sent = Value::Number(number.clone()),
        (Value::Array(items), Value::Array(read_items)) => {
            for (item, read_item) in items.iter_mut().zip(read_items) {
                take_numbers(item, read_item);
            }
        }
        (Value::Object(fields), Value::Object(read_fields)) => {
            for (name, field) in fields.iter_mut() {
                if let Some(read_field) = read_fields.get(name) {
                    take_numbers(field, read_field);
                }
            }
        }
        _ => {}
    }
}

/// The `value_structs` of the Go field table are the fields the OpenAPI documents mark
/// `default: {}` (a Go struct, not a pointer): recomputed here, printed when they differ.
#[test]
fn go_field_table_matches_the_openapi_documents() {
    let Some(dir) = shared_path(
        "external/openapi/v1.35",
        "the Go field table check against the OpenAPI documents",
    ) else {
        return;
    };
    let mut definitions = serde_json::Map::new();
    for document in openapi_documents(&dir) {
        if let Some(Value::Object(schemas)) = read_json(&document).pointer("/components/schemas") {
            definitions.extend(schemas.clone());
        }
    }
    let schema = Schema::builtin();
    let mut expected = FieldsByType::new();
    for id in reachable_types(schema) {
        let ty = schema.object(id);
        let properties = definitions
            .get(&ty.name)
            .and_then(|definition| definition.get("properties"))
            .unwrap_or_else(|| panic!("{} is not in the OpenAPI documents", ty.name));
        for field in &ty.fields {
            let struct_valued = matches!(field.ty, FieldType::Object(_))
                && properties[&field.name].get("default")
                    == Some(&Value::Object(Default::default()));
            if struct_valued {
                expected
                    .entry(ty.name.clone())
                    .or_default()
                    .insert(field.name.clone());
            }
        }
    }
    let actual = &GoFieldTable::get().value_structs;
    if *actual != expected {
        let lines: Vec<String> = expected
            .iter()
            .map(|(name, fields)| {
                format!(
                    "  {}: {}",
                    json(name),
                    json(&fields.iter().collect::<Vec<_>>())
                )
            })
            .collect();
        panic!(
            "the value_structs of compiler/src/schema/go-fields.json differ from the OpenAPI \
             documents; they should read:\n\"value_structs\": {{\n{}\n}}",
            lines.join(",\n")
        );
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("serialisable")
}

/// `api/v1.json` and `apis/<group>/<version>.json` under `dir`.
fn openapi_documents(dir: &Path) -> Vec<PathBuf> {
    let mut documents = vec![dir.join("api/v1.json")];
    let groups = std::fs::read_dir(dir.join("apis")).expect("an apis folder");
    for group in groups {
        let group = group.expect("a readable entry").path();
        for version in std::fs::read_dir(&group).expect("a group folder") {
            documents.push(version.expect("a readable entry").path());
        }
    }
    documents.sort();
    documents
}

/// Every object type reachable from the built-in kinds.
fn reachable_types(schema: &Schema) -> Vec<TypeId> {
    let mut seen: BTreeMap<TypeId, ()> = BTreeMap::new();
    let mut queue: Vec<TypeId> = schema.kinds().iter().map(|kind| kind.root).collect();
    while let Some(id) = queue.pop() {
        if seen.insert(id, ()).is_some() {
            continue;
        }
        for field in &schema.object(id).fields {
            let mut ty = &field.ty;
            while let FieldType::Array { items: inner, .. } | FieldType::Map { values: inner } = ty
            {
                ty = inner;
            }
            if let FieldType::Object(child) = ty {
                queue.push(*child);
            }
        }
    }
    seen.into_keys().collect()
}
