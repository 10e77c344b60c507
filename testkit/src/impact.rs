//! The impact report of `guardrailc check --format html`: one self-contained page a person
//! reads at a glance — a summary with bars per namespace and per owner, then every finding.
//! No scripts and no external assets.

use crate::manifest_check::{Finding, Group};
use crate::outcome::Verdict;
use guardrailc_compiler::catalog::html_escape as h;
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

pub fn impact_html(report: &ImpactReport) -> String {
    let denied = report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Deny)
        .count();
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>{}</title>\n", h(report.title)));
    out.push_str("<style>\nbody{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;padding:0 1rem}\n.muted{color:#57606a}.cards{display:flex;gap:1rem;margin:1rem 0 2rem}\n.card{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1.2rem;min-width:9rem}.card b{display:block;font-size:1.8rem}\n.bars{display:grid;grid-template-columns:14rem 1fr 7rem;gap:.4rem 1rem;align-items:center;margin-bottom:2rem}\n.bar{display:flex;height:1.1rem;background:#eaeef2;border-radius:3px;overflow:hidden}.bar span{display:block;height:100%}\n.deny{background:#cf222e}.other{background:#bf8700}\ntable{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}\n.v-deny{color:#cf222e;font-weight:600}.v-warn{color:#9a6700;font-weight:600}.v-audit{color:#0969da}\n</style>\n</head>\n<body>\n");
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
        out.push_str(&format!("<h2>{}</h2>\n<div class=\"bars\">\n", h(title)));
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
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}
