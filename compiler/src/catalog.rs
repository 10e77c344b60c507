//! `guardrailc docs`: the catalog of a project's guardrails for auditors and leadership —
//! intent, category, severity, controls, enforcement per environment, exemptions, and the
//! evidence that each guardrail works (fixture counts, last test result, coverage).
//! Rendered here as Markdown; the HTML page is rendered outside the compiler
//! (`guardrailc_testkit::report::html::catalog`), from the same [`Catalog`].

use crate::check::{describe_param_type, CheckedGuardrail};
use crate::config::{DefaultDenyCheck, Environment, DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE};
use crate::exemptions::ExemptionInfo;
use crate::ir::{self, Policy, SelectorOperator};
use crate::plan::display;
use crate::project::enforcement_with_source;
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
    /// Where it applies beyond the kinds, in words ([`scope`]): operations, namespaces,
    /// namespace and object label selectors (the `match` and `exclude` clauses).
    pub scope: Vec<String>,
    pub rules: usize,
    pub params: Vec<ParamEntry>,
    /// Enforcement word per environment, in the catalog's environment order.
    pub enforcement: Vec<(String, String)>,
    /// Per environment, the setting that decided its enforcement
    /// ([`crate::project::EnforcementSource::describe`]); empty where none applies.
    pub enforcement_from: Vec<(String, String)>,
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

/// A param: its declaration and its value in each environment the guardrail is built for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamEntry {
    /// `name: type = default`, or `name: type` without a default.
    pub declaration: String,
    pub values: Vec<ParamValueIn>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamValueIn {
    pub env: String,
    /// The value as JSON ([`display`]).
    pub value: String,
    /// Whether it is the declared default (no value in guardrails.toml).
    pub default: bool,
}

impl ParamEntry {
    /// The values in one line: `dev: [..] (default), prod: [..]`.
    pub fn values_text(&self) -> String {
        self.values
            .iter()
            .map(|v| {
                let default = if v.default { " (default)" } else { "" };
                format!("{}: {}{default}", v.env, v.value)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where a guardrail applies beyond its kinds, one line per aspect: the operations, the
/// namespaces (`match namespaces` and `exclude namespaces`), and the label selectors on the
/// namespace and on the object. Selectors are written in the language's selector syntax; an
/// `exclude` term appears as the test objects must pass (`exclude labels { "a" exists }` is
/// `"a" missing`).
pub fn scope(matcher: &ir::Match) -> Vec<String> {
    let mut lines = Vec::new();
    let ops: Vec<&str> = matcher.operations.iter().map(|o| o.as_str()).collect();
    lines.push(format!("operations: {}", ops.join(", ")));
    let all_cluster_scoped =
        !matcher.resources.is_empty() && matcher.resources.iter().all(|r| !r.namespaced);
    let mut namespaces = if matcher.namespaces.is_empty() {
        "all".to_string()
    } else {
        format!("only {}", matcher.namespaces.join(", "))
    };
    if !matcher.excluded_namespaces.is_empty() {
        namespaces.push_str(&format!(
            " except {}",
            matcher.excluded_namespaces.join(", ")
        ));
    }
    if !all_cluster_scoped || namespaces != "all" {
        lines.push(format!("namespaces: {namespaces}"));
    }
    if !matcher.namespace_selector.is_empty() {
        lines.push(format!(
            "namespace labels: {}",
            selector_text(&matcher.namespace_selector)
        ));
    }
    if !matcher.object_selector.is_empty() {
        lines.push(format!(
            "object labels: {}",
            selector_text(&matcher.object_selector)
        ));
    }
    lines
}

/// A label selector in the language's syntax: `"env" = "prod", "tier" in ["a", "b"]`.
fn selector_text(selector: &ir::LabelSelector) -> String {
    let quote = |s: &str| format!("{s:?}");
    let list = |values: &[String]| {
        format!(
            "[{}]",
            values
                .iter()
                .map(|v| quote(v))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
        .collect();
    for r in &selector.match_expressions {
        let key = quote(&r.key);
        terms.push(match (r.operator, r.values.as_slice()) {
            (SelectorOperator::In, [one]) => format!("{key} = {}", quote(one)),
            (SelectorOperator::In, values) => format!("{key} in {}", list(values)),
            (SelectorOperator::NotIn, [one]) => format!("{key} != {}", quote(one)),
            (SelectorOperator::NotIn, values) => format!("{key} not in {}", list(values)),
            (SelectorOperator::Exists, _) => format!("{key} exists"),
            (SelectorOperator::DoesNotExist, _) => format!("{key} missing"),
        });
    }
    terms.join(", ")
}

/// The params of a guardrail with their values in each environment it is built for, in the
/// order of `environments`.
pub fn params(
    guardrail: &CheckedGuardrail,
    environments: &[Environment],
    policies: &[Policy],
) -> Vec<ParamEntry> {
    guardrail
        .params
        .iter()
        .map(|p| {
            let declaration = match &p.default {
                Some(d) => format!(
                    "{}: {} = {}",
                    p.name,
                    describe_param_type(&p.ty),
                    display(d)
                ),
                None => format!("{}: {}", p.name, describe_param_type(&p.ty)),
            };
            let values = environments
                .iter()
                .filter_map(|env| {
                    policies
                        .iter()
                        .find(|policy| policy.id == guardrail.id && policy.env == env.name)
                })
                .filter_map(|policy| {
                    let value = policy.params.iter().find(|v| v.name == p.name)?;
                    Some(ParamValueIn {
                        env: policy.env.clone(),
                        value: display(&value.value),
                        default: p.default.as_ref() == Some(&value.value),
                    })
                })
                .collect();
            ParamEntry {
                declaration,
                values,
            }
        })
        .collect()
}

/// The setting that decides a guardrail's enforcement in each environment, described.
pub fn enforcement_from(
    guardrail: &CheckedGuardrail,
    environments: &[Environment],
) -> Vec<(String, String)> {
    environments
        .iter()
        .map(|env| {
            let (_, source) = enforcement_with_source(guardrail, env);
            (env.name.clone(), source.describe(&guardrail.id, &env.name))
        })
        .collect()
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
    environments: &[Environment],
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
            scope: scope(&g.matcher),
            rules: g.rules.len(),
            params: params(g, environments, policies),
            enforcement: environments
                .iter()
                .filter_map(|env| {
                    let policy = policies
                        .iter()
                        .find(|p| p.id == g.id && p.env == env.name)?;
                    Some((env.name.clone(), word(&policy.enforcement)))
                })
                .collect(),
            enforcement_from: enforcement_from(g, environments),
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
        environments: environments.iter().map(|e| e.name.clone()).collect(),
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
    // Configured once in guardrails.toml, the same in every environment.
    let params = params
        .into_iter()
        .map(|declaration| ParamEntry {
            declaration,
            values: Vec::new(),
        })
        .collect();
    let mut scope = vec![if check.exclude_namespaces.is_empty() {
        "namespaces: all".to_string()
    } else {
        format!(
            "namespaces: all except {}",
            check.exclude_namespaces.join(", ")
        )
    }];
    if let Some(label) = &check.namespace_label {
        scope.push(format!("namespace labels: {label:?} exists"));
    }
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
        scope,
        rules: 1,
        params,
        enforcement: environments
            .iter()
            .map(|env| (env.clone(), word(&check.enforcement)))
            .collect(),
        enforcement_from: environments
            .iter()
            .map(|env| {
                (
                    env.clone(),
                    "guardrails.toml [detective.default-deny-network-policy]".to_string(),
                )
            })
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
    /// One line per environment: `prod: warn (from guardrails.toml [environments.prod…])`.
    pub fn enforcement_lines(&self) -> Vec<String> {
        self.enforcement
            .iter()
            .map(
                |(env, action)| match self.enforcement_from.iter().find(|(e, _)| e == env) {
                    Some((_, from)) => format!("{env}: {action} (from {from})"),
                    None => format!("{env}: {action}"),
                },
            )
            .collect()
    }

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
        for line in &e.scope {
            out.push_str(&format!("- {}\n", md(line)));
        }
        out.push_str(&format!("- rules: {}, defined in `{}`\n", e.rules, e.file));
        for p in &e.params {
            out.push_str(&format!("- param `{}`\n", p.declaration));
            for v in &p.values {
                let default = if v.default { " (default)" } else { "" };
                out.push_str(&format!("  - {}: `{}`{default}\n", v.env, v.value));
            }
        }
        out.push_str("- enforcement:\n");
        for line in e.enforcement_lines() {
            out.push_str(&format!("  - {}\n", md(&line)));
        }
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
