//! Spelling user-supplied text so that CEL, as Kubernetes compiles it, reads exactly that text:
//! string literals, property names and variable names.

/// Words the CEL grammar reserves: a variable may not be called by one, and a property of
/// this name is read by index.
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

/// How an object property is read in a ValidatingAdmissionPolicy expression: `Some(name)` for
/// a selection `.name`, `None` when it must be indexed as `["name"]` (and tested with
/// `"name" in …`).
///
/// The API server binds `object`, `oldObject`, `namespaceObject` and `request` as plain
/// unstructured maps (`runtime.DefaultUnstructuredConverter`), for built-in kinds and custom
/// resources alike, so a property is found under its own name: the `__dash__` / `__name__`
/// escaping of the Kubernetes CEL documentation applies to typed CRD validation rules, not to
/// admission policies. `object.metadata.__namespace__` compiles but fails at run time with
/// `no such key` (engine-facts/vap-compile.json, `evaluation_probes_1.34`), while
/// `object.metadata.namespace` is accepted and reads the namespace; `object.spec["x-y"]` is
/// accepted. A name that is not a CEL identifier, or is one of the words the CEL grammar
/// reserves (other than `namespace`, which the fact pins as selectable), is indexed.
pub fn property_selector(name: &str) -> Option<&str> {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let reserved = RESERVED_WORDS.contains(&name) && name != "namespace";
    (identifier && !reserved).then_some(name)
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
    fn properties_are_selected_by_their_own_names_or_indexed() {
        // engine-facts/vap-compile.json: `object.metadata.namespace` is accepted and works
        assert_eq!(property_selector("namespace"), Some("namespace"));
        assert_eq!(property_selector("image"), Some("image"));
        assert_eq!(property_selector("a__b"), Some("a__b"));
        assert_eq!(property_selector("_x1"), Some("_x1"));
        // `object.spec["x-y"]` is accepted; `x__dash__y` would find no key
        assert_eq!(property_selector("x-y"), None);
        assert_eq!(property_selector("a.b/c"), None);
        assert_eq!(property_selector("in"), None);
        assert_eq!(property_selector("if"), None);
        assert_eq!(property_selector("1abc"), None);
        assert_eq!(property_selector("é"), None);
        assert_eq!(property_selector(""), None);
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
