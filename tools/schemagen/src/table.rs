//! The schema table written to `builtin.json`: the embedded kinds and every object type
//! reachable from them, with each field's type, summary and requiredness.
//!
//! The format is read by `compiler/src/schema/table.rs`; `docs/schema.md` describes it.

use crate::doc_summary::summarize;
use crate::enum_overlay::{EnumOverlay, ENUM_OVERLAY};
use crate::openapi::{schemas_of_kind, GroupVersionKind, OpenApiDocuments};
use guardrailc_compiler::schema::table::{
    FieldRow as FieldEntry, FieldTypeRow as TableType, KindRow as KindEntry, TypeRow as TypeEntry,
    TABLE_FORMAT,
};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

pub struct Table {
    pub source: String,
    pub kinds: Vec<KindEntry>,
    pub types: BTreeMap<String, TypeEntry>,
}

/// Builds the table for `kinds` from the merged documents.
pub fn build_table(
    documents: &OpenApiDocuments,
    kinds: &[GroupVersionKind],
    source: &str,
) -> Result<Table, String> {
    let mut builder = TableBuilder {
        documents,
        types: BTreeMap::new(),
        pending: BTreeSet::new(),
    };
    let mut kind_entries = Vec::new();
    for gvk in kinds {
        let endpoint = documents
            .endpoints
            .get(gvk)
            .ok_or_else(|| format!("no collection path creates `{gvk}`"))?;
        let type_name = match schemas_of_kind(&documents.schemas, gvk).as_slice() {
            [name] => (*name).to_owned(),
            [] => return Err(format!("no schema declares `{gvk}`")),
            several => return Err(format!("several schemas declare `{gvk}`: {several:?}")),
        };
        builder.pending.insert(type_name.clone());
        kind_entries.push(KindEntry {
            kind: gvk.kind.clone(),
            group: gvk.group.clone(),
            version: gvk.version.clone(),
            resource: endpoint.resource.clone(),
            namespaced: endpoint.namespaced,
            type_name,
        });
    }
    kind_entries.sort_by(|a, b| a.kind.cmp(&b.kind));
    while let Some(name) = builder.pending.pop_first() {
        if !builder.types.contains_key(&name) {
            let entry = builder.object_type(&name)?;
            builder.types.insert(name, entry);
        }
    }
    for overlay in ENUM_OVERLAY {
        builder.apply_enum_overlay(overlay)?;
    }
    Ok(Table {
        source: source.to_owned(),
        kinds: kind_entries,
        types: builder.types,
    })
}

struct TableBuilder<'a> {
    documents: &'a OpenApiDocuments,
    types: BTreeMap<String, TypeEntry>,
    /// Object types referenced but not yet converted.
    pending: BTreeSet<String>,
}

impl<'a> TableBuilder<'a> {
    fn schema(&self, name: &str) -> Result<&'a Map<String, Value>, String> {
        self.documents
            .schemas
            .get(name)
            .ok_or_else(|| format!("`$ref` to unknown schema `{name}`"))
    }

    fn object_type(&mut self, name: &str) -> Result<TypeEntry, String> {
        let schema = self.schema(name)?;
        let required: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let doc = summarize(description(schema));
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("schema `{name}` has no properties"))?;
        let mut fields = BTreeMap::new();
        for (field_name, property) in properties {
            let property = property
                .as_object()
                .ok_or_else(|| format!("`{name}.{field_name}` is not a schema object"))?;
            let ty = self
                .field_type(property)
                .map_err(|e| format!("in `{name}.{field_name}`: {e}"))?;
            fields.insert(
                field_name.clone(),
                FieldEntry {
                    ty,
                    doc: summarize(description(property)),
                    required: required.contains(field_name.as_str()),
                },
            );
        }
        Ok(TypeEntry { doc, fields })
    }

    /// The type of a property, array item or map value schema.
    fn field_type(&mut self, schema: &Map<String, Value>) -> Result<TableType, String> {
        if let Some(reference) = schema.get("$ref") {
            return self.referenced_type(reference);
        }
        // Upstream wraps a `$ref` in a one-element `allOf` so that it can carry a default.
        if let Some(all_of) = schema.get("allOf") {
            return match all_of.as_array().map(Vec::as_slice) {
                Some([Value::Object(only)]) => self.field_type(only),
                _ => Err("an `allOf` with other than one schema is not supported".to_owned()),
            };
        }
        if is_int_or_string(schema) {
            return Ok(TableType::IntOrString);
        }
        let Some(type_name) = schema.get("type").and_then(Value::as_str) else {
            return Err("a schema without `type` or `$ref` is not supported".to_owned());
        };
        match type_name {
            "string" => Ok(TableType::String {
                format: schema
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                enum_values: schema
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "integer" => Ok(TableType::Int),
            "number" => Ok(TableType::Number),
            "boolean" => Ok(TableType::Bool),
            "array" => {
                let items = schema
                    .get("items")
                    .and_then(Value::as_object)
                    .ok_or("an array without `items` is not supported")?;
                Ok(TableType::Array {
                    items: Box::new(self.field_type(items)?),
                    max_items: schema.get("maxItems").and_then(Value::as_u64),
                })
            }
            "object" => match schema.get("additionalProperties") {
                Some(Value::Object(values)) => {
                    Ok(TableType::Map(Box::new(self.field_type(values)?)))
                }
                _ if schema.contains_key("properties") => {
                    Err("an inline object schema is not supported".to_owned())
                }
                // `type: object` with nothing else (RawExtension, FieldsV1) holds anything.
                _ => Ok(TableType::Any),
            },
            other => Err(format!("type `{other}` is not supported")),
        }
    }

    fn referenced_type(&mut self, reference: &Value) -> Result<TableType, String> {
        let name = reference
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .ok_or_else(|| format!("`$ref` {reference} is not a component schema"))?;
        if name == QUANTITY {
            return Ok(TableType::Quantity);
        }
        let schema = self.schema(name)?;
        if is_int_or_string(schema) {
            return Ok(TableType::IntOrString);
        }
        if schema.contains_key("properties") {
            self.pending.insert(name.to_owned());
            return Ok(TableType::Object(name.to_owned()));
        }
        // A named scalar such as `meta.v1.Time` (a date-time string) is inlined.
        self.field_type(schema)
    }

    fn apply_enum_overlay(&mut self, overlay: &EnumOverlay) -> Result<(), String> {
        let place = format!(
            "enum overlay entry `{}.{}`",
            overlay.type_name, overlay.field
        );
        let upstream_doc = self
            .documents
            .schemas
            .get(overlay.type_name)
            .and_then(|schema| schema.get("properties")?.get(overlay.field)?.as_object())
            .map(description)
            .ok_or_else(|| format!("{place} names a field the documents do not have"))?;
        if let Some(missing) = overlay
            .values
            .iter()
            .find(|value| !mentions_word(upstream_doc, value))
        {
            return Err(format!(
                "{place}: the upstream description does not mention `{missing}`"
            ));
        }
        let field = self
            .types
            .get_mut(overlay.type_name)
            .and_then(|entry| entry.fields.get_mut(overlay.field))
            .ok_or_else(|| format!("{place} names a type no embedded kind reaches"))?;
        let target = match &mut field.ty {
            TableType::Array { items, .. } => items.as_mut(),
            ty => ty,
        };
        match target {
            TableType::String { enum_values, .. } if enum_values.is_empty() => {
                *enum_values = overlay.values.iter().map(|v| (*v).to_owned()).collect();
                Ok(())
            }
            TableType::String { .. } => Err(format!(
                "{place} is redundant: the documents now list enum values"
            )),
            _ => Err(format!("{place} names a field that is not a string")),
        }
    }
}

fn description(schema: &Map<String, Value>) -> &str {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn is_int_or_string(schema: &Map<String, Value>) -> bool {
    schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        || schema.get("format").and_then(Value::as_str) == Some("int-or-string")
}

/// True iff `word` occurs in `text` delimited by non-alphanumeric characters, so that `In`
/// is not found inside `Indicates`.
fn mentions_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The table as JSON: one kind or type per line, so a regeneration diff shows which types
/// changed. Keys are sorted, so the output is byte-identical for identical input.
pub fn render(table: &Table) -> String {
    let kinds: Vec<String> = table.kinds.iter().map(compact_json).collect();
    let types: Vec<String> = table
        .types
        .iter()
        .map(|(name, entry)| format!("{}:{}", compact_json(name), compact_json(entry)))
        .collect();
    format!(
        "{{\"format\":{TABLE_FORMAT},\"source\":{},\n\"kinds\":[\n{}\n],\n\"types\":{{\n{}\n}}}}\n",
        compact_json(&table.source),
        kinds.join(",\n"),
        types.join(",\n"),
    )
}

fn compact_json<T: Serialize>(value: T) -> String {
    serde_json::to_string(&value).expect("table parts are plain data with string keys")
}

#[cfg(test)]
mod tests {
    use super::mentions_word;

    #[test]
    fn a_word_inside_another_word_is_not_mentioned() {
        assert!(!mentions_word("Indicates the policy", "In"));
        assert!(mentions_word("Valid operators are In, NotIn.", "In"));
        assert!(mentions_word("Valid operators are In, NotIn.", "NotIn"));
        assert!(!mentions_word("Valid operators are In.", "Exists"));
    }
}
