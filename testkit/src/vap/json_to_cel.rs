//! JSON to CEL values, as the API server converts an admitted object: integers are `int`
//! (the cel crate's serde binding would make them `uint`), other numbers `double`, objects
//! maps with string keys, `null` null. Properties of schema-typed objects are exposed under
//! their escaped names (`metadata.namespace` is `metadata.__namespace__`); keys of maps
//! (labels, annotations, resource limits) are not.
//! <https://kubernetes.io/docs/reference/using-api/cel/#escaping>

use super::shared::{SharedList, SharedMap};
use cel::common::types::{CelBool, CelDouble, CelInt, CelMapKey, CelNull, CelString};
use cel::common::value::Val;
use guardrailc_compiler::backend::cel::property_name;
use guardrailc_compiler::schema::{FieldType, Schema};
use std::collections::HashMap;

/// Built in one pass as the interpreter's own values (`Box<dyn Val>`), not as `cel::Value`
/// first: converting a `Value` tree is a second deep copy of the whole object. Lists and
/// maps are shared, so that binding an element to a macro's variable does not copy it.
pub(crate) fn cel_value_of(json: &serde_json::Value) -> Box<dyn Val> {
    match json {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Box::new(CelInt::from(i)),
            // Beyond int64, Kubernetes decodes a number as a float64.
            None => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        serde_json::Value::String(s) => Box::new(CelString::from(s.clone())),
        serde_json::Value::Array(items) => Box::new(SharedList::new(
            items.iter().map(cel_value_of).collect::<Vec<_>>(),
        )),
        serde_json::Value::Object(fields) => Box::new(SharedMap::new(
            fields
                .iter()
                .map(|(k, v)| (CelMapKey::from(k.clone()), cel_value_of(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// A Kubernetes object as CEL sees it: walked along the schema of its kind, with object
/// properties escaped. Objects of kinds the schema does not know are bound as plain JSON.
pub(crate) fn object_value(json: &serde_json::Value, schema: &Schema) -> Box<dyn Val> {
    let root = json
        .get("kind")
        .and_then(|k| k.as_str())
        .and_then(|kind| schema.kind(kind))
        .map(|info| FieldType::Object(info.root));
    match root {
        Some(ty) => typed_value(json, &ty, schema),
        None => cel_value_of(json),
    }
}

fn typed_value(json: &serde_json::Value, ty: &FieldType, schema: &Schema) -> Box<dyn Val> {
    match (json, ty) {
        (serde_json::Value::Object(fields), FieldType::Object(id)) => Box::new(SharedMap::new(
            fields
                .iter()
                .filter_map(|(k, v)| {
                    // A property CEL cannot name is not accessible at all.
                    let name = property_name(k)?;
                    let value = match schema.field_type(*id, k) {
                        Some(field) => typed_value(v, field, schema),
                        None => cel_value_of(v),
                    };
                    Some((CelMapKey::from(name), value))
                })
                .collect::<HashMap<_, _>>(),
        )),
        (serde_json::Value::Object(fields), FieldType::Map { values }) => Box::new(SharedMap::new(
            fields
                .iter()
                .map(|(k, v)| (CelMapKey::from(k.clone()), typed_value(v, values, schema)))
                .collect::<HashMap<_, _>>(),
        )),
        (serde_json::Value::Array(items), FieldType::Array { items: item_ty, .. }) => {
            Box::new(SharedList::new(
                items
                    .iter()
                    .map(|v| typed_value(v, item_ty, schema))
                    .collect::<Vec<_>>(),
            ))
        }
        _ => cel_value_of(json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::objects::Key;
    use cel::Value;
    use serde_json::json;
    use std::sync::Arc;

    fn value(val: Box<dyn Val>) -> Value {
        Value::try_from(val.as_ref()).expect("built-in values convert")
    }

    #[test]
    fn integers_are_ints_and_fractions_doubles() {
        assert_eq!(value(cel_value_of(&json!(80))), Value::Int(80));
        assert_eq!(value(cel_value_of(&json!(-1))), Value::Int(-1));
        assert_eq!(value(cel_value_of(&json!(0.5))), Value::Float(0.5));
        assert_eq!(
            value(cel_value_of(&json!(18446744073709551615u64))),
            Value::Float(18446744073709551615.0)
        );
    }

    #[test]
    fn object_properties_are_escaped_and_map_keys_are_not() {
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"namespace": "x", "a.b/c": "d"}},
        });
        let Value::Map(map) = value(object_value(&pod, Schema::builtin())) else {
            panic!("a pod binds as a map")
        };
        let metadata = map.get(&Key::from("metadata")).expect("metadata");
        let Value::Map(metadata) = metadata else {
            panic!("metadata is a map")
        };
        assert!(metadata.get(&Key::from("__namespace__")).is_some());
        assert!(metadata.get(&Key::from("namespace")).is_none());
        let Some(Value::Map(labels)) = metadata.get(&Key::from("labels")) else {
            panic!("labels is a map")
        };
        assert!(labels.get(&Key::from("namespace")).is_some());
        assert!(labels.get(&Key::from("a.b/c")).is_some());
    }

    #[test]
    fn null_and_nesting() {
        let built = value(cel_value_of(&json!({"a": [null, true, "s"]})));
        let expected: HashMap<Key, Value> = [(
            Key::from("a".to_string()),
            Value::List(Arc::new(vec![
                Value::Null,
                Value::Bool(true),
                Value::String(Arc::new("s".into())),
            ])),
        )]
        .into_iter()
        .collect();
        assert_eq!(built, Value::from(expected));
    }
}
