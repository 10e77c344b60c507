//! `matchConstraints` of a policy and `matchResources` of a binding: which requests the
//! API server hands to the policy at all.
//! <https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/#matching-requests-matchconstraints>

use crate::case::{labels_of, AdmissionCase, RequestFacts};
use crate::label_selector::LabelSelector;
use serde_json::Value;

#[derive(Debug)]
pub(crate) struct MatchResources {
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    resource_rules: Vec<ResourceRule>,
    exclude_resource_rules: Vec<ResourceRule>,
}

#[derive(Debug)]
struct ResourceRule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    /// `Cluster`, `Namespaced` or `*` (the default).
    scope: String,
    resource_names: Vec<String>,
}

impl MatchResources {
    /// Reads `value` (a `matchConstraints` or `matchResources` object); `where_` names it.
    pub fn parse(value: &Value, where_: &str) -> Result<MatchResources, String> {
        let selector = |field: &str| {
            value
                .get(field)
                .map(|s| LabelSelector::parse(s, &format!("{where_}.{field}")))
                .transpose()
        };
        let rules = |field: &str| -> Result<Vec<ResourceRule>, String> {
            match value.get(field) {
                None => Ok(Vec::new()),
                Some(Value::Array(rules)) => rules
                    .iter()
                    .map(|r| ResourceRule::parse(r, &format!("{where_}.{field}")))
                    .collect(),
                Some(_) => Err(format!("`{where_}.{field}` is not a list")),
            }
        };
        Ok(MatchResources {
            namespace_selector: selector("namespaceSelector")?,
            object_selector: selector("objectSelector")?,
            resource_rules: rules("resourceRules")?,
            exclude_resource_rules: rules("excludeResourceRules")?,
        })
    }

    /// Whether the request is in scope. An error says the case lacks what matching needs.
    pub fn matches(&self, case: &AdmissionCase, facts: &RequestFacts) -> Result<bool, String> {
        if self
            .exclude_resource_rules
            .iter()
            .any(|rule| rule.matches(case, facts))
        {
            return Ok(false);
        }
        // No rules constrain nothing (a binding's matchResources may list none).
        let by_rules = self.resource_rules.is_empty()
            || self
                .resource_rules
                .iter()
                .any(|rule| rule.matches(case, facts));
        Ok(by_rules && self.matches_objects(case) && self.matches_namespace(case, facts)?)
    }

    /// The object selector matches if the object or the old object matches it.
    fn matches_objects(&self, case: &AdmissionCase) -> bool {
        match &self.object_selector {
            None => true,
            Some(selector) if selector.is_empty() => true,
            Some(selector) => [&case.object, &case.old_object]
                .into_iter()
                .flatten()
                .any(|object| selector.matches(&labels_of(object))),
        }
    }

    fn matches_namespace(
        &self,
        case: &AdmissionCase,
        facts: &RequestFacts,
    ) -> Result<bool, String> {
        let selector = match &self.namespace_selector {
            Some(selector) if !selector.is_empty() => selector,
            _ => return Ok(true),
        };
        if facts.is_namespace() {
            // A Namespace is matched on its own labels (the stored one on DELETE).
            let own = case.object.as_ref().or(case.old_object.as_ref());
            return Ok(own.is_some_and(|ns| selector.matches(&labels_of(ns))));
        }
        if !facts.namespaced {
            // Cluster-scoped objects are never excluded by a namespace selector.
            return Ok(true);
        }
        let namespace = case.namespace_object.as_ref().ok_or_else(|| {
            format!(
                "the namespace selector needs the namespace object of `{}`, and the case gives none",
                facts.namespace
            )
        })?;
        Ok(selector.matches(&labels_of(namespace)))
    }
}

impl ResourceRule {
    fn parse(value: &Value, where_: &str) -> Result<ResourceRule, String> {
        let strings = |field: &str| -> Result<Vec<String>, String> {
            match value.get(field) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_string).ok_or_else(|| {
                            format!("`{where_}[].{field}` has an entry that is not a string")
                        })
                    })
                    .collect(),
                Some(_) => Err(format!("`{where_}[].{field}` is not a list")),
            }
        };
        Ok(ResourceRule {
            api_groups: strings("apiGroups")?,
            api_versions: strings("apiVersions")?,
            resources: strings("resources")?,
            operations: strings("operations")?,
            scope: value
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
            resource_names: strings("resourceNames")?,
        })
    }

    fn matches(&self, case: &AdmissionCase, facts: &RequestFacts) -> bool {
        let listed = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        let scope = match self.scope.as_str() {
            "Cluster" => !facts.namespaced,
            "Namespaced" => facts.namespaced,
            _ => true,
        };
        // Requests here never name a subresource, so `*` and `*/*` both cover them.
        let resource = self
            .resources
            .iter()
            .any(|r| r == "*" || r == "*/*" || *r == facts.resource);
        let name = self.resource_names.is_empty() || self.resource_names.contains(&facts.name);
        listed(&self.operations, case.operation.as_str())
            && listed(&self.api_groups, &facts.group)
            && listed(&self.api_versions, &facts.version)
            && resource
            && scope
            && name
    }
}
