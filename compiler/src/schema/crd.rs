//! Custom resources: turning the OpenAPI v3 schema of a CRD version into object types.
//!
//! CRD schemas are structural (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
//! every node has a `type` unless it is int-or-string or keeps unknown fields, and
//! `allOf`/`anyOf`/`oneOf`/`not` only add validation to a node whose type is already given.
//! So the converter reads `type`, `properties`, `items` and `additionalProperties` and
//! ignores the validation keywords.

use super::{Field, FieldType, KindInfo, ObjectType, Schema, TypeId};
use crate::config::CrdConfig;
use serde_json::{Map, Value};

/// A custom resource as a guardrail project declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct CrdDefinition {
    pub kind: String,
    pub group: String,
    pub version: String,
    /// The plural resource name (`widgets`).
    pub resource: String,
    pub namespaced: bool,
    /// An OpenAPI v3 schema of the whole object (the `openAPIV3Schema` of a CRD version),
    /// or None for a schemaless CRD (every field below the root is `Any`).
    pub schema: Option<Value>,
}

/// Why a custom resource could not be added to a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrdError {
    kind: String,
    /// Dotted path of the offending schema node; `[]` marks array items, `{}` map values.
    path: String,
    problem: String,
}

impl CrdError {
    /// The kind of the custom resource at fault.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The path of the unsupported schema node (empty for the root or the kind itself).
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl std::fmt::Display for CrdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "custom resource `{}`: {}", self.kind, self.problem)?;
        if !self.path.is_empty() {
            write!(f, " at `{}`", self.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for CrdError {}

/// The custom resources guardrails.toml declares, with their schemas. `read` returns the
/// text of a schema file given its path as written in guardrails.toml: the callers resolve
/// and read it, so the compiler stays free of IO.
pub fn crd_definitions(
    crds: &[CrdConfig],
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<CrdDefinition>, String> {
    crds.iter()
        .map(|crd| {
            let schema = match &crd.schema {
                Some(path) => Some(read(path).and_then(|text| {
                    crd_schema(&text, &crd.version).map_err(|e| format!("{path}: {e}"))
                })?),
                None => None,
            };
            Ok(CrdDefinition {
                kind: crd.kind.clone(),
                group: crd.group.clone(),
                version: crd.version.clone(),
                resource: crd.resource.clone(),
                namespaced: crd.namespaced,
                schema,
            })
        })
        .collect()
}

/// The object schema a schema file holds (YAML or JSON): the `openAPIV3Schema` of the
/// version named `version` in a CRD manifest (the one guardrails.toml configures, which must
/// be served), or the file itself when it is the schema.
pub fn crd_schema(text: &str, version: &str) -> Result<Value, String> {
    let value: Value =
        yaml_serde::from_str(text).map_err(|e| format!("not a YAML or JSON schema: {e}"))?;
    let Some(versions) = value.pointer("/spec/versions").and_then(Value::as_array) else {
        return Ok(value);
    };
    let name = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
    let Some(entry) = versions
        .iter()
        .find(|v| name(v).as_deref() == Some(version))
    else {
        let names: Vec<String> = versions.iter().filter_map(name).collect();
        return Err(format!(
            "the CRD has no version `{version}` (it has {}): set `version` in guardrails.toml to one of them",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    if entry.get("served").and_then(Value::as_bool) == Some(false) {
        return Err(format!(
            "version `{version}` of the CRD is not served, so no object of it reaches admission: configure a served version"
        ));
    }
    entry
        .pointer("/schema/openAPIV3Schema")
        .cloned()
        .ok_or_else(|| format!("version `{version}` of the CRD has no `schema.openAPIV3Schema`"))
}

/// The fields every Kubernetes object has, added to a custom resource root when missing.
const API_VERSION: &str = "apiVersion";
const KIND: &str = "kind";
const METADATA: &str = "metadata";

pub(super) fn add_crd(schema: &mut Schema, definition: &CrdDefinition) -> Result<(), CrdError> {
    let error = |problem: &str| CrdError {
        kind: definition.kind.clone(),
        path: String::new(),
        problem: problem.to_owned(),
    };
    // A linear scan: kinds added earlier in the same call are not sorted in yet.
    if schema.kinds.iter().any(|k| k.kind == definition.kind) {
        return Err(error("the kind is already defined"));
    }
    let standard_fields = standard_fields(schema);
    let mut converter = Converter {
        schema,
        kind: &definition.kind,
    };
    let root_type = match &definition.schema {
        None => FieldType::Any,
        Some(root_schema) => {
            // The API server validates `metadata` as ObjectMeta whatever the CRD says (it
            // may only restrict `name` and `generateName`), so its schema is not converted.
            let mut root_schema = root_schema.clone();
            if let Some(Value::Object(properties)) = root_schema.get_mut("properties") {
                properties.remove(METADATA);
            }
            converter.field_type(&root_schema, "")?
        }
    };
    let root = match root_type {
        FieldType::Object(root) => root,
        // Schemaless, or `x-kubernetes-preserve-unknown-fields` on a root without properties.
        FieldType::Any => converter.schema.push_object(ObjectType {
            name: definition.kind.clone(),
            doc: String::new(),
            fields: Vec::new(),
            allows_unknown_fields: true,
        }),
        _ => return Err(error("the schema root must be an object")),
    };
    let object = &mut schema.objects[root as usize];
    for standard in standard_fields {
        if !object.fields.iter().any(|f| f.name == standard.name) {
            object.fields.push(standard);
        }
    }
    object.fields.sort_by(|a, b| a.name.cmp(&b.name));
    let doc = object.doc.clone();
    schema.kinds.push(KindInfo {
        kind: definition.kind.clone(),
        group: definition.group.clone(),
        version: definition.version.clone(),
        resource: definition.resource.clone(),
        namespaced: definition.namespaced,
        root,
        doc,
    });
    Ok(())
}

/// `apiVersion`, `kind` and `metadata` (ObjectMeta) as the built-in kinds declare them.
fn standard_fields(schema: &Schema) -> Vec<Field> {
    let root = schema
        .kinds
        .first()
        .expect("every schema starts from the built-in table, which has kinds")
        .root;
    [API_VERSION, KIND, METADATA]
        .iter()
        .map(|name| {
            let mut field = schema
                .field(root, name)
                .expect("every built-in kind declares apiVersion, kind and metadata")
                .clone();
            field.required = false;
            field
        })
        .collect()
}

struct Converter<'a> {
    schema: &'a mut Schema,
    kind: &'a str,
}

impl Converter<'_> {
    fn error(&self, path: &str, problem: &str) -> CrdError {
        CrdError {
            kind: self.kind.to_owned(),
            path: path.to_owned(),
            problem: problem.to_owned(),
        }
    }

    /// The type of the schema node at `path` (empty for the root).
    fn field_type(&mut self, node: &Value, path: &str) -> Result<FieldType, CrdError> {
        let Value::Object(node) = node else {
            return Err(self.error(path, "a schema must be a json object"));
        };
        if node.contains_key("$ref") {
            return Err(self.error(path, "`$ref` is not allowed in custom resource schemas"));
        }
        if flag(node, "x-kubernetes-int-or-string") {
            return Ok(FieldType::IntOrString);
        }
        let type_name = match node.get("type") {
            None => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => return Err(self.error(path, "`type` must be a string")),
        };
        match type_name {
            Some("string") => self.string_type(node, path),
            Some("integer") => Ok(FieldType::Int),
            Some("number") => Ok(FieldType::Number),
            Some("boolean") => Ok(FieldType::Bool),
            Some("array") => {
                let items = match node.get("items") {
                    None => FieldType::Any,
                    Some(items @ Value::Object(_)) => {
                        self.field_type(items, &format!("{path}[]"))?
                    }
                    Some(_) => return Err(self.error(path, "`items` must be a single schema")),
                };
                Ok(FieldType::Array {
                    items: Box::new(items),
                    max_items: node.get("maxItems").and_then(Value::as_u64),
                })
            }
            Some("object") | None => self.object_type(node, path),
            Some(other) => Err(self.error(path, &format!("type `{other}` is not supported"))),
        }
    }

    fn string_type(&self, node: &Map<String, Value>, path: &str) -> Result<FieldType, CrdError> {
        let enum_values = match node.get("enum") {
            None => Vec::new(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|value| value.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.error(path, "the `enum` of a string has a non-string value"))?,
            Some(_) => return Err(self.error(path, "`enum` must be a list")),
        };
        Ok(FieldType::String {
            format: node
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_owned),
            enum_values,
        })
    }

    fn object_type(
        &mut self,
        node: &Map<String, Value>,
        path: &str,
    ) -> Result<FieldType, CrdError> {
        let keeps_unknown_fields = flag(node, "x-kubernetes-preserve-unknown-fields");
        let properties = match node.get("properties") {
            None => None,
            Some(Value::Object(properties)) => Some(properties),
            Some(_) => return Err(self.error(path, "`properties` must be an object")),
        };
        let values = match node.get("additionalProperties") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(FieldType::Any),
            Some(values @ Value::Object(_)) => {
                Some(self.field_type(values, &format!("{path}{{}}"))?)
            }
            Some(_) => {
                return Err(self.error(path, "`additionalProperties` must be a schema or a boolean"))
            }
        };
        match (properties, values) {
            (Some(_), Some(_)) => Err(self.error(
                path,
                "`properties` and `additionalProperties` cannot be used together",
            )),
            (None, Some(values)) => Ok(FieldType::Map {
                values: Box::new(values),
            }),
            // An embedded resource or a preserved subtree holds anything.
            (None, None)
                if keeps_unknown_fields || flag(node, "x-kubernetes-embedded-resource") =>
            {
                Ok(FieldType::Any)
            }
            (properties, None) => {
                let properties = properties.cloned().unwrap_or_default();
                self.declared_object(node, &properties, path, keeps_unknown_fields)
            }
        }
    }

    /// A new object type for a node with `properties` (or with nothing at all: the API
    /// server prunes every field of such an object, so it declares none).
    fn declared_object(
        &mut self,
        node: &Map<String, Value>,
        properties: &Map<String, Value>,
        path: &str,
        keeps_unknown_fields: bool,
    ) -> Result<FieldType, CrdError> {
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::with_capacity(properties.len());
        for (name, property) in properties {
            let field_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            fields.push(Field {
                name: name.clone(),
                ty: self.field_type(property, &field_path)?,
                doc: property.as_object().map(description).unwrap_or_default(),
                required: required.contains(&name.as_str()),
                // A custom resource is stored as written: its zero values stay.
                encoding: super::Encoding::AsWritten,
            });
        }
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        let name = if path.is_empty() {
            self.kind.to_owned()
        } else {
            format!("{}.{path}", self.kind)
        };
        let id: TypeId = self.schema.push_object(ObjectType {
            name,
            doc: description(node),
            fields,
            allows_unknown_fields: keeps_unknown_fields,
        });
        Ok(FieldType::Object(id))
    }
}

fn flag(node: &Map<String, Value>, name: &str) -> bool {
    node.get(name) == Some(&Value::Bool(true))
}

fn description(node: &Map<String, Value>) -> String {
    node.get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}
