//! Tokens of the guardrail language.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word: item keywords (`title`, `deny` …) are contextual, so the lexer does not
    /// distinguish them from names.
    Ident,
    Int,
    /// A number with a fraction, exponent or quantity suffix: `1.5`, `500m`, `2Gi`.
    Quantity,
    /// `2027-01-31`.
    Date,
    /// A double-quoted string; its decoded content is read with [`crate::syntax::strings`].
    Str,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Colon,
    Dot,
    Eq,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl TokenKind {
    /// How the token is named in "expected …" messages.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "a name",
            TokenKind::Int => "an integer",
            TokenKind::Quantity => "a quantity",
            TokenKind::Date => "a date",
            TokenKind::Str => "a string",
            TokenKind::LBrace => "`{`",
            TokenKind::RBrace => "`}`",
            TokenKind::LBracket => "`[`",
            TokenKind::RBracket => "`]`",
            TokenKind::LParen => "`(`",
            TokenKind::RParen => "`)`",
            TokenKind::Comma => "`,`",
            TokenKind::Colon => "`:`",
            TokenKind::Dot => "`.`",
            TokenKind::Eq => "`=`",
            TokenKind::EqEq => "`==`",
            TokenKind::NotEq => "`!=`",
            TokenKind::Lt => "`<`",
            TokenKind::Le => "`<=`",
            TokenKind::Gt => "`>`",
            TokenKind::Ge => "`>=`",
            TokenKind::Eof => "the end of the file",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// True if a line break separates this token from the previous one. Items and rule
    /// clauses are not newline-sensitive, but recovery uses it to resynchronise.
    pub line_start: bool,
}

/// A `#` comment, kept for the formatter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// True if code precedes the comment on its line.
    pub trailing: bool,
}
