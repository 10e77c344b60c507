//! JSON to CEL values, as the API server converts an admitted object: integers are `int`
//! (the cel crate's serde binding would make them `uint`), other numbers `double`, objects
//! maps with string keys, `null` null. Objects are bound as the API server binds them, as
//! unstructured maps whose properties keep their names (no `__namespace__` escaping).

use super::shared::{SharedList, SharedMap};
use cel::common::types::{CelBool, CelDouble, CelInt, CelMapKey, CelNull, CelString};
use cel::common::value::Val;
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
    fn object_properties_keep_their_names_as_the_api_server_binds_them() {
        // engine-facts/vap-compile.json: `object.metadata.namespace` reads the namespace and
        // `object.metadata.__namespace__` finds no key.
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"a.b/c": "d"}},
        });
        let Value::Map(map) = value(cel_value_of(&pod)) else {
            panic!("a pod binds as a map")
        };
        let Some(Value::Map(metadata)) = map.get(&Key::from("metadata")) else {
            panic!("metadata is a map")
        };
        assert!(metadata.get(&Key::from("namespace")).is_some());
        assert!(metadata.get(&Key::from("__namespace__")).is_none());
        let Some(Value::Map(labels)) = metadata.get(&Key::from("labels")) else {
            panic!("labels is a map")
        };
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
