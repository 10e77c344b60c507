//! The Kubernetes schema that field paths are checked against: the built-in kinds guardrails
//! target (embedded from the 1.35 OpenAPI documents by `tools/schemagen`), plus any custom
//! resources a project declares. See docs/schema.md.

mod crd;
mod go_fields;
pub mod table;
#[cfg(test)]
mod tests;

pub use crd::{crd_definitions, crd_schema, CrdDefinition, CrdError};
pub use go_fields::{FieldsByType, GoFieldTable};

use std::sync::OnceLock;

/// An index into a [`Schema`]'s object types. Ids of a schema stay valid in every schema
/// derived from it with [`Schema::with_crds`], which only appends types.
pub type TypeId = u32;

/// The type of a field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    String {
        /// The OpenAPI `format`, such as `date-time` or `byte`.
        format: Option<String>,
        /// The closed set of valid values, or empty when any string is valid.
        enum_values: Vec<String>,
    },
    Int,
    Number,
    Bool,
    /// A `resource.Quantity`: a string such as `500m` or `1Gi` (or a plain number).
    Quantity,
    /// An integer or a string (`x-kubernetes-int-or-string`), such as a port name or number.
    IntOrString,
    Array {
        items: Box<FieldType>,
        max_items: Option<u64>,
    },
    /// An object with arbitrary keys (labels, resource limits), each value of this type.
    Map {
        values: Box<FieldType>,
    },
    Object(TypeId),
    /// No schema: any value (`x-kubernetes-preserve-unknown-fields`, `RawExtension`, …).
    Any,
}

/// Shared by [`Schema::field_type`] for every undeclared field of an open object.
static ANY: FieldType = FieldType::Any;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    /// For built-in kinds the first sentence of the upstream description; for custom
    /// resources the whole description.
    pub doc: String,
    pub required: bool,
    /// How the API server keeps the field when it re-encodes an object.
    pub encoding: Encoding,
}

/// How the API server keeps a field when it decodes an object into its Go type and encodes
/// it again (docs/language.md, Semantics, "Zero values"; `go-fields.json` for the Go kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// As written: absent stays absent and a zero value stays present. Pointers, lists, maps,
    /// and every field of a custom resource (stored as written).
    AsWritten,
    /// A string, integer or boolean that Go stores as a plain value, not a pointer: absent
    /// and zero are one value (a zero `omitempty` field is dropped), so a guardrail reads an
    /// absent value as the zero value.
    PlainValue,
    /// An object that Go stores as a struct value, not a pointer: always written (`{}` when
    /// the manifest has none), so it is present wherever its parent is.
    ValueStruct,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectType {
    /// The OpenAPI name (`io.k8s.api.core.v1.PodSpec`), or `<kind>.<path>` for a type from
    /// a custom resource schema (`Widget.spec.rules[]`).
    pub name: String,
    pub doc: String,
    /// Sorted by name.
    pub fields: Vec<Field>,
    /// True when the API server keeps fields the schema does not declare
    /// (`x-kubernetes-preserve-unknown-fields`), so any other name holds a value of any type.
    pub allows_unknown_fields: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindInfo {
    pub kind: String,
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    /// The plural resource name, as in admission rules (`deployments`).
    pub resource: String,
    pub namespaced: bool,
    /// The object type of the whole resource.
    pub root: TypeId,
    pub doc: String,
}

/// Kinds and the object types reachable from them.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Indexed by [`TypeId`].
    objects: Vec<ObjectType>,
    /// Sorted by kind.
    kinds: Vec<KindInfo>,
}

impl Schema {
    /// The built-in Kubernetes 1.35 kinds, parsed from the embedded table on first use.
    pub fn builtin() -> &'static Schema {
        static BUILTIN: OnceLock<Schema> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            table::parse_table(include_str!("builtin.json"))
                .expect("builtin.json is written by schemagen and parsed by the schema tests")
        })
    }

    /// The kind with exactly this name, such as `Deployment`.
    pub fn kind(&self, kind: &str) -> Option<&KindInfo> {
        self.kinds
            .binary_search_by(|info| info.kind.as_str().cmp(kind))
            .ok()
            .map(|index| &self.kinds[index])
    }

    /// Every kind, sorted by name.
    pub fn kinds(&self) -> &[KindInfo] {
        &self.kinds
    }

    /// The object type with this id. Ids come from this schema (or the one it was derived
    /// from), so they are always in range.
    pub fn object(&self, id: TypeId) -> &ObjectType {
        &self.objects[id as usize]
    }

    /// The declared field `name` of object type `id`.
    pub fn field(&self, id: TypeId, name: &str) -> Option<&Field> {
        let fields = &self.object(id).fields;
        fields
            .binary_search_by(|field| field.name.as_str().cmp(name))
            .ok()
            .map(|index| &fields[index])
    }

    /// The type of the value at `name` in object type `id`: the declared field's type, or
    /// [`FieldType::Any`] for an undeclared name in an object that keeps unknown fields.
    pub fn field_type(&self, id: TypeId, name: &str) -> Option<&FieldType> {
        match self.field(id, name) {
            Some(field) => Some(&field.ty),
            None if self.object(id).allows_unknown_fields => Some(&ANY),
            None => None,
        }
    }

    /// A copy of this schema with custom resources added.
    pub fn with_crds(&self, crds: &[CrdDefinition]) -> Result<Schema, CrdError> {
        let mut schema = self.clone();
        for definition in crds {
            crd::add_crd(&mut schema, definition)?;
        }
        schema.kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
        Ok(schema)
    }

    fn next_type_id(&self) -> TypeId {
        TypeId::try_from(self.objects.len()).expect("a schema holds far fewer than 2^32 types")
    }

    fn push_object(&mut self, object: ObjectType) -> TypeId {
        let id = self.next_type_id();
        self.objects.push(object);
        id
    }
}
