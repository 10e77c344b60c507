//! A pretty-printed JSON document with one array streamed into it as its items come, so a
//! report of any length is written without holding it: serde writes the document, and the
//! array at the pointer is a sequence that pulls its items from an iterator.

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::cell::RefCell;

/// Writes `document` as `format!("{document:#}")` would, with the array at `pointer` (empty
/// in `document`) made of `items` as they come. The error is the first item's error, or a
/// write error.
pub fn write_pretty_streaming(
    out: &mut dyn std::io::Write,
    document: &Value,
    pointer: &str,
    items: &mut dyn Iterator<Item = Result<Value, String>>,
) -> Result<(), String> {
    if !document.pointer(pointer).is_some_and(Value::is_array) {
        return Err(format!(
            "the report has no array at `{pointer}` to stream into"
        ));
    }
    let path: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect();
    let stream = Stream {
        items: RefCell::new(items),
        error: RefCell::new(None),
    };
    let written = serde_json::to_writer_pretty(
        out,
        &Streamed {
            value: document,
            path: &path,
            stream: &stream,
        },
    );
    if let Some(error) = stream.error.into_inner() {
        return Err(error);
    }
    written.map_err(|e| format!("cannot write: {e}"))
}

/// `value`, with the array at `path` below it replaced by the stream.
struct Streamed<'a, 'i> {
    value: &'a Value,
    path: &'a [String],
    stream: &'a Stream<'i>,
}

impl Serialize for Streamed<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some((step, rest)) = self.path.split_first() else {
            return self.stream.serialize(serializer);
        };
        let below = |value| Streamed {
            value,
            path: rest,
            stream: self.stream,
        };
        match self.value {
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    if key == step {
                        map.serialize_entry(key, &below(value))?;
                    } else {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for (index, item) in items.iter().enumerate() {
                    if step.parse() == Ok(index) {
                        seq.serialize_element(&below(item))?;
                    } else {
                        seq.serialize_element(item)?;
                    }
                }
                seq.end()
            }
            // The pointer was checked to lead to an array.
            other => other.serialize(serializer),
        }
    }
}

/// The streamed items, and the first item's error (serde's error type cannot carry it).
struct Stream<'i> {
    items: RefCell<&'i mut dyn Iterator<Item = Result<Value, String>>>,
    error: RefCell<Option<String>>,
}

impl Serialize for Stream<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut items = self.items.borrow_mut();
        for item in &mut **items {
            match item {
                Ok(value) => seq.serialize_element(&value)?,
                Err(error) => {
                    let failed = S::Error::custom(&error);
                    *self.error.borrow_mut() = Some(error);
                    return Err(failed);
                }
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Streamed, a report is byte for byte what printing it whole gives, wherever the array
    /// is and however many items it has.
    #[test]
    fn a_streamed_array_prints_as_the_whole_document_would() {
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"line": i, "message": "container \"app\" uses nginx:latest", "targets": ["vap"]}))
            .collect();
        for count in [0, 1, 3] {
            let shown = &items[..count];
            // Text from the manifests (label values, namespace names) comes before the array
            // and may be anything, the placeholders included.
            let mut json = json!({
                "groups": [{"value": "a"}, {"value": "\"a\""}, {"value": "b"}, {"value": "[]"}],
                "findings": [],
                "errors": ["e\nf"],
            });
            let mut sarif = json!({"version": "2.1.0", "runs": [{"tool": {}, "results": []}]});
            for (document, pointer) in [(&mut json, "/findings"), (&mut sarif, "/runs/0/results")] {
                let mut streamed = Vec::new();
                let mut stream = shown.iter().cloned().map(Ok);
                write_pretty_streaming(&mut streamed, document, pointer, &mut stream).unwrap();
                *document.pointer_mut(pointer).unwrap() = Value::Array(shown.to_vec());
                assert_eq!(
                    String::from_utf8(streamed).unwrap(),
                    format!("{document:#}")
                );
            }
        }
    }

    #[test]
    fn an_item_that_fails_stops_the_stream_with_its_error() {
        let mut stream = [Ok(json!(1)), Err("spool unreadable".to_string())].into_iter();
        let mut out = Vec::new();
        let error = write_pretty_streaming(&mut out, &json!({"a": []}), "/a", &mut stream);
        assert_eq!(error, Err("spool unreadable".to_string()));
    }

    #[test]
    fn a_pointer_that_is_not_an_array_is_an_error() {
        let mut stream = std::iter::empty();
        let mut out = Vec::new();
        assert!(write_pretty_streaming(&mut out, &json!({"a": 1}), "/a", &mut stream).is_err());
        assert!(out.is_empty());
    }
}
