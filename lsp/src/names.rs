//! Names and what they refer to: params (read as `params.NAME`), `let`s, loop variables and
//! quantifier variables, each visible in a region of its guardrail.

use crate::syntax_index::{contains, visit_guardrail_exprs};
use guardrailc_compiler::syntax::ast::{Binding, ExprKind, Guardrail, Ident, Item};
use guardrailc_compiler::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionKind {
    Param,
    Let,
    LoopVariable,
    QuantifierVariable,
}

impl DefinitionKind {
    pub fn describe(self) -> &'static str {
        match self {
            DefinitionKind::Param => "param",
            DefinitionKind::Let => "let",
            DefinitionKind::LoopVariable => "loop variable",
            DefinitionKind::QuantifierVariable => "quantifier variable",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Definition<'a> {
    pub name: &'a Ident,
    pub kind: DefinitionKind,
    /// Byte range where the name is visible.
    pub scope: (u32, u32),
}

impl Definition<'_> {
    fn visible_at(&self, offset: u32) -> bool {
        self.scope.0 <= offset && offset <= self.scope.1
    }
}

/// Every definition of a guardrail, in source order.
pub fn definitions(guardrail: &Guardrail) -> Vec<Definition<'_>> {
    let end = guardrail.span.end;
    let mut found = Vec::new();
    for item in &guardrail.items {
        match item {
            Item::Param(param) => found.push(Definition {
                name: &param.name,
                kind: DefinitionKind::Param,
                scope: (guardrail.span.start, end),
            }),
            Item::Let(binding) => found.push(Definition {
                name: &binding.name,
                kind: DefinitionKind::Let,
                scope: (binding.span.end, end),
            }),
            Item::Rule(rule) => {
                for binding in &rule.bindings {
                    found.push(match binding {
                        Binding::For(f) => Definition {
                            name: &f.var,
                            kind: DefinitionKind::LoopVariable,
                            scope: (f.span.end, rule.span.end),
                        },
                        Binding::Let(l) => Definition {
                            name: &l.name,
                            kind: DefinitionKind::Let,
                            scope: (l.span.end, rule.span.end),
                        },
                    });
                }
            }
            _ => {}
        }
    }
    visit_guardrail_exprs(guardrail, &mut |expr| {
        if let ExprKind::Quantified { var, body, .. } = &expr.kind {
            found.push(Definition {
                name: var,
                kind: DefinitionKind::QuantifierVariable,
                scope: (body.span.start, body.span.end),
            });
        }
    });
    found
}

/// The definition a plain name at `offset` refers to: the innermost visible one.
pub fn lookup<'a, 'd>(
    definitions: &'d [Definition<'a>],
    name: &str,
    offset: u32,
) -> Option<&'d Definition<'a>> {
    definitions
        .iter()
        .filter(|d| d.kind != DefinitionKind::Param && d.name.name == name && d.visible_at(offset))
        .max_by_key(|d| d.scope.0)
}

pub fn param<'a, 'd>(definitions: &'d [Definition<'a>], name: &str) -> Option<&'d Definition<'a>> {
    definitions
        .iter()
        .find(|d| d.kind == DefinitionKind::Param && d.name.name == name)
}

/// Every use of a name in the guardrail, with the definition it refers to.
pub fn uses<'a>(guardrail: &'a Guardrail, definitions: &[Definition<'a>]) -> Vec<(Span, Span)> {
    let mut found = Vec::new();
    visit_guardrail_exprs(guardrail, &mut |expr| match &expr.kind {
        ExprKind::Name(name) => {
            if let Some(d) = lookup(definitions, name, expr.span.start) {
                found.push((expr.span, d.name.span));
            }
        }
        ExprKind::Field(base, field) if matches!(&base.kind, ExprKind::Name(n) if n == "params") => {
            if let Some(d) = param(definitions, &field.name) {
                found.push((field.span, d.name.span));
            }
        }
        _ => {}
    });
    found
}

/// The definition at `offset`, whether the cursor is on a use or on the definition itself.
pub fn definition_at(guardrail: &Guardrail, offset: u32) -> Option<Span> {
    let definitions = definitions(guardrail);
    if let Some(d) = definitions.iter().find(|d| contains(d.name.span, offset)) {
        return Some(d.name.span);
    }
    uses(guardrail, &definitions)
        .into_iter()
        .find(|(use_span, _)| contains(*use_span, offset))
        .map(|(_, definition)| definition)
}

/// The definition at `offset` and every use of it.
pub fn references_at(guardrail: &Guardrail, offset: u32) -> Option<(Span, Vec<Span>)> {
    let target = definition_at(guardrail, offset)?;
    let definitions = definitions(guardrail);
    let used = uses(guardrail, &definitions)
        .into_iter()
        .filter(|(_, definition)| *definition == target)
        .map(|(use_span, _)| use_span)
        .collect();
    Some((target, used))
}
