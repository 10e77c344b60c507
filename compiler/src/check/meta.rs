//! A guardrail's metadata: title, why, category, severity, owner, controls, docs.

use super::*;

pub(super) fn check_meta(
    guardrail: &ast::Guardrail,
    diagnostics: &mut Vec<Diagnostic>,
) -> ir::Meta {
    let mut meta = ir::Meta::default();
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
    meta
}
