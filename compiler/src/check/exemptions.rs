//! Exemptions: their checking, and the narrowing image exemptions make to every container
//! a rule binds (docs/language.md, "Exemptions").
//!
//! An image exemption removes the containers whose image it matches from every container
//! list a rule iterates, in the objects its other targets cover: a `for` over containers gains
//! `not exempt(c)`, `any c in …: body` becomes `any c in …: body and not exempt(c)` and
//! `all c in …: body` becomes `all c in …: body or exempt(c)`. A container list is one whose
//! elements have the schema type of a container, however the rule reaches it
//! (`pod.all_containers`, `pod.spec.containers`, `object.spec.containers` …). A container
//! read by index cannot be narrowed, and the checker says so (G0320).

use super::expr::{self, Checker};
use super::types::Ty;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Access, Expr, Literal, Root, Step};
use crate::schema::Schema;
use crate::span::Span;
use crate::syntax::ast::{self, SelectorTest};

/// The schema types of containers: what an image exemption narrows.
const CONTAINER_TYPES: [&str; 2] = [
    "io.k8s.api.core.v1.Container",
    "io.k8s.api.core.v1.EphemeralContainer",
];

#[derive(Clone, Debug)]
pub struct CheckedExemption {
    /// Its `condition` covers the object-level targets (namespaces, names, labels); true when
    /// the exemption has only images.
    pub exemption: ir::Exemption,
    /// Container image patterns (`registry/legacy/*`): when present, the exemption drops only
    /// violations bound to a matching container, in objects the condition covers.
    pub images: Vec<String>,
    pub expires: ast::Date,
    pub span: Span,
}

pub(super) fn check_exemption(
    exempt: &ast::Exempt,
    checker: &mut Checker,
) -> Option<CheckedExemption> {
    let mut missing = Vec::new();
    if exempt.reason.is_none() {
        missing.push("`reason \"…\"`");
    }
    if exempt.expires.is_none() {
        missing.push("`expires YYYY-MM-DD`");
    }
    if exempt.namespaces.is_empty()
        && exempt.names.is_empty()
        && exempt.labels.is_empty()
        && exempt.images.is_empty()
    {
        missing.push("a target (`namespaces`, `names`, `labels` or `images`)");
    }
    if !missing.is_empty() {
        checker.diagnostics.push(
            Diagnostic::new(
                Code::IncompleteExemption,
                exempt.span,
                format!("this exemption lacks {}", missing.join(", ")),
            )
            .with_help("exemptions say why, until when, and for what"),
        );
        return None;
    }
    let field = |root: ir::Root, path: &[&str]| ir::Access {
        root,
        steps: path
            .iter()
            .map(|s| ir::Step::Field(s.to_string()))
            .collect(),
    };
    let strings = |list: &[ast::StrLit]| {
        let mut v: Vec<Literal> = list
            .iter()
            .map(|s| Literal::String(s.value.clone()))
            .collect();
        v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        v.dedup();
        Literal::List(v)
    };
    let mut conditions = Vec::new();
    for (list, path) in [(&exempt.namespaces, "namespace"), (&exempt.names, "name")] {
        if list.is_empty() {
            continue;
        }
        let access = field(ir::Root::Object, &["metadata", path]);
        conditions.push(expr::and(vec![
            Expr::Present(access.clone()),
            Expr::InList {
                item: Box::new(Expr::Value(access)),
                list: Box::new(Expr::Literal(strings(list))),
            },
        ]));
    }
    for term in &exempt.labels {
        let mut access = field(ir::Root::Object, &["metadata", "labels"]);
        access.steps.push(ir::Step::Key(term.key.value.clone()));
        let present = Expr::Present(access.clone());
        let value = || Box::new(Expr::Value(access.clone()));
        let string = |s: &ast::StrLit| Box::new(Expr::Literal(Literal::String(s.value.clone())));
        let cmp = |op, s: &ast::StrLit| Expr::Compare {
            op,
            domain: ir::Domain::String,
            lhs: value(),
            rhs: string(s),
        };
        conditions.push(match &term.test {
            SelectorTest::Equals(v) => expr::and(vec![present, cmp(ir::CompareOp::Eq, v)]),
            SelectorTest::NotEquals(v) => Expr::Not(Box::new(expr::and(vec![
                present,
                cmp(ir::CompareOp::Eq, v),
            ]))),
            SelectorTest::In(list) => expr::and(vec![
                present,
                Expr::InList {
                    item: value(),
                    list: Box::new(Expr::Literal(strings(list))),
                },
            ]),
            SelectorTest::NotIn(list) => Expr::Not(Box::new(expr::and(vec![
                present,
                Expr::InList {
                    item: value(),
                    list: Box::new(Expr::Literal(strings(list))),
                },
            ]))),
            SelectorTest::Exists => present,
            SelectorTest::Missing => Expr::Not(Box::new(present)),
        });
    }
    let expires = exempt.expires.expect("checked above");
    Some(CheckedExemption {
        exemption: ir::Exemption {
            reason: exempt.reason_text(),
            owner: exempt.owner_text(),
            expires: expires.to_string(),
            condition: if conditions.is_empty() {
                Expr::Literal(Literal::Bool(true))
            } else {
                expr::and(conditions)
            },
        },
        images: exempt.images.iter().map(|i| i.value.clone()).collect(),
        expires,
        span: exempt.span,
    })
}

impl CheckedExemption {
    /// Valid through its `expires` day.
    pub fn in_force(&self, today: (u16, u8, u8)) -> bool {
        let e = self.expires;
        (e.year, e.month, e.day) >= today
    }

    /// The part of an exemption that narrows container lists, when it has images.
    pub fn image_exemption(&self) -> Option<ImageExemption> {
        (!self.images.is_empty()).then(|| ImageExemption {
            object: self.exemption.condition.clone(),
            images: self.images.clone(),
        })
    }
}

/// An image exemption in force: the objects it covers and the image patterns of the
/// containers it drops from them.
#[derive(Clone, Debug)]
pub struct ImageExemption {
    /// True for the objects the exemption's other targets cover (`true` with images only).
    pub object: Expr,
    /// Exact images, or prefixes ending in `*`.
    pub images: Vec<String>,
}

/// Whether a value of this type is a container.
pub fn is_container(ty: &Ty, schema: &Schema) -> bool {
    match ty {
        Ty::Object(ids) => ids
            .iter()
            .any(|id| CONTAINER_TYPES.contains(&schema.object(*id).name.as_str())),
        _ => false,
    }
}

/// True when `var`, bound to a container, is exempt by one of `exemptions`: its object is
/// covered and its image matches. `None` when nothing exempts a container.
pub fn exempt_container(exemptions: &[ImageExemption], var: &str) -> Option<Expr> {
    let image = Access {
        root: Root::Var(var.to_string()),
        steps: vec![Step::Field("image".into())],
    };
    // `image` is a plain Go string: an absent image reads as "" (docs/language.md, rule 4).
    let value = || {
        Box::new(Expr::ValueOr {
            access: image.clone(),
            fallback: Literal::String(String::new()),
        })
    };
    let exempt: Vec<Expr> = exemptions
        .iter()
        .map(|exemption| {
            let matches: Vec<Expr> = exemption
                .images
                .iter()
                .map(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => Expr::StringTest {
                        op: ir::StringOp::StartsWith,
                        subject: value(),
                        arg: Box::new(Expr::Literal(Literal::String(prefix.to_string()))),
                    },
                    None => Expr::Compare {
                        op: ir::CompareOp::Eq,
                        domain: ir::Domain::String,
                        lhs: value(),
                        rhs: Box::new(Expr::Literal(Literal::String(pattern.clone()))),
                    },
                })
                .collect();
            let image_matches = or(matches);
            match &exemption.object {
                Expr::Literal(Literal::Bool(true)) => image_matches,
                object => expr::and(vec![object.clone(), image_matches]),
            }
        })
        .collect();
    (!exempt.is_empty()).then(|| or(exempt))
}

fn or(mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        Expr::Or(items)
    }
}

impl Checker<'_> {
    /// The exemption test for a loop variable over `element`s, when they are containers and
    /// an image exemption is in force.
    pub fn container_exemption(&self, var: &str, element: &Ty) -> Option<Expr> {
        if self.image_exemptions.is_empty() || !is_container(element, self.schema) {
            return None;
        }
        exempt_container(&self.image_exemptions, var)
    }

    /// A container read by index, in a guardrail with image exemptions: say that they cannot
    /// apply to it.
    pub fn container_by_index(&mut self, ty: &Ty, span: Span) {
        if self.has_image_exemptions && is_container(ty, self.schema) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ExemptionCannotApply,
                    span,
                    "the image exemptions of this guardrail cannot apply to a container read by index".to_string(),
                )
                .with_help("iterate the containers with `for c in …`, `any c in …:` or `all c in …:`, so exempt images are skipped"),
            );
        }
    }
}
