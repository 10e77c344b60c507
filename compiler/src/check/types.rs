//! The checker's view of types: schema types plus the pseudo-objects `request` and `params`.

use crate::schema::{FieldType, Schema, TypeId};
use crate::span::Span;
use std::collections::BTreeMap;

/// The type the checker gave each expression and each declared name (param, let, loop or
/// quantifier variable) of a guardrail, by span: editors show these instead of deriving
/// types again. Expressions whose checking failed have no entry.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    types: BTreeMap<Span, Ty>,
}

impl TypeTable {
    /// The type of the expression or declared name spanning exactly `span`.
    pub fn of(&self, span: Span) -> Option<&Ty> {
        self.types.get(&span)
    }

    pub(crate) fn record(&mut self, span: Span, ty: &Ty) {
        if *ty != Ty::Error {
            self.types.insert(span, ty.clone());
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    Number,
    Str,
    Quantity,
    IntOrString,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// A record param or an element of one: these fields, each possibly absent.
    Record(Vec<(String, Ty)>),
    /// An object of one of these schema types (several when a guardrail matches several
    /// kinds, or for `pod.all_containers`, whose elements are Container or EphemeralContainer).
    Object(Vec<TypeId>),
    /// The admission request: `operation`, `user`, `groups`, `namespace`, `name`.
    Request,
    /// No schema: any JSON value. Uses get run-time type guards.
    Any,
    /// The type of an expression that already failed to check: accepted everywhere, so one
    /// mistake gives one diagnostic.
    Error,
}

impl Ty {
    pub fn from_field(field: &FieldType) -> Ty {
        match field {
            FieldType::String { .. } => Ty::Str,
            FieldType::Int => Ty::Int,
            FieldType::Number => Ty::Number,
            FieldType::Bool => Ty::Bool,
            FieldType::Quantity => Ty::Quantity,
            FieldType::IntOrString => Ty::IntOrString,
            FieldType::Array { items, .. } => Ty::List(Box::new(Ty::from_field(items))),
            FieldType::Map { values } => Ty::Map(Box::new(Ty::from_field(values))),
            FieldType::Object(id) => Ty::Object(vec![*id]),
            FieldType::Any => Ty::Any,
        }
    }

    pub fn describe(&self, schema: &Schema) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Number => "number".into(),
            Ty::Str => "string".into(),
            Ty::Quantity => "quantity".into(),
            Ty::IntOrString => "int-or-string".into(),
            Ty::List(inner) => format!("list<{}>", inner.describe(schema)),
            Ty::Map(inner) => format!("map<string, {}>", inner.describe(schema)),
            Ty::Record(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, ty)| format!("{name}: {}", ty.describe(schema)))
                    .collect();
                format!("record {{{}}}", fields.join(", "))
            }
            Ty::Object(ids) => {
                let names: Vec<String> = ids
                    .iter()
                    .map(|id| short_type_name(&schema.object(*id).name).to_string())
                    .collect();
                format!("object ({})", names.join(" | "))
            }
            Ty::Request => "request".into(),
            Ty::Any => "any".into(),
            Ty::Error => "unknown".into(),
        }
    }

    /// The description with its indefinite article: `a string`, `an int`.
    pub fn with_article(&self, schema: &Schema) -> String {
        let text = self.describe(schema);
        let article = if text.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {text}")
    }

    pub fn is_error_or_any(&self) -> bool {
        matches!(self, Ty::Error | Ty::Any)
    }

    /// True for values a message can print the same way in CEL and Rego.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Ty::Bool | Ty::Int | Ty::Str | Ty::Quantity | Ty::IntOrString | Ty::Any | Ty::Error
        )
    }
}

/// `io.k8s.api.core.v1.Container` → `Container`.
pub fn short_type_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}
