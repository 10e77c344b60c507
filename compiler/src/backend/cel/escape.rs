//! Spelling user-supplied text so that CEL, as Kubernetes compiles it, reads exactly that text:
//! string literals, property names and variable names.

/// Words the CEL grammar reserves. Kubernetes escapes a property with one of these names as
/// `__name__`; a variable may not be called by one at all.
const RESERVED_WORDS: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Identifiers the emitted expressions resolve themselves: the admission variables and the type
/// names of `type(x) == string`. A loop variable with one of these names would shadow them.
const NAMES_THE_PRINTER_READS: &[&str] = &[
    "object",
    "request",
    "params",
    "variables",
    "authorizer",
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "type",
    "null_type",
    "dyn",
];

/// A double-quoted CEL string literal whose value is exactly `text`.
///
/// Non-ASCII characters stay as they are (the YAML around the expression is UTF-8); control
/// characters become `\uXXXX` escapes so that no line break or NUL reaches the expression text.
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_control() => out.push_str(&format!("\\u{:04x}", ch as u32)),
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// The name under which Kubernetes exposes the property `name` to CEL, or `None` when the
/// property is not accessible from CEL at all.
///
/// Kubernetes escapes every property of a schema-typed object, ObjectMeta included (so
/// `metadata.namespace` is read as `metadata.__namespace__`): a reserved word becomes
/// `__word__`; otherwise `__`, `.`, `-` and `/` become `__underscores__`, `__dot__`, `__dash__`
/// and `__slash__`. Names outside `[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*` cannot be accessed.
/// <https://kubernetes.io/docs/reference/using-api/cel/#escaping>
pub fn property_name(name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED_WORDS.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(ch) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("__") {
            out.push_str("__underscores__");
            rest = after;
            continue;
        }
        match ch {
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            ch if ch.is_ascii_alphanumeric() || ch == '_' => out.push(ch),
            _ => return None,
        }
        rest = &rest[ch.len_utf8()..];
    }
    Some(out)
}

/// The CEL name of a loop or `let` variable.
///
/// Source names are `[a-z_][a-z0-9_]*`. A name that CEL reserves or that the printer reads
/// gets a `_` appended; so does every name already ending in `_`, which keeps the mapping
/// one-to-one (`in` → `in_`, `in_` → `in__`) and never yields a reserved name.
pub fn variable_name(name: &str) -> String {
    if RESERVED_WORDS.contains(&name)
        || NAMES_THE_PRINTER_READS.contains(&name)
        || name.ends_with('_')
    {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_escape_like_the_api_server() {
        assert_eq!(property_name("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(property_name("image").as_deref(), Some("image"));
        assert_eq!(property_name("x-y").as_deref(), Some("x__dash__y"));
        assert_eq!(
            property_name("a.b/c").as_deref(),
            Some("a__dot__b__slash__c")
        );
        // a single underscore stays; a pair is escaped; the third of three is left over
        assert_eq!(property_name("a_b").as_deref(), Some("a_b"));
        assert_eq!(property_name("a__b").as_deref(), Some("a__underscores__b"));
        assert_eq!(property_name("___").as_deref(), Some("__underscores___"));
        assert_eq!(property_name("1abc"), None);
        assert_eq!(property_name("a b"), None);
        assert_eq!(property_name("é"), None);
        assert_eq!(property_name(""), None);
    }

    #[test]
    fn variable_names_stay_distinct_after_mangling() {
        assert_eq!(variable_name("c"), "c");
        assert_eq!(variable_name("in"), "in_");
        assert_eq!(variable_name("in_"), "in__");
        assert_eq!(variable_name("string"), "string_");
        assert_eq!(variable_name("object"), "object_");
        let names = ["in", "in_", "in__", "x", "x_", "object", "object_"];
        let mangled: std::collections::BTreeSet<_> =
            names.iter().map(|n| variable_name(n)).collect();
        assert_eq!(mangled.len(), names.len());
    }
}
