//! Hover: field docs and types from the schema, guardrail metadata, names, keyword and
//! function help.

use crate::help;
use crate::names::DefinitionKind;
use crate::syntax_index::{contains, visit_guardrail_exprs, FileSyntax};
use crate::types::{Types, POD_FIELDS, REQUEST_FIELDS};
use guardrailc_compiler::check::types::Ty;
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::syntax::ast::{Expr, ExprKind, Guardrail, Item, MatchKind, MetaValue};
use guardrailc_compiler::syntax::token::TokenKind;
use guardrailc_compiler::Span;

#[derive(Debug, PartialEq)]
pub struct Hover {
    pub markdown: String,
    pub span: Span,
}

pub fn hover(syntax: &FileSyntax, text: &str, schema: &Schema, offset: u32) -> Option<Hover> {
    let token = syntax.token_at(offset)?;
    let span = match token.kind {
        TokenKind::Ident => token.span,
        // Inside a string, a message placeholder may hold an expression.
        TokenKind::Str => word_in_string(text, token.span, offset)?,
        _ => return None,
    };
    let word = &text[span.range()];
    let at = |markdown: String| Some(Hover { markdown, span });
    let Some(guardrail) = syntax.guardrail_at(offset) else {
        return help::keyword(word).and_then(|h| at(h.to_string()));
    };
    if guardrail.id.span == span {
        return at(metadata(guardrail));
    }
    let types = Types::new(schema, guardrail);
    if let Some(markdown) = expression_hover(guardrail, &types, span, word) {
        return at(markdown);
    }
    if token.kind == TokenKind::Str {
        return None;
    }
    if let Some(definition) = types.definitions.iter().find(|d| d.name.span == span) {
        let ty = types.of_definition(definition);
        return at(name_hover(definition.kind, word, ty.as_ref(), schema));
    }
    if let Some(markdown) = kind_hover(guardrail, schema, span, word) {
        return at(markdown);
    }
    help::keyword(word).and_then(|h| at(h.to_string()))
}

/// The name under `offset` inside the string token `string`.
fn word_in_string(text: &str, string: Span, offset: u32) -> Option<Span> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    let (mut start, mut end) = (offset as usize, offset as usize);
    while start > string.start as usize && is_word(bytes[start - 1]) {
        start -= 1;
    }
    while end < string.end as usize && is_word(bytes[end]) {
        end += 1;
    }
    (start < end).then(|| Span::new(string.source, start, end))
}

fn expression_hover(
    guardrail: &Guardrail,
    types: &Types,
    span: Span,
    word: &str,
) -> Option<String> {
    let mut found = None;
    visit_guardrail_exprs(guardrail, &mut |expr| {
        if found.is_some() || !contains(expr.span, span.start) {
            return;
        }
        match &expr.kind {
            ExprKind::Field(base, field) if field.span == span => {
                found = Some(field_hover(types, expr, base, word));
            }
            ExprKind::Call { name, .. } if name.span == span => {
                found = help::function(word)
                    .map(|(signature, help)| format!("```\n{signature}\n```\n{help}"));
            }
            ExprKind::Name(name) if expr.span == span => {
                found = Some(match help::root(name) {
                    Some(help) => format!("**{name}** — {help}"),
                    None => match crate::names::lookup(&types.definitions, name, span.start) {
                        Some(d) => {
                            name_hover(d.kind, name, types.of_definition(d).as_ref(), types.schema)
                        }
                        None => format!("unknown name `{name}`"),
                    },
                });
            }
            _ => {}
        }
    });
    found
}

/// `base.name` (the expression `field`): its type, and its schema doc when it is a field of
/// an object.
fn field_hover(types: &Types, field: &Expr, base: &Expr, name: &str) -> String {
    if let ExprKind::Name(root) = &base.kind {
        let fixed = match root.as_str() {
            "pod" => POD_FIELDS,
            "request" => REQUEST_FIELDS,
            _ => &[],
        };
        if let Some((_, ty, doc)) = fixed.iter().find(|(n, _, _)| *n == name) {
            return format!("**{root}.{name}**: `{ty}`\n\n{doc}");
        }
        if root == "params" {
            return match crate::names::param(&types.definitions, name) {
                Some(d) => name_hover(
                    DefinitionKind::Param,
                    name,
                    types.of_definition(d).as_ref(),
                    types.schema,
                ),
                None => format!("no param `{name}` in this guardrail"),
            };
        }
    }
    let Some(base_ty) = types.of(base) else {
        return format!("**{name}**");
    };
    let Some(ty) = types.of(field) else {
        return format!("`{}` has no field `{name}`", base_ty.describe(types.schema));
    };
    let mut markdown = format!("**{name}**: `{}`", ty.describe(types.schema));
    if matches!(base_ty, Ty::Record(_)) {
        markdown.push_str("\n\n");
        markdown.push_str(crate::completion::RECORD_FIELD_DOC);
    }
    if let Some(entry) = types.field(&base_ty, name) {
        if entry.required {
            markdown.push_str(" (required)");
        }
        if entry.encoding == guardrailc_compiler::schema::Encoding::PlainValue {
            let zero = match ty {
                Ty::Bool => "false",
                Ty::Int => "0",
                _ => "\"\"",
            };
            markdown.push_str(&format!(
                "\n\nreads as `{zero}` when not set: the API server cannot tell the two apart"
            ));
        }
        if !entry.doc.is_empty() {
            markdown.push_str("\n\n");
            markdown.push_str(&entry.doc);
        }
    }
    markdown
}

fn name_hover(kind: DefinitionKind, name: &str, ty: Option<&Ty>, schema: &Schema) -> String {
    match ty {
        Some(ty) => format!(
            "({}) **{name}**: `{}`",
            kind.describe(),
            ty.describe(schema)
        ),
        None => format!("({}) **{name}**", kind.describe()),
    }
}

fn kind_hover(guardrail: &Guardrail, schema: &Schema, span: Span, word: &str) -> Option<String> {
    let in_kinds = guardrail.items.iter().any(|item| {
        matches!(item, Item::Match(m) if matches!(&m.kind, MatchKind::Kinds(kinds) if kinds.iter().any(|k| k.span == span)))
    });
    if !in_kinds {
        return None;
    }
    let info = schema.kind(word)?;
    let group = if info.group.is_empty() {
        "core"
    } else {
        &info.group
    };
    let scope = if info.namespaced {
        "namespaced"
    } else {
        "cluster-scoped"
    };
    Some(format!(
        "**{}** — `{group}/{}`, resource `{}`, {scope}\n\n{}",
        info.kind, info.version, info.resource, info.doc
    ))
}

/// The guardrail's metadata as a short card.
fn metadata(guardrail: &Guardrail) -> String {
    let mut lines = vec![format!("**guardrail {}**", guardrail.id.name)];
    for item in &guardrail.items {
        let Item::Meta(meta) = item else { continue };
        let value = match &meta.value {
            MetaValue::Text(text) => text.value.clone(),
            MetaValue::Word(word) => word.name.clone(),
            MetaValue::List(items) => items
                .iter()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            MetaValue::Words(words) => words
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        lines.push(format!("- {}: {value}", meta.key.name));
    }
    lines.join("\n")
}
