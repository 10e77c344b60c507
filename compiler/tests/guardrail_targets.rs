//! `targets [...]` in a guardrail narrows the targets the project builds it for.

use guardrailc_compiler::emit::Target;
use guardrailc_compiler::project::{build_text, SourceFile};
use guardrailc_compiler::testing::TODAY;
use guardrailc_compiler::{format, Code};

const SOURCES: &str = r#"
guardrail team-label-immutable {
  title "the team label does not change"
  targets [vap, gatekeeper]
  match kinds [ConfigMap]
  match operations [UPDATE]
  deny when old.metadata.labels["team"] != object.metadata.labels["team"]
    message "the team label changed"
}

guardrail reads-old-everywhere {
  title "the same rule, for every target"
  match kinds [ConfigMap]
  match operations [UPDATE]
  deny when old.metadata.labels["team"] != object.metadata.labels["team"]
    message "the team label changed"
}
"#;

#[test]
fn a_guardrail_is_built_only_for_its_targets_and_warned_only_for_them() {
    let sources = [SourceFile {
        name: "labels.guard".into(),
        text: SOURCES.into(),
    }];
    let output = build_text(
        &sources,
        "targets = [\"vap\", \"gatekeeper\", \"opa\"]\n",
        TODAY,
    );
    // G0317 (request context the opa target lacks) only for the guardrail built for opa.
    let unavailable: Vec<&str> = output
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnavailableInTarget)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(unavailable.len(), 1, "{:#?}", output.diagnostics);
    assert!(
        unavailable[0].contains("reads-old-everywhere"),
        "{unavailable:?}"
    );
    let built = |id: &str| -> Vec<Target> {
        let mut targets: Vec<Target> = output
            .artifacts
            .iter()
            .filter(|a| a.guardrail == id)
            .map(|a| a.target)
            .collect();
        targets.dedup();
        targets
    };
    assert_eq!(
        built("team-label-immutable"),
        vec![Target::Gatekeeper, Target::Vap]
    );
    assert_eq!(
        built("reads-old-everywhere"),
        vec![Target::Gatekeeper, Target::Opa, Target::Vap]
    );
}

#[test]
fn the_formatter_keeps_a_targets_item() {
    let formatted = format::format(SOURCES).expect("the source formats");
    assert!(
        formatted.contains("  targets  [vap, gatekeeper]\n"),
        "{formatted}"
    );
    assert_eq!(
        format::format(&formatted).expect("formats again"),
        formatted
    );
}
