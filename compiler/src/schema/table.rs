//! Reading the schema table that `tools/schemagen` writes (`builtin.json`; the format is
//! described in docs/schema.md).

use super::{Encoding, Field, FieldType, GoFieldTable, KindInfo, ObjectType, Schema, TypeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The table layout; `tools/schemagen` writes these same types, so the writer and the reader
/// cannot drift apart.
pub const TABLE_FORMAT: u32 = 1;

/// The whole table: its format number, where it came from, the kinds and every object type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    format: u32,
    #[serde(rename = "source")]
    _source: String,
    kinds: Vec<KindRow>,
    types: BTreeMap<String, TypeRow>,
}

/// A kind and the object type of its whole resource.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRow {
    pub kind: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub namespaced: bool,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// An object type: its summary and its fields by name.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRow {
    pub doc: String,
    pub fields: BTreeMap<String, FieldRow>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRow {
    #[serde(rename = "type")]
    pub ty: FieldTypeRow,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FieldTypeRow {
    String {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        #[serde(rename = "enum", default, skip_serializing_if = "Vec::is_empty")]
        enum_values: Vec<String>,
    },
    Int,
    Number,
    Bool,
    Quantity,
    IntOrString,
    Array {
        items: Box<FieldTypeRow>,
        #[serde(rename = "maxItems", default, skip_serializing_if = "Option::is_none")]
        max_items: Option<u64>,
    },
    Map(Box<FieldTypeRow>),
    /// An object type, by its OpenAPI component name.
    Object(String),
    Any,
}

/// Parses a table. Type ids follow the sorted type names.
pub(super) fn parse_table(text: &str) -> Result<Schema, String> {
    let file: TableFile =
        serde_json::from_str(text).map_err(|e| format!("malformed schema table: {e}"))?;
    if file.format != TABLE_FORMAT {
        return Err(format!(
            "schema table format {} is not the supported format {TABLE_FORMAT}",
            file.format
        ));
    }
    let ids: BTreeMap<&str, TypeId> = file
        .types
        .keys()
        .zip(0..)
        .map(|(name, id)| (name.as_str(), id))
        .collect();
    let type_id = |name: &str| {
        ids.get(name)
            .copied()
            .ok_or_else(|| format!("the schema table refers to the missing type `{name}`"))
    };
    let go = GoFieldTable::get();
    let mut objects = Vec::with_capacity(file.types.len());
    for (name, row) in &file.types {
        let mut fields = Vec::with_capacity(row.fields.len());
        for (field_name, field) in &row.fields {
            let ty = field_type(&field.ty, &type_id)?;
            let encoding = match ty {
                FieldType::String { .. } | FieldType::Int | FieldType::Bool
                    if !go.is_pointer_scalar(name, field_name) =>
                {
                    Encoding::PlainValue
                }
                FieldType::Object(_) if go.is_value_struct(name, field_name) => {
                    Encoding::ValueStruct
                }
                _ => Encoding::AsWritten,
            };
            fields.push(Field {
                name: field_name.clone(),
                encoding,
                ty,
                doc: field.doc.clone(),
                required: field.required,
            });
        }
        objects.push(ObjectType {
            name: name.clone(),
            doc: row.doc.clone(),
            fields,
            allows_unknown_fields: false,
        });
    }
    let mut kinds = Vec::with_capacity(file.kinds.len());
    for row in file.kinds {
        let root = type_id(&row.type_name)?;
        kinds.push(KindInfo {
            doc: objects[root as usize].doc.clone(),
            kind: row.kind,
            group: row.group,
            version: row.version,
            resource: row.resource,
            namespaced: row.namespaced,
            root,
        });
    }
    kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(Schema { objects, kinds })
}

fn field_type(
    row: &FieldTypeRow,
    type_id: &impl Fn(&str) -> Result<TypeId, String>,
) -> Result<FieldType, String> {
    Ok(match row {
        FieldTypeRow::String {
            format,
            enum_values,
        } => FieldType::String {
            format: format.clone(),
            enum_values: enum_values.clone(),
        },
        FieldTypeRow::Int => FieldType::Int,
        FieldTypeRow::Number => FieldType::Number,
        FieldTypeRow::Bool => FieldType::Bool,
        FieldTypeRow::Quantity => FieldType::Quantity,
        FieldTypeRow::IntOrString => FieldType::IntOrString,
        FieldTypeRow::Array { items, max_items } => FieldType::Array {
            items: Box::new(field_type(items, type_id)?),
            max_items: *max_items,
        },
        FieldTypeRow::Map(values) => FieldType::Map {
            values: Box::new(field_type(values, type_id)?),
        },
        FieldTypeRow::Object(name) => FieldType::Object(type_id(name)?),
        FieldTypeRow::Any => FieldType::Any,
    })
}
