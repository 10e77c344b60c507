//! Every user-supplied string reaches CEL as exactly that string: parse the printed literal
//! back with the `cel` crate and compare.

#[allow(dead_code)]
mod cel_policies;

use cel_policies::*;
use guardrailc_compiler::backend::cel::{print_policy, string_literal};
use guardrailc_compiler::ir::*;
use guardrailc_compiler::kube::KubeVersion;
use proptest::prelude::*;

const AWKWARD: &[&str] = &[
    "",
    "double \" quote",
    "single ' quote",
    "back\\slash \\n not a newline",
    "line\nbreak\r\nand\ttab",
    "braces {c.name} and %s %v",
    "é and 😀 and 中文",
    "in",
    "namespace",
    "\" + object.metadata.name + \"",
    "') || true || ('",
    "nul \u{0} bell \u{7} del \u{7f} next-line \u{85}",
    "trailing backslash \\",
];

fn round_trip(text: &str) -> Result<(), String> {
    let literal = string_literal(text);
    match evaluate(&literal, &[])? {
        cel::Value::String(value) if value.as_str() == text => Ok(()),
        other => Err(format!("{literal} reads back as {other:?}")),
    }
}

#[test]
fn awkward_strings_read_back_unchanged() {
    for text in AWKWARD {
        round_trip(text).unwrap();
    }
}

#[test]
fn literals_stay_on_one_line() {
    for text in AWKWARD {
        assert!(!string_literal(text).contains('\n'), "{text:?}");
    }
}

proptest! {
    #[test]
    fn any_string_reads_back_unchanged(text in any::<String>()) {
        prop_assert_eq!(round_trip(&text), Ok(()));
    }
}

/// Messages, label keys and compared values: the policy sees exactly the user's text.
#[test]
fn messages_keys_and_values_keep_their_text() {
    for text in AWKWARD {
        let label = access(
            Root::Object,
            &[field("metadata"), field("labels"), key(text)],
        );
        let mut policy = service_guardrail();
        policy.exemptions.clear();
        policy.rules = vec![rule(
            1,
            Vec::new(),
            Expr::And(vec![
                present(label.clone()),
                compare(CompareOp::Eq, Domain::String, value(label), string(text)),
            ]),
            vec![
                cel_policies::text(text),
                cel_policies::text("|"),
                cel_policies::text(text),
            ],
        )];
        let cel_policy = print_policy(&policy, KubeVersion::DEFAULT).unwrap();
        let expression = &cel_policy.variables[0].expression;
        let object = to_cel(&serde_json::json!({
            "metadata": { "labels": { *text: *text, "other": "x" } }
        }));
        let violations = evaluate(expression, &[("object", object)]).unwrap();
        let expected = format!("{text}|{text}");
        assert_eq!(
            violations,
            cel::Value::List(vec![expected.as_str().into()].into()),
            "{text:?}"
        );

        let other = to_cel(&serde_json::json!({ "metadata": { "labels": { "other": *text } } }));
        let none = evaluate(expression, &[("object", other)]).unwrap();
        assert_eq!(none, cel::Value::List(Vec::new().into()), "{text:?}");
    }
}
