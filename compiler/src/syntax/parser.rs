//! Tokens → syntax tree, with error recovery: a mistake inside an item is reported and the
//! parser skips to the next item, so one file yields every independent error at once.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{SourceId, Span};
use crate::syntax::ast::*;
use crate::syntax::lexer::{self, Lexed};
use crate::syntax::strings::{self, Segment};
use crate::syntax::token::{Comment, Token, TokenKind};

/// Words that start an item inside a guardrail.
pub const ITEM_KEYWORDS: &[&str] = &[
    "title", "why", "category", "severity", "owner", "controls", "docs", "match", "exclude",
    "param", "let", "deny", "require", "enforce", "exempt",
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

    fn file(&mut self) -> File {
        let mut guardrails = Vec::new();
        while !self.at(TokenKind::Eof) {
            if self.at_word("guardrail") {
                if let Some(guardrail) = self.guardrail() {
                    guardrails.push(guardrail);
                }
            } else {
                self.expected(
                    "`guardrail`",
                    Some("a file holds guardrails: `guardrail my-id { … }`"),
                );
                // Skip to the next `guardrail` at the start of a line.
                self.bump();
                while !(self.at(TokenKind::Eof)
                    || (self.at_word("guardrail") && self.peek().line_start))
                {
                    self.bump();
                }
            }
        }
        File { guardrails }
    }

    fn guardrail(&mut self) -> Option<Guardrail> {
        let keyword = self.bump();
        let id = match self.ident("a guardrail id such as `no-latest-tag`") {
            Ok(id) => id,
            Err(Failed) => Ident {
                name: String::new(),
                span: self.previous_end(),
            },
        };
        let Some(open) = self.eat(TokenKind::LBrace) else {
            self.expected("`{` to open the guardrail body", None);
            self.recover_to_item();
            if !self.at_item_start() {
                return None;
            }
            return Some(self.guardrail_body(keyword, id, None));
        };
        Some(self.guardrail_body(keyword, id, Some(open)))
    }

    fn guardrail_body(&mut self, keyword: Token, id: Ident, open: Option<Token>) -> Guardrail {
        let mut items = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Guardrail {
                    id,
                    items,
                    span: keyword.span.to(close.span),
                };
            }
            if self.at(TokenKind::Eof) || (self.at_word("guardrail") && self.peek().line_start) {
                let mut diagnostic = Diagnostic::new(
                    Code::UnclosedDelimiter,
                    self.peek().span,
                    format!("the body of guardrail `{}` is not closed", id.name),
                )
                .with_help("add `}` after the last item");
                if let Some(open) = open {
                    diagnostic = diagnostic.with_secondary(open.span, "opened here");
                }
                self.diagnostics.push(diagnostic);
                let end = self.previous_end();
                return Guardrail {
                    id,
                    items,
                    span: keyword.span.to(end),
                };
            }
            match self.item() {
                Ok(item) => items.push(item),
                Err(Failed) => self.recover_to_item(),
            }
        }
    }

    fn item(&mut self) -> PResult<Item> {
        let token = self.peek();
        if token.kind != TokenKind::Ident {
            return Err(self.expected("an item (`title`, `match`, `deny`, `require`, …)", None));
        }
        let word = self.slice(token.span);
        match word {
            "title" | "why" | "owner" | "docs" => {
                let key = self.ident("")?;
                let value = self.string_lit()?;
                let span = key.span.to(value.span);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::Text(value),
                    span,
                }))
            }
            "category" | "severity" => {
                let key = self.ident("")?;
                let value = self.ident(if word == "category" {
                    "`preventive`, `detective` or `corrective`"
                } else {
                    "`low`, `medium`, `high` or `critical`"
                })?;
                let span = key.span.to(value.span);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::Word(value),
                    span,
                }))
            }
            "controls" => {
                let key = self.ident("")?;
                let (values, end) = self.string_list()?;
                let span = key.span.to(end);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::List(values),
                    span,
                }))
            }
            "match" => Ok(Item::Match(self.match_clause()?)),
            "exclude" => Ok(Item::Exclude(self.match_clause()?)),
            "param" => Ok(Item::Param(self.param()?)),
            "let" => Ok(Item::Let(self.let_binding()?)),
            "deny" | "require" => Ok(Item::Rule(self.rule()?)),
            "enforce" => Ok(Item::Enforce(self.enforce()?)),
            "exempt" => Ok(Item::Exempt(self.exempt()?)),
            _ => {
                let suggestion = crate::syntax::closest_word(word, ITEM_KEYWORDS);
                let help = suggestion.map(|s| format!("did you mean `{s}`?"));
                let mut diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    token.span,
                    format!("expected an item, found `{word}`"),
                )
                .with_help(help.clone().unwrap_or_else(|| {
                    "items are title, why, category, severity, owner, controls, docs, match, exclude, param, let, deny, require, enforce and exempt".to_string()
                }));
                if let Some(s) = suggestion {
                    diagnostic = diagnostic.with_edit(token.span, s);
                }
                self.diagnostics.push(diagnostic);
                self.bump();
                Err(Failed)
            }
        }
    }

    // ---- literals -----------------------------------------------------------------------

    fn string_lit(&mut self) -> PResult<StrLit> {
        let token = self.peek();
        if token.kind != TokenKind::Str {
            return Err(self.expected("a string in double quotes", None));
        }
        self.bump();
        let value = strings::plain(self.text, token.span, &mut self.diagnostics);
        Ok(StrLit {
            value,
            span: token.span,
        })
    }

    /// `[ "a", "b" ]`, returning the closing bracket's span.
    fn string_list(&mut self) -> PResult<(Vec<StrLit>, Span)> {
        self.expect(TokenKind::LBracket)?;
        let mut values = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBracket) {
                return Ok((values, close.span));
            }
            values.push(self.string_lit()?);
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                return Err(self.expected("`,` or `]`", None));
            }
        }
    }

    /// `[ A, B ]` of words (kinds, operations).
    fn word_list(&mut self, what: &str) -> PResult<(Vec<Ident>, Span)> {
        self.expect(TokenKind::LBracket)?;
        let mut values = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBracket) {
                return Ok((values, close.span));
            }
            values.push(self.ident(what)?);
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                return Err(self.expected("`,` or `]`", None));
            }
        }
    }

    fn message(&mut self) -> PResult<Message> {
        let token = self.peek();
        if token.kind != TokenKind::Str {
            return Err(self.expected(
                "a message in double quotes",
                Some("messages may interpolate values: \"container {c.name} is privileged\""),
            ));
        }
        self.bump();
        let segments = strings::decode(self.text, token.span, true, &mut self.diagnostics);
        let parts = segments
            .into_iter()
            .map(|segment| match segment {
                Segment::Text(text) => MessagePart::Text(text),
                Segment::Placeholder(span) => {
                    if span.is_empty() || self.slice(span).trim().is_empty() {
                        self.error_at(
                            Code::InvalidInterpolation,
                            span,
                            "an empty placeholder".to_string(),
                            Some("put an expression between the braces, or write `\\{` for a literal brace"),
                        );
                        return MessagePart::Expr(Expr {
                            kind: ExprKind::Error,
                            span,
                        });
                    }
                    MessagePart::Expr(parse_expression_in(self.text, span, &mut self.diagnostics))
                }
            })
            .collect();
        Ok(Message {
            parts,
            span: token.span,
        })
    }

    // ---- items --------------------------------------------------------------------------

    fn match_clause(&mut self) -> PResult<MatchClause> {
        let keyword = self.bump();
        let what = self.ident(
            "`workloads`, `kinds`, `operations`, `namespaces`, `namespace_labels` or `labels`",
        )?;
        let (kind, end) = match what.name.as_str() {
            "workloads" => (MatchKind::Workloads, what.span),
            "kinds" => {
                let (kinds, end) = self.word_list("a kind such as `Pod`")?;
                (MatchKind::Kinds(kinds), end)
            }
            "operations" => {
                let (ops, end) = self.word_list("an operation such as `CREATE`")?;
                (MatchKind::Operations(ops), end)
            }
            "namespaces" => {
                let (names, end) = self.string_list()?;
                (MatchKind::Namespaces(names), end)
            }
            "namespace_labels" => {
                let (terms, end) = self.selector()?;
                (MatchKind::NamespaceLabels(terms), end)
            }
            "labels" => {
                let (terms, end) = self.selector()?;
                (MatchKind::Labels(terms), end)
            }
            other => {
                let options = [
                    "workloads",
                    "kinds",
                    "operations",
                    "namespaces",
                    "namespace_labels",
                    "labels",
                ];
                let suggestion = crate::syntax::closest_word(other, &options);
                let mut diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    what.span,
                    format!("`{other}` is not something a guardrail can match on"),
                )
                .with_help(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write one of: workloads, kinds, operations, namespaces, namespace_labels, labels".to_string(),
                });
                if let Some(s) = suggestion {
                    diagnostic = diagnostic.with_edit(what.span, s);
                }
                self.diagnostics.push(diagnostic);
                return Err(Failed);
            }
        };
        Ok(MatchClause {
            kind,
            span: keyword.span.to(end),
        })
    }

    /// `{ "key" = "v", "k2" in ["a"], "k3" exists, "k4" missing, "k5" != "x", "k6" not in [..] }`.
    fn selector(&mut self) -> PResult<(Vec<SelectorTerm>, Span)> {
        self.expect(TokenKind::LBrace)?;
        let mut terms = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Ok((terms, close.span));
            }
            let key = self.string_lit()?;
            let test = if self.eat(TokenKind::Eq).is_some() || self.eat(TokenKind::EqEq).is_some() {
                SelectorTest::Equals(self.string_lit()?)
            } else if self.eat(TokenKind::NotEq).is_some() {
                SelectorTest::NotEquals(self.string_lit()?)
            } else if self.eat_word("in").is_some() {
                SelectorTest::In(self.string_list()?.0)
            } else if self.eat_word("not").is_some() {
                self.expect_word("in")?;
                SelectorTest::NotIn(self.string_list()?.0)
            } else if self.eat_word("exists").is_some() {
                SelectorTest::Exists
            } else if self.eat_word("missing").is_some() {
                SelectorTest::Missing
            } else {
                return Err(self.expected(
                    "`=`, `!=`, `in`, `not in`, `exists` or `missing`",
                    Some(
                        "a selector term reads `\"app\" = \"web\"` or `\"tier\" in [\"a\", \"b\"]`",
                    ),
                ));
            };
            let span = key.span.to(self.previous_end());
            terms.push(SelectorTerm { key, test, span });
            self.eat(TokenKind::Comma);
        }
    }

    fn param(&mut self) -> PResult<Param> {
        let keyword = self.bump();
        let name = self.ident("a param name")?;
        self.expect(TokenKind::Colon)?;
        let ty = self.type_expr()?;
        let default = if self.eat(TokenKind::Eq).is_some() {
            Some(self.expr())
        } else {
            None
        };
        let span = keyword.span.to(self.previous_end());
        Ok(Param {
            name,
            ty,
            default,
            span,
        })
    }

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        if !self.enter() {
            return Err(Failed);
        }
        let ty = self.type_expr_inner();
        self.leave();
        if self.depth == 0 {
            self.too_deep = false;
        }
        ty
    }

    fn type_expr_inner(&mut self) -> PResult<TypeExpr> {
        if let Some(open) = self.eat(TokenKind::LBrace) {
            return self.record_type(open);
        }
        let name = self.ident("a type such as `string` or `list<string>`")?;
        let mut args = Vec::new();
        if self.eat(TokenKind::Lt).is_some() {
            loop {
                args.push(self.type_expr()?);
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(TokenKind::Gt)?;
        }
        let span = name.span.to(self.previous_end());
        Ok(TypeExpr {
            name,
            args,
            fields: Vec::new(),
            span,
        })
    }

    /// `{ name: type, … }`, after its `{`.
    fn record_type(&mut self, open: Token) -> PResult<TypeExpr> {
        let mut fields = Vec::new();
        while !self.at(TokenKind::RBrace) {
            let name = self.ident("a field name")?;
            self.expect(TokenKind::Colon)?;
            let ty = self.type_expr()?;
            fields.push(RecordField { name, ty });
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RBrace)?;
        Ok(TypeExpr {
            name: Ident {
                name: "record".to_string(),
                span: open.span,
            },
            args: Vec::new(),
            fields,
            span: open.span.to(self.previous_end()),
        })
    }

    fn let_binding(&mut self) -> PResult<Let> {
        let keyword = self.bump();
        let name = self.ident("a name for the binding")?;
        self.expect(TokenKind::Eq)?;
        let value = self.expr();
        let span = keyword.span.to(value.span);
        Ok(Let { name, value, span })
    }

    fn rule(&mut self) -> PResult<Rule> {
        let keyword = self.bump();
        let kind = if self.slice(keyword.span) == "deny" {
            RuleKind::Deny
        } else {
            RuleKind::Require
        };
        let mut rule = Rule {
            kind,
            keyword: keyword.span,
            bindings: Vec::new(),
            when: None,
            that: None,
            message: None,
            fix: None,
            span: keyword.span,
        };
        loop {
            let token = self.peek();
            let word = if token.kind == TokenKind::Ident {
                self.slice(token.span)
            } else {
                ""
            };
            match word {
                "for" => {
                    self.bump();
                    let var = self.ident("a loop variable name")?;
                    self.expect_word("in")?;
                    let list = self.outermost(Self::postfix);
                    let span = token.span.to(list.span);
                    rule.bindings.push(Binding::For(For { var, list, span }));
                    let loops = rule
                        .bindings
                        .iter()
                        .filter(|b| matches!(b, Binding::For(_)))
                        .count();
                    if loops > MAX_NESTING {
                        // Each loop nests the next in every backend.
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::TooDeep,
                                span,
                                format!("this rule has more than {MAX_NESTING} `for` loops"),
                            )
                            .with_help("split the rule, or loop over fewer lists"),
                        );
                        return Err(Failed);
                    }
                }
                "let" => rule.bindings.push(Binding::Let(self.let_binding()?)),
                "when" => {
                    self.bump();
                    let expr = self.expr();
                    self.set_once(&mut rule.when, expr, "when")?;
                }
                "that" => {
                    self.bump();
                    let expr = self.expr();
                    self.set_once(&mut rule.that, expr, "that")?;
                }
                "message" => {
                    self.bump();
                    let message = self.message()?;
                    self.set_once(&mut rule.message, message, "message")?;
                }
                "fix" => {
                    self.bump();
                    let message = self.message()?;
                    self.set_once(&mut rule.fix, message, "fix")?;
                }
                _ => break,
            }
        }
        rule.span = keyword.span.to(self.previous_end());
        if rule.message.is_none() {
            let token = self.peek();
            let found = if token.kind == TokenKind::Eof {
                "the end of the file".to_string()
            } else {
                format!("`{}`", self.slice(token.span))
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::UnexpectedToken,
                    token.span,
                    format!("expected `message` to end the rule, found {found}"),
                )
                .with_secondary(keyword.span, "rule starts here")
                .with_help(
                    "every rule says what is wrong: `message \"container {c.name} is privileged\"`",
                ),
            );
            // The rule itself is complete enough to check; keep it.
            if !self.at_item_start() && !self.at(TokenKind::RBrace) {
                self.recover_to_item();
            }
        }
        Ok(rule)
    }

    fn set_once<T: HasSpan>(&mut self, slot: &mut Option<T>, value: T, what: &str) -> PResult<()> {
        if let Some(first) = slot {
            let diagnostic = Diagnostic::new(
                Code::DuplicateItem,
                value.span(),
                format!("a rule has one `{what}` clause"),
            )
            .with_secondary(first.span(), "first given here")
            .with_help("combine the conditions with `and` / `or`");
            self.diagnostics.push(diagnostic);
            return Err(Failed);
        }
        *slot = Some(value);
        Ok(())
    }

    fn enforce(&mut self) -> PResult<Enforce> {
        let keyword = self.bump();
        let mut entries = Vec::new();
        if self.eat(TokenKind::LBrace).is_none() {
            let action = self.ident("`deny`, `warn`, `audit` or `{ env: action, … }`")?;
            let span = keyword.span.to(action.span);
            entries.push(EnforceEntry { env: None, action });
            return Ok(Enforce { entries, span });
        }
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Ok(Enforce {
                    entries,
                    span: keyword.span.to(close.span),
                });
            }
            let env = self.ident("an environment name")?;
            self.expect(TokenKind::Colon)?;
            let action = self.ident("`deny`, `warn` or `audit`")?;
            entries.push(EnforceEntry {
                env: Some(env),
                action,
            });
            self.eat(TokenKind::Comma);
        }
    }

    fn exempt(&mut self) -> PResult<Exempt> {
        let keyword = self.bump();
        self.expect(TokenKind::LBrace)?;
        let mut exempt = Exempt {
            namespaces: Vec::new(),
            names: Vec::new(),
            images: Vec::new(),
            labels: Vec::new(),
            reason: None,
            owner: None,
            expires: None,
            span: keyword.span,
        };
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                exempt.span = keyword.span.to(close.span);
                return Ok(exempt);
            }
            let key = self.ident(
                "`namespaces`, `names`, `labels`, `images`, `reason`, `owner` or `expires`",
            )?;
            match key.name.as_str() {
                "namespaces" => exempt.namespaces.extend(self.string_list()?.0),
                "names" => exempt.names.extend(self.string_list()?.0),
                "images" => exempt.images.extend(self.string_list()?.0),
                "labels" => exempt.labels.extend(self.selector()?.0),
                "reason" => exempt.reason = Some(self.string_lit()?),
                "owner" => exempt.owner = Some(self.string_lit()?),
                "expires" => exempt.expires = Some(self.date()?),
                other => {
                    let options = [
                        "namespaces",
                        "names",
                        "labels",
                        "images",
                        "reason",
                        "owner",
                        "expires",
                    ];
                    let suggestion = crate::syntax::closest_word(other, &options);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::UnexpectedToken,
                            key.span,
                            format!("`{other}` is not an exemption field"),
                        )
                        .with_help(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "exemption fields are namespaces, names, labels, images, reason, owner and expires".to_string(),
                        }),
                    );
                    return Err(Failed);
                }
            }
        }
    }

    fn date(&mut self) -> PResult<Date> {
        let token = self.peek();
        if token.kind != TokenKind::Date {
            return Err(self.expected("a date such as `2027-01-31`", None));
        }
        self.bump();
        let text = self.slice(token.span);
        match parse_date(text) {
            Some((year, month, day)) => Ok(Date {
                year,
                month,
                day,
                span: token.span,
            }),
            None => {
                self.error_at(
                    Code::InvalidDate,
                    token.span,
                    format!("`{text}` is not a calendar date"),
                    Some("write the date as YYYY-MM-DD, e.g. 2027-01-31"),
                );
                Err(Failed)
            }
        }
    }

    // ---- expressions --------------------------------------------------------------------

    fn expr(&mut self) -> Expr {
        if self.depth > 0 {
            return self.or_expr();
        }
        self.outermost(Self::or_expr)
    }

    /// Parses a whole expression with `parse` (not nested in another one): its operators are
    /// counted afresh, and the height of its tree, which chains grow without nesting the
    /// parser, is bounded.
    fn outermost(&mut self, parse: fn(&mut Self) -> Expr) -> Expr {
        self.operators = 0;
        let expr = parse(self);
        let too_high = height_exceeds(&expr, MAX_NESTING);
        let reported = std::mem::replace(&mut self.too_deep, false);
        if !too_high {
            return expr;
        }
        if !reported {
            self.too_deep_error(expr.span);
        }
        Expr {
            kind: ExprKind::Error,
            span: expr.span,
        }
    }

    fn binary(&self, op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        }
    }

    fn or_expr(&mut self) -> Expr {
        let mut lhs = self.and_expr();
        while self.at_word("or") && self.operator() {
            self.bump();
            let rhs = self.and_expr();
            lhs = self.binary(BinaryOp::Or, lhs, rhs);
        }
        lhs
    }

    fn and_expr(&mut self) -> Expr {
        let mut lhs = self.not_expr();
        while self.at_word("and") && self.operator() {
            self.bump();
            let rhs = self.not_expr();
            lhs = self.binary(BinaryOp::And, lhs, rhs);
        }
        lhs
    }

    fn not_expr(&mut self) -> Expr {
        if let Some(not) = self.eat_word("not") {
            if !(self.operator() && self.enter()) {
                return Expr {
                    kind: ExprKind::Error,
                    span: not.span.to(self.previous_end()),
                };
            }
            let inner = self.not_expr();
            self.leave();
            let span = not.span.to(inner.span);
            return Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            };
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Expr {
        let lhs = self.postfix();
        let op = match self.peek().kind {
            TokenKind::EqEq => Some(BinaryOp::Eq),
            TokenKind::NotEq => Some(BinaryOp::Ne),
            TokenKind::Lt => Some(BinaryOp::Lt),
            TokenKind::Le => Some(BinaryOp::Le),
            TokenKind::Gt => Some(BinaryOp::Gt),
            TokenKind::Ge => Some(BinaryOp::Ge),
            TokenKind::Eq => {
                let token = self.peek();
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        token.span,
                        "`=` is not a comparison".to_string(),
                    )
                    .with_help("compare with `==`")
                    .with_edit(token.span, "=="),
                );
                Some(BinaryOp::Eq)
            }
            TokenKind::Ident if self.at_word("in") => Some(BinaryOp::In),
            TokenKind::Ident
                if self.at_word("not") && {
                    let next = self.peek_at(1);
                    next.kind == TokenKind::Ident && self.slice(next.span) == "in"
                } =>
            {
                self.bump();
                Some(BinaryOp::NotIn)
            }
            _ => None,
        };
        let Some(op) = op else {
            return lhs;
        };
        if !self.operator() {
            return lhs;
        }
        self.bump();
        let rhs = self.postfix();
        self.binary(op, lhs, rhs)
    }

    fn postfix(&mut self) -> Expr {
        let mut expr = self.primary();
        loop {
            let chained = self.at(TokenKind::Dot)
                || (self.at(TokenKind::LBracket) && !self.peek().line_start);
            if chained && !self.operator() {
                return expr;
            }
            if self.eat(TokenKind::Dot).is_some() {
                let name = match self.ident("a field or method name after `.`") {
                    Ok(name) => name,
                    Err(Failed) => {
                        let span = expr.span.to(self.previous_end());
                        return Expr {
                            kind: ExprKind::Error,
                            span,
                        };
                    }
                };
                if self.at(TokenKind::LParen) {
                    let (args, end) = self.arguments();
                    let span = expr.span.to(end);
                    expr = Expr {
                        kind: ExprKind::Call {
                            receiver: Some(Box::new(expr)),
                            name,
                            args,
                        },
                        span,
                    };
                } else {
                    let span = expr.span.to(name.span);
                    expr = Expr {
                        kind: ExprKind::Field(Box::new(expr), name),
                        span,
                    };
                }
            } else if self.at(TokenKind::LBracket) && !self.peek().line_start {
                let open = self.bump();
                let index = self.expr();
                let end = match self.eat(TokenKind::RBracket) {
                    Some(close) => close.span,
                    None => {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `]` to close the index",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        index.span
                    }
                };
                let span = expr.span.to(end);
                expr = Expr {
                    kind: ExprKind::Index(Box::new(expr), Box::new(index)),
                    span,
                };
            } else {
                return expr;
            }
        }
    }

    /// `( a, b )`; returns the arguments and the span of the closing parenthesis.
    fn arguments(&mut self) -> (Vec<Expr>, Span) {
        let open = self.bump();
        let mut args = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RParen) {
                return (args, close.span);
            }
            if self.at_clause_boundary() {
                self.unclosed(
                    Diagnostic::new(
                        Code::UnclosedDelimiter,
                        self.previous_end(),
                        "expected `)` to close the call",
                    )
                    .with_secondary(open.span, "opened here"),
                );
                return (args, self.previous_end());
            }
            let before = self.pos;
            args.push(self.expr());
            if self.eat(TokenKind::Comma).is_none()
                && !self.at(TokenKind::RParen)
                && !self.at_clause_boundary()
            {
                self.expected("`,` or `)`", None);
                if self.pos == before {
                    self.bump();
                }
                // Skip to the closing parenthesis on this line, if any.
                while !self.at(TokenKind::RParen)
                    && !self.at(TokenKind::Eof)
                    && !self.peek().line_start
                {
                    self.bump();
                }
            }
        }
    }

    fn primary(&mut self) -> Expr {
        let start = self.peek().span;
        if !self.enter() {
            return Expr {
                kind: ExprKind::Error,
                span: start.to(self.previous_end()),
            };
        }
        let expr = self.primary_inner();
        self.leave();
        expr
    }

    fn primary_inner(&mut self) -> Expr {
        let token = self.peek();
        let text = self.slice(token.span);
        match token.kind {
            TokenKind::Int => {
                self.bump();
                match text.parse::<i64>() {
                    Ok(value) => Expr {
                        kind: ExprKind::Int(value),
                        span: token.span,
                    },
                    Err(_) => {
                        self.error_at(
                            Code::InvalidNumber,
                            token.span,
                            format!("`{text}` does not fit in a 64-bit integer"),
                            None,
                        );
                        Expr {
                            kind: ExprKind::Error,
                            span: token.span,
                        }
                    }
                }
            }
            TokenKind::Quantity => {
                self.bump();
                if crate::quantity::parse(text).is_some() {
                    Expr {
                        kind: ExprKind::Quantity(text.to_string()),
                        span: token.span,
                    }
                } else {
                    self.error_at(
                        Code::InvalidQuantity,
                        token.span,
                        format!("`{text}` is not a Kubernetes quantity"),
                        Some(
                            "a quantity is a number with an optional suffix: 250m, 1.5Gi, 2G, 1e3",
                        ),
                    );
                    Expr {
                        kind: ExprKind::Error,
                        span: token.span,
                    }
                }
            }
            TokenKind::Str => {
                self.bump();
                let value = strings::plain(self.text, token.span, &mut self.diagnostics);
                Expr {
                    kind: ExprKind::Str(value),
                    span: token.span,
                }
            }
            TokenKind::LBracket => {
                let open = self.bump();
                let mut items = Vec::new();
                loop {
                    if let Some(close) = self.eat(TokenKind::RBracket) {
                        return Expr {
                            kind: ExprKind::List(items),
                            span: open.span.to(close.span),
                        };
                    }
                    if self.at(TokenKind::Eof) || self.at_item_start() {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `]` to close the list",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        return Expr {
                            kind: ExprKind::List(items),
                            span: open.span.to(self.previous_end()),
                        };
                    }
                    let before = self.pos;
                    items.push(self.expr());
                    if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                        self.expected("`,` or `]`", None);
                        if self.pos == before {
                            self.bump();
                        }
                    }
                }
            }
            TokenKind::LParen => {
                let open = self.bump();
                let inner = self.expr();
                match self.eat(TokenKind::RParen) {
                    Some(close) => Expr {
                        kind: inner.kind,
                        span: open.span.to(close.span),
                    },
                    None => {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `)`",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        inner
                    }
                }
            }
            TokenKind::Ident => match text {
                "true" | "false" => {
                    self.bump();
                    Expr {
                        kind: ExprKind::Bool(text == "true"),
                        span: token.span,
                    }
                }
                "any" | "all" => self.quantified(),
                _ if CLAUSE_KEYWORDS.contains(&text)
                    || EXPRESSION_KEYWORDS.contains(&text)
                    || (token.line_start && ITEM_KEYWORDS.contains(&text)) =>
                {
                    self.expected("an expression", None);
                    Expr {
                        kind: ExprKind::Error,
                        span: Span {
                            end: token.span.start,
                            ..token.span
                        },
                    }
                }
                _ => {
                    self.bump();
                    if self.at(TokenKind::LParen) && !self.peek().line_start {
                        let name = Ident {
                            name: text.to_string(),
                            span: token.span,
                        };
                        let (args, end) = self.arguments();
                        return Expr {
                            kind: ExprKind::Call {
                                receiver: None,
                                name,
                                args,
                            },
                            span: token.span.to(end),
                        };
                    }
                    Expr {
                        kind: ExprKind::Name(text.to_string()),
                        span: token.span,
                    }
                }
            },
            TokenKind::LBrace => {
                self.expected(
                    "an expression",
                    Some("a guardrail has no map literals: give a map param its value in guardrails.toml, under `[environments.ENV.guardrails.ID.params]`"),
                );
                // Skipped with its `}`, which would otherwise close the guardrail.
                let end = self.skip_braces();
                Expr {
                    kind: ExprKind::Error,
                    span: token.span.to(end),
                }
            }
            _ => {
                self.expected("an expression", None);
                // Consume the token unless it closes something or ends the input, so that
                // the caller always makes progress.
                if !matches!(
                    token.kind,
                    TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen | TokenKind::Eof
                ) {
                    self.bump();
                }
                Expr {
                    kind: ExprKind::Error,
                    span: token.span,
                }
            }
        }
    }

    /// `any x in list: body` — the body extends as far right as possible.
    fn quantified(&mut self) -> Expr {
        let keyword = self.bump();
        let all = self.slice(keyword.span) == "all";
        let error = |span| Expr {
            kind: ExprKind::Error,
            span,
        };
        let Ok(var) = self.ident("a variable name") else {
            return error(keyword.span);
        };
        if self.expect_word("in").is_err() {
            return error(keyword.span.to(var.span));
        }
        let list = self.postfix();
        if self.expect(TokenKind::Colon).is_err() {
            return error(keyword.span.to(list.span));
        }
        let body = self.expr();
        let span = keyword.span.to(body.span);
        Expr {
            kind: ExprKind::Quantified {
                all,
                var,
                list: Box::new(list),
                body: Box::new(body),
            },
            span,
        }
    }
}

/// Whether the tree of `expr` is more than `limit` nodes high, found without recursion (the
/// tree may be as deep as the parser allows chains to grow).
fn height_exceeds(expr: &Expr, limit: usize) -> bool {
    let mut stack = vec![(expr, 1usize)];
    while let Some((expr, height)) = stack.pop() {
        if height > limit {
            return true;
        }
        let below = height + 1;
        match &expr.kind {
            ExprKind::Field(base, _) | ExprKind::Not(base) => stack.push((base, below)),
            ExprKind::Index(base, index) | ExprKind::Binary(_, base, index) => {
                stack.push((base, below));
                stack.push((index, below));
            }
            ExprKind::Quantified { list, body, .. } => {
                stack.push((list, below));
                stack.push((body, below));
            }
            ExprKind::Call { receiver, args, .. } => {
                stack.extend(receiver.iter().map(|r| (&**r, below)));
                stack.extend(args.iter().map(|a| (a, below)));
            }
            ExprKind::List(items) => stack.extend(items.iter().map(|i| (i, below))),
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Quantity(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
        }
    }
    false
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
