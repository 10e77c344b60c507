//! What emitted output must stay within to be applied where it ships and checked by the
//! testkit, and the build-time checks that say so (docs/security.md, "What guardrailc writes").

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::emit::{Artifact, Target};
use crate::ir::{self, Expr};
use crate::span::Span;

/// Loops one rule may nest: `for` clauses plus `any`/`all` along one path. Measured with a
/// trivial body: regorus' register window (255) overflows at 26 nested `for` and between 24
/// and 32 nested `any`; the `cel` crate's parser recursion limit is reached between 64 and 100
/// nested loops. A bigger body takes registers too, hence the margin.
pub const MAX_LOOP_DEPTH: usize = 16;

/// The largest emitted object: etcd refuses requests over 1.5 MiB (its default
/// `--max-request-bytes`), so the API server cannot store a bigger object.
/// <https://etcd.io/docs/v3.5/dev-guide/limit/>
pub const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// The Rego modules the testkit's engine loads: regorus' default limits
/// (`utils/limits/length.rs`): at most this many bytes, fewer lines than `MAX_REGO_LINES` and
/// lines of at most `MAX_REGO_COLUMNS` characters.
pub const MAX_REGO_BYTES: usize = 1_048_576;
pub const MAX_REGO_LINES: usize = 20_000;
pub const MAX_REGO_COLUMNS: usize = 1024;

/// G0505 for each rule (and exemption) of `policy` that nests more than [`MAX_LOOP_DEPTH`]
/// loops. `guardrail_span` places exemption findings.
pub fn check_loop_depth(policy: &ir::Policy, guardrail_span: Span) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let too_deep = |span: Span, depth: usize, what: &str| {
        Diagnostic::new(
            Code::LoopNestingTooDeep,
            span,
            format!("this {what} nests {depth} loops; at most {MAX_LOOP_DEPTH} are supported"),
        )
        .with_help("split the rule, or iterate a flatter list")
    };
    for rule in &policy.rules {
        let generators = rule
            .generators
            .iter()
            .enumerate()
            .map(|(outer, generator)| outer + loop_depth(&generator.list))
            .max()
            .unwrap_or(0);
        let depth = generators.max(rule.generators.len() + loop_depth(&rule.condition));
        if depth > MAX_LOOP_DEPTH {
            diagnostics.push(too_deep(rule.span, depth, "rule"));
        }
    }
    for exemption in &policy.exemptions {
        let depth = loop_depth(&exemption.condition);
        if depth > MAX_LOOP_DEPTH {
            diagnostics.push(too_deep(guardrail_span, depth, "exemption"));
        }
    }
    diagnostics
}

/// The deepest nesting of `any`/`all` in `expr`.
fn loop_depth(expr: &Expr) -> usize {
    let mut deepest = 0;
    match expr {
        Expr::Quantified { list, body, .. } => {
            deepest = loop_depth(list).max(1 + loop_depth(body));
        }
        other => other.for_each_child(|child| deepest = deepest.max(loop_depth(child))),
    }
    deepest
}

/// G0506 when `artifact` is an object over [`MAX_OBJECT_BYTES`], or holds a Rego module past
/// what the testkit loads. `span` is the guardrail's (or the project's, for files of a whole
/// environment).
pub fn check_size(artifact: &Artifact, span: Span) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let too_large = |message: String, help: &str| {
        Diagnostic::new(Code::OutputTooLarge, span, message).with_help(help.to_string())
    };
    let size = artifact.contents.len();
    if artifact.path.ends_with(".yaml") && size > MAX_OBJECT_BYTES {
        diagnostics.push(too_large(
            format!(
                "`{}` would be {size} bytes; Kubernetes stores objects of at most {MAX_OBJECT_BYTES} bytes (1.5 MiB, etcd's request limit)",
                artifact.path
            ),
            "split the guardrail into several, or shorten its literal lists and messages",
        ));
    }
    let module = match artifact.target {
        Target::Opa => Some(artifact.contents.clone()),
        Target::Gatekeeper if artifact.path.ends_with(".template.yaml") => {
            // In a literal block every line of the module is a line of the YAML, indented: a
            // document within the limits holds a module within them, without parsing it.
            let literal = artifact
                .contents
                .lines()
                .any(|line| line.trim_start() == "rego: |" || line.trim_start() == "rego: |-");
            if literal && rego_module_problem(&artifact.contents).is_none() {
                None
            } else {
                template_module(&artifact.contents)
            }
        }
        _ => None,
    };
    if let Some(problem) = module.as_deref().and_then(rego_module_problem) {
        diagnostics.push(too_large(
            format!("the Rego module of `{}` {problem}", artifact.path),
            "split the guardrail into several, or shorten its literal lists and messages",
        ));
    }
    diagnostics
}

/// Why the testkit's Rego engine would refuse `module`, if it would.
fn rego_module_problem(module: &str) -> Option<String> {
    if module.len() > MAX_REGO_BYTES {
        return Some(format!(
            "is {} bytes; the Rego engine of `guardrailc test` loads at most {MAX_REGO_BYTES}",
            module.len()
        ));
    }
    let lines = module.lines().count();
    if lines >= MAX_REGO_LINES {
        return Some(format!(
            "has {lines} lines; the Rego engine of `guardrailc test` loads fewer than {MAX_REGO_LINES}"
        ));
    }
    let (number, longest) = module
        .lines()
        .map(|line| line.chars().count())
        .enumerate()
        .max_by_key(|(_, width)| *width)?;
    (longest > MAX_REGO_COLUMNS).then(|| {
        format!(
            "has a line of {longest} characters (line {}); the Rego engine of `guardrailc test` reads lines of at most {MAX_REGO_COLUMNS}",
            number + 1
        )
    })
}

/// The Rego of a ConstraintTemplate document.
fn template_module(yaml: &str) -> Option<String> {
    let document: serde_json::Value = yaml_serde::from_str(yaml).ok()?;
    document["spec"]["targets"][0]["code"][0]["source"]["rego"]
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rego_modules_within_the_engine_limits_pass() {
        assert_eq!(rego_module_problem("package p\n\nallow := true\n"), None);
        let line = "x".repeat(MAX_REGO_COLUMNS);
        assert_eq!(rego_module_problem(&line), None);
    }

    #[test]
    fn rego_modules_past_each_engine_limit_are_named() {
        let wide = "x".repeat(MAX_REGO_COLUMNS + 1);
        assert!(rego_module_problem(&format!("package p\n{wide}\n"))
            .is_some_and(|p| p.contains("1025 characters (line 2)")));
        let long = "a\n".repeat(MAX_REGO_LINES);
        assert!(rego_module_problem(&long).is_some_and(|p| p.contains("20000 lines")));
        let big = format!("{}\n", "y".repeat(1000)).repeat(MAX_REGO_BYTES / 1000);
        assert!(rego_module_problem(&big).is_some_and(|p| p.contains("bytes")));
    }

    fn template(contents: String) -> Artifact {
        Artifact {
            env: "prod".into(),
            target: Target::Gatekeeper,
            guardrail: "g".into(),
            path: "prod/gatekeeper/g.template.yaml".into(),
            contents,
        }
    }

    #[test]
    fn a_template_is_checked_for_its_module_in_block_or_quoted_style() {
        let module = |width: usize| format!("package p\n\nmsg := \"{}\"\n", "m".repeat(width));
        let document = |module: String| {
            serde_json::json!({
                "kind": "ConstraintTemplate",
                "spec": { "targets": [{ "code": [{ "source": { "rego": module } }] }] },
            })
        };
        let block = template(crate::emit::yaml_document("", &document(module(1100))));
        assert!(block.contents.contains("rego: |"), "{}", block.contents);
        let problems = check_size(&block, Span::default());
        assert_eq!(problems.len(), 1);
        assert!(problems[0]
            .message
            .contains("a line of 1109 characters (line 3)"));
        assert!(check_size(
            &template(crate::emit::yaml_document("", &document(module(900)))),
            Span::default()
        )
        .is_empty());
        // Folded across short YAML lines, the long Rego line is still found.
        let quoted = format!(
            "kind: ConstraintTemplate\nspec:\n  targets:\n  - code:\n    - source:\n        rego: \"package p\\n\\nmsg := \\\"{}\\\n          {}\\\"\\n\"\n",
            "m".repeat(600),
            "m".repeat(500)
        );
        assert!(quoted.lines().all(|line| line.len() < 700), "{quoted}");
        let problems = check_size(&template(quoted), Span::default());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("a line of 1109 characters"));
    }
}
