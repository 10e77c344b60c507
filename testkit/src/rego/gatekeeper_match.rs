//! `spec.match` of a Gatekeeper Constraint: which objects the constraint applies to. Every
//! criterion given must hold; one left out matches everything.
//! <https://open-policy-agent.github.io/gatekeeper/website/docs/howto#the-match-field>

use crate::case::{labels_of, RequestFacts};
use crate::label_selector::LabelSelector;
use serde_json::Value;

#[derive(Debug, Default)]
pub(crate) struct ConstraintMatch {
    kinds: Vec<KindsEntry>,
    /// `*`, `Cluster` or `Namespaced`; anything else (typos included) matches all, as in
    /// Gatekeeper.
    scope: String,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    name: Option<String>,
}

#[derive(Debug)]
struct KindsEntry {
    api_groups: Vec<String>,
    kinds: Vec<String>,
}

impl ConstraintMatch {
    pub fn parse(value: Option<&Value>) -> Result<ConstraintMatch, String> {
        let Some(value) = value else {
            return Ok(ConstraintMatch::default());
        };
        let strings = |v: Option<&Value>, field: &str| -> Result<Vec<String>, String> {
            match v {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            format!("`spec.match.{field}` has an entry that is not a string")
                        })
                    })
                    .collect(),
                Some(_) => Err(format!("`spec.match.{field}` is not a list")),
            }
        };
        let kinds = match value.get("kinds") {
            None => Vec::new(),
            Some(Value::Array(entries)) => entries
                .iter()
                .map(|entry| {
                    Ok(KindsEntry {
                        api_groups: strings(entry.get("apiGroups"), "kinds[].apiGroups")?,
                        kinds: strings(entry.get("kinds"), "kinds[].kinds")?,
                    })
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err("`spec.match.kinds` is not a list".to_string()),
        };
        let selector = |field: &str| {
            value
                .get(field)
                .map(|s| LabelSelector::parse(s, &format!("spec.match.{field}")))
                .transpose()
        };
        Ok(ConstraintMatch {
            kinds,
            scope: value
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
            namespaces: strings(value.get("namespaces"), "namespaces")?,
            excluded_namespaces: strings(value.get("excludedNamespaces"), "excludedNamespaces")?,
            label_selector: selector("labelSelector")?,
            namespace_selector: selector("namespaceSelector")?,
            name: value
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// Whether the constraint applies to `object`. An error says the case lacks what the
    /// match needs (the namespace object, for a namespace selector).
    pub fn matches(
        &self,
        object: &Value,
        facts: &RequestFacts,
        namespace_object: Option<&Value>,
    ) -> Result<bool, String> {
        let kinds = self.kinds.is_empty()
            || self.kinds.iter().any(|entry| {
                let any = |list: &[String], value: &str| {
                    list.is_empty() || list.iter().any(|v| v == "*" || v == value)
                };
                any(&entry.kinds, &facts.kind) && any(&entry.api_groups, &facts.group)
            });
        let scope = match self.scope.as_str() {
            "Cluster" => facts.is_namespace() || !facts.namespaced,
            "Namespaced" => !facts.is_namespace() && facts.namespaced,
            _ => true,
        };
        // The namespace a request is "in": a Namespace's own name, else the object's.
        let namespace = if facts.is_namespace() {
            Some(facts.name.as_str())
        } else if facts.namespaced {
            Some(facts.namespace.as_str())
        } else {
            None
        };
        let included = match namespace {
            Some(ns) if !self.namespaces.is_empty() => {
                self.namespaces.iter().any(|glob| glob_matches(glob, ns))
            }
            _ => true,
        };
        let excluded = namespace.is_some_and(|ns| {
            self.excluded_namespaces
                .iter()
                .any(|glob| glob_matches(glob, ns))
        });
        let labels = self
            .label_selector
            .as_ref()
            .is_none_or(|selector| selector.matches(&labels_of(object)));
        let name = self
            .name
            .as_ref()
            .is_none_or(|glob| glob.is_empty() || glob_matches(glob, &facts.name));
        if !(kinds && scope && included && !excluded && labels && name) {
            return Ok(false);
        }
        self.matches_namespace_selector(object, facts, namespace_object)
    }

    fn matches_namespace_selector(
        &self,
        object: &Value,
        facts: &RequestFacts,
        namespace_object: Option<&Value>,
    ) -> Result<bool, String> {
        let Some(selector) = &self.namespace_selector else {
            return Ok(true);
        };
        if facts.is_namespace() {
            return Ok(selector.matches(&labels_of(object)));
        }
        if !facts.namespaced {
            return Ok(true);
        }
        let namespace = namespace_object.ok_or_else(|| {
            format!(
                "the namespace selector needs the namespace object of `{}`, and the case gives none",
                facts.namespace
            )
        })?;
        Ok(selector.matches(&labels_of(namespace)))
    }
}

/// Gatekeeper's wildcard: `kube-*` matches by prefix, `*-system` by suffix, anything else
/// exactly.
fn glob_matches(glob: &str, value: &str) -> bool {
    if let Some(suffix) = glob.strip_prefix('*') {
        value.ends_with(suffix)
    } else if let Some(prefix) = glob.strip_suffix('*') {
        value.starts_with(prefix)
    } else {
        glob == value
    }
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn globs_match_by_prefix_or_suffix() {
        assert!(glob_matches("kube-*", "kube-system"));
        assert!(!glob_matches("kube-*", "my-kube"));
        assert!(glob_matches("*-system", "gatekeeper-system"));
        assert!(glob_matches("default", "default"));
        assert!(!glob_matches("default", "default2"));
    }
}
