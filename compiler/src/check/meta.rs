//! A guardrail's metadata (title, why, category, severity, owner, controls, docs, targets)
//! and its `enforce` entries.

use super::*;
use crate::emit::Target;

/// The metadata, and the targets the guardrail is for when it names them (`targets [vap,
/// gatekeeper]`; otherwise every target the project builds).
pub(super) fn check_meta(
    guardrail: &ast::Guardrail,
    diagnostics: &mut Vec<Diagnostic>,
) -> (ir::Meta, Option<Vec<Target>>) {
    let mut meta = ir::Meta::default();
    let mut targets = None;
    let mut seen: Vec<(&str, Span)> = Vec::new();
    let mut has_title = false;
    for item in &guardrail.items {
        let Item::Meta(m) = item else { continue };
        let key = m.key.name.as_str();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateItem,
                    m.span,
                    format!("`{key}` is given twice"),
                )
                .with_secondary(*first, "first given here")
                .with_help("keep one of them"),
            );
            continue;
        }
        seen.push((key, m.span));
        match (key, &m.value) {
            ("title", MetaValue::Text(t)) => {
                has_title = true;
                meta.title = t.value.clone();
            }
            ("why", MetaValue::Text(t)) => meta.why = Some(t.value.clone()),
            ("owner", MetaValue::Text(t)) => meta.owner = Some(t.value.clone()),
            ("docs", MetaValue::Text(t)) => meta.docs = Some(t.value.clone()),
            ("controls", MetaValue::List(list)) => {
                meta.controls = list.iter().map(|s| s.value.clone()).collect()
            }
            ("category", MetaValue::Word(w)) => {
                meta.category = match w.name.as_str() {
                    "preventive" => ir::Category::Preventive,
                    "detective" => ir::Category::Detective,
                    "corrective" => ir::Category::Corrective,
                    other => {
                        let s = crate::suggest::closest(
                            other,
                            ["preventive", "detective", "corrective"],
                        );
                        let mut d = Diagnostic::new(
                            Code::UnknownCategory,
                            w.span,
                            format!("`{other}` is not a category"),
                        )
                        .with_help("use preventive, detective or corrective");
                        if let Some(s) = s {
                            d = d.with_edit(w.span, s);
                        }
                        diagnostics.push(d);
                        continue;
                    }
                }
            }
            ("severity", MetaValue::Word(w)) => {
                meta.severity = match w.name.as_str() {
                    "low" => ir::Severity::Low,
                    "medium" => ir::Severity::Medium,
                    "high" => ir::Severity::High,
                    "critical" => ir::Severity::Critical,
                    other => {
                        let s =
                            crate::suggest::closest(other, ["low", "medium", "high", "critical"]);
                        let mut d = Diagnostic::new(
                            Code::UnknownSeverity,
                            w.span,
                            format!("`{other}` is not a severity"),
                        )
                        .with_help("use low, medium, high or critical");
                        if let Some(s) = s {
                            d = d.with_edit(w.span, s);
                        }
                        diagnostics.push(d);
                        continue;
                    }
                }
            }
            ("targets", MetaValue::Words(words)) => {
                targets = Some(check_targets(words, m.span, diagnostics));
            }
            _ => {}
        }
    }
    if !has_title {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingItem,
                guardrail.id.span,
                format!("guardrail `{}` has no `title`", guardrail.id.name),
            )
            .with_help("add `title \"…\"`: catalogs and reports show it"),
        );
    }
    (meta, targets)
}

/// The targets of a `targets` item, each once, in the order of [`Target::ALL`].
fn check_targets(
    words: &[ast::Ident],
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Target> {
    let names = Target::ALL.map(Target::as_str);
    let mut targets = Vec::new();
    for word in words {
        match Target::parse(&word.name) {
            Some(target) => targets.push(target),
            None => {
                let mut d = Diagnostic::new(
                    Code::UnknownTarget,
                    word.span,
                    format!("`{}` is not a target", word.name),
                )
                .with_help("targets are vap, gatekeeper and opa");
                if let Some(s) = crate::suggest::closest(&word.name, names) {
                    d = d.with_edit(word.span, s);
                }
                diagnostics.push(d);
            }
        }
    }
    if words.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingItem,
                span,
                "`targets` names no target".to_string(),
            )
            .with_help("name the targets the guardrail is for, such as `targets [vap, gatekeeper]`, or remove the item to build it for every target"),
        );
    }
    targets.sort_by_key(|t| Target::ALL.iter().position(|a| a == t));
    targets.dedup();
    targets
}

/// The entries of an `enforce` item: `(environment or None for all, action, span)`.
pub(super) fn check_enforce(
    enforce: &ast::Enforce,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(Option<String>, ir::Enforcement, Span)> {
    let mut entries = Vec::new();
    for entry in &enforce.entries {
        let action = match entry.action.name.as_str() {
            "deny" => ir::Enforcement::Deny,
            "warn" => ir::Enforcement::Warn,
            "audit" | "dryrun" => ir::Enforcement::Audit,
            other => {
                let suggestion = crate::suggest::closest(other, ["deny", "warn", "audit"]);
                let mut d = Diagnostic::new(
                    Code::UnknownEnforcement,
                    entry.action.span,
                    format!("`{other}` is not an enforcement action"),
                )
                .with_help("use deny, warn or audit");
                if let Some(s) = suggestion {
                    d = d.with_edit(entry.action.span, s);
                }
                diagnostics.push(d);
                continue;
            }
        };
        let span = entry
            .env
            .as_ref()
            .map_or(entry.action.span, |e| e.span.to(entry.action.span));
        entries.push((entry.env.as_ref().map(|e| e.name.clone()), action, span));
    }
    entries
}
