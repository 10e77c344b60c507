//! JSON to CEL values, as the API server converts an admitted object: integers are `int`
//! (the cel crate's serde binding would make them `uint`), other numbers `double`, objects
//! maps with string keys, `null` null.

use cel::objects::Key;
use cel::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn cel_value_of(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Beyond int64, Kubernetes decodes a number as a float64.
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(cel_value_of).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::from(k.clone()), cel_value_of(v)))
                .collect();
            Value::from(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_ints_and_fractions_doubles() {
        assert_eq!(cel_value_of(&json!(80)), Value::Int(80));
        assert_eq!(cel_value_of(&json!(-1)), Value::Int(-1));
        assert_eq!(cel_value_of(&json!(0.5)), Value::Float(0.5));
        assert_eq!(
            cel_value_of(&json!(18446744073709551615u64)),
            Value::Float(18446744073709551615.0)
        );
    }

    #[test]
    fn null_and_nesting() {
        let value = cel_value_of(&json!({"a": [null, true, "s"]}));
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
        assert_eq!(value, Value::from(expected));
    }
}
