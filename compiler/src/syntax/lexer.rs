//! Text → tokens. The lexer never fails: a bad character becomes a diagnostic and is skipped.
//! CR, LF and CRLF all end a line (as editors and the LSP count them), and a UTF-8 byte
//! order mark at the start of a file is skipped.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{SourceId, Span};
use crate::syntax::token::{Comment, Token, TokenKind};

pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes `text[start..end]`; spans are absolute offsets in the whole source, so message
/// placeholders can be lexed in place.
pub fn lex_range(source: SourceId, text: &str, start: usize, end: usize) -> Lexed {
    let mut lexer = Lexer {
        source,
        text,
        bytes: text.as_bytes(),
        pos: start,
        end,
        tokens: Vec::new(),
        comments: Vec::new(),
        diagnostics: Vec::new(),
        line_start: true,
    };
    if start == 0 && text[..end].starts_with(BYTE_ORDER_MARK) {
        lexer.pos = BYTE_ORDER_MARK.len_utf8();
    }
    lexer.run();
    lexer.tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(source, end, end),
        line_start: true,
    });
    Lexed {
        tokens: lexer.tokens,
        comments: lexer.comments,
        diagnostics: lexer.diagnostics,
    }
}

/// Some editors on Windows start UTF-8 files with it; it is not part of the text.
pub const BYTE_ORDER_MARK: char = '\u{feff}';

/// Whether `byte` ends a line: LF, or CR alone or before LF.
pub fn is_line_end(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

pub fn lex(source: SourceId, text: &str) -> Lexed {
    lex_range(source, text, 0, text.len())
}

struct Lexer<'a> {
    source: SourceId,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    tokens: Vec<Token>,
    comments: Vec<Comment>,
    diagnostics: Vec<Diagnostic>,
    line_start: bool,
}

impl Lexer<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        let at = self.pos + ahead;
        (at < self.end).then(|| self.bytes[at])
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: self.span(start, self.pos),
            line_start: self.line_start,
        });
        self.line_start = false;
    }

    fn run(&mut self) {
        while let Some(byte) = self.peek(0) {
            let start = self.pos;
            match byte {
                b'\n' | b'\r' => {
                    self.pos += 1;
                    self.line_start = true;
                }
                b' ' | b'\t' => self.pos += 1,
                b'#' => {
                    while self.peek(0).is_some_and(|b| !is_line_end(b)) {
                        self.pos += 1;
                    }
                    self.comments.push(Comment {
                        span: self.span(start, self.pos),
                        trailing: !self.line_start,
                    });
                }
                b'"' => {
                    self.string();
                    self.push(TokenKind::Str, start);
                }
                b'0'..=b'9' => self.number(),
                b'-' if self.peek(1).is_some_and(|b| b.is_ascii_digit()) => self.number(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    // `-` joins words (`no-latest-tag`): the language has no subtraction.
                    loop {
                        match self.peek(0) {
                            Some(b) if b.is_ascii_alphanumeric() || b == b'_' => self.pos += 1,
                            Some(b'-')
                                if self.peek(1).is_some_and(|b| b.is_ascii_alphanumeric()) =>
                            {
                                self.pos += 1
                            }
                            _ => break,
                        }
                    }
                    self.push(TokenKind::Ident, start);
                }
                _ => self.punctuation(start),
            }
        }
    }

    fn punctuation(&mut self, start: usize) {
        let next = self.peek(1);
        let (kind, len) = match (self.bytes[start], next) {
            (b'=', Some(b'=')) => (TokenKind::EqEq, 2),
            (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
            (b'<', Some(b'=')) => (TokenKind::Le, 2),
            (b'>', Some(b'=')) => (TokenKind::Ge, 2),
            (b'{', _) => (TokenKind::LBrace, 1),
            (b'}', _) => (TokenKind::RBrace, 1),
            (b'[', _) => (TokenKind::LBracket, 1),
            (b']', _) => (TokenKind::RBracket, 1),
            (b'(', _) => (TokenKind::LParen, 1),
            (b')', _) => (TokenKind::RParen, 1),
            (b',', _) => (TokenKind::Comma, 1),
            (b':', _) => (TokenKind::Colon, 1),
            (b'.', _) => (TokenKind::Dot, 1),
            (b'=', _) => (TokenKind::Eq, 1),
            (b'<', _) => (TokenKind::Lt, 1),
            (b'>', _) => (TokenKind::Gt, 1),
            _ => {
                let ch = self.text[start..].chars().next().unwrap_or('?');
                self.pos += ch.len_utf8();
                let mut diagnostic = Diagnostic::new(
                    Code::UnexpectedCharacter,
                    self.span(start, self.pos),
                    format!("unexpected character `{}`", ch.escape_debug()),
                )
                .with_label("not part of the language");
                diagnostic = match ch {
                    ';' => diagnostic.with_help("items are not terminated; remove the `;`"),
                    '&' | '|' => diagnostic.with_help("write `and` / `or` for boolean logic"),
                    '!' => diagnostic.with_help("write `not` for negation"),
                    '\'' => diagnostic.with_help("strings use double quotes: \"…\""),
                    _ => diagnostic.with_help("remove it, or put it inside a string"),
                };
                self.diagnostics.push(diagnostic);
                return;
            }
        };
        self.pos += len;
        self.push(kind, start);
    }

    /// Scans a string from its opening quote to past its closing quote. An unescaped `{`
    /// opens a region (a message placeholder, or a regex repetition) that may itself hold
    /// quoted strings and ends at the matching `}`.
    fn string(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 0usize;
        let mut in_nested = false;
        loop {
            let Some(byte) = self.peek(0) else {
                return self.unterminated(start);
            };
            match byte {
                b'\n' | b'\r' => return self.unterminated(start),
                b'\\' => {
                    self.pos += 1;
                    if self.peek(0).is_some_and(|b| !is_line_end(b)) {
                        self.pos += self.text[self.pos..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8);
                    }
                }
                b'"' if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                b'"' => {
                    in_nested = !in_nested;
                    self.pos += 1;
                }
                b'{' if !in_nested => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' if !in_nested && depth > 0 => {
                    depth -= 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn unterminated(&mut self, start: usize) {
        let line_end = self.text[start..self.end]
            .find(['\n', '\r'])
            .map_or(self.end, |i| start + i);
        self.pos = line_end;
        self.diagnostics.push(
            Diagnostic::new(
                Code::UnterminatedString,
                self.span(start, line_end),
                "this string is not closed",
            )
            .with_label("string starts here")
            .with_help(
                "close it with `\"` on the same line; a lone `{` inside a string must be written `\\{`",
            ),
        );
    }

    fn number(&mut self) {
        let start = self.pos;
        if self.peek(0) == Some(b'-') {
            self.pos += 1;
        }
        while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        // A date: four digits, `-`, two digits, `-`, two digits.
        if self.pos - start == 4
            && self.peek(0) == Some(b'-')
            && self.peek(1).is_some_and(|b| b.is_ascii_digit())
        {
            while self
                .peek(0)
                .is_some_and(|b| b.is_ascii_digit() || b == b'-')
            {
                self.pos += 1;
            }
            return self.push(TokenKind::Date, start);
        }
        let mut quantity = false;
        if self.peek(0) == Some(b'.') && self.peek(1).is_some_and(|b| b.is_ascii_digit()) {
            quantity = true;
            self.pos += 1;
            while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        // Suffix letters (`m`, `Gi`, `e3`): validated by the parser, which knows the list.
        while self.peek(0).is_some_and(|b| b.is_ascii_alphanumeric()) {
            quantity = true;
            self.pos += 1;
        }
        let kind = if quantity {
            TokenKind::Quantity
        } else {
            TokenKind::Int
        };
        self.push(kind, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(SourceId(0), text)
            .tokens
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn lexes_numbers_quantities_and_dates() {
        use TokenKind::*;
        assert_eq!(
            kinds("80 -1 500m 2Gi 1.5 1e3 2027-01-31"),
            vec![Int, Int, Quantity, Quantity, Quantity, Quantity, Date, Eof]
        );
    }

    #[test]
    fn string_with_placeholder_holding_quotes_is_one_token() {
        let lexed = lex(SourceId(0), r#"message "team {labels["team"]} is \"x\"" x"#);
        let kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Ident,
                TokenKind::Str,
                TokenKind::Ident,
                TokenKind::Eof
            ]
        );
        assert!(lexed.diagnostics.is_empty());
    }

    #[test]
    fn bad_characters_and_open_strings_are_reported_and_skipped() {
        let lexed = lex(SourceId(0), "a ; b\n\"open\nc");
        let codes: Vec<_> = lexed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![Code::UnexpectedCharacter, Code::UnterminatedString]
        );
        let idents = lexed
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Ident)
            .count();
        assert_eq!(idents, 3);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_comment_and_a_line() {
        let lexed = lex(SourceId(0), "# c\rdeny x\r\ny");
        assert_eq!(lexed.comments.len(), 1);
        let comment = lexed.comments[0].span;
        assert_eq!(comment.range(), 0..3);
        let words: Vec<_> = lexed
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| (t.span.start, t.line_start))
            .collect();
        assert_eq!(words, [(4, true), (9, false), (12, true)]);
    }

    #[test]
    fn a_string_ends_at_a_lone_carriage_return_too() {
        let lexed = lex(SourceId(0), "\"open\rnext");
        assert_eq!(lexed.diagnostics.len(), 1);
        assert_eq!(lexed.diagnostics[0].code, Code::UnterminatedString);
        assert_eq!(lexed.diagnostics[0].span.range(), 0..5);
        assert_eq!(lexed.tokens[1].kind, TokenKind::Ident);
        assert_eq!(lexed.tokens[1].span.range(), 6..10);
        assert!(lexed.tokens[1].line_start);
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped() {
        let lexed = lex(SourceId(0), "\u{feff}guardrail x");
        assert!(lexed.diagnostics.is_empty(), "{:?}", lexed.diagnostics);
        assert_eq!(lexed.tokens[0].span.range(), 3..12);
        // Elsewhere it is a character like any other.
        let lexed = lex(SourceId(0), "x \u{feff}");
        assert_eq!(lexed.diagnostics[0].code, Code::UnexpectedCharacter);
    }

    #[test]
    fn comments_are_kept_aside() {
        let lexed = lex(SourceId(0), "# lead\nx # tail\n");
        assert_eq!(lexed.comments.len(), 2);
        assert!(!lexed.comments[0].trailing);
        assert!(lexed.comments[1].trailing);
    }
}
