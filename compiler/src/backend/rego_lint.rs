//! A check of printed Rego for the shapes OPA and regorus read differently.
//!
//! OPA (v1.10, the engine inside Gatekeeper and conftest) makes an inline `not` over a builtin
//! call whose operand is undefined undefined itself, so the rule body fails; regorus and
//! rego-cpp say true (engine-facts/rego-opa.json, families `negation-undefined` and
//! `emitted-pattern`). A `not` may therefore only negate:
//! * a rule or function of the module, called with plain variables (`not exempt`,
//!   `not rule_1_not_1(c)`): the negated body runs inside the helper, where both agree;
//! * a unification of references and literals with no call (`not x.y == "a"`), which OPA
//!   evaluates inside the negation;
//! * `true` or `false`.
//!
//! The printer only emits these ([`super::rego`]); this lint checks every module it prints,
//! and the engine-facts tests check that it flags every fact where the engines differ.

/// Each `not` in `module` whose operand is none of the safe shapes: its 1-based line and text.
pub fn unsafe_negations(module: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in module.lines().enumerate() {
        let code = without_strings_and_comment(line);
        for operand in negated_operands(&code) {
            if !is_safe_operand(operand.trim()) {
                found.push((index + 1, line.trim().to_string()));
                break;
            }
        }
    }
    found
}

/// The line with every string literal emptied (`"a(b"` → `""`, `` `x` `` → ``` `` ```) and
/// any comment removed, so that text inside strings is never read as code.
fn without_strings_and_comment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            '`' => {
                out.push('`');
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
                out.push('`');
            }
            '#' => break,
            c => out.push(c),
        }
    }
    out
}

/// The text after each `not` keyword of the line, up to the end of the expression (the end of
/// the line, or a `;`).
fn negated_operands(code: &str) -> Vec<&str> {
    let mut operands = Vec::new();
    let bytes = code.as_bytes();
    let mut start = 0;
    while let Some(at) = code[start..].find("not ") {
        let position = start + at;
        let word_start = position == 0 || !is_word_byte(bytes[position - 1]);
        if word_start {
            let rest = &code[position + 4..];
            let end = rest.find(';').unwrap_or(rest.len());
            operands.push(&rest[..end]);
        }
        start = position + 4;
    }
    operands
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_safe_operand(operand: &str) -> bool {
    if operand == "true" || operand == "false" || is_identifier(operand) {
        return true;
    }
    // A helper called with plain variables.
    if let Some((name, rest)) = operand.split_once('(') {
        if let Some(arguments) = rest.strip_suffix(')') {
            return is_identifier(name)
                && !name.contains('.')
                && arguments.split(',').all(|a| is_identifier(a.trim()));
        }
        return false;
    }
    // A unification of references and literals, with no call and no other operator.
    let Some((lhs, rhs)) = operand.split_once(" == ") else {
        return false;
    };
    let plain = |side: &str| {
        let side = side.trim();
        !side.is_empty()
            && !side.contains(" in ")
            && !side.contains(['(', '<', '>', '!', '=', '+', '-', '*', '/', '|', '&', '{'])
    };
    plain(lhs) && plain(rhs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(module: &str) -> bool {
        !unsafe_negations(module).is_empty()
    }

    #[test]
    fn the_shapes_opa_reads_differently_are_flagged() {
        // engine-facts/rego-opa.json, emitted-pattern: never fires on a missing field in OPA
        assert!(flagged(
            "    not c.securityContext.seccompProfile.type != null"
        ));
        assert!(flagged("    not p.hostPort != 0"));
        assert!(flagged("    not input.k < 5"));
        assert!(flagged("    not input.k in {\"a\"}"));
        assert!(flagged("    not startswith(input.k, \"a\")"));
        assert!(flagged("    not count(input.k) > 0"));
        assert!(flagged("    not count(input.k) == 0"));
        assert!(flagged(
            "x := 1 if not is_object(input.review.namespaceObject)"
        ));
        assert!(flagged("    not f(input.k)"));
    }

    #[test]
    fn safe_negations_pass() {
        assert!(!flagged("    not exempt"));
        assert!(!flagged("    not rule_1_not_2(c, p)"));
        assert!(!flagged("    not c.securityContext.privileged == false"));
        assert!(!flagged(
            "    not input.review.object.metadata.labels[\"a(b) != c\"] == \"x\""
        ));
        assert!(!flagged(
            "namespace_object := x if not review_has_namespace_object"
        ));
        assert!(!flagged("    # not x != y in a comment"));
        assert!(!flagged("    msg := \"do not use != here\""));
        assert!(!flagged("    annotation_not := 1"));
    }
}
