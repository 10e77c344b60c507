//! Every user-supplied string reaches Rego as exactly itself: messages, label keys and values,
//! prefixes, regexes, param values, field names that are keywords, and variable names that
//! collide with Rego's or the module's own names.

mod rego_fixtures;

use guardrailc_compiler::backend::rego::{print_module, RegoFlavour};
use guardrailc_compiler::ir::*;
use rego_fixtures::*;
use serde_json::{json, Value};

const MESSAGE: &str = "quote \" apostrophe ' backslash \\ newline \n tab \t braces {} {{x}} \
     percent % 100%s %v %% unicode é ✓ 🚀 keywords if contains not some in every: ";
const LABEL_KEY: &str = "we\"ird\\key{}%/é";
const LABEL_VALUE: &str = "va\"l'ue\\\n{}%v é if";
const PREFIX: &str = "pre\"fix\\%{";
/// Matches exactly `a.b"c\d{x}%é`.
const REGEX: &str = r#"^a\.b"c\\d\{x\}%é$"#;
const MATCHING: &str = r#"a.b"c\d{x}%é"#;
const PARAM: &str = "p\"%{}\\ not";

fn escaping_policy() -> Policy {
    let mut policy = base_policy("escape-hatch", "EscapeHatch");
    policy.matcher.resources = vec![resource("", "v1", "configmaps", "ConfigMap")];
    policy.params = vec![
        ParamValue {
            name: "if".into(),
            ty: ParamType::String,
            value: Literal::String(PARAM.into()),
        },
        ParamValue {
            name: "names".into(),
            ty: ParamType::List(Box::new(ParamType::String)),
            value: Literal::List(vec![
                Literal::String("n1".into()),
                Literal::String("n2".into()),
            ]),
        },
    ];
    let label = || keyed(Root::Object, &["metadata", "labels"], LABEL_KEY);
    let name = || access(Root::Object, &["metadata", "name"]);
    let pattern = || keyed(Root::Object, &["metadata", "annotations"], "re");
    let keyword_path = || access(Root::Object, &["data", "default", "in", "x-y"]);
    let param = || value(access(Root::Param("if".into()), &[]));
    let names = || value(access(Root::Param("names".into()), &[]));
    let eq = |lhs, rhs| compare(CompareOp::Eq, Domain::String, lhs, rhs);
    policy.rules = vec![
        rule(
            1,
            Vec::new(),
            Expr::And(vec![
                present(label()),
                eq(value(label()), text(LABEL_VALUE)),
                present(name()),
                string_test(StringOp::StartsWith, value(name()), text(PREFIX)),
                present(pattern()),
                string_test(StringOp::Matches, value(pattern()), text(REGEX)),
                present(keyword_path()),
                eq(value(keyword_path()), text("ok")),
                eq(value(access(Root::Object, &["data", "p"])), param()),
            ]),
            message(vec![
                Part::T(MESSAGE),
                Part::V(value(label())),
                Part::T(" | "),
                Part::V(param()),
            ]),
        ),
        // for in in object.items, for i1 in in.children:
        //   any msg in params.names: i1.name == msg, and not any in in params.names: in == "zz"
        rule(
            2,
            vec![
                generator(
                    "in",
                    value_or(access(Root::Object, &["items"]), Literal::List(Vec::new())),
                ),
                generator(
                    "i1",
                    value_or(var("in", &["children"]), Literal::List(Vec::new())),
                ),
            ],
            Expr::And(vec![
                present(var("i1", &["name"])),
                quantified(
                    Quantifier::Any,
                    "msg",
                    names(),
                    eq(value(var("i1", &["name"])), value(var("msg", &[]))),
                ),
                not(quantified(
                    Quantifier::Any,
                    "in",
                    names(),
                    eq(value(var("in", &[])), text("zz")),
                )),
            ]),
            message(vec![
                Part::V(missing_or(var("in", &["name"]))),
                Part::T("/"),
                Part::V(value(var("i1", &["name"]))),
            ]),
        ),
    ];
    policy
}

fn matching_object() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": format!("{PREFIX}rest"),
            "labels": { LABEL_KEY: LABEL_VALUE },
            "annotations": { "re": MATCHING },
        },
        "data": { "default": { "in": { "x-y": "ok" } }, "p": PARAM },
    })
}

fn messages(object: Value) -> (Vec<String>, Vec<String>) {
    let policy = escaping_policy();
    (
        gatekeeper_messages(&policy, review("CREATE", object.clone())),
        opa_messages(&policy, object),
    )
}

#[test]
fn special_strings_compare_and_render_exactly() {
    let expected = vec![format!("{MESSAGE}{LABEL_VALUE} | {PARAM}")];
    let (gatekeeper, opa) = messages(matching_object());
    assert_eq!(gatekeeper, expected);
    assert_eq!(opa, expected);
}

/// What a case changes in the matching object.
type Change = dyn Fn(&mut Value);

#[test]
fn one_character_off_does_not_match() {
    let changes: [(&str, &Change); 6] = [
        ("label value", &|o| {
            o["metadata"]["labels"][LABEL_KEY] = json!(LABEL_VALUE.replace('\n', " "))
        }),
        ("label key", &|o| {
            let labels = o["metadata"]["labels"].as_object_mut().expect("labels");
            let value = labels.remove(LABEL_KEY).expect("label");
            labels.insert(LABEL_KEY.replace('\\', "/"), value);
        }),
        ("prefix", &|o| {
            o["metadata"]["name"] = json!(format!("{}rest", PREFIX.replace('%', "x")))
        }),
        ("regex dot is literal", &|o| {
            o["metadata"]["annotations"]["re"] = json!(MATCHING.replacen('.', "X", 1))
        }),
        ("keyword field path", &|o| {
            o["data"]["default"]["in"]["x-y"] = json!("ko")
        }),
        ("param value", &|o| {
            o["data"]["p"] = json!(PARAM.replace('"', "'"))
        }),
    ];
    for (what, change) in changes {
        let mut object = matching_object();
        change(&mut object);
        let (gatekeeper, opa) = messages(object);
        assert!(gatekeeper.is_empty(), "{what}: {gatekeeper:?}");
        assert!(opa.is_empty(), "{what}: {opa:?}");
    }
}

#[test]
fn variables_named_like_keywords_and_module_names() {
    // A ConfigMap of the core group: the OPA package applies the guardrail's match itself.
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": "m" },
        "items": [
            { "name": "a", "children": [ { "name": "n1" }, { "name": "x" }, { "name": "n2" } ] },
            { "children": [ { "name": "n2" } ] },
        ],
    });
    let expected = vec!["<missing>/n2", "a/n1", "a/n2"];
    let (gatekeeper, opa) = messages(object);
    assert_eq!(gatekeeper, expected);
    assert_eq!(opa, expected);
    let module = print_module(&escaping_policy(), RegoFlavour::Gatekeeper).expect("prints");
    // `in` → `in_`, `i1` (a binding index name) → `i1_`, `msg` → `msg_`, and the inner `in`
    // that shadows the outer one gets a name of its own.
    assert!(
        module.contains("some i1, in_ in object.get(input.review, [\"object\", \"items\"], [])")
    );
    assert!(module.contains("some i2, i1_ in object.get(in_, [\"children\"], [])"));
    assert!(module.contains("some msg_ in input.parameters.names"));
    assert!(module.contains("some in__2 in input.parameters.names"));
    assert!(module.contains("input.review.object.data[\"default\"][\"in\"][\"x-y\"]"));
    assert!(module.contains("input.parameters[\"if\"]"));
}
