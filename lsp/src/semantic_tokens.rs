//! Semantic tokens: what each word is (keyword, field, function, variable, kind …), decided
//! from the syntax tree where the lexer alone cannot tell (item words are contextual).

use crate::names;
use crate::syntax_index::{visit_guardrail_exprs, FileSyntax};
use guardrailc_compiler::syntax::ast::{ExprKind, Item, MatchKind};
use guardrailc_compiler::syntax::parser::{CLAUSE_KEYWORDS, EXPRESSION_KEYWORDS, ITEM_KEYWORDS};
use guardrailc_compiler::syntax::token::TokenKind;
use guardrailc_compiler::syntax::MATCH_TARGETS;
use guardrailc_compiler::Span;
use std::collections::HashMap;

/// The token types, in the order of the legend the server announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Keyword,
    Namespace,
    Type,
    Parameter,
    Variable,
    Property,
    Function,
    String,
    Number,
    Comment,
}

impl TokenType {
    pub const LEGEND: [TokenType; 10] = [
        TokenType::Keyword,
        TokenType::Namespace,
        TokenType::Type,
        TokenType::Parameter,
        TokenType::Variable,
        TokenType::Property,
        TokenType::Function,
        TokenType::String,
        TokenType::Number,
        TokenType::Comment,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TokenType::Keyword => "keyword",
            TokenType::Namespace => "namespace",
            TokenType::Type => "type",
            TokenType::Parameter => "parameter",
            TokenType::Variable => "variable",
            TokenType::Property => "property",
            TokenType::Function => "function",
            TokenType::String => "string",
            TokenType::Number => "number",
            TokenType::Comment => "comment",
        }
    }

    pub fn index(self) -> u32 {
        Self::LEGEND
            .iter()
            .position(|t| *t == self)
            .expect("every token type is in the legend") as u32
    }
}

/// Words with a meaning only after another keyword, besides the match targets: exemption
/// fields and label tests. A word the tree knows as a field or name is classified as that first.
const CONTEXT_KEYWORDS: &[&str] = &["names", "reason", "expires", "exists", "missing"];

/// Classified spans in source order.
pub fn classify(syntax: &FileSyntax, text: &str) -> Vec<(Span, TokenType)> {
    let mut roles: HashMap<u32, TokenType> = HashMap::new();
    for guardrail in &syntax.file.guardrails {
        roles.insert(guardrail.id.span.start, TokenType::Namespace);
        for item in &guardrail.items {
            match item {
                Item::Match(clause) => {
                    if let MatchKind::Kinds(kinds) = &clause.kind {
                        for kind in kinds {
                            roles.insert(kind.span.start, TokenType::Type);
                        }
                    }
                }
                Item::Param(param) => {
                    let mut types = vec![&param.ty];
                    while let Some(ty) = types.pop() {
                        roles.insert(ty.name.span.start, TokenType::Type);
                        types.extend(&ty.args);
                    }
                }
                _ => {}
            }
        }
        let definitions = names::definitions(guardrail);
        for definition in &definitions {
            let role = if definition.kind == names::DefinitionKind::Param {
                TokenType::Parameter
            } else {
                TokenType::Variable
            };
            roles.insert(definition.name.span.start, role);
        }
        visit_guardrail_exprs(guardrail, &mut |expr| match &expr.kind {
            ExprKind::Field(base, field) => {
                let params = matches!(&base.kind, ExprKind::Name(n) if n == "params");
                let role = if params {
                    TokenType::Parameter
                } else {
                    TokenType::Property
                };
                roles.insert(field.span.start, role);
            }
            ExprKind::Call { name, .. } => {
                roles.insert(name.span.start, TokenType::Function);
            }
            ExprKind::Name(_) => {
                roles.entry(expr.span.start).or_insert(TokenType::Variable);
            }
            _ => {}
        });
    }
    let mut spans: Vec<(Span, TokenType)> = Vec::new();
    for token in &syntax.tokens {
        let role = match token.kind {
            TokenKind::Str => Some(TokenType::String),
            TokenKind::Int | TokenKind::Quantity | TokenKind::Date => Some(TokenType::Number),
            TokenKind::Ident => roles.get(&token.span.start).copied().or_else(|| {
                let word = &text[token.span.range()];
                let keyword = word == "guardrail"
                    || ITEM_KEYWORDS.contains(&word)
                    || CLAUSE_KEYWORDS.contains(&word)
                    || EXPRESSION_KEYWORDS.contains(&word)
                    || MATCH_TARGETS.contains(&word)
                    || CONTEXT_KEYWORDS.contains(&word);
                keyword.then_some(TokenType::Keyword)
            }),
            _ => None,
        };
        if let Some(role) = role {
            spans.push((token.span, role));
        }
    }
    spans.extend(syntax.comments.iter().map(|c| (c.span, TokenType::Comment)));
    spans.sort_by_key(|(span, _)| span.start);
    spans
}
