//! The catalog of a project's guardrails as one self-contained page (`guardrailc docs
//! --format html`): a summary with bars per environment, a table, then a card per
//! guardrail. The compiler builds the [`Catalog`] (and its Markdown); this renders it.

use super::{escape as h, page};
use guardrailc_compiler::catalog::Catalog;

/// One self-contained page: a summary with bars per environment, then a card per guardrail.
pub fn catalog_page(catalog: &Catalog) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"muted\">{} guardrails, {} environments</p>\n",
        h(&catalog.title),
        catalog.entries.len(),
        catalog.environments.len()
    ));
    out.push_str("<h2>Enforcement by environment</h2>\n<div class=\"legend muted\"><span class=\"deny\"></span>deny<span class=\"warn\"></span>warn<span class=\"audit\"></span>audit</div>\n<div class=\"bars by-env\">\n");
    let total = catalog.entries.len().max(1);
    for env in &catalog.environments {
        let count = |action: &str| {
            catalog
                .entries
                .iter()
                .filter(|e| e.enforcement_in(env) == action)
                .count()
        };
        out.push_str(&format!(
            "<div>{}</div><div class=\"bar\" title=\"{}\">",
            h(env),
            h(env)
        ));
        for action in ["deny", "warn", "audit"] {
            let n = count(action);
            if n > 0 {
                out.push_str(&format!(
                    "<span class=\"{action}\" style=\"width:{:.1}%\" title=\"{n} {action}\"></span>",
                    n as f64 * 100.0 / total as f64
                ));
            }
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n<h2>Guardrails</h2>\n<table>\n<thead><tr><th>guardrail</th><th>category</th><th>severity</th>");
    for env in &catalog.environments {
        out.push_str(&format!("<th>{}</th>", h(env)));
    }
    out.push_str("<th>evidence</th></tr></thead>\n<tbody>\n");
    for e in &catalog.entries {
        out.push_str(&format!(
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td>",
            h(&e.id),
            h(&e.title),
            h(&e.category),
            h(&e.severity)
        ));
        for env in &catalog.environments {
            let action = e.enforcement_in(env);
            out.push_str(&format!("<td>{}</td>", h(action)));
        }
        out.push_str(&format!("<td>{}</td></tr>\n", h(&e.evidence_text())));
    }
    out.push_str("</tbody>\n</table>\n");
    for e in &catalog.entries {
        out.push_str(&format!(
            "<section class=\"card\" id=\"{}\">\n<h3>{} <span class=\"muted\">{}</span></h3>\n",
            h(&e.id),
            h(&e.title),
            h(&e.id)
        ));
        out.push_str(&format!(
            "<p><span class=\"tag\">{}</span><span class=\"tag sev-{}\">{}</span>",
            h(&e.category),
            h(&e.severity),
            h(&e.severity)
        ));
        for c in &e.controls {
            out.push_str(&format!("<span class=\"tag\">{}</span>", h(c)));
        }
        out.push_str("</p>\n");
        if let Some(why) = &e.why {
            out.push_str(&format!("<p>{}</p>\n", h(why)));
        }
        out.push_str("<ul>\n");
        out.push_str(&format!("<li>matches {}</li>\n", h(&e.kinds.join(", "))));
        for line in &e.scope {
            out.push_str(&format!("<li>{}</li>\n", h(line)));
        }
        let rules = match e.rules {
            1 => "1 rule".to_string(),
            n => format!("{n} rules"),
        };
        out.push_str(&format!(
            "<li>{rules}, in <code>{}</code></li>\n",
            h(&e.file)
        ));
        if let Some(owner) = &e.owner {
            out.push_str(&format!("<li>owner {}</li>\n", h(owner)));
        }
        for p in &e.params {
            out.push_str(&format!("<li>param <code>{}</code>", h(&p.declaration)));
            if !p.values.is_empty() {
                out.push_str("<ul>");
                for v in &p.values {
                    let default = if v.default { " (default)" } else { "" };
                    out.push_str(&format!(
                        "<li>{}: <code>{}</code>{default}</li>",
                        h(&v.env),
                        h(&v.value)
                    ));
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>\n");
        }
        out.push_str("<li>enforcement<ul>");
        for line in e.enforcement_lines() {
            out.push_str(&format!("<li>{}</li>", h(&line)));
        }
        out.push_str("</ul></li>\n");
        for x in &e.exemptions {
            let (class, days) = match x.days_left {
                Some(d) if d < 0 => (" class=\"expired\"", format!("expired {} days ago", -d)),
                Some(d) => ("", format!("{d} days left")),
                None => ("", String::new()),
            };
            out.push_str(&format!(
                "<li{class}>exemption: {} — {} (until {}, {days})</li>\n",
                h(&x.targets),
                h(&x.reason),
                h(&x.expires)
            ));
        }
        out.push_str(&format!(
            "<li>evidence: {}</li>\n</ul>\n</section>\n",
            h(&e.evidence_text())
        ));
    }
    page(&catalog.title, &out)
}
