//! One admission request, as a fixture describes it, and the request facts every engine
//! derives from it the same way.

use serde_json::Value;

/// The admission operation; the compiler's, so policies and cases spell it alike.
pub use guardrailc_compiler::ir::Operation;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
}

/// One admission request as a fixture describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmissionCase {
    pub operation: Operation,
    /// `None` on DELETE.
    pub object: Option<Value>,
    /// `Some` on UPDATE and DELETE.
    pub old_object: Option<Value>,
    /// The Namespace of a namespaced object.
    pub namespace_object: Option<Value>,
    pub user: UserInfo,
}

/// Where a kind is served: what the API server reports as the request's resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    /// The plural resource name, `pods`, `deployments`.
    pub resource: String,
    pub namespaced: bool,
}

/// Maps an object's `apiVersion` and `kind` to where it is served. The compiler's schema
/// provides one for the built-in kinds; tests and CRD projects pass their own.
pub trait ResourceCatalog {
    fn resource(&self, api_version: &str, kind: &str) -> Option<ResourceInfo>;

    /// The schema the kinds come from, when there is one: with it, a request is built as the
    /// API server builds it (`request_shape::admitted`); without it (a catalog of a test's
    /// own), the objects are taken as written.
    fn schema(&self) -> Option<&guardrailc_compiler::schema::Schema> {
        None
    }
}

impl<F> ResourceCatalog for F
where
    F: Fn(&str, &str) -> Option<ResourceInfo>,
{
    fn resource(&self, api_version: &str, kind: &str) -> Option<ResourceInfo> {
        self(api_version, kind)
    }
}

/// What the API server knows about a request before any policy runs: read from the object
/// (the old object on DELETE) and the resource catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub resource: String,
    pub namespaced: bool,
    /// Empty for cluster-scoped objects, Namespaces included.
    pub namespace: String,
    pub name: String,
}

impl RequestFacts {
    /// Reads the facts from the case, or says why it cannot.
    pub fn of(case: &AdmissionCase, catalog: &dyn ResourceCatalog) -> Result<RequestFacts, String> {
        let subject = case
            .object
            .as_ref()
            .or(case.old_object.as_ref())
            .ok_or_else(|| "the case has neither an object nor an old object".to_string())?;
        let api_version = string_at(subject, &["apiVersion"])
            .ok_or_else(|| "the object has no `apiVersion`".to_string())?;
        let kind =
            string_at(subject, &["kind"]).ok_or_else(|| "the object has no `kind`".to_string())?;
        let info = catalog.resource(api_version, kind).ok_or_else(|| {
            format!("unknown kind `{kind}` of `{api_version}`: no resource serves it")
        })?;
        let namespace = if info.namespaced {
            string_at(subject, &["metadata", "namespace"])
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        Ok(RequestFacts {
            group: info.group,
            version: info.version,
            kind: kind.to_string(),
            resource: info.resource,
            namespaced: info.namespaced,
            namespace,
            name: string_at(subject, &["metadata", "name"])
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Whether the request is for a Namespace object, whose own labels stand in for its
    /// namespace's in selectors.
    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.kind == "Namespace"
    }
}

/// The string at `path` in `value`, if every step exists and the end is a string.
pub(crate) fn string_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |at, key| at.get(key))
        .and_then(Value::as_str)
}

/// `metadata.labels` of an object, empty when absent or not a map of strings.
pub(crate) fn labels_of(object: &Value) -> Vec<(&str, &str)> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}

impl AdmissionCase {
    /// The case as an `AdmissionRequest` (admission.k8s.io/v1) without its objects: what VAP
    /// binds as `request` and Gatekeeper extends into `input.review`.
    pub(crate) fn admission_request(&self, facts: &RequestFacts) -> Value {
        serde_json::json!({
            "operation": self.operation.as_str(),
            "userInfo": {
                "username": self.user.username,
                "groups": self.user.groups,
            },
            "namespace": facts.namespace,
            "name": facts.name,
            "kind": {"group": facts.group, "version": facts.version, "kind": facts.kind},
            "resource": {"group": facts.group, "version": facts.version, "resource": facts.resource},
            "dryRun": false,
        })
    }
}

/// The catalog of a compiler schema: built-in kinds and declared CRDs, matched on group,
/// version and kind.
pub struct SchemaCatalog<'a>(pub &'a guardrailc_compiler::schema::Schema);

impl ResourceCatalog for SchemaCatalog<'_> {
    fn resource(&self, api_version: &str, kind: &str) -> Option<ResourceInfo> {
        let info = self.0.kind(kind)?;
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        (info.group == group && info.version == version).then(|| ResourceInfo {
            group: info.group.clone(),
            version: info.version.clone(),
            resource: info.resource.clone(),
            namespaced: info.namespaced,
        })
    }

    fn schema(&self) -> Option<&guardrailc_compiler::schema::Schema> {
        Some(self.0)
    }
}
