//! The Go field kinds of the built-in types, which decide what the API server's re-encoding
//! keeps: the table in `go-fields.json` (its `about` lines say where each part comes from
//! and how to extend it).

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Field names by OpenAPI type name (`io.k8s.api.core.v1.PodSpec`).
pub type FieldsByType = BTreeMap<String, BTreeSet<String>>;

/// The Go facts the OpenAPI documents leave out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoFieldTable {
    #[serde(rename = "about")]
    _about: Vec<String>,
    /// Optional scalars that are Go pointers: kept when zero (`privileged: false`).
    pub pointer_scalars: FieldsByType,
    /// Objects that are Go structs, not pointers: written even when absent (`resources: {}`).
    pub value_structs: FieldsByType,
    /// Scalars without `omitempty` that the schema does not mark required: written even
    /// when zero or absent.
    pub always_encoded: FieldsByType,
}

impl GoFieldTable {
    /// The embedded table, parsed on first use.
    pub fn get() -> &'static GoFieldTable {
        static TABLE: OnceLock<GoFieldTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            serde_json::from_str(include_str!("go-fields.json"))
                .expect("go-fields.json is checked by the schema tests")
        })
    }

    pub fn is_pointer_scalar(&self, type_name: &str, field: &str) -> bool {
        contains(&self.pointer_scalars, type_name, field)
    }

    pub fn is_value_struct(&self, type_name: &str, field: &str) -> bool {
        contains(&self.value_structs, type_name, field)
    }

    pub fn is_always_encoded(&self, type_name: &str, field: &str) -> bool {
        contains(&self.always_encoded, type_name, field)
    }
}

fn contains(table: &FieldsByType, type_name: &str, field: &str) -> bool {
    table
        .get(type_name)
        .is_some_and(|fields| fields.contains(field))
}
