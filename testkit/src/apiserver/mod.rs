//! What admission sees of an object: a kube-apiserver decodes a built-in kind into its Go
//! type and re-encodes it before any admission policy or webhook reads it, so the object a
//! policy meets differs from the manifest. The model and its sources are in
//! docs/evaluation.md ("What admission sees"); each rule is pinned by a case of
//! `../shared/engine-facts/apiserver-encoding.json` (testkit/tests/engine_facts_encoding.rs).

pub use guardrailc_compiler::schema::{FieldsByType, GoFieldTable};

use crate::vap::library::quantity::Quantity;
use guardrailc_compiler::schema::{Field, FieldType, ObjectType, Schema, TypeId};
use serde_json::{Map, Number, Value};

/// Why the API server would refuse to decode an object: the request fails before any
/// admission policy runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// Where, as `spec.containers[0].ports[0].containerPort`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the API server cannot decode this object: {}: {}",
            self.path, self.message
        )
    }
}

impl std::error::Error for EncodeError {}

/// The object as a kube-apiserver hands it to admission: decoded into its Go type and
/// re-encoded.
///
/// For the built-in kinds the schema knows (its `io.k8s.*` types, matched by `kind` and
/// `apiVersion`):
/// - unknown fields are dropped, and so are JSON nulls;
/// - zero values of plain `omitempty` fields vanish (`false`, `0`, `""`, `[]`, `{}`), while
///   Go pointers keep them (`privileged: false`, `runAsUser: 0`, `replicas: 0`);
/// - struct-valued fields appear as `{}` when absent (`resources`, `status`, a template's
///   `metadata`), and fields without `omitempty` are written even when zero (`containerPort`,
///   a container's `name`; a required list that is absent stays absent: validation refuses the object before admission);
/// - quantities are printed in their canonical form (`0.5` → `"500m"`, `1024Mi` → `"1Gi"`),
///   numbers included (`8589934592` → `"8589934592"`).
///
/// A value of the wrong JSON type (a label value `1`, `containerPort: "80"`, a YAML 1.1
/// `on` read as a boolean where a string belongs) makes the object undecodable: an
/// [`EncodeError`] naming the path. Nothing is filled in: `metadata.namespace` stays absent
/// (the request carries the namespace) and the API server's defaulting is not modelled.
///
/// Any other object, custom resources included (the API server does not decode them into
/// Go types), is returned unchanged.
pub fn as_admitted(object: &Value, schema: &Schema) -> Result<Value, EncodeError> {
    let (Some(fields), Some(root)) = (object.as_object(), built_in_root(object, schema)) else {
        return Ok(object.clone());
    };
    let encoder = Encoder {
        schema,
        table: GoFieldTable::get(),
    };
    let mut path = Path::default();
    Ok(Value::Object(encoder.object(root, fields, &mut path)?))
}

/// The root type of a built-in kind at the object's `apiVersion`, if it is one.
fn built_in_root(object: &Value, schema: &Schema) -> Option<TypeId> {
    let kind = object.get("kind")?.as_str()?;
    let api_version = object.get("apiVersion")?.as_str()?;
    let info = schema.kind(kind)?;
    let expected = if info.group.is_empty() {
        info.version.clone()
    } else {
        format!("{}/{}", info.group, info.version)
    };
    let built_in = schema.object(info.root).name.starts_with("io.k8s.");
    (api_version == expected && built_in).then_some(info.root)
}

/// How encoding/json writes a field, from its Go type and tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GoField {
    /// A pointer: written when set, whatever the value.
    Pointer,
    /// A plain value with `omitempty`: left out when zero.
    OmitEmpty,
    /// A plain value without `omitempty`: always written, zero when absent.
    Always,
    /// A struct value: always written, `{}` and its own always-written fields when absent.
    Struct(TypeId),
}

struct Encoder<'s> {
    schema: &'s Schema,
    table: &'static GoFieldTable,
}

impl Encoder<'_> {
    fn go_field(&self, owner: &ObjectType, field: &Field) -> GoField {
        let (owner, name) = (owner.name.as_str(), field.name.as_str());
        match &field.ty {
            FieldType::Object(id) if self.table.is_value_struct(owner, name) => {
                GoField::Struct(*id)
            }
            FieldType::Object(_) | FieldType::Any => GoField::Pointer,
            // A metav1.Time that is zero is left out (`creationTimestamp: null` vanishes).
            FieldType::String { format, .. } if format.as_deref() == Some("date-time") => {
                GoField::OmitEmpty
            }
            _ if self.table.is_pointer_scalar(owner, name) => GoField::Pointer,
            _ if field.required || self.table.is_always_encoded(owner, name) => GoField::Always,
            // Every optional quantity but one (`divisor`, always encoded) is a *Quantity.
            FieldType::Quantity => GoField::Pointer,
            _ => GoField::OmitEmpty,
        }
    }

    fn object(
        &self,
        id: TypeId,
        given: &Map<String, Value>,
        path: &mut Path,
    ) -> Result<Map<String, Value>, EncodeError> {
        let ty = self.schema.object(id);
        let mut out = Map::new();
        for field in &ty.fields {
            let go_field = self.go_field(ty, field);
            let value = match given.get(&field.name).filter(|value| !value.is_null()) {
                Some(value) => {
                    path.push(Segment::Field(field.name.clone()));
                    let encoded = self.value(&field.ty, value, path)?;
                    path.pop();
                    let dropped = go_field == GoField::OmitEmpty && is_empty(&encoded);
                    (!dropped).then_some(encoded)
                }
                None => self.absent(go_field, &field.ty),
            };
            if let Some(value) = value {
                out.insert(field.name.clone(), value);
            }
        }
        Ok(out)
    }

    /// What encoding writes for a field the object does not set.
    fn absent(&self, go_field: GoField, ty: &FieldType) -> Option<Value> {
        match go_field {
            GoField::Pointer | GoField::OmitEmpty => None,
            GoField::Struct(id) => Some(self.zero_struct(id)),
            // A required list or map left out encodes as `null`, but API validation refuses
            // such an object before any validating admission runs (VAP and webhooks run after
            // it), so admission never meets the null: it stays absent.
            GoField::Always => Some(zero_value(ty)).filter(|zero| !zero.is_null()),
        }
    }

    fn zero_struct(&self, id: TypeId) -> Value {
        let mut path = Path::default();
        let encoded = self
            .object(id, &Map::new(), &mut path)
            .expect("an empty object holds no value of the wrong type");
        Value::Object(encoded)
    }

    /// The zero value Go decodes a JSON null list item or map value into.
    fn zero_element(&self, ty: &FieldType) -> Value {
        match ty {
            FieldType::Object(id) => self.zero_struct(*id),
            FieldType::Any => Value::Null,
            other => zero_value(other),
        }
    }

    fn value(&self, ty: &FieldType, value: &Value, path: &mut Path) -> Result<Value, EncodeError> {
        let mismatch = |expected: &str| Err(type_error(path, expected, value));
        match ty {
            FieldType::String { .. } => match value {
                Value::String(_) => Ok(value.clone()),
                _ => mismatch("a string"),
            },
            FieldType::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                _ => mismatch("a boolean"),
            },
            FieldType::Int => match value.as_number().and_then(whole_number) {
                Some(number) => Ok(Value::Number(number)),
                None => mismatch("an integer"),
            },
            FieldType::Number => match value {
                Value::Number(_) => Ok(value.clone()),
                _ => mismatch("a number"),
            },
            FieldType::IntOrString => match value {
                Value::String(_) => Ok(value.clone()),
                Value::Number(number) => match whole_number(number) {
                    Some(number) => Ok(Value::Number(number)),
                    None => mismatch("an integer or a string"),
                },
                _ => mismatch("an integer or a string"),
            },
            FieldType::Quantity => canonical_quantity(value, path),
            FieldType::Array { items, .. } => match value {
                Value::Array(elements) => {
                    let mut out = Vec::with_capacity(elements.len());
                    for (index, element) in elements.iter().enumerate() {
                        path.push(Segment::Index(index));
                        out.push(if element.is_null() {
                            self.zero_element(items)
                        } else {
                            self.value(items, element, path)?
                        });
                        path.pop();
                    }
                    Ok(Value::Array(out))
                }
                _ => mismatch("a list"),
            },
            FieldType::Map { values } => match value {
                Value::Object(entries) => {
                    let mut out = Map::new();
                    for (key, entry) in entries {
                        path.push(Segment::Key(key.clone()));
                        let encoded = if entry.is_null() {
                            self.zero_element(values)
                        } else {
                            self.value(values, entry, path)?
                        };
                        path.pop();
                        out.insert(key.clone(), encoded);
                    }
                    Ok(Value::Object(out))
                }
                _ => mismatch("a map"),
            },
            FieldType::Object(id) => match value {
                Value::Object(fields) => Ok(Value::Object(self.object(*id, fields, path)?)),
                _ => mismatch("an object"),
            },
            FieldType::Any => Ok(value.clone()),
        }
    }
}

/// The JSON a Go zero value encodes to; a list or map without `omitempty` is a nil slice
/// or map, which encodes as `null`.
fn zero_value(ty: &FieldType) -> Value {
    match ty {
        FieldType::String { .. } => Value::String(String::new()),
        FieldType::Int | FieldType::Number | FieldType::IntOrString => Value::from(0),
        FieldType::Bool => Value::Bool(false),
        FieldType::Quantity => Value::String("0".to_string()),
        FieldType::Array { .. } | FieldType::Map { .. } | FieldType::Object(_) | FieldType::Any => {
            Value::Null
        }
    }
}

/// Whether `omitempty` leaves the encoded value out.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(entries) => entries.is_empty(),
    }
}

/// A JSON number Go decodes into an integer field: a whole number (YAML's `1.0` reaches the
/// API server as `1`).
fn whole_number(number: &Number) -> Option<Number> {
    if number.is_i64() || number.is_u64() {
        return Some(number.clone());
    }
    let float = number.as_f64()?;
    let whole = float.is_finite() && float.fract() == 0.0 && float.abs() < 9.2e18;
    whole.then(|| Number::from(float as i64))
}

/// A quantity in its canonical text. A number is read as the text encoding/json writes
/// for it (`0.5`, `1000000000` for `1e9`), which is what `Quantity.UnmarshalJSON` parses.
fn canonical_quantity(value: &Value, path: &Path) -> Result<Value, EncodeError> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => go_number_text(number),
        _ => return Err(type_error(path, "a quantity (a string or a number)", value)),
    };
    let (quantity, format) =
        Quantity::parse_with_format(text.trim()).map_err(|error| EncodeError {
            path: path.to_string(),
            message: format!("`{text}` is not a quantity: {error}"),
        })?;
    Ok(Value::String(quantity.canonical(format)))
}

/// How Go's encoding/json prints a number: integers as digits, floats in the shortest form,
/// without an exponent from 1e-6 up to 1e21.
fn go_number_text(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let float = number.as_f64().unwrap_or(0.0);
    let plain = float == 0.0 || (1e-6..1e21).contains(&float.abs());
    if plain {
        format!("{float}")
    } else {
        format!("{float:e}")
    }
}

fn type_error(path: &Path, expected: &str, found: &Value) -> EncodeError {
    let found_text = match found {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    };
    let mut message = format!("expected {expected}, found {found_text}");
    if expected == "a string" && found.is_boolean() {
        message.push_str(
            " (YAML reads an unquoted yes, no, on, off, true or false as a boolean: quote it)",
        );
    } else if expected == "a string" && found.is_number() {
        message.push_str(" (quote it to make it a string)");
    } else if expected == "an integer" && found.is_string() {
        message.push_str(" (write the number without quotes)");
    }
    EncodeError {
        path: path.to_string(),
        message,
    }
}

/// A location in the object, printed as `spec.containers[0].env[1].name`.
#[derive(Default)]
struct Path(Vec<Segment>);

enum Segment {
    Field(String),
    Index(usize),
    Key(String),
}

impl Path {
    fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    fn pop(&mut self) {
        self.0.pop();
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(the object)");
        }
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Field(name) | Segment::Key(name) => {
                    let plain = !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    match (plain, position) {
                        (true, 0) => f.write_str(name)?,
                        (true, _) => write!(f, ".{name}")?,
                        (false, _) => write!(f, "[{name:?}]")?,
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
