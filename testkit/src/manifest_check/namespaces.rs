//! The Namespace objects of the manifests (what policies read of them) and the cross-object
//! default-deny NetworkPolicy check, which needs every object read first.

use super::finding::Finding;
use crate::network_policy::default_deny;
use guardrailc_compiler::config::{DefaultDenyCheck, Direction, DEFAULT_DENY_CHECK};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The Namespace objects of the manifests, by name, reduced to what policies read of them
/// (name and labels), so an export of many namespaces stays small; and, for the
/// default-deny check, where each was read and the directions its NetworkPolicies deny.
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    pub(super) by_name: HashMap<String, Value>,
    places: HashMap<String, (String, usize)>,
    default_deny: HashMap<String, BTreeSet<Direction>>,
}

impl Namespaces {
    /// Keeps `object` if it is a Namespace, read at `place` (file, line), or records what it
    /// denies if it is a NetworkPolicy.
    pub fn add(&mut self, object: &Value, place: (&str, usize)) {
        if let Some((namespace, denied)) = default_deny(object) {
            self.default_deny
                .entry(namespace)
                .or_default()
                .extend(denied);
            return;
        }
        let is_namespace = object.get("kind").and_then(Value::as_str) == Some("Namespace")
            && object.get("apiVersion").and_then(Value::as_str) == Some("v1");
        let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        if !is_namespace {
            return;
        }
        let mut labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        // The API server sets this label on every namespace.
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        self.places
            .insert(name.to_string(), (place.0.to_string(), place.1));
        self.by_name.insert(
            name.to_string(),
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": labels},
            }),
        );
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Whether `text` may hold a Namespace or a NetworkPolicy, so a first pass parses only
    /// those texts.
    pub fn may_hold_namespace(text: &str) -> bool {
        text.contains("Namespace") || text.contains("NetworkPolicy")
    }

    /// The namespaces a `namespace_label` default-deny check cannot decide on: objects are
    /// in them, but the input holds no Namespace object to read the label from. Sorted;
    /// empty when the check selects every namespace.
    pub fn default_deny_unknown(
        &self,
        check: &DefaultDenyCheck,
        seen: &BTreeMap<String, (String, usize)>,
    ) -> Vec<String> {
        if check.namespace_label.is_none() {
            return Vec::new();
        }
        seen.keys()
            .filter(|name| !self.by_name.contains_key(*name))
            .filter(|name| !check.exclude_namespaces.contains(name))
            .cloned()
            .collect()
    }

    /// The findings of the default-deny check in each of `envs`: one per namespace that
    /// `check` selects and whose NetworkPolicies leave a direction of `check.directions`
    /// open. The namespaces are those of the manifests' Namespace objects (the finding is on
    /// the Namespace) and those `seen` names, where objects were checked without one (the
    /// finding is on the first such object). A namespace without a Namespace object has no
    /// known labels, so a `namespace_label` check cannot select it. `group_by_label` names
    /// the owner label, read from the namespace.
    pub fn default_deny_findings(
        &self,
        check: &DefaultDenyCheck,
        envs: &[String],
        group_by_label: &str,
        seen: &BTreeMap<String, (String, usize)>,
    ) -> Vec<Finding> {
        let mut names: Vec<&String> = self.by_name.keys().chain(seen.keys()).collect();
        names.sort();
        names.dedup();
        let mut findings = Vec::new();
        for name in names {
            let labels = self
                .by_name
                .get(name)
                .and_then(|namespace| namespace.pointer("/metadata/labels"));
            let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            let selected = check
                .namespace_label
                .as_deref()
                .is_none_or(|key| label(key).is_some());
            if !selected || check.exclude_namespaces.contains(name) {
                continue;
            }
            let denied = self.default_deny.get(name);
            let open: Vec<&str> = check
                .directions
                .iter()
                .filter(|d| !denied.is_some_and(|denied| denied.contains(d)))
                .map(|d| d.as_str())
                .collect();
            if open.is_empty() {
                continue;
            }
            let Some((file, line)) = self.places.get(name).or_else(|| seen.get(name)).cloned()
            else {
                continue;
            };
            let message = format!(
                "namespace {name} has no default-deny NetworkPolicy for {} traffic: add one with `podSelector: {{}}`, `policyTypes: [{}]` and no rules",
                open.join(" and "),
                open.join(", ")
            );
            for env in envs {
                findings.push(Finding {
                    file: file.clone(),
                    line,
                    object: format!("Namespace {name}"),
                    namespace: Some(name.clone()),
                    owner: label(group_by_label).map(str::to_string),
                    guardrail: DEFAULT_DENY_CHECK.to_string(),
                    env: env.clone(),
                    verdict: check.enforcement.into(),
                    message: message.clone(),
                    targets: Vec::new(),
                });
            }
        }
        findings
    }
}
