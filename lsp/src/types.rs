//! The types of a guardrail's expressions and names, as the checker gave them
//! (`check::guardrail_types`), with the schema entries behind object fields, for hover and
//! field completion. An expression the checker could not type (an unknown name or field)
//! has no type: the diagnostics already say what is wrong.

use crate::names::{self, Definition};
use guardrailc_compiler::check::guardrail_types;
use guardrailc_compiler::check::types::{Ty, TypeTable};
use guardrailc_compiler::schema::{Field, Schema};
use guardrailc_compiler::syntax::ast::{Expr, Guardrail};

pub struct Types<'a> {
    pub schema: &'a Schema,
    table: TypeTable,
    pub definitions: Vec<Definition<'a>>,
}

/// The fields of the request pseudo-object, with their docs.
pub const REQUEST_FIELDS: &[(&str, &str, &str)] = &[
    (
        "operation",
        "string",
        "`CREATE`, `UPDATE`, `DELETE` or `CONNECT`",
    ),
    (
        "user",
        "string",
        "the name of the user or service account making the request",
    ),
    (
        "groups",
        "list<string>",
        "the groups of the user making the request",
    ),
    (
        "namespace",
        "string",
        "the namespace of the object (empty for cluster-scoped objects)",
    ),
    ("name", "string", "the name of the object"),
];

/// The fields of `pod`, the pod view of every workload kind.
pub const POD_FIELDS: &[(&str, &str, &str)] = &[
    ("spec", "object (PodSpec)", "the pod spec, wherever the kind keeps it (`spec`, `spec.template.spec`, `spec.jobTemplate.spec.template.spec`)"),
    ("metadata", "object (ObjectMeta)", "the pod's metadata (the template's for controllers)"),
    ("all_containers", "list<object (Container)>", "containers, initContainers and ephemeralContainers together"),
];

impl<'a> Types<'a> {
    /// Checks `guardrail` against `schema` for the types of its expressions and names.
    pub fn new(schema: &'a Schema, guardrail: &'a Guardrail) -> Types<'a> {
        Types {
            schema,
            table: guardrail_types(guardrail, schema),
            definitions: names::definitions(guardrail),
        }
    }

    /// The type of an expression of the guardrail, or of one parsed from the same text at
    /// the same place (the receiver before a `.` being typed).
    pub fn of(&self, expr: &Expr) -> Option<Ty> {
        self.table.of(expr.span).cloned()
    }

    /// The type of a param, let, or loop or quantifier variable.
    pub fn of_definition(&self, definition: &Definition) -> Option<Ty> {
        self.table.of(definition.name.span).cloned()
    }

    /// The schema entry of field `name` of an object type (the first alternative that has it).
    pub fn field(&self, base: &Ty, name: &str) -> Option<&'a Field> {
        match base {
            Ty::Object(ids) => ids.iter().find_map(|id| self.schema.field(*id, name)),
            _ => None,
        }
    }

    /// Every field of an object type, merged over its alternatives, sorted by name.
    pub fn fields(&self, base: &Ty) -> Vec<&'a Field> {
        let mut fields: Vec<&Field> = Vec::new();
        if let Ty::Object(ids) = base {
            for id in ids {
                for field in &self.schema.object(*id).fields {
                    if !fields.iter().any(|f| f.name == field.name) {
                        fields.push(field);
                    }
                }
            }
        }
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        fields
    }
}
