//! Completion: field paths after `.` from the schema of the matched kinds, keywords where an
//! item or clause may start, kinds, operations, params, functions and enforcement values.

use crate::help;
use crate::syntax_index::{contains, FileSyntax};
use crate::types::{Types, POD_FIELDS, REQUEST_FIELDS};
use guardrailc_compiler::check::types::Ty;
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::syntax::ast::{ExprKind, Guardrail, Item};
use guardrailc_compiler::syntax::parser::{parse_expression_in, CLAUSE_KEYWORDS, ITEM_KEYWORDS};
use guardrailc_compiler::syntax::token::TokenKind;
use guardrailc_compiler::{SourceId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Field,
    Method,
    Function,
    Kind,
    Variable,
    Value,
    Type,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub documentation: Option<String>,
}

impl Completion {
    fn new(label: &str, kind: CompletionKind) -> Completion {
        Completion {
            label: label.to_string(),
            kind,
            detail: None,
            documentation: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Completion {
        self.detail = Some(detail.into());
        self
    }

    fn documentation(mut self, documentation: impl Into<String>) -> Completion {
        let documentation = documentation.into();
        if !documentation.is_empty() {
            self.documentation = Some(documentation);
        }
        self
    }
}

/// What completion and hover say about a field of a record param.
pub const RECORD_FIELD_DOC: &str =
    "a field of a record param, set in the param's default or in guardrails.toml; possibly absent";

use guardrailc_compiler::syntax::{EXCLUDE_TARGETS, MATCH_TARGETS};

pub fn complete(
    syntax: &FileSyntax,
    text: &str,
    schema: &Schema,
    offset: usize,
) -> Vec<Completion> {
    let offset = floor_boundary(text, offset.min(text.len()));
    let bytes = text.as_bytes();
    let mut word_start = offset;
    while word_start > 0 && is_word_byte(bytes[word_start - 1]) {
        word_start -= 1;
    }
    let guardrail = syntax.guardrail_at(offset as u32);
    if word_start > 0 && bytes[word_start - 1] == b'.' {
        return match guardrail {
            Some(guardrail) => fields_after_dot(text, schema, guardrail, word_start - 1),
            None => Vec::new(),
        };
    }
    let before = syntax.tokens_before(word_start as u32);
    let word = |i: usize| -> &str {
        before
            .len()
            .checked_sub(i + 1)
            .map(|index| &text[before[index].span.range()])
            .unwrap_or("")
    };
    let values = |list: &[&str], kind| list.iter().map(|v| Completion::new(v, kind)).collect();
    match word(0) {
        "enforce" => return actions(),
        ":" if inside_enforce_block(before, text) => return actions(),
        ":" if word(2) == "param" => return values(help::PARAM_TYPES, CompletionKind::Type),
        "category" => return values(help::CATEGORIES, CompletionKind::Value),
        "severity" => return values(help::SEVERITIES, CompletionKind::Value),
        "match" => return values(MATCH_TARGETS, CompletionKind::Keyword),
        "exclude" => return values(EXCLUDE_TARGETS, CompletionKind::Keyword),
        _ => {}
    }
    match open_list_owner(before, text) {
        Some("kinds") => {
            return schema
                .kinds()
                .iter()
                .map(|k| {
                    let group = if k.group.is_empty() { "core" } else { &k.group };
                    Completion::new(&k.kind, CompletionKind::Kind)
                        .detail(format!("{group}/{}", k.version))
                        .documentation(k.doc.clone())
                })
                .collect()
        }
        Some("operations") => return values(help::OPERATIONS, CompletionKind::Value),
        _ => {}
    }
    let Some(guardrail) = guardrail else {
        return vec![keyword("guardrail")];
    };
    let mut items: Vec<Completion> = ITEM_KEYWORDS.iter().map(|k| keyword(k)).collect();
    if in_rule(guardrail, offset as u32) || is_operator(word(0)) {
        items.extend(
            CLAUSE_KEYWORDS
                .iter()
                .filter(|k| **k != "let")
                .map(|k| keyword(k)),
        );
        items.extend(expression_starts(schema, guardrail, offset as u32));
    }
    items
}

fn keyword(word: &str) -> Completion {
    let completion = Completion::new(word, CompletionKind::Keyword);
    match help::keyword(word) {
        Some(help) => completion.documentation(help),
        None => completion,
    }
}

fn actions() -> Vec<Completion> {
    help::ENFORCEMENT_ACTIONS
        .iter()
        .map(|(action, doc)| Completion::new(action, CompletionKind::Value).documentation(*doc))
        .collect()
}

/// Roots, names in scope, functions and expression keywords.
fn expression_starts(schema: &Schema, guardrail: &Guardrail, offset: u32) -> Vec<Completion> {
    let mut items: Vec<Completion> = help::ROOTS
        .iter()
        .map(|(root, doc)| Completion::new(root, CompletionKind::Variable).documentation(*doc))
        .collect();
    let types = Types::new(schema, guardrail);
    for definition in &types.definitions {
        let visible = definition.scope.0 <= offset && offset <= definition.scope.1;
        if visible && definition.kind != crate::names::DefinitionKind::Param {
            let ty = types.of_definition(definition);
            let mut item = Completion::new(&definition.name.name, CompletionKind::Variable);
            if let Some(ty) = ty {
                item = item.detail(ty.describe(schema));
            }
            items.push(item.documentation(definition.kind.describe()));
        }
    }
    for name in ["exists", "missing"] {
        if let Some((signature, doc)) = help::function(name) {
            items.push(
                Completion::new(name, CompletionKind::Function)
                    .detail(signature)
                    .documentation(doc),
            );
        }
    }
    items.extend(["not", "any", "all", "true", "false"].map(keyword));
    items
}

fn fields_after_dot(
    text: &str,
    schema: &Schema,
    guardrail: &Guardrail,
    dot: usize,
) -> Vec<Completion> {
    let start = receiver_start(text, dot);
    if start == dot {
        return Vec::new();
    }
    let mut ignored = Vec::new();
    let receiver = parse_expression_in(text, Span::new(SourceId(0), start, dot), &mut ignored);
    let types = Types::new(schema, guardrail);
    if let ExprKind::Name(root) = &receiver.kind {
        let fixed = match root.as_str() {
            "pod" => Some(POD_FIELDS),
            "request" => Some(REQUEST_FIELDS),
            _ => None,
        };
        if let Some(fixed) = fixed {
            return fixed
                .iter()
                .map(|(name, ty, doc)| {
                    Completion::new(name, CompletionKind::Field)
                        .detail(*ty)
                        .documentation(*doc)
                })
                .collect();
        }
        if root == "params" {
            return types
                .definitions
                .iter()
                .filter(|d| d.kind == crate::names::DefinitionKind::Param)
                .map(|d| {
                    let item = Completion::new(&d.name.name, CompletionKind::Variable);
                    match types.of_definition(d) {
                        Some(ty) => item.detail(ty.describe(schema)),
                        None => item,
                    }
                })
                .collect();
        }
    }
    let Some(ty) = types.of(&receiver) else {
        return Vec::new();
    };
    let mut items: Vec<Completion> = types
        .fields(&ty)
        .into_iter()
        .map(|field| {
            Completion::new(&field.name, CompletionKind::Field)
                .detail(Ty::from_field(&field.ty).describe(schema))
                .documentation(field.doc.clone())
        })
        .collect();
    if let Ty::Record(fields) = &ty {
        items.extend(fields.iter().map(|(name, ty)| {
            Completion::new(name, CompletionKind::Field)
                .detail(ty.describe(schema))
                .documentation(RECORD_FIELD_DOC)
        }));
    }
    const STRING_METHODS: &[&str] = &[
        "starts_with",
        "ends_with",
        "contains",
        "matches",
        "trim_prefix",
        "trim_suffix",
        "size",
    ];
    let methods: &[&str] = match ty {
        Ty::Str => STRING_METHODS,
        Ty::List(_) => &["size"],
        Ty::Map(_) => &["keys", "size"],
        // A value of any type may be a string or a map: the methods of both.
        Ty::Any => &[],
        _ => &[],
    };
    let any = matches!(ty, Ty::Any);
    let methods = methods
        .iter()
        .chain(any.then_some(STRING_METHODS).into_iter().flatten())
        .chain(any.then_some(&"keys"));
    for method in methods {
        if let Some((signature, doc)) = help::function(method) {
            items.push(
                Completion::new(method, CompletionKind::Method)
                    .detail(signature)
                    .documentation(doc),
            );
        }
    }
    items
}

/// The start of the path expression that ends at the `.` at `dot`: names, dots, and
/// balanced `[…]` and `(…)`.
fn receiver_start(text: &str, dot: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = dot;
    while start > 0 {
        let byte = bytes[start - 1];
        if is_word_byte(byte) || byte == b'.' {
            start -= 1;
        } else if byte == b']' || byte == b')' {
            let (open, close) = if byte == b']' {
                (b'[', b']')
            } else {
                (b'(', b')')
            };
            let mut depth = 0usize;
            let mut index = start;
            let mut matched = None;
            while index > 0 {
                index -= 1;
                if bytes[index] == close {
                    depth += 1;
                } else if bytes[index] == open {
                    depth -= 1;
                    if depth == 0 {
                        matched = Some(index);
                        break;
                    }
                } else if bytes[index] == b'\n' {
                    break;
                }
            }
            match matched {
                Some(index) => start = index,
                None => break,
            }
        } else {
            break;
        }
    }
    start
}

/// The word before the innermost unclosed `[` (`kinds` in `match kinds [Pod, |`).
fn open_list_owner<'t>(
    before: &[guardrailc_compiler::syntax::token::Token],
    text: &'t str,
) -> Option<&'t str> {
    let mut depth = 0i32;
    for (index, token) in before.iter().enumerate().rev() {
        match token.kind {
            TokenKind::RBracket => depth += 1,
            TokenKind::LBracket if depth == 0 => {
                let owner = before.get(index.checked_sub(1)?)?;
                return Some(&text[owner.span.range()]);
            }
            TokenKind::LBracket => depth -= 1,
            TokenKind::Ident | TokenKind::Comma | TokenKind::Str => {}
            _ => return None,
        }
    }
    None
}

fn inside_enforce_block(before: &[guardrailc_compiler::syntax::token::Token], text: &str) -> bool {
    for (index, token) in before.iter().enumerate().rev() {
        match token.kind {
            TokenKind::LBrace => {
                return index > 0 && &text[before[index - 1].span.range()] == "enforce";
            }
            TokenKind::RBrace => return false,
            _ => {}
        }
    }
    false
}

/// True inside a rule, or right after one, where its clauses continue.
fn in_rule(guardrail: &Guardrail, offset: u32) -> bool {
    let last_started = guardrail
        .items
        .iter()
        .rev()
        .find(|item| item_start(item) < offset);
    match last_started {
        Some(Item::Rule(rule)) => contains(rule.span, offset) || rule.span.end <= offset,
        _ => false,
    }
}

fn item_start(item: &Item) -> u32 {
    match item {
        Item::Meta(i) => i.span.start,
        Item::Match(i) | Item::Exclude(i) => i.span.start,
        Item::Param(i) => i.span.start,
        Item::Let(i) => i.span.start,
        Item::Rule(i) => i.span.start,
        Item::Enforce(i) => i.span.start,
        Item::Exempt(i) => i.span.start,
    }
}

fn is_operator(word: &str) -> bool {
    matches!(
        word,
        "=" | "=="
            | "!="
            | "<"
            | "<="
            | ">"
            | ">="
            | "and"
            | "or"
            | "not"
            | "in"
            | "when"
            | "that"
            | "("
            | ","
    )
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
