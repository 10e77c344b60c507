//! The API server shows a `messageExpression` only when it is one line and not blank; the
//! VAP engine shows what the API server would, so a message with a line break is caught by
//! the agreement with Gatekeeper, whose messages are shown as written.

use guardrailc_compiler::emit::Target;
use guardrailc_compiler::project::{build_text, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::Code;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::{AdmissionCase, Operation, SchemaCatalog, UserInfo};
use serde_json::json;

fn vap_and_gatekeeper_messages(
    guardrail: &str,
    object: serde_json::Value,
) -> (Vec<String>, Vec<String>) {
    let output = build_text(
        &[SourceFile {
            name: "g.guard".into(),
            text: guardrail.into(),
        }],
        "targets = [\"vap\", \"gatekeeper\"]\n",
        guardrailc_testkit::test_support::TODAY,
    );
    assert!(!output.artifacts.is_empty(), "{:?}", output.diagnostics);
    let compiled = load_compiled(output.policies, &output.artifacts).expect("loads");
    let case = AdmissionCase {
        operation: Operation::Create,
        object: Some(object),
        old_object: None,
        namespace_object: Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        ),
        user: UserInfo {
            username: "someone".into(),
            groups: Vec::new(),
        },
    };
    let evaluation = compiled[0]
        .evaluate(&case, &SchemaCatalog(Schema::builtin()))
        .expect("evaluates");
    let messages = |target: Target| {
        evaluation
            .outcomes
            .iter()
            .find(|(t, _)| *t == target)
            .map(|(_, outcome)| outcome.messages.clone())
            .unwrap_or_default()
    };
    (messages(Target::Vap), messages(Target::Gatekeeper))
}

fn pod(annotation: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "annotations": {"note": annotation}},
        "spec": {"hostNetwork": true, "containers": [{"name": "app", "image": "nginx"}]}
    })
}

const READS_AN_ANNOTATION: &str = "guardrail g {
  title \"t\"
  match kinds [Pod]
  deny let note = object.metadata.annotations[\"note\"]
    when object.spec.hostNetwork
    message \"host network: {note}\"
}
";

#[test]
fn a_message_with_a_line_break_from_the_object_shows_the_api_servers_fallback() {
    let (vap, gatekeeper) = vap_and_gatekeeper_messages(READS_AN_ANNOTATION, pod("two\nlines"));
    assert_eq!(vap.len(), 1);
    assert!(vap[0].starts_with("failed expression: "), "{vap:?}");
    assert_eq!(gatekeeper, ["host network: two\nlines"]);
}

#[test]
fn a_one_line_message_is_shown_as_written_by_both() {
    let (vap, gatekeeper) = vap_and_gatekeeper_messages(READS_AN_ANNOTATION, pod("one line"));
    assert_eq!(vap, ["host network: one line"]);
    assert_eq!(gatekeeper, vap);
}

#[test]
fn the_compiler_warns_of_a_line_break_it_can_see() {
    let output = build_text(
        &[SourceFile {
            name: "g.guard".into(),
            text: "guardrail g {\n  title \"t\"\n  match kinds [Pod]\n  deny when object.spec.hostNetwork\n    message \"two\\nlines\"\n}\n".into(),
        }],
        "targets = [\"vap\"]\n",
        guardrailc_testkit::test_support::TODAY,
    );
    let codes: Vec<Code> = output.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::HiddenMessage]);
    // A warning: the policy is still written.
    assert!(!output.artifacts.is_empty());
}
