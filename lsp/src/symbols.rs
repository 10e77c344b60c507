//! The outline of a file: guardrails, and inside each its params, lets, rules and exemptions.

use crate::syntax_index::FileSyntax;
use guardrailc_compiler::syntax::ast::{Item, RuleKind};
use guardrailc_compiler::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Guardrail,
    Param,
    Let,
    Rule,
    Exemption,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The whole construct.
    pub span: Span,
    /// The part to highlight: its name, or its keyword.
    pub selection: Span,
    pub children: Vec<Symbol>,
}

pub fn symbols(syntax: &FileSyntax) -> Vec<Symbol> {
    syntax
        .file
        .guardrails
        .iter()
        .filter(|g| !g.id.name.is_empty())
        .map(|guardrail| {
            let children = guardrail
                .items
                .iter()
                .filter_map(|item| match item {
                    Item::Param(p) => Some(Symbol {
                        name: p.name.name.clone(),
                        kind: SymbolKind::Param,
                        span: p.span,
                        selection: p.name.span,
                        children: Vec::new(),
                    }),
                    Item::Let(l) => Some(Symbol {
                        name: l.name.name.clone(),
                        kind: SymbolKind::Let,
                        span: l.span,
                        selection: l.name.span,
                        children: Vec::new(),
                    }),
                    Item::Rule(r) => Some(Symbol {
                        name: match r.kind {
                            RuleKind::Deny => "deny",
                            RuleKind::Require => "require",
                        }
                        .to_string(),
                        kind: SymbolKind::Rule,
                        span: r.span,
                        selection: r.keyword,
                        children: Vec::new(),
                    }),
                    Item::Exempt(e) => Some(Symbol {
                        name: "exempt".to_string(),
                        kind: SymbolKind::Exemption,
                        span: e.span,
                        selection: e.span,
                        children: Vec::new(),
                    }),
                    _ => None,
                })
                .collect();
            Symbol {
                name: guardrail.id.name.clone(),
                kind: SymbolKind::Guardrail,
                span: guardrail.span,
                selection: guardrail.id.span,
                children,
            }
        })
        .collect()
}
