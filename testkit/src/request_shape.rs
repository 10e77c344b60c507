//! The shapes in which a request reaches each engine in production (docs/evaluation.md,
//! "Request shapes"). A fixture case describes the object as written; the engines meet it as:
//!
//! * **admission** (VAP and Gatekeeper's webhook): the API server has put the object in the
//!   request's namespace (the REST handler's `EnsureObjectNamespaceMatchesRequestNamespace`
//!   runs before admission), decoded it into its Go type and encoded it again, so zero
//!   values of `omitempty` fields are gone and quantities are canonical strings
//!   ([`crate::apiserver::as_admitted`], engine-facts/apiserver-encoding.json);
//! * **audit** (Gatekeeper's audit and `gator test`): the existing object, with a review that
//!   has no operation, no user, no old object and no namespace object
//!   ([`audit_review`], engine-facts/gatekeeper-review.json);
//! * **manifest** (`gator test`, conftest, `opa eval`): the object as written, in the
//!   request's namespace ([`manifest`]); conftest takes it as the whole input, `gator test`
//!   with the audit review.

use crate::apiserver::as_admitted;
use crate::case::{AdmissionCase, RequestFacts, ResourceCatalog};
use crate::CaseError;
use serde_json::{json, Map, Value};

/// The case as the API server hands it to admission: every object re-encoded, and the
/// namespaced object and old object placed in the request's namespace. With a catalog that
/// has no schema, the case is returned as written.
pub fn admitted(
    case: &AdmissionCase,
    catalog: &dyn ResourceCatalog,
) -> Result<AdmissionCase, CaseError> {
    let Some(schema) = catalog.schema() else {
        return Ok(case.clone());
    };
    let facts = RequestFacts::of(case, catalog).map_err(CaseError)?;
    let admit = |object: &Option<Value>, what: &str| -> Result<Option<Value>, CaseError> {
        let Some(object) = object else {
            return Ok(None);
        };
        let mut encoded = as_admitted(object, schema).map_err(|error| {
            CaseError(format!(
                "the API server cannot decode the {what}: `{}`: {}",
                error.path, error.message
            ))
        })?;
        if facts.namespaced {
            place_in_namespace(&mut encoded, &facts.namespace);
        }
        Ok(Some(encoded))
    };
    Ok(AdmissionCase {
        operation: case.operation,
        object: admit(&case.object, "object")?,
        old_object: admit(&case.old_object, "old object")?,
        namespace_object: match &case.namespace_object {
            Some(namespace) => Some(as_admitted(namespace, schema).map_err(|error| {
                CaseError(format!(
                    "the API server cannot decode the namespace object: `{}`: {}",
                    error.path, error.message
                ))
            })?),
            None => None,
        },
        user: case.user.clone(),
    })
}

/// The case as written, with the namespaced object and old object placed in the request's
/// namespace (as `kubectl apply -n` or a namespace in the file would place it): what
/// `gator test` and conftest read. Nothing is re-encoded.
pub fn manifest(
    case: &AdmissionCase,
    catalog: &dyn ResourceCatalog,
) -> Result<AdmissionCase, CaseError> {
    let facts = RequestFacts::of(case, catalog).map_err(CaseError)?;
    let mut written = case.clone();
    if facts.namespaced {
        for object in [&mut written.object, &mut written.old_object]
            .into_iter()
            .flatten()
        {
            place_in_namespace(object, &facts.namespace);
        }
    }
    Ok(written)
}

/// Sets `metadata.namespace` where the object has none.
fn place_in_namespace(object: &mut Value, namespace: &str) {
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    let metadata = fields
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(metadata) = metadata.as_object_mut() {
        metadata
            .entry("namespace")
            .or_insert_with(|| Value::String(namespace.to_string()));
    }
}

/// Whether Gatekeeper's audit reviews the object of `case`: it reviews objects that exist,
/// so a CREATE or UPDATE (the object as it will be stored), never a DELETE or CONNECT.
pub fn audited(case: &AdmissionCase) -> Option<&Value> {
    use crate::case::Operation;
    match case.operation {
        Operation::Create | Operation::Update => case.object.as_ref(),
        Operation::Delete | Operation::Connect => None,
    }
}

/// The `input.review` Gatekeeper's audit and `gator test` give a template for `object`: no
/// operation, an empty user, a null old object, empty resource and uid, the kind from the
/// object, its name, its namespace only when it has one, and no namespace object.
pub fn audit_review(object: &Value) -> Value {
    let text = |path: &[&str]| {
        path.iter()
            .try_fold(object, |at, key| at.get(key))
            .and_then(Value::as_str)
    };
    let (group, version) = match text(&["apiVersion"]).unwrap_or_default().split_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (
            String::new(),
            text(&["apiVersion"]).unwrap_or_default().to_string(),
        ),
    };
    let mut review = json!({
        "kind": {"group": group, "kind": text(&["kind"]).unwrap_or_default(), "version": version},
        "name": text(&["metadata", "name"]).unwrap_or_default(),
        "object": object,
        "oldObject": null,
        "operation": "",
        "options": null,
        "resource": {"group": "", "resource": "", "version": ""},
        "uid": "",
        "userInfo": {},
    });
    if let Some(namespace) = text(&["metadata", "namespace"]) {
        review["namespace"] = Value::String(namespace.to_string());
    }
    review
}
