//! Tokens → syntax tree, with error recovery: a mistake inside an item is reported and the
//! parser skips to the next item, so one file yields every independent error at once.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{SourceId, Span};
use crate::syntax::ast::*;
use crate::syntax::lexer::{self, Lexed};
use crate::syntax::strings::{self, Segment};
use crate::syntax::token::{Comment, Token, TokenKind};

mod exprs;
mod items;

/// Words that start an item inside a guardrail.
pub const ITEM_KEYWORDS: &[&str] = &[
    "title", "why", "category", "severity", "owner", "controls", "docs", "targets", "match",
    "exclude", "param", "let", "deny", "require", "enforce", "exempt",
];

/// Words that start or separate rule clauses.
pub const CLAUSE_KEYWORDS: &[&str] = &["for", "let", "when", "that", "message", "fix"];

/// How deeply expressions and types may nest, counted two ways: the parser's own nesting
/// (brackets, parentheses, `not`, `any`/`all`, type arguments) and the height of each
/// expression's syntax tree (which chains of `and`, `or` and `.field` grow too). Every later
/// pass recurses over the tree, so this bound is what keeps them all within a thread's stack
/// (`compiler/tests/deep_nesting.rs` runs the whole pipeline at the limit on a small stack).
pub const MAX_NESTING: usize = 64;

/// How many operators (`and`, `==`, `.field`, calls, …) one expression may have. Chains grow
/// trees without nesting the parser; this bounds the tree built before its height is checked.
pub const MAX_OPERATORS: usize = 2048;

/// Words with a fixed meaning inside expressions.
pub const EXPRESSION_KEYWORDS: &[&str] = &["and", "or", "not", "in", "any", "all", "true", "false"];

pub struct Parsed {
    pub file: File,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(source: SourceId, text: &str) -> Parsed {
    let Lexed {
        tokens,
        comments,
        diagnostics,
    } = lexer::lex(source, text);
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        diagnostics,
        depth: 0,
        too_deep: false,
        operators: 0,
    };
    let file = parser.file();
    Parsed {
        file,
        comments,
        diagnostics: parser.diagnostics,
    }
}

/// Parses one expression from `text[span]` (used for message placeholders and by tests).
pub fn parse_expression_in(text: &str, span: Span, diagnostics: &mut Vec<Diagnostic>) -> Expr {
    let lexed = lexer::lex_range(span.source, text, span.start as usize, span.end as usize);
    diagnostics.extend(lexed.diagnostics);
    let mut parser = Parser {
        text,
        tokens: lexed.tokens,
        pos: 0,
        diagnostics: Vec::new(),
        depth: 0,
        too_deep: false,
        operators: 0,
    };
    let expr = parser.expr();
    if parser.peek().kind != TokenKind::Eof {
        let token = parser.peek();
        parser.error_at(
            Code::InvalidInterpolation,
            token.span,
            "a placeholder holds one expression".to_string(),
            Some("end the placeholder with `}` after the expression"),
        );
    }
    diagnostics.append(&mut parser.diagnostics);
    expr
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// How many nested constructs enclose the current token (see [`MAX_NESTING`]).
    depth: usize,
    /// Set once nesting went past the limit, until the outermost expression ends: the
    /// closing brackets that were skipped are not reported again as missing.
    too_deep: bool,
    /// Operators of the outermost expression so far (see [`MAX_OPERATORS`]).
    operators: usize,
}

/// Parsing of the current item failed; the error is already recorded.
struct Failed;

type PResult<T> = Result<T, Failed>;

impl<'a> Parser<'a> {
    // ---- token access -------------------------------------------------------------------

    fn peek(&self) -> Token {
        self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> Token {
        self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)]
    }

    fn slice(&self, span: Span) -> &'a str {
        &self.text[span.range()]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    fn at_word(&self, word: &str) -> bool {
        let token = self.peek();
        token.kind == TokenKind::Ident && self.slice(token.span) == word
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        self.at(kind).then(|| self.bump())
    }

    fn eat_word(&mut self, word: &str) -> Option<Token> {
        self.at_word(word).then(|| self.bump())
    }

    fn previous_end(&self) -> Span {
        let token = self.tokens[self.pos.saturating_sub(1)];
        Span {
            start: token.span.end,
            ..token.span
        }
    }

    fn error_at(&mut self, code: Code, span: Span, message: String, help: Option<&str>) {
        let mut diagnostic = Diagnostic::new(code, span, message);
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Enters one level of nesting. Past [`MAX_NESTING`] it reports the error (once per
    /// outermost expression), skips the nested construct and returns false.
    fn enter(&mut self) -> bool {
        if self.depth < MAX_NESTING {
            self.depth += 1;
            return true;
        }
        let start = self.peek().span;
        self.skip_nested();
        if !self.too_deep {
            self.too_deep = true;
            self.too_deep_error(start.to(self.previous_end()));
        }
        false
    }

    /// Counts one operator of the current expression. Past [`MAX_OPERATORS`] it reports the
    /// error, skips the rest of the expression and returns false.
    fn operator(&mut self) -> bool {
        if self.operators < MAX_OPERATORS {
            self.operators += 1;
            return true;
        }
        let start = self.peek().span;
        self.skip_nested();
        if !self.too_deep {
            self.too_deep = true;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::TooDeep,
                    start.to(self.previous_end()),
                    format!("this expression has more than {MAX_OPERATORS} operators"),
                )
                .with_help("split the expression into named parts with `let`"),
            );
        }
        false
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn too_deep_error(&mut self, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::TooDeep,
                span,
                format!("this nests more than {MAX_NESTING} levels deep"),
            )
            .with_help("split the expression into named parts with `let`"),
        );
    }

    /// Skips the rest of an expression: tokens up to a closing bracket that is not its own,
    /// a rule clause, an item or the end of the input.
    fn skip_nested(&mut self) {
        let mut open = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => return,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => open += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if open == 0 {
                        return;
                    }
                    open -= 1;
                }
                _ if open == 0 && (self.at_clause_boundary() || self.at_item_start()) => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips the `{` at the cursor and everything up to its own `}`, included; an unclosed
    /// one ends at the next item or the end of the input. Returns the end of what was skipped.
    fn skip_braces(&mut self) -> Span {
        let mut open = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => break,
                TokenKind::LBrace => open += 1,
                TokenKind::RBrace => {
                    self.bump();
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                    continue;
                }
                _ if self.at_item_start() || (self.at_word("guardrail") && token.line_start) => {
                    break
                }
                _ => {}
            }
            self.bump();
        }
        self.previous_end()
    }

    /// Reports a missing closing bracket, unless it was skipped by a nesting error.
    fn unclosed(&mut self, diagnostic: Diagnostic) {
        if !self.too_deep {
            self.diagnostics.push(diagnostic);
        }
    }

    /// Reports that `what` was expected at the current token.
    fn expected(&mut self, what: &str, help: Option<&str>) -> Failed {
        let token = self.peek();
        let found = match token.kind {
            TokenKind::Eof => "the end of the file".to_string(),
            TokenKind::Str => "a string".to_string(),
            _ => format!("`{}`", self.slice(token.span)),
        };
        self.error_at(
            Code::UnexpectedToken,
            token.span,
            format!("expected {what}, found {found}"),
            help,
        );
        Failed
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        match self.eat(kind) {
            Some(token) => Ok(token),
            None => Err(self.expected(kind.describe(), None)),
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Token> {
        match self.eat_word(word) {
            Some(token) => Ok(token),
            None => Err(self.expected(&format!("`{word}`"), None)),
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        let token = self.peek();
        if token.kind == TokenKind::Ident {
            self.bump();
            return Ok(Ident {
                name: self.slice(token.span).to_string(),
                span: token.span,
            });
        }
        Err(self.expected(what, None))
    }

    // ---- recovery -----------------------------------------------------------------------

    /// The end of the input, a `}`, or a rule clause or item keyword: where an expression
    /// that is missing its closing bracket must stop.
    fn at_clause_boundary(&self) -> bool {
        let token = self.peek();
        match token.kind {
            TokenKind::Eof | TokenKind::RBrace => true,
            TokenKind::Ident => {
                let word = self.slice(token.span);
                ["when", "that", "message", "fix"].contains(&word) || self.at_item_start()
            }
            _ => false,
        }
    }

    fn at_item_start(&self) -> bool {
        let token = self.peek();
        token.kind == TokenKind::Ident
            && token.line_start
            && ITEM_KEYWORDS.contains(&self.slice(token.span))
    }

    /// Skips to the next item keyword at the start of a line, or the `}` that closes the
    /// guardrail, keeping track of nested brackets.
    fn recover_to_item(&mut self) {
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            match token.kind {
                TokenKind::Eof => return,
                TokenKind::RBrace if depth == 0 => return,
                TokenKind::Ident if depth == 0 && self.at_item_start() => return,
                TokenKind::Ident if token.line_start && self.slice(token.span) == "guardrail" => {
                    return
                }
                TokenKind::LBrace | TokenKind::LBracket | TokenKind::LParen => depth += 1,
                TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen => {
                    depth = depth.saturating_sub(1)
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ---- file and guardrail -------------------------------------------------------------
}

trait HasSpan {
    fn span(&self) -> Span;
}

impl HasSpan for Expr {
    fn span(&self) -> Span {
        self.span
    }
}

impl HasSpan for Message {
    fn span(&self) -> Span {
        self.span
    }
}

/// `YYYY-MM-DD` with a real day of the month.
pub fn parse_date(text: &str) -> Option<(u16, u8, u8)> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (year, month, day): (u16, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&day).then_some((year, month, day))
}
