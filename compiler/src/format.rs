//! The canonical layout of `.guard` files, shared by `guardrailc fmt` and the language server.
//!
//! The formatter rewrites whitespace only: it prints the lexer's tokens in their order and
//! decides, from the syntax tree, where lines break and how deep they are indented. Comments
//! are placed by their source position, so none is lost. Before returning, it parses its own
//! output and compares the tree (ignoring positions) and the comments with the input's; a
//! difference is reported as an error instead of changing the meaning of a file.
//!
//! Layout: guardrails are separated by one blank line; items are indented by two spaces and
//! keep one blank line where the source had one; metadata values line up in one column; a
//! rule keeps its leading `for` clauses (or, without bindings, its first `when`/`that`) on its
//! first line and puts every other clause on its own line, indented by four; an `and`/`or`
//! that the source put at a line break starts a continuation line indented by six; an `and`
//! operand of an `or` is always in parentheses (`a or (b and c)`), added where the source
//! left precedence alone to decide.

use crate::diagnostic::{has_errors, Diagnostic};
use crate::span::{SourceId, Span};
use crate::syntax::ast::{BinaryOp, Binding, Expr, ExprKind, Guardrail, Item, Rule, TypeExpr};
use crate::syntax::lexer;
use crate::syntax::token::{Comment, Token, TokenKind};
use std::collections::{HashMap, HashSet};

/// Why a file was left as it is.
#[derive(Debug)]
pub enum FormatError {
    /// The file does not parse; formatting would have to guess what was meant.
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not parse to the same tree: a formatter bug, never written out.
    ChangedMeaning,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(diagnostics) => {
                let count = diagnostics.iter().filter(|d| d.is_error()).count();
                write!(f, "the file has {count} syntax error(s); fix them before formatting")
            }
            FormatError::ChangedMeaning => write!(
                f,
                "formatting would change the meaning of the file; left unchanged (please report this)"
            ),
        }
    }
}

/// Column at which metadata values start, relative to the item indent: the longest metadata
/// key (`category`, `controls`) plus one space.
const META_VALUE_COLUMN: usize = 9;
const ITEM_INDENT: usize = 2;
const CLAUSE_INDENT: usize = 4;
const CONTINUATION_INDENT: usize = 6;

/// Formats a whole file.
pub fn format(text: &str) -> Result<String, FormatError> {
    let source = SourceId(0);
    let parsed = crate::syntax::parse(source, text);
    if has_errors(&parsed.diagnostics) {
        return Err(FormatError::Syntax(parsed.diagnostics));
    }
    let lexed = lexer::lex(source, text);
    let tokens: Vec<Token> = lexed
        .tokens
        .into_iter()
        .filter(|t| t.kind != TokenKind::Eof)
        .collect();
    let layout = Layout::of(text, &tokens, &parsed.file.guardrails);
    let formatted = Printer::new(text, &tokens, &lexed.comments, &layout).print();

    let reparsed = crate::syntax::parse(source, &formatted);
    let same_tree = !has_errors(&reparsed.diagnostics)
        && tree_without_spans(&reparsed.file) == tree_without_spans(&parsed.file);
    let same_comments =
        comment_texts(&formatted, &reparsed.comments) == comment_texts(text, &lexed.comments);
    if !(same_tree && same_comments) {
        return Err(FormatError::ChangedMeaning);
    }
    Ok(formatted)
}

fn tree_without_spans(file: &crate::syntax::ast::File) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|key, _| key != "span" && key != "keyword");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(file).expect("the syntax tree has only serialisable data");
    strip(&mut value);
    value
}

fn comment_texts<'a>(text: &'a str, comments: &[Comment]) -> Vec<&'a str> {
    comments
        .iter()
        .map(|c| text[c.span.range()].trim_end())
        .collect()
}

/// Where a token starts a new line.
#[derive(Clone, Copy, Debug)]
struct Break {
    indent: usize,
    blank: Blank,
    /// The indent of own-line comments just before the token (deeper than the token for a
    /// closing brace, whose comments belong to the block).
    comment_indent: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Blank {
    Never,
    /// Where the source had one.
    Keep,
    Always,
}

/// Everything the printer needs to know about the tree, keyed by token index.
#[derive(Default)]
struct Layout {
    breaks: HashMap<usize, Break>,
    /// `(` of calls and `[` of indexes: written without a space before them.
    attached: HashSet<usize>,
    /// Metadata keys, whose value is padded to a column.
    meta_keys: HashSet<usize>,
    /// Tokens inside a type (`list<string>`), where `<` and `>` take no spaces.
    in_type: HashSet<usize>,
    /// The indent of a continuation line for each token inside a guardrail.
    body: Vec<(usize, usize)>,
    /// Parentheses the source left out around an `and` operand of an `or`: how many `(` go
    /// before a token and how many `)` after one.
    open_before: HashMap<usize, usize>,
    close_after: HashMap<usize, usize>,
}

impl Layout {
    fn of(text: &str, tokens: &[Token], guardrails: &[Guardrail]) -> Layout {
        let mut layout = Layout::default();
        let finder = TokenFinder { text, tokens };
        for (position, guardrail) in guardrails.iter().enumerate() {
            let Some(first) = finder.at_or_after(guardrail.span.start) else {
                continue;
            };
            let blank = if position == 0 {
                Blank::Keep
            } else {
                Blank::Always
            };
            layout.breaks.insert(first, Break::new(0, blank));
            if let Some(close) = finder.closing_brace(guardrail.span) {
                layout.breaks.insert(
                    close,
                    Break {
                        comment_indent: ITEM_INDENT,
                        ..Break::new(0, Blank::Never)
                    },
                );
                if let Some(open) = finder.at_or_after(guardrail.id.span.end) {
                    layout.body.push((open + 1, close));
                }
            }
            for item in &guardrail.items {
                layout.item(&finder, item);
            }
        }
        layout
    }

    fn item(&mut self, finder: &TokenFinder, item: &Item) {
        let span = item_span(item);
        if let Some(first) = finder.at_or_after(span.start) {
            self.breaks
                .insert(first, Break::new(ITEM_INDENT, Blank::Keep));
        }
        match item {
            Item::Meta(meta) => {
                if let Some(key) = finder.at_or_after(meta.key.span.start) {
                    self.meta_keys.insert(key);
                }
            }
            Item::Param(param) => {
                self.type_tokens(finder, &param.ty);
                if let Some(default) = &param.default {
                    self.expr(finder, default);
                }
            }
            Item::Let(binding) => self.expr(finder, &binding.value),
            Item::Rule(rule) => self.rule(finder, rule),
            Item::Exempt(exempt) => self.exempt(finder, exempt.span),
            Item::Match(_) | Item::Exclude(_) | Item::Enforce(_) => {}
        }
    }

    fn type_tokens(&mut self, finder: &TokenFinder, ty: &TypeExpr) {
        self.in_type.extend(finder.within(ty.span));
    }

    fn rule(&mut self, finder: &TokenFinder, rule: &Rule) {
        #[derive(PartialEq)]
        enum Clause {
            For,
            Condition,
            Other,
        }
        let mut clauses: Vec<(usize, Clause)> = Vec::new();
        for binding in &rule.bindings {
            match binding {
                Binding::For(f) => {
                    if let Some(at) = finder.at_or_after(f.span.start) {
                        clauses.push((at, Clause::For));
                    }
                    self.expr(finder, &f.list);
                }
                Binding::Let(l) => {
                    if let Some(at) = finder.at_or_after(l.span.start) {
                        clauses.push((at, Clause::Other));
                    }
                    self.expr(finder, &l.value);
                }
            }
        }
        for (expr, word) in [(&rule.when, "when"), (&rule.that, "that")] {
            if let Some(expr) = expr {
                if let Some(at) = finder.word_before(expr.span.start, word) {
                    clauses.push((at, Clause::Condition));
                }
                self.expr(finder, expr);
            }
        }
        // Message placeholders live inside one string token: nothing in them to lay out.
        for (message, word) in [(&rule.message, "message"), (&rule.fix, "fix")] {
            if let Some(message) = message {
                if let Some(at) = finder.word_before(message.span.start, word) {
                    clauses.push((at, Clause::Other));
                }
            }
        }
        clauses.sort_by_key(|(at, _)| *at);
        let mut on_first_line = true;
        for (index, (at, clause)) in clauses.iter().enumerate() {
            let stays = on_first_line
                && match clause {
                    Clause::For => true,
                    Clause::Condition => {
                        on_first_line = false;
                        index == 0
                    }
                    Clause::Other => false,
                };
            if !stays {
                on_first_line = false;
                self.breaks
                    .insert(*at, Break::new(CLAUSE_INDENT, Blank::Never));
            }
        }
    }

    /// Every field of an exemption on its own line.
    fn exempt(&mut self, finder: &TokenFinder, span: Span) {
        let tokens = finder.within(span);
        let mut depth = 0usize;
        let mut has_fields = false;
        for index in tokens.clone() {
            match finder.tokens[index].kind {
                TokenKind::LBrace | TokenKind::LBracket | TokenKind::LParen => depth += 1,
                TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen => {
                    depth = depth.saturating_sub(1)
                }
                TokenKind::Ident if depth == 1 => {
                    has_fields = true;
                    self.breaks
                        .insert(index, Break::new(CLAUSE_INDENT, Blank::Never));
                }
                _ => {}
            }
        }
        if has_fields {
            if let Some(close) = finder.closing_brace(span) {
                self.breaks.insert(
                    close,
                    Break {
                        comment_indent: CLAUSE_INDENT,
                        ..Break::new(ITEM_INDENT, Blank::Never)
                    },
                );
            }
        }
    }

    fn expr(&mut self, finder: &TokenFinder, expr: &Expr) {
        expr.walk(&mut |e| {
            // The `[` after an indexed base and the `(` after a called name stay attached to
            // them; an `and` under an `or` keeps (or gets) parentheses, so the grouping reads
            // as it parses.
            let end = match &e.kind {
                ExprKind::Index(base, _) => base.span.end,
                ExprKind::Call { name, .. } => name.span.end,
                ExprKind::Binary(BinaryOp::Or, lhs, rhs) => {
                    for operand in [lhs, rhs] {
                        if matches!(operand.kind, ExprKind::Binary(BinaryOp::And, _, _)) {
                            self.parenthesize(finder, operand.span);
                        }
                    }
                    return;
                }
                _ => return,
            };
            if let Some(open) = finder.at_or_after(end) {
                self.attached.insert(open);
            }
        });
    }

    /// Puts parentheses around the tokens of `span` unless the source already did: `a or b
    /// and c` reads as if `or` bound tighter, `a or (b and c)` says what it means. The tree is
    /// the same, parentheses being only grouping.
    fn parenthesize(&mut self, finder: &TokenFinder, span: Span) {
        let tokens = finder.within(span);
        if tokens.is_empty() || finder.enclosed_in_parentheses(tokens.clone()) {
            return;
        }
        *self.open_before.entry(tokens.start).or_default() += 1;
        *self.close_after.entry(tokens.end - 1).or_default() += 1;
    }

    fn continuation_indent(&self, index: usize) -> usize {
        if self
            .body
            .iter()
            .any(|(open, close)| (*open..*close).contains(&index))
        {
            CONTINUATION_INDENT
        } else {
            CLAUSE_INDENT
        }
    }
}

impl Break {
    fn new(indent: usize, blank: Blank) -> Break {
        Break {
            indent,
            blank,
            comment_indent: indent,
        }
    }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Meta(i) => i.span,
        Item::Match(i) | Item::Exclude(i) => i.span,
        Item::Param(i) => i.span,
        Item::Let(i) => i.span,
        Item::Rule(i) => i.span,
        Item::Enforce(i) => i.span,
        Item::Exempt(i) => i.span,
    }
}

/// Finds tokens by source offset.
struct TokenFinder<'a> {
    text: &'a str,
    tokens: &'a [Token],
}

impl TokenFinder<'_> {
    fn at_or_after(&self, offset: u32) -> Option<usize> {
        let index = self.tokens.partition_point(|t| t.span.start < offset);
        (index < self.tokens.len()).then_some(index)
    }

    fn within(&self, span: Span) -> std::ops::Range<usize> {
        let start = self.tokens.partition_point(|t| t.span.start < span.start);
        let end = self.tokens.partition_point(|t| t.span.start < span.end);
        start..end
    }

    /// Whether the first token of `range` is a `(` that the last one closes.
    fn enclosed_in_parentheses(&self, range: std::ops::Range<usize>) -> bool {
        let tokens = &self.tokens[range];
        if tokens.first().map(|t| t.kind) != Some(TokenKind::LParen) {
            return false;
        }
        let mut depth = 0usize;
        for (position, token) in tokens.iter().enumerate() {
            match token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return position == tokens.len() - 1;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// The nearest `word` before `offset`, skipping only opening parentheses (a clause
    /// keyword is followed by its expression, which may start with `(`).
    fn word_before(&self, offset: u32, word: &str) -> Option<usize> {
        let mut index = self.tokens.partition_point(|t| t.span.start < offset);
        while index > 0 {
            index -= 1;
            let token = self.tokens[index];
            if token.kind == TokenKind::Ident && &self.text[token.span.range()] == word {
                return Some(index);
            }
            if token.kind != TokenKind::LParen {
                return None;
            }
        }
        None
    }

    /// The `}` that ends `span`.
    fn closing_brace(&self, span: Span) -> Option<usize> {
        let end = self.tokens.partition_point(|t| t.span.start < span.end);
        let index = end.checked_sub(1)?;
        (self.tokens[index].kind == TokenKind::RBrace && self.tokens[index].span.end == span.end)
            .then_some(index)
    }
}

struct Printer<'a> {
    text: &'a str,
    tokens: &'a [Token],
    comments: &'a [Comment],
    layout: &'a Layout,
    out: String,
    /// The line being written; lines are ended only when the next token or comment needs a
    /// new one, so a trailing comment can still be appended.
    line: String,
    /// The source offset just after the last token or comment printed.
    source_end: usize,
    /// The last thing printed was a comment, which ends its line.
    after_comment: bool,
    previous: Option<usize>,
}

impl<'a> Printer<'a> {
    fn new(
        text: &'a str,
        tokens: &'a [Token],
        comments: &'a [Comment],
        layout: &'a Layout,
    ) -> Printer<'a> {
        Printer {
            text,
            tokens,
            comments,
            layout,
            out: String::new(),
            line: String::new(),
            source_end: 0,
            after_comment: false,
            previous: None,
        }
    }

    fn print(mut self) -> String {
        let mut comments = self.comments.iter().peekable();
        for index in 0..self.tokens.len() {
            let start = self.tokens[index].span.start;
            while let Some(comment) = comments.next_if(|c| c.span.start < start) {
                self.comment(comment, Some(index));
            }
            self.token(index);
        }
        for comment in comments {
            self.comment(comment, None);
        }
        self.end_line();
        self.out
    }

    fn source(&self, span: Span) -> &'a str {
        &self.text[span.range()]
    }

    fn blank_in_source(&self, until: usize) -> bool {
        let gap = &self.text[self.source_end.min(until)..until];
        crate::span::count_line_ends(gap) >= 2
    }

    /// True at the start of the file or of a block, where no blank line goes.
    fn at_block_start(&self) -> bool {
        let last = if self.line.is_empty() {
            self.out.trim_end_matches('\n')
        } else {
            &self.line
        };
        last.is_empty() || last.ends_with('{')
    }

    fn blank_before(&self, blank: Blank, blank_in_source: bool) -> bool {
        match blank {
            Blank::Never => false,
            Blank::Keep => blank_in_source,
            // A guardrail's leading comments keep their own spacing to it.
            Blank::Always => !self.after_comment || blank_in_source,
        }
    }

    fn end_line(&mut self) {
        if !self.line.is_empty() {
            self.out.push_str(self.line.trim_end());
            self.out.push('\n');
            self.line.clear();
        }
    }

    fn start_line(&mut self, indent: usize, blank: bool) {
        let blank = blank && !self.at_block_start();
        self.end_line();
        if blank {
            self.out.push('\n');
        }
        self.line.push_str(&" ".repeat(indent));
    }

    fn comment(&mut self, comment: &Comment, next_token: Option<usize>) {
        let text = self.source(comment.span).trim_end();
        if comment.trailing && self.previous.is_some() {
            self.line.push_str("  ");
        } else {
            let blank_in_source = self.blank_in_source(comment.span.start as usize);
            let (indent, blank) = match next_token {
                Some(next) => match self.layout.breaks.get(&next) {
                    Some(b) => (
                        b.comment_indent,
                        self.blank_before(b.blank, blank_in_source),
                    ),
                    None => (self.layout.continuation_indent(next), false),
                },
                None => (0, blank_in_source),
            };
            self.start_line(indent, blank);
        }
        self.line.push_str(text);
        self.source_end = comment.span.end as usize;
        self.after_comment = true;
    }

    fn token(&mut self, index: usize) {
        let token = self.tokens[index];
        let start = token.span.start as usize;
        let text = self.source(token.span);
        match self.layout.breaks.get(&index) {
            Some(b) => {
                let blank = self.blank_before(b.blank, self.blank_in_source(start));
                self.start_line(b.indent, blank);
            }
            None if self.after_comment || self.operator_at_line_break(index) => {
                self.start_line(self.layout.continuation_indent(index), false);
            }
            None => {
                if let Some(previous) = self.previous {
                    if self.space_between(previous, index) {
                        self.line.push(' ');
                    }
                }
            }
        }
        if let Some(&opens) = self.layout.open_before.get(&index) {
            self.line.push_str(&"(".repeat(opens));
        }
        self.line.push_str(text);
        if let Some(&closes) = self.layout.close_after.get(&index) {
            self.line.push_str(&")".repeat(closes));
        }
        if self.layout.meta_keys.contains(&index) {
            let padding = META_VALUE_COLUMN.saturating_sub(text.len()).max(1);
            self.line.push_str(&" ".repeat(padding - 1));
        }
        self.source_end = token.span.end as usize;
        self.after_comment = false;
        self.previous = Some(index);
    }

    /// `and`/`or` next to a line break in the source starts a continuation line.
    fn operator_at_line_break(&self, index: usize) -> bool {
        let token = self.tokens[index];
        if token.kind != TokenKind::Ident || !matches!(self.source(token.span), "and" | "or") {
            return false;
        }
        let before = &self.text[self.source_end..token.span.start as usize];
        let after_end = self
            .tokens
            .get(index + 1)
            .map_or(self.text.len(), |t| t.span.start as usize);
        let after = &self.text[token.span.end as usize..after_end];
        crate::span::count_line_ends(before) + crate::span::count_line_ends(after) > 0
    }

    fn space_between(&self, previous: usize, index: usize) -> bool {
        use TokenKind::*;
        let before = self.tokens[previous].kind;
        let token = self.tokens[index].kind;
        let in_type = self.layout.in_type.contains(&index);
        match (before, token) {
            (_, RParen | RBracket | Comma | Dot | Colon) => false,
            (LParen | LBracket | Dot, _) => false,
            (LBrace, RBrace) => false,
            (_, LParen | LBracket) if self.layout.attached.contains(&index) => false,
            (_, Lt | Gt) if in_type => false,
            (Lt, _) if in_type => false,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests;
