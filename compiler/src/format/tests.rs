use super::{format, FormatError};

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(out) => out,
        Err(error) => panic!("format failed: {error}"),
    }
}

#[test]
fn lays_out_items_rules_and_metadata() {
    let input = "guardrail   x{title \"T\" severity high\nmatch workloads param p : list < string > =[\"a\"]\n\n\n\
                 deny for c in pod.all_containers let i=c.image when i.ends_with( \":latest\" )or exists(c . ports [ 0 ]) message \"m {c.name}\" fix \"f\"}";
    let expected = "guardrail x {\n  title    \"T\"\n  severity high\n  match workloads\n  param p: list<string> = [\"a\"]\n\n  deny for c in pod.all_containers\n    let i = c.image\n    when i.ends_with(\":latest\") or exists(c.ports[0])\n    message \"m {c.name}\"\n    fix \"f\"\n}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn keeps_the_first_condition_on_the_rule_line_without_bindings() {
    let input = "guardrail x {\n  title \"T\"\n  require\n that a.b\n message \"m\"\n  deny when not (x.y == 1) message \"n\"\n}\n";
    let expected = "guardrail x {\n  title    \"T\"\n  require that a.b\n    message \"m\"\n  deny when not (x.y == 1)\n    message \"n\"\n}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn breaks_before_and_or_where_the_source_broke_the_line() {
    let input = "guardrail x {\n  deny when a.b and\n c.d or e.f\n    message \"m\"\n}\n";
    let expected = "guardrail x {\n  deny when (a.b\n      and c.d) or e.f\n    message \"m\"\n}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn keeps_every_comment_in_place() {
    let input = "# file header\n\nguardrail x { # after the brace\n  # before title\n  title \"T\" # trailing\n  deny when a.b # inside\n and c.d\n    message \"m\"\n  exempt { reason \"r\" # why\n expires 2027-01-01 }\n  # last in block\n}\n# at the end\n";
    let expected = "# file header\n\nguardrail x {  # after the brace\n  # before title\n  title    \"T\"  # trailing\n  deny when a.b  # inside\n      and c.d\n    message \"m\"\n  exempt {\n    reason \"r\"  # why\n    expires 2027-01-01\n  }\n  # last in block\n}\n# at the end\n";
    assert_eq!(formatted(input), expected);
    assert_eq!(formatted(expected), expected);
}

#[test]
fn separates_guardrails_by_one_blank_line() {
    let input = "guardrail a { title \"A\" }\n\n\n\nguardrail b { title \"B\" }";
    let expected = "guardrail a {\n  title    \"A\"\n}\n\nguardrail b {\n  title    \"B\"\n}\n";
    assert_eq!(formatted(input), expected);
}

#[test]
fn leaves_files_with_syntax_errors_alone() {
    let error = format("guardrail x { deny when message }").expect_err("the rule has no condition");
    assert!(matches!(error, FormatError::Syntax(_)));
}

#[test]
fn the_quickstart_examples_are_already_canonical() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/quickstart/guardrails"
    );
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("the quickstart example exists") {
        let path = entry.expect("a readable directory entry").path();
        let text = std::fs::read_to_string(&path).expect("a readable example");
        assert_eq!(
            formatted(&text),
            text,
            "{} is not canonical",
            path.display()
        );
        seen += 1;
    }
    assert!(seen > 0);
}

#[test]
fn lone_carriage_returns_end_lines_like_line_feeds() {
    let lf = "# file header\n\nguardrail x { # after the brace\n  title \"T\"\n  deny when a.b and\n c.d\n    message \"m\"\n}\n";
    let expected = formatted(lf);
    assert_eq!(formatted(&lf.replace('\n', "\r")), expected);
    assert_eq!(formatted(&lf.replace('\n', "\r\n")), expected);
}

#[test]
fn a_byte_order_mark_is_accepted_and_dropped() {
    let text = "guardrail x {\n  title \"T\"\n  deny when a.b\n    message \"m\"\n}\n";
    assert_eq!(formatted(&format!("\u{feff}{text}")), formatted(text));
}

/// `and` binds tighter than `or`; the formatter writes the parentheses that say so, so the
/// grouping reads as it parses.
#[test]
fn an_and_under_an_or_keeps_or_gets_its_parentheses() {
    let rule = |condition: &str| {
        format!("guardrail x {{\n  deny when {condition}\n    message \"m\"\n}}\n")
    };
    let cases = [
        // Kept as written.
        ("a.b or (c.d and e.f)", "a.b or (c.d and e.f)"),
        ("(a.b and c.d) or e.f", "(a.b and c.d) or e.f"),
        // Added where precedence alone decided.
        ("a.b or c.d and e.f", "a.b or (c.d and e.f)"),
        ("a.b and c.d or e.f", "(a.b and c.d) or e.f"),
        (
            "a.b and c.d or e.f and g.h or i.j",
            "(a.b and c.d) or (e.f and g.h) or i.j",
        ),
        ("a.b or c.d and e.f and g.h", "a.b or (c.d and e.f and g.h)"),
        // Inside parentheses, calls, `not` and quantifiers alike.
        ("not (a.b or c.d and e.f)", "not (a.b or (c.d and e.f))"),
        (
            "any r in p.l: r.x or r.y and r.z",
            "any r in p.l: r.x or (r.y and r.z)",
        ),
        ("f(a.b or c.d and e.f)", "f(a.b or (c.d and e.f))"),
        // `(a) and b` starts with a parenthesis that does not enclose it.
        ("(a.b) and c.d or e.f", "((a.b) and c.d) or e.f"),
        // Neither an `or` under an `and` (it needs its parentheses to parse so) nor a lone
        // `and` or `or` changes.
        ("(a.b or c.d) and e.f", "(a.b or c.d) and e.f"),
        ("a.b and c.d and e.f", "a.b and c.d and e.f"),
        ("a.b or c.d or e.f", "a.b or c.d or e.f"),
    ];
    for (input, expected) in cases {
        let out = formatted(&rule(input));
        assert_eq!(out, rule(expected), "formatting `{input}`");
        assert_eq!(formatted(&out), out, "formatting `{input}` twice");
    }
}

#[test]
fn added_parentheses_follow_line_breaks_and_comments() {
    let input =
        "guardrail x {\n  deny when a.b or c.d  # one\n and e.f\n or g.h\n    message \"m\"\n}\n";
    let expected = "guardrail x {\n  deny when a.b or (c.d  # one\n      and e.f)\n      or g.h\n    message \"m\"\n}\n";
    let out = formatted(input);
    assert_eq!(out, expected);
    assert_eq!(formatted(&out), out);
    // Params and lets hold expressions too.
    let input = "guardrail x {\n  let l = a.b or c.d and e.f\n}\n";
    let expected = "guardrail x {\n  let l = a.b or (c.d and e.f)\n}\n";
    assert_eq!(formatted(input), expected);
}
