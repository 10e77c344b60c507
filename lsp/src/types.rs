//! The schema type of an expression, for hover and field completion. Tolerant where the
//! checker is strict: an unknown name or field has no type instead of an error (the
//! diagnostics already say what is wrong).

use crate::names::{self, Definition, Meaning};
use crate::syntax_index::matched_kinds;
use guardrailc_compiler::check::types::Ty;
use guardrailc_compiler::schema::{Field, FieldType, Schema, TypeId};
use guardrailc_compiler::syntax::ast::{Expr, ExprKind, Guardrail, TypeExpr};

/// Expressions nest lets in lets; beyond this depth a chain is treated as untyped.
const MAX_DEPTH: usize = 32;

pub struct Types<'a> {
    pub schema: &'a Schema,
    object: Vec<TypeId>,
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
    pub fn new(schema: &'a Schema, guardrail: &'a Guardrail) -> Types<'a> {
        let object = matched_kinds(guardrail)
            .iter()
            .filter_map(|kind| schema.kind(kind))
            .map(|info| info.root)
            .collect();
        Types {
            schema,
            object,
            definitions: names::definitions(guardrail),
        }
    }

    pub fn of(&self, expr: &Expr) -> Option<Ty> {
        self.at_depth(expr, 0)
    }

    fn at_depth(&self, expr: &Expr, depth: usize) -> Option<Ty> {
        if depth > MAX_DEPTH {
            return None;
        }
        let next = depth + 1;
        match &expr.kind {
            ExprKind::Bool(_) => Some(Ty::Bool),
            ExprKind::Int(_) => Some(Ty::Int),
            ExprKind::Quantity(_) => Some(Ty::Quantity),
            ExprKind::Str(_) => Some(Ty::Str),
            ExprKind::List(items) => {
                let element = items.first().and_then(|i| self.at_depth(i, next));
                Some(Ty::List(Box::new(element.unwrap_or(Ty::Any))))
            }
            ExprKind::Name(name) => match name.as_str() {
                "object" | "old" if !self.object.is_empty() => {
                    Some(Ty::Object(self.object.clone()))
                }
                "namespace" => self
                    .schema
                    .kind("Namespace")
                    .map(|k| Ty::Object(vec![k.root])),
                "request" => Some(Ty::Request),
                _ => {
                    let definition = names::lookup(&self.definitions, name, expr.span.start)?;
                    self.of_definition(definition, next)
                }
            },
            ExprKind::Field(base, field) => {
                if let ExprKind::Name(root) = &base.kind {
                    match root.as_str() {
                        "params" => {
                            let definition = names::param(&self.definitions, &field.name)?;
                            return self.of_definition(definition, next);
                        }
                        "pod" => return self.pod_field(&field.name),
                        _ => {}
                    }
                }
                let base = self.at_depth(base, next)?;
                self.field(&base, &field.name).map(|(ty, _)| ty)
            }
            ExprKind::Index(base, _) => match self.at_depth(base, next)? {
                Ty::List(element) | Ty::Map(element) => Some(*element),
                Ty::Any => Some(Ty::Any),
                _ => None,
            },
            ExprKind::Call { name, .. } => match name.name.as_str() {
                "size" => Some(Ty::Int),
                "trim_prefix" | "trim_suffix" => Some(Ty::Str),
                "keys" => Some(Ty::List(Box::new(Ty::Str))),
                _ => Some(Ty::Bool),
            },
            ExprKind::Not(_) | ExprKind::Binary(..) | ExprKind::Quantified { .. } => Some(Ty::Bool),
            ExprKind::Error => None,
        }
    }

    pub fn of_definition(&self, definition: &Definition, depth: usize) -> Option<Ty> {
        match definition.meaning {
            Meaning::Declared(ty) => declared(ty),
            Meaning::Value(expr) => self.at_depth(expr, depth),
            Meaning::ElementOf(list) => match self.at_depth(list, depth)? {
                Ty::List(element) => Some(*element),
                _ => None,
            },
        }
    }

    fn pod_field(&self, name: &str) -> Option<Ty> {
        let pod = self.schema.kind("Pod")?.root;
        let spec = object_of(self.schema.field_type(pod, "spec")?)?;
        match name {
            "spec" => Some(Ty::Object(vec![spec])),
            "metadata" => Some(Ty::from_field(self.schema.field_type(pod, "metadata")?)),
            "all_containers" => Some(Ty::from_field(self.schema.field_type(spec, "containers")?)),
            _ => None,
        }
    }

    /// The type and schema entry of `base.name`.
    pub fn field(&self, base: &Ty, name: &str) -> Option<(Ty, Option<&'a Field>)> {
        match base {
            Ty::Object(ids) => ids.iter().find_map(|id| {
                let field = self.schema.field(*id, name)?;
                Some((Ty::from_field(&field.ty), Some(field)))
            }),
            Ty::Map(values) => Some((values.as_ref().clone(), None)),
            Ty::Record(fields) => fields
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, ty)| (ty.clone(), None)),
            Ty::Any => Some((Ty::Any, None)),
            Ty::Request => match name {
                "groups" => Some((Ty::List(Box::new(Ty::Str)), None)),
                _ if REQUEST_FIELDS.iter().any(|(n, _, _)| *n == name) => Some((Ty::Str, None)),
                _ => None,
            },
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

fn object_of(ty: &FieldType) -> Option<TypeId> {
    match ty {
        FieldType::Object(id) => Some(*id),
        _ => None,
    }
}

/// The type a param declares: `string`, `list<int>`, `map<string, quantity>` …
pub fn declared(ty: &TypeExpr) -> Option<Ty> {
    let arg = |i: usize| ty.args.get(i).and_then(declared);
    match ty.name.name.as_str() {
        "string" => Some(Ty::Str),
        "int" => Some(Ty::Int),
        "bool" => Some(Ty::Bool),
        "quantity" => Some(Ty::Quantity),
        "list" => Some(Ty::List(Box::new(arg(0)?))),
        "map" => Some(Ty::Map(Box::new(arg(1)?))),
        "record" => Some(Ty::Record(
            ty.fields
                .iter()
                .map(|field| Some((field.name.name.clone(), declared(&field.ty)?)))
                .collect::<Option<Vec<_>>>()?,
        )),
        _ => None,
    }
}
