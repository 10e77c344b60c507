//! The feature modules on in-memory text, at byte offsets.

use guardrailc_compiler::schema::Schema;
use guardrailc_lsp::completion::complete;
use guardrailc_lsp::hover::hover;
use guardrailc_lsp::names;
use guardrailc_lsp::semantic_tokens::TokenType;
use guardrailc_lsp::syntax_index::FileSyntax;

const SOURCE: &str = "guardrail g {
  title \"T\"
  match kinds [Deployment]
  param max: int = 3
  let limit = params.max
  deny for c in pod.spec.containers
    when c.image.size() > limit and any p in c.ports: p.hostPort > 0
    message \"{c.name} {object.spec.replicas}\"
}
";

fn offset_of(needle: &str, nth: usize) -> u32 {
    SOURCE.match_indices(needle).nth(nth).expect("needle").0 as u32
}

fn hover_at(offset: u32) -> String {
    let syntax = FileSyntax::parse(SOURCE);
    hover(&syntax, SOURCE, Schema::builtin(), offset)
        .map(|h| h.markdown)
        .unwrap_or_default()
}

#[test]
fn hover_shows_field_types_and_docs() {
    let text = hover_at(offset_of("image", 0) + 1);
    assert!(text.starts_with("**image**: `string`"), "{text}");
    let text = hover_at(offset_of("replicas", 0));
    assert!(text.starts_with("**replicas**: `int`"), "{text}");
}

#[test]
fn hover_says_what_a_plain_valued_field_reads_as_when_not_set() {
    // `image` and `hostPort` are plain Go values: absent reads as their zero value.
    let image = hover_at(offset_of("image", 0) + 1);
    assert!(image.contains("reads as `\"\"` when not set"), "{image}");
    let port = hover_at(offset_of("hostPort", 0) + 1);
    assert!(port.contains("reads as `0` when not set"), "{port}");
    // `replicas` is a pointer: absent stays absent.
    let replicas = hover_at(offset_of("replicas", 0));
    assert!(!replicas.contains("when not set"), "{replicas}");
}

#[test]
fn hover_shows_names_keywords_kinds_and_functions() {
    assert!(hover_at(offset_of("limit", 1)).starts_with("(let) **limit**: `int`"));
    assert!(hover_at(offset_of("p.hostPort", 0))
        .starts_with("(quantifier variable) **p**: `object (ContainerPort)`"));
    assert!(hover_at(offset_of("size", 0)).contains("list.size() -> int"));
    assert!(hover_at(offset_of("Deployment", 0)).starts_with("**Deployment** — `apps/v1`"));
    assert!(hover_at(offset_of("deny", 0)).starts_with("`deny [for …] when COND"));
    assert!(hover_at(offset_of("g {", 0)).starts_with("**guardrail g**\n- title: T"));
}

#[test]
fn definitions_and_references_resolve_params_lets_and_variables() {
    let syntax = FileSyntax::parse(SOURCE);
    let guardrail = &syntax.file.guardrails[0];
    let def = names::definition_at(guardrail, offset_of("max", 1)).expect("params.max resolves");
    assert_eq!(def.start, offset_of("max", 0));
    let (def, uses) = names::references_at(guardrail, offset_of("c.ports", 0)).expect("c resolves");
    assert_eq!(def.start, offset_of("c in", 0));
    // c.image, c.ports and c.name in the message
    assert_eq!(uses.len(), 3);
}

fn labels(text: &str, offset: usize) -> Vec<String> {
    let syntax = FileSyntax::parse(text);
    complete(&syntax, text, Schema::builtin(), offset)
        .into_iter()
        .map(|c| c.label)
        .collect()
}

#[test]
fn completion_follows_the_context() {
    let at_dot = SOURCE.find("c.image").unwrap() + 2;
    let fields = labels(SOURCE, at_dot);
    assert!(
        fields.contains(&"image".to_string()) && fields.contains(&"securityContext".to_string())
    );
    let text = SOURCE.replace("match kinds [Deployment]", "match kinds [Dep");
    let kinds = labels(&text, text.find("[Dep").unwrap() + 4);
    assert!(kinds.contains(&"Deployment".to_string()) && kinds.contains(&"Pod".to_string()));
    let text = SOURCE.replace("  title \"T\"", "  enforce ");
    let actions = labels(&text, text.find("enforce ").unwrap() + 8);
    assert_eq!(actions, ["deny", "warn", "audit"]);
    let text = SOURCE.replace("params.max", "params.");
    assert_eq!(labels(&text, text.find("params.").unwrap() + 7), ["max"]);
    let at_when = SOURCE.find("when").unwrap();
    let clause = labels(SOURCE, at_when);
    assert!(clause.contains(&"message".to_string()) && clause.contains(&"limit".to_string()));
    assert_eq!(labels("", 0), ["guardrail"]);
}

#[test]
fn semantic_tokens_tell_keywords_from_fields_with_the_same_word() {
    let text = "guardrail g {\n  match kinds [Pod]\n  deny when object.message == \"x\"\n    message \"m\"\n}\n";
    let syntax = FileSyntax::parse(text);
    let roles: Vec<(&str, TokenType)> = guardrailc_lsp::semantic_tokens::classify(&syntax, text)
        .into_iter()
        .map(|(span, role)| (&text[span.range()], role))
        .collect();
    use TokenType::*;
    assert_eq!(
        roles,
        [
            ("guardrail", Keyword),
            ("g", Namespace),
            ("match", Keyword),
            ("kinds", Keyword),
            ("Pod", Type),
            ("deny", Keyword),
            ("when", Keyword),
            ("object", Variable),
            ("message", Property),
            ("\"x\"", String),
            ("message", Keyword),
            ("\"m\"", String),
        ]
    );
}

#[test]
fn every_function_the_checker_knows_has_help() {
    for name in guardrailc_compiler::check::expr::FUNCTIONS {
        assert!(
            guardrailc_lsp::help::function(name).is_some(),
            "`{name}` has no help text in lsp/src/help.rs"
        );
    }
}

const FUNCTIONS_SOURCE: &str = "guardrail f {
  title \"T\"
  match kinds [Pod]
  deny for k in object.metadata.labels.keys()
    when object.metadata.name.trim_prefix(\"x\") == k
    message \"{k}\"
}
";

#[test]
fn keys_and_trimming_complete_and_hover() {
    let syntax = FileSyntax::parse(FUNCTIONS_SOURCE);
    let at = |needle: &str| FUNCTIONS_SOURCE.find(needle).expect("needle") as u32;
    let on_keys = hover(&syntax, FUNCTIONS_SOURCE, Schema::builtin(), at("keys"))
        .expect("hover on keys")
        .markdown;
    assert!(on_keys.contains("map.keys() -> list<string>"), "{on_keys}");
    let on_trim = hover(
        &syntax,
        FUNCTIONS_SOURCE,
        Schema::builtin(),
        at("trim_prefix"),
    )
    .expect("hover on trim_prefix")
    .markdown;
    assert!(
        on_trim.contains("string.trim_prefix(prefix) -> string"),
        "{on_trim}"
    );
    // `labels` is a map of strings: `keys` is offered, the string methods are not.
    let on_map = labels(FUNCTIONS_SOURCE, at("keys") as usize);
    assert!(on_map.contains(&"keys".to_string()), "{on_map:?}");
    assert!(!on_map.contains(&"trim_prefix".to_string()), "{on_map:?}");
    let on_string = labels(FUNCTIONS_SOURCE, at("trim_prefix") as usize);
    for method in ["trim_prefix", "trim_suffix", "starts_with"] {
        assert!(on_string.contains(&method.to_string()), "{on_string:?}");
    }
    assert!(!on_string.contains(&"keys".to_string()), "{on_string:?}");
}

const RECORD_SOURCE: &str = "guardrail r {
  title \"T\"
  match kinds [Deployment]
  param ranges: list<{ min: int, max: int }> = []
  deny for r in params.ranges
    when object.spec.replicas < r.min
    message \"{r.max}\"
}
";

#[test]
fn record_param_fields_complete_and_hover() {
    let at = |needle: &str| RECORD_SOURCE.find(needle).expect("needle");
    let fields = labels(RECORD_SOURCE, at("min\n"));
    assert_eq!(
        fields,
        ["min", "max"],
        "the record's fields in declared order"
    );
    let syntax = FileSyntax::parse(RECORD_SOURCE);
    let on_min = hover(
        &syntax,
        RECORD_SOURCE,
        Schema::builtin(),
        at("min\n") as u32,
    )
    .expect("hover on r.min")
    .markdown;
    assert!(
        on_min.starts_with("**min**: `int`\n\na field of a record param"),
        "{on_min}"
    );
    let on_param = hover(
        &syntax,
        RECORD_SOURCE,
        Schema::builtin(),
        at("ranges\n") as u32,
    )
    .expect("hover on params.ranges")
    .markdown;
    assert_eq!(
        on_param,
        "(param) **ranges**: `list<record {min: int, max: int}>`"
    );
    // A quantifier variable over the records completes the same way.
    let any = RECORD_SOURCE.replace(
        "object.spec.replicas < r.min",
        "any x in params.ranges: x.max > 1",
    );
    let fields = labels(&any, any.find("max > 1").expect("needle"));
    assert_eq!(fields, ["min", "max"]);
}
