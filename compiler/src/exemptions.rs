//! The exemptions of a project as people review them: what they cover, why, who owns them,
//! and how many days are left.

use crate::project::SourceFile;
use crate::span::Span;
use crate::syntax::ast::{self, Item, SelectorTest};
use crate::syntax::parse;
use crate::SourceId;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExemptionInfo {
    pub guardrail: String,
    pub file: String,
    pub line: usize,
    /// What the exemption covers, e.g. `namespaces monitoring; labels app=node-exporter`.
    pub targets: String,
    pub reason: String,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`, or empty when missing (the checker reports that).
    pub expires: String,
    /// Days from today until the expiry day, inclusive of it: 0 on the last valid day,
    /// negative once expired.
    pub days_left: Option<i64>,
    #[serde(skip)]
    pub span: Span,
}

/// Every exemption in the sources, in file order. Files that do not parse still list the
/// exemptions the parser recovered.
pub fn list(sources: &[SourceFile], today: (u16, u8, u8)) -> Vec<ExemptionInfo> {
    let mut out = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let parsed = parse(SourceId(index as u32), &source.text);
        let lines = crate::span::LineIndex::new(&source.text);
        for guardrail in &parsed.file.guardrails {
            for item in &guardrail.items {
                let Item::Exempt(exempt) = item else { continue };
                let expires = exempt.expires.map(|d| d.to_string()).unwrap_or_default();
                let days_left = exempt.expires.map(|d| {
                    days_from_civil(d.year, d.month, d.day)
                        - days_from_civil(today.0, today.1, today.2)
                });
                out.push(ExemptionInfo {
                    guardrail: guardrail.id.name.clone(),
                    file: source.name.clone(),
                    line: lines.line_of(exempt.span.start as usize) + 1,
                    targets: describe_targets(exempt),
                    reason: exempt.reason_text(),
                    owner: exempt.owner_text(),
                    expires,
                    days_left,
                    span: exempt.span,
                });
            }
        }
    }
    out
}

fn describe_targets(exempt: &ast::Exempt) -> String {
    let strings = |list: &[ast::StrLit]| {
        list.iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !exempt.namespaces.is_empty() {
        parts.push(format!("namespaces {}", strings(&exempt.namespaces)));
    }
    if !exempt.names.is_empty() {
        parts.push(format!("names {}", strings(&exempt.names)));
    }
    if !exempt.images.is_empty() {
        parts.push(format!("images {}", strings(&exempt.images)));
    }
    if !exempt.labels.is_empty() {
        let terms: Vec<String> = exempt
            .labels
            .iter()
            .map(|t| {
                let key = &t.key.value;
                match &t.test {
                    SelectorTest::Equals(v) => format!("{key}={}", v.value),
                    SelectorTest::NotEquals(v) => format!("{key}!={}", v.value),
                    SelectorTest::In(list) => format!("{key} in ({})", strings(list)),
                    SelectorTest::NotIn(list) => format!("{key} notin ({})", strings(list)),
                    SelectorTest::Exists => key.clone(),
                    SelectorTest::Missing => format!("!{key}"),
                }
            })
            .collect();
        parts.push(format!("labels {}", terms.join(",")));
    }
    parts.join("; ")
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: u16, month: u8, day: u8) -> i64 {
    let (y, m, d) = (
        i64::from(year) - i64::from(month <= 2),
        i64::from(month),
        i64::from(day),
    );
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_across_leap_years() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(2023, 3, 1) - days_from_civil(2023, 2, 28),
            1
        );
        assert_eq!(
            days_from_civil(2027, 1, 1) - days_from_civil(2026, 12, 31),
            1
        );
    }

    #[test]
    fn lists_exemptions_with_days_left() {
        let text = "guardrail g {\n  title \"t\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"m\"\n  exempt {\n    namespaces [\"a\", \"b\"]\n    labels { \"app\" = \"x\", \"legacy\" exists }\n    reason \"r\"\n    owner \"o\"\n    expires 2026-12-01\n  }\n}\n";
        let sources = [SourceFile {
            name: "g.guard".into(),
            text: text.into(),
        }];
        let list = list(&sources, crate::testing::TODAY);
        assert_eq!(list.len(), 1);
        let e = &list[0];
        assert_eq!(e.targets, "namespaces a, b; labels app=x,legacy");
        assert_eq!(e.days_left, Some(3));
        assert_eq!(e.line, 5);
        assert_eq!(e.owner.as_deref(), Some("o"));
    }
}
