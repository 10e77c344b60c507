//! The impact report of `guardrailc check --format html`: one self-contained page a person
//! reads at a glance — a summary with bars per namespace and per owner, then every finding.
//! No scripts and no external assets.

use super::{escape as h, page};
use crate::manifest_check::{Finding, Group};
use crate::outcome::Verdict;
use guardrailc_compiler::render::count;

/// What the page shows.
pub struct ImpactReport<'a> {
    pub title: &'a str,
    pub objects: usize,
    pub findings: &'a [Finding],
    pub by_namespace: &'a [(Option<String>, Group)],
    /// The grouping label's key and the groups by its value.
    pub label_key: &'a str,
    pub by_label: &'a [(Option<String>, Group)],
}

pub fn impact_page(report: &ImpactReport) -> String {
    let denied = report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Deny)
        .count();
    let mut out = String::new();
    out.push_str(&format!("<h1>{}</h1>\n", h(report.title)));
    out.push_str("<div class=\"cards\">");
    for (value, label) in [
        (report.objects, "objects checked"),
        (report.findings.len(), "findings"),
        (denied, "would be denied"),
    ] {
        out.push_str(&format!(
            "<div class=\"card\"><b>{value}</b><span class=\"muted\">{label}</span></div>"
        ));
    }
    out.push_str("</div>\n");
    let max = report
        .by_namespace
        .iter()
        .chain(report.by_label)
        .map(|(_, g)| g.findings)
        .max()
        .unwrap_or(1)
        .max(1);
    for (title, groups, none) in [
        ("By namespace", report.by_namespace, "(cluster-scoped)"),
        (
            &*format!("By {}", report.label_key),
            report.by_label,
            "(no label)",
        ),
    ] {
        out.push_str(&format!(
            "<h2>{}</h2>\n<div class=\"bars by-group\">\n",
            h(title)
        ));
        for (key, group) in groups {
            let width = |n: usize| n as f64 * 100.0 / max as f64;
            out.push_str(&format!(
                "<div>{}</div><div class=\"bar\"><span class=\"deny\" style=\"width:{:.1}%\"></span><span class=\"other\" style=\"width:{:.1}%\"></span></div><div class=\"muted\">{}, {} denied</div>\n",
                h(key.as_deref().unwrap_or(none)),
                width(group.denied),
                width(group.findings - group.denied),
                count(group.findings, "finding"),
                group.denied
            ));
        }
        out.push_str("</div>\n");
    }
    out.push_str("<h2>Findings</h2>\n<table>\n<thead><tr><th>verdict</th><th>environment</th><th>guardrail</th><th>object</th><th>message</th><th>source</th></tr></thead>\n<tbody>\n");
    for f in report.findings {
        let verdict = f.verdict.as_str();
        out.push_str(&format!(
            "<tr><td class=\"v-{verdict}\">{verdict}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}:{}</td></tr>\n",
            h(&f.env),
            h(&f.guardrail),
            h(&f.object),
            h(&f.message),
            h(&f.file),
            f.line
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    page(report.title, &out)
}
