//! One file's syntax, parsed with recovery, and walks over it that the features share.

use guardrailc_compiler::syntax::ast::{Binding, Expr, File, Guardrail, Item, MessagePart, Rule};
use guardrailc_compiler::syntax::lexer;
use guardrailc_compiler::syntax::token::{Comment, Token, TokenKind};
use guardrailc_compiler::{SourceId, Span};

pub struct FileSyntax {
    pub file: File,
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
}

impl FileSyntax {
    pub fn parse(text: &str) -> FileSyntax {
        let parsed = guardrailc_compiler::syntax::parse(SourceId(0), text);
        let lexed = lexer::lex(SourceId(0), text);
        FileSyntax {
            file: parsed.file,
            tokens: lexed.tokens,
            comments: lexed.comments,
        }
    }

    /// The guardrail whose text contains `offset` (its closing brace included).
    pub fn guardrail_at(&self, offset: u32) -> Option<&Guardrail> {
        self.file
            .guardrails
            .iter()
            .find(|g| g.span.start <= offset && offset <= g.span.end)
    }

    /// The token under `offset`, or else the one ending at it (a cursor just after a word
    /// is on it).
    pub fn token_at(&self, offset: u32) -> Option<Token> {
        let index = self.tokens.partition_point(|t| t.span.end < offset);
        let candidates = self.tokens[index..]
            .iter()
            .take_while(|t| t.span.start <= offset && t.kind != TokenKind::Eof);
        let mut ending_here = None;
        for token in candidates {
            if offset < token.span.end {
                return Some(*token);
            }
            ending_here = Some(*token);
        }
        ending_here
    }

    /// The tokens that end at or before `offset`.
    pub fn tokens_before(&self, offset: u32) -> &[Token] {
        let end = self.tokens.partition_point(|t| t.span.end <= offset);
        &self.tokens[..end]
    }
}

pub fn contains(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

/// Calls `visit` on every expression of a guardrail, outer before inner, including message
/// placeholders.
pub fn visit_guardrail_exprs<'a>(guardrail: &'a Guardrail, visit: &mut impl FnMut(&'a Expr)) {
    for item in &guardrail.items {
        match item {
            Item::Param(param) => {
                if let Some(default) = &param.default {
                    visit_expr(default, visit);
                }
            }
            Item::Let(binding) => visit_expr(&binding.value, visit),
            Item::Rule(rule) => visit_rule_exprs(rule, visit),
            Item::Meta(_)
            | Item::Match(_)
            | Item::Exclude(_)
            | Item::Enforce(_)
            | Item::Exempt(_) => {}
        }
    }
}

fn visit_rule_exprs<'a>(rule: &'a Rule, visit: &mut impl FnMut(&'a Expr)) {
    for binding in &rule.bindings {
        match binding {
            Binding::For(f) => visit_expr(&f.list, visit),
            Binding::Let(l) => visit_expr(&l.value, visit),
        }
    }
    for expr in [&rule.when, &rule.that].into_iter().flatten() {
        visit_expr(expr, visit);
    }
    for message in [&rule.message, &rule.fix].into_iter().flatten() {
        for part in &message.parts {
            if let MessagePart::Expr(expr) = part {
                visit_expr(expr, visit);
            }
        }
    }
}

pub fn visit_expr<'a>(expr: &'a Expr, visit: &mut impl FnMut(&'a Expr)) {
    expr.walk(visit);
}
