//! Reading the Kubernetes OpenAPI v3 documents: their component schemas, merged across
//! group-versions, and where each kind is served.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A group, version and kind, as in `x-kubernetes-group-version-kind`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl GroupVersionKind {
    fn from_json(value: &Value) -> Option<GroupVersionKind> {
        Some(GroupVersionKind {
            group: value.get("group")?.as_str()?.to_owned(),
            version: value.get("version")?.as_str()?.to_owned(),
            kind: value.get("kind")?.as_str()?.to_owned(),
        })
    }
}

impl std::fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.kind)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.kind)
        }
    }
}

/// Where the API server serves a kind: its plural resource name and its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub resource: String,
    pub namespaced: bool,
}

/// Every OpenAPI document under one directory, merged.
pub struct OpenApiDocuments {
    /// `components.schemas` of all documents, keyed like `io.k8s.api.core.v1.PodSpec`.
    pub schemas: BTreeMap<String, Map<String, Value>>,
    /// The collection endpoint at which each kind is created.
    pub endpoints: BTreeMap<GroupVersionKind, Endpoint>,
}

impl OpenApiDocuments {
    /// Reads every `*.json` file below `dir` (in sorted order, so the result does not depend
    /// on directory listing order).
    pub fn read(dir: &Path) -> Result<OpenApiDocuments, String> {
        let mut files = Vec::new();
        collect_json_files(dir, &mut files)?;
        if files.is_empty() {
            return Err(format!("no `.json` files below `{}`", dir.display()));
        }
        files.sort();
        let mut documents = OpenApiDocuments {
            schemas: BTreeMap::new(),
            endpoints: BTreeMap::new(),
        };
        for file in &files {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
            let document: Value = serde_json::from_str(&text)
                .map_err(|e| format!("`{}` is not valid json: {e}", file.display()))?;
            documents
                .add(&document)
                .map_err(|e| format!("in `{}`: {e}", file.display()))?;
        }
        Ok(documents)
    }

    fn add(&mut self, document: &Value) -> Result<(), String> {
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or("the document has no `components.schemas`")?;
        for (name, schema) in schemas {
            let schema = schema
                .as_object()
                .ok_or_else(|| format!("schema `{name}` is not an object"))?;
            match self.schemas.get(name) {
                // Each group-version document repeats the shared apimachinery types.
                Some(known) if known == schema => {}
                Some(_) => return Err(format!("schema `{name}` differs between documents")),
                None => {
                    self.schemas.insert(name.clone(), schema.clone());
                }
            }
        }
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the document has no `paths`")?;
        for (path, operations) in paths {
            if let Some((gvk, endpoint)) = creation_endpoint(path, operations) {
                self.endpoints.insert(gvk, endpoint);
            }
        }
        Ok(())
    }
}

/// A kind's collection endpoint is the path whose `post` creates it, such as
/// `/api/v1/namespaces/{namespace}/pods`. Subresource posts (`.../pods/{name}/eviction`)
/// create other kinds and are skipped.
fn creation_endpoint(path: &str, operations: &Value) -> Option<(GroupVersionKind, Endpoint)> {
    let post = operations.get("post")?;
    if post.get("x-kubernetes-action")?.as_str()? != "post" || path.contains("{name}") {
        return None;
    }
    let gvk = GroupVersionKind::from_json(post.get("x-kubernetes-group-version-kind")?)?;
    let resource = path.rsplit('/').next()?.to_owned();
    let endpoint = Endpoint {
        resource,
        namespaced: path.contains("/namespaces/{namespace}/"),
    };
    Some((gvk, endpoint))
}

fn collect_json_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_json_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// The schemas that declare `gvk` in their `x-kubernetes-group-version-kind`.
pub fn schemas_of_kind<'a>(
    schemas: &'a BTreeMap<String, Map<String, Value>>,
    gvk: &GroupVersionKind,
) -> Vec<&'a str> {
    schemas
        .iter()
        .filter(|(_, schema)| {
            schema
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .is_some_and(|gvks| {
                    gvks.iter()
                        .any(|v| GroupVersionKind::from_json(v).as_ref() == Some(gvk))
                })
        })
        .map(|(name, _)| name.as_str())
        .collect()
}
