//! Decoding string literals: escapes, and `{…}` placeholders in messages.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    /// The byte range (absolute in the source) of the expression between `{` and `}`.
    Placeholder(Span),
}

/// Decodes the literal whose token spans `span` (quotes included) into segments. With
/// `placeholders` false, braces are literal text (labels, regexes such as `a{2}`).
pub fn decode(
    text: &str,
    span: Span,
    placeholders: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Segment> {
    let start = span.start as usize + 1;
    let end = if span.end > span.start + 1 && text[..span.end as usize].ends_with('"') {
        span.end as usize - 1
    } else {
        span.end as usize
    };
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = text[start..end].char_indices().peekable();
    let at = |offset: usize| start + offset;
    while let Some((offset, ch)) = chars.next() {
        match ch {
            '\\' => {
                let Some((_, escaped)) = chars.next() else {
                    break;
                };
                let decoded = match escaped {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    '\\' | '"' | '{' | '}' => Some(escaped),
                    'u' => decode_unicode(&mut chars),
                    _ => None,
                };
                match decoded {
                    Some(c) => current.push(c),
                    None => {
                        let esc_end = chars.peek().map_or(end, |(o, _)| at(*o));
                        diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidEscape,
                                Span::new(span.source, at(offset), esc_end),
                                format!("unknown escape `\\{}`", escaped.escape_debug()),
                            )
                            .with_help(
                                "valid escapes are \\\\ \\\" \\n \\t \\r \\{ \\} and \\u{HEX}; a regex `\\d` is written \"\\\\d\"",
                            ),
                        );
                    }
                }
            }
            '{' if placeholders => {
                // The lexer guaranteed a matching `}` unless the string is unterminated.
                let body_start = at(offset) + 1;
                let mut depth = 1usize;
                let mut in_nested = false;
                let mut body_end = None;
                for (o, c) in chars.by_ref() {
                    match c {
                        '"' => in_nested = !in_nested,
                        '{' if !in_nested => depth += 1,
                        '}' if !in_nested => {
                            depth -= 1;
                            if depth == 0 {
                                body_end = Some(at(o));
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some(body_end) = body_end else {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidInterpolation,
                            Span::new(span.source, at(offset), end),
                            "this placeholder is not closed",
                        )
                        .with_help("close it with `}`, or write a literal brace as `\\{`"),
                    );
                    break;
                };
                if !current.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut current)));
                }
                segments.push(Segment::Placeholder(Span::new(
                    span.source,
                    body_start,
                    body_end,
                )));
            }
            '}' if placeholders => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidInterpolation,
                        Span::new(span.source, at(offset), at(offset) + 1),
                        "a `}` without a matching `{`",
                    )
                    .with_help("write a literal brace as `\\}`"),
                );
            }
            _ => current.push(ch),
        }
    }
    if !current.is_empty() || segments.is_empty() {
        segments.push(Segment::Text(current));
    }
    segments
}

fn decode_unicode(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<char> {
    chars.next_if(|(_, c)| *c == '{')?;
    let mut hex = String::new();
    while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_hexdigit()) {
        hex.push(c);
    }
    chars.next_if(|(_, c)| *c == '}')?;
    if hex.is_empty() || hex.len() > 6 {
        return None;
    }
    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
}

/// The decoded text of a literal without placeholders (braces kept as text).
pub fn plain(text: &str, span: Span, diagnostics: &mut Vec<Diagnostic>) -> String {
    decode(text, span, false, diagnostics)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text,
            Segment::Placeholder(_) => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SourceId;

    fn whole(text: &str) -> Span {
        Span::new(SourceId(0), 0, text.len())
    }

    #[test]
    fn decodes_escapes() {
        let text = r#""a\"b\\c\nd\{\u{e9}""#;
        let mut diags = Vec::new();
        assert_eq!(plain(text, whole(text), &mut diags), "a\"b\\c\nd{é");
        assert!(diags.is_empty());
    }

    #[test]
    fn splits_placeholders_in_messages_only() {
        let text = r#""x {c.name} y""#;
        let mut diags = Vec::new();
        let segments = decode(text, whole(text), true, &mut diags);
        assert_eq!(
            segments,
            vec![
                Segment::Text("x ".into()),
                Segment::Placeholder(Span::new(SourceId(0), 4, 10)),
                Segment::Text(" y".into()),
            ]
        );
        assert_eq!(&text[4..10], "c.name");
        assert_eq!(plain(r#""a{2}""#, whole(r#""a{2}""#), &mut diags), "a{2}");
    }

    #[test]
    fn reports_bad_escapes() {
        let text = r#""\d""#;
        let mut diags = Vec::new();
        plain(text, whole(text), &mut diags);
        assert_eq!(diags[0].code, Code::InvalidEscape);
    }
}
