//! `guardrailc docs`: the catalog of a project's guardrails for auditors and leadership —
//! intent, category, severity, controls, enforcement per environment, exemptions, and the
//! evidence that each guardrail works (fixture counts, last test result, coverage).
//! Rendered here as Markdown; the HTML page is rendered outside the compiler
//! (`guardrailc_testkit::report::html::catalog`), from the same [`Catalog`].

use crate::check::{describe_param_type, CheckedGuardrail};
use crate::config::{DefaultDenyCheck, DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE};
use crate::exemptions::ExemptionInfo;
use crate::ir::Policy;
use crate::plan::display;
use serde::Serialize;
use std::collections::BTreeMap;

/// Test evidence for one guardrail, as the test runner reports it. Counts are runs: a
/// fixture case in one environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Evidence {
    pub allowed_cases: usize,
    pub denied_cases: usize,
    pub passed: usize,
    pub failed: usize,
    /// Rules that yielded a violation in at least one run, of all rules.
    pub rules_covered: usize,
    pub rules: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub why: Option<String>,
    pub category: String,
    pub severity: String,
    pub owner: Option<String>,
    pub controls: Vec<String>,
    pub docs: Option<String>,
    pub file: String,
    pub kinds: Vec<String>,
    pub rules: usize,
    /// `name: type = default`.
    pub params: Vec<String>,
    /// Enforcement word per environment, in the catalog's environment order.
    pub enforcement: Vec<(String, String)>,
    pub exemptions: Vec<ExemptionInfo>,
    pub evidence: Option<Evidence>,
    /// What stands for evidence where a control has no fixtures of its own (a check built
    /// into guardrailc); shown instead of "no fixtures".
    pub evidence_note: Option<String>,
}

impl Entry {
    /// The enforcement word in an environment, `—` where the guardrail is not built there.
    pub fn enforcement_in(&self, env: &str) -> &str {
        self.enforcement
            .iter()
            .find(|(e, _)| e == env)
            .map_or("—", |(_, action)| action.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Catalog {
    pub title: String,
    pub environments: Vec<String>,
    pub entries: Vec<Entry>,
}

fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Builds the catalog from the checked guardrails (with their source file names), the
/// policies of every environment, the exemptions and whatever evidence is known.
pub fn build(
    title: &str,
    environments: &[String],
    guardrails: &[(String, &CheckedGuardrail)],
    policies: &[Policy],
    exemptions: &[ExemptionInfo],
    evidence: &BTreeMap<String, Evidence>,
) -> Catalog {
    let mut entries: Vec<Entry> = guardrails
        .iter()
        .map(|(file, g)| Entry {
            id: g.id.clone(),
            title: g.meta.title.clone(),
            why: g.meta.why.clone(),
            category: word(&g.meta.category),
            severity: word(&g.meta.severity),
            owner: g.meta.owner.clone(),
            controls: g.meta.controls.clone(),
            docs: g.meta.docs.clone(),
            file: file.clone(),
            kinds: g.matcher.resources.iter().map(|r| r.kind.clone()).collect(),
            rules: g.rules.len(),
            params: g
                .params
                .iter()
                .map(|p| match &p.default {
                    Some(d) => format!(
                        "{}: {} = {}",
                        p.name,
                        describe_param_type(&p.ty),
                        display(d)
                    ),
                    None => format!("{}: {}", p.name, describe_param_type(&p.ty)),
                })
                .collect(),
            enforcement: environments
                .iter()
                .filter_map(|env| {
                    let policy = policies.iter().find(|p| p.id == g.id && &p.env == env)?;
                    Some((env.clone(), word(&policy.enforcement)))
                })
                .collect(),
            exemptions: exemptions
                .iter()
                .filter(|e| e.guardrail == g.id)
                .cloned()
                .collect(),
            evidence: evidence.get(&g.id).cloned(),
            evidence_note: None,
        })
        .collect();
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    Catalog {
        title: title.to_string(),
        environments: environments.to_vec(),
        entries,
    }
}

/// The catalog entry of the configured default-deny NetworkPolicy check: a detective control
/// with no compiled form, reported by `guardrailc check` in every environment.
pub fn default_deny_entry(check: &DefaultDenyCheck, environments: &[String]) -> Entry {
    let directions: Vec<&str> = check.directions.iter().map(|d| d.as_str()).collect();
    let mut params = vec![format!("directions = [{}]", directions.join(", "))];
    if let Some(label) = &check.namespace_label {
        params.push(format!("namespace_label = {label}"));
    }
    params.push(format!(
        "exclude_namespaces = [{}]",
        check.exclude_namespaces.join(", ")
    ));
    Entry {
        id: DEFAULT_DENY_CHECK.to_string(),
        title: DEFAULT_DENY_TITLE.to_string(),
        why: Some(
            "Without a NetworkPolicy that denies all traffic by default, every pod of a namespace can reach and be reached by every other tenant. The check looks across a namespace's objects, which admission never sees at once, so `guardrailc check` runs it on cluster exports.".to_string(),
        ),
        category: "detective".to_string(),
        severity: "high".to_string(),
        owner: None,
        controls: vec!["multi-tenancy: network isolation".to_string()],
        docs: Some("docs/configuration.md#detective-checks-across-objects".to_string()),
        file: "guardrails.toml".to_string(),
        kinds: vec!["Namespace".to_string(), "NetworkPolicy".to_string()],
        rules: 1,
        params,
        enforcement: environments
            .iter()
            .map(|env| (env.clone(), word(&check.enforcement)))
            .collect(),
        exemptions: Vec::new(),
        evidence: None,
        evidence_note: Some(
            "built into guardrailc and tested in its own suite (`testkit/src/network_policy.rs`, `tests/rollout.rs`); runs on exports, so projects have no fixtures for it".to_string(),
        ),
    }
}

/// The anchor GitHub (and most Markdown renderers) give a heading: lowercase, with every
/// character other than letters, digits, `-` and `_` dropped and spaces made `-`. A catalog
/// of several projects names entries `set/id`, whose `/` the anchor drops.
fn heading_slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

impl Entry {
    /// The evidence in one line: run counts and rules fired, or why there is none.
    pub fn evidence_text(&self) -> String {
        match &self.evidence {
            None => self
                .evidence_note
                .clone()
                .unwrap_or_else(|| "no fixtures".into()),
            Some(e) => format!(
                "{} allowed / {} denied runs, {} passed, {} failed, {}/{} rules fired",
                e.allowed_cases, e.denied_cases, e.passed, e.failed, e.rules_covered, e.rules
            ),
        }
    }
}

/// Markdown: a summary table, then one section per guardrail.
pub fn markdown(catalog: &Catalog) -> String {
    let mut out = format!("# {}\n\n", catalog.title);
    out.push_str(&format!("{} guardrails.\n\n", catalog.entries.len()));
    out.push_str("| guardrail | category | severity |");
    for env in &catalog.environments {
        out.push_str(&format!(" {env} |"));
    }
    out.push_str(" evidence |\n|---|---|---|");
    out.push_str(&"---|".repeat(catalog.environments.len()));
    out.push_str("---|\n");
    for e in &catalog.entries {
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} |",
            md(&e.title),
            heading_slug(&e.id),
            e.category,
            e.severity
        ));
        for env in &catalog.environments {
            out.push_str(&format!(" {} |", e.enforcement_in(env)));
        }
        out.push_str(&format!(" {} |\n", e.evidence_text()));
    }
    for e in &catalog.entries {
        out.push_str(&format!("\n## {}\n\n", e.id));
        out.push_str(&format!("**{}**", md(&e.title)));
        if let Some(why) = &e.why {
            out.push_str(&format!(" — {}", md(why)));
        }
        out.push_str("\n\n");
        out.push_str(&format!(
            "- category: {}, severity: {}\n",
            e.category, e.severity
        ));
        if let Some(owner) = &e.owner {
            out.push_str(&format!("- owner: {}\n", md(owner)));
        }
        if !e.controls.is_empty() {
            out.push_str(&format!(
                "- controls: {}\n",
                e.controls
                    .iter()
                    .map(|c| md(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(docs) = &e.docs {
            out.push_str(&format!("- docs: <{docs}>\n"));
        }
        out.push_str(&format!("- matches: {}\n", e.kinds.join(", ")));
        out.push_str(&format!("- rules: {}, defined in `{}`\n", e.rules, e.file));
        for p in &e.params {
            out.push_str(&format!("- param `{p}`\n"));
        }
        let enforcement: Vec<String> = e
            .enforcement
            .iter()
            .map(|(env, a)| format!("{env}: {a}"))
            .collect();
        out.push_str(&format!("- enforcement: {}\n", enforcement.join(", ")));
        for x in &e.exemptions {
            let days = x.days_left.map_or(String::new(), |d| {
                if d < 0 {
                    format!(", expired {} days ago", -d)
                } else {
                    format!(", {d} days left")
                }
            });
            out.push_str(&format!(
                "- exemption: {} — {} (owner {}, until {}{days})\n",
                md(&x.targets),
                md(&x.reason),
                x.owner.as_deref().map_or("none".to_string(), md),
                x.expires
            ));
        }
        out.push_str(&format!("- evidence: {}\n", e.evidence_text()));
    }
    out
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_the_heading_slugs_of_markdown_renderers() {
        assert_eq!(heading_slug("no-latest-tag"), "no-latest-tag");
        assert_eq!(
            heading_slug("pod-security/restricted/run-as-non-root"),
            "pod-securityrestrictedrun-as-non-root"
        );
        assert_eq!(heading_slug("Mixed Case_id"), "mixed-case_id");
    }
}
