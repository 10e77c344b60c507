use super::{CrdDefinition, FieldType, Schema, TypeId};
use crate::suggest::closest as did_you_mean;
use serde_json::json;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Follows a dotted path of object fields from `root`, failing the test on a missing step.
fn field_at<'s>(schema: &'s Schema, root: TypeId, path: &str) -> &'s FieldType {
    let mut current = root;
    let mut steps = path.split('.').peekable();
    loop {
        let step = steps.next().expect("paths in tests are not empty");
        let ty = schema
            .field_type(current, step)
            .unwrap_or_else(|| panic!("no field `{step}` in `{}`", schema.object(current).name));
        if steps.peek().is_none() {
            return ty;
        }
        current = match ty {
            FieldType::Object(id) => *id,
            FieldType::Array { items, .. } => match items.as_ref() {
                FieldType::Object(id) => *id,
                other => panic!("`{step}` holds {other:?}, not objects"),
            },
            other => panic!("`{step}` is {other:?}, not an object"),
        };
    }
}

fn kind_root(schema: &Schema, kind: &str) -> TypeId {
    schema
        .kind(kind)
        .unwrap_or_else(|| panic!("no kind `{kind}`"))
        .root
}

fn object_id(ty: &FieldType) -> TypeId {
    match ty {
        FieldType::Object(id) => *id,
        other => panic!("{other:?} is not an object"),
    }
}

fn plain_string() -> FieldType {
    FieldType::String {
        format: None,
        enum_values: Vec::new(),
    }
}

#[test]
fn every_targeted_kind_is_embedded() {
    let expected = [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "CronJob",
        "DaemonSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "IngressClass",
        "Job",
        "LimitRange",
        "Namespace",
        "NetworkPolicy",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
        "PodDisruptionBudget",
        "ReplicaSet",
        "ReplicationController",
        "ResourceQuota",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StatefulSet",
        "StorageClass",
    ];
    let kinds: Vec<&str> = Schema::builtin()
        .kinds()
        .iter()
        .map(|k| k.kind.as_str())
        .collect();
    assert_eq!(kinds, expected);
}

#[test]
fn pod_containers_are_container_objects_with_a_string_image() {
    let schema = Schema::builtin();
    let pod = kind_root(schema, "Pod");
    let FieldType::Array { items, max_items } = field_at(schema, pod, "spec.containers") else {
        panic!("spec.containers is not an array");
    };
    assert_eq!(*max_items, None);
    let container = object_id(items);
    assert_eq!(
        schema.object(container).name,
        "io.k8s.api.core.v1.Container"
    );
    let image = schema.field(container, "image").expect("Container.image");
    assert_eq!(image.ty, plain_string());
    assert_eq!(image.doc, "Container image name.");
    assert!(!image.required);
    assert!(
        schema
            .field(container, "name")
            .expect("Container.name")
            .required
    );
}

#[test]
fn resource_limits_are_a_map_of_quantities() {
    let schema = Schema::builtin();
    let pod = kind_root(schema, "Pod");
    assert_eq!(
        field_at(schema, pod, "spec.containers.resources.limits"),
        &FieldType::Map {
            values: Box::new(FieldType::Quantity)
        }
    );
}

#[test]
fn scalar_types_are_recognised() {
    let schema = Schema::builtin();
    let deployment = kind_root(schema, "Deployment");
    assert_eq!(
        field_at(schema, deployment, "spec.strategy.rollingUpdate.maxSurge"),
        &FieldType::IntOrString
    );
    assert_eq!(
        field_at(schema, deployment, "spec.replicas"),
        &FieldType::Int
    );
    assert_eq!(
        field_at(schema, deployment, "spec.paused"),
        &FieldType::Bool
    );
    assert_eq!(
        field_at(schema, deployment, "metadata.creationTimestamp"),
        &FieldType::String {
            format: Some("date-time".to_owned()),
            enum_values: Vec::new()
        }
    );
    assert_eq!(
        field_at(schema, deployment, "metadata.labels"),
        &FieldType::Map {
            values: Box::new(plain_string())
        }
    );
    let metadata = object_id(field_at(schema, deployment, "metadata"));
    assert_eq!(schema.object(metadata).name, OBJECT_META);
}

#[test]
fn kinds_know_their_group_resource_and_scope() {
    let schema = Schema::builtin();
    let deployment = schema.kind("Deployment").expect("Deployment");
    assert_eq!(
        (
            deployment.group.as_str(),
            deployment.version.as_str(),
            deployment.resource.as_str(),
            deployment.namespaced
        ),
        ("apps", "v1", "deployments", true)
    );
    assert_eq!(
        schema.object(deployment.root).name,
        "io.k8s.api.apps.v1.Deployment"
    );
    assert!(deployment
        .doc
        .starts_with("Deployment enables declarative updates"));
    let pod = schema.kind("Pod").expect("Pod");
    assert_eq!(
        (pod.group.as_str(), pod.resource.as_str(), pod.namespaced),
        ("", "pods", true)
    );
    let hpa = schema.kind("HorizontalPodAutoscaler").expect("HPA");
    assert_eq!(
        (hpa.group.as_str(), hpa.version.as_str()),
        ("autoscaling", "v2")
    );
    for cluster_scoped in [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "StorageClass",
        "IngressClass",
    ] {
        assert!(
            !schema.kind(cluster_scoped).expect("kind").namespaced,
            "{cluster_scoped} is cluster-scoped"
        );
    }
    assert_eq!(schema.kind("deployment"), None, "kind names are exact");
}

#[test]
fn service_type_lists_its_values() {
    let schema = Schema::builtin();
    let service = kind_root(schema, "Service");
    assert_eq!(
        field_at(schema, service, "spec.type"),
        &FieldType::String {
            format: None,
            enum_values: ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
                .map(str::to_owned)
                .to_vec()
        }
    );
    // A list of enum strings carries the values on its items.
    let FieldType::Array { items, .. } = field_at(schema, service, "spec.ipFamilies") else {
        panic!("spec.ipFamilies is not an array");
    };
    assert_eq!(
        items.as_ref(),
        &FieldType::String {
            format: None,
            enum_values: vec!["IPv4".to_owned(), "IPv6".to_owned()]
        }
    );
}

#[test]
fn the_table_is_consistent() {
    let schema = Schema::builtin();
    fn check(schema: &Schema, ty: &FieldType) {
        match ty {
            FieldType::Object(id) => {
                let _ = schema.object(*id);
            }
            FieldType::Array { items, .. } => check(schema, items),
            FieldType::Map { values } => check(schema, values),
            _ => {}
        }
    }
    for id in 0..schema.objects.len() {
        let object = schema.object(id as TypeId);
        assert!(
            object.fields.windows(2).all(|w| w[0].name < w[1].name),
            "fields of `{}` are not sorted",
            object.name
        );
        assert!(!object.allows_unknown_fields);
        for field in &object.fields {
            check(schema, &field.ty);
        }
    }
}

#[test]
fn misspelt_container_fields_get_a_suggestion() {
    let schema = Schema::builtin();
    let container = object_id(
        match field_at(schema, kind_root(schema, "Pod"), "spec.containers") {
            FieldType::Array { items, .. } => items,
            other => panic!("{other:?}"),
        },
    );
    let names = || {
        schema
            .object(container)
            .fields
            .iter()
            .map(|f| f.name.as_str())
    };
    assert_eq!(did_you_mean("imagee", names()), Some("image"));
    assert_eq!(
        did_you_mean("securityContex", names()),
        Some("securityContext")
    );
    assert_eq!(did_you_mean("hostNetwork", names()), None);
}

fn widget() -> CrdDefinition {
    CrdDefinition {
        kind: "Widget".to_owned(),
        group: "example.com".to_owned(),
        version: "v1alpha1".to_owned(),
        resource: "widgets".to_owned(),
        namespaced: true,
        schema: Some(json!({
            "type": "object",
            "description": "A widget.",
            "properties": {
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "string", "enum": ["small", "large"]},
                        "replicas": {"type": "integer", "minimum": 0},
                        "port": {"x-kubernetes-int-or-string": true,
                                 "anyOf": [{"type": "integer"}, {"type": "string"}]},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "rules": {
                            "type": "array",
                            "maxItems": 3,
                            "items": {
                                "type": "object",
                                "properties": {"host": {"type": "string", "description": "Host to match."}}
                            }
                        },
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }
            }
        })),
    }
}

#[test]
fn a_custom_resource_schema_is_looked_up() {
    let schema = Schema::builtin()
        .with_crds(&[widget()])
        .expect("widget converts");
    let info = schema.kind("Widget").expect("Widget");
    assert_eq!(
        (
            info.group.as_str(),
            info.version.as_str(),
            info.resource.as_str(),
            info.namespaced
        ),
        ("example.com", "v1alpha1", "widgets", true)
    );
    assert_eq!(info.doc, "A widget.");
    let root = info.root;
    assert_eq!(schema.object(root).name, "Widget");
    let spec = object_id(field_at(&schema, root, "spec"));
    assert_eq!(schema.object(spec).name, "Widget.spec");
    assert!(schema.field(spec, "size").expect("size").required);
    assert!(!schema.field(spec, "replicas").expect("replicas").required);
    assert_eq!(
        field_at(&schema, root, "spec.size"),
        &FieldType::String {
            format: None,
            enum_values: vec!["small".to_owned(), "large".to_owned()]
        }
    );
    assert_eq!(field_at(&schema, root, "spec.replicas"), &FieldType::Int);
    assert_eq!(
        field_at(&schema, root, "spec.port"),
        &FieldType::IntOrString
    );
    assert_eq!(field_at(&schema, root, "spec.extra"), &FieldType::Any);
    assert_eq!(
        field_at(&schema, root, "spec.labels"),
        &FieldType::Map {
            values: Box::new(plain_string())
        }
    );
    let FieldType::Array { items, max_items } = field_at(&schema, root, "spec.rules") else {
        panic!("spec.rules is not an array");
    };
    assert_eq!(*max_items, Some(3));
    let rule = object_id(items);
    assert_eq!(schema.object(rule).name, "Widget.spec.rules[]");
    assert_eq!(
        schema.field(rule, "host").expect("host").doc,
        "Host to match."
    );
    assert_eq!(schema.field_type(spec, "colour"), None);
    // The standard fields are added, and metadata is always ObjectMeta.
    assert_eq!(field_at(&schema, root, "apiVersion"), &plain_string());
    assert_eq!(field_at(&schema, root, "kind"), &plain_string());
    let metadata = object_id(field_at(&schema, root, "metadata"));
    assert_eq!(schema.object(metadata).name, OBJECT_META);
    let root_fields: Vec<&str> = schema
        .object(root)
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(root_fields, ["apiVersion", "kind", "metadata", "spec"]);
}

#[test]
fn adding_custom_resources_keeps_the_built_in_kinds() {
    let builtin = Schema::builtin();
    let schema = builtin.with_crds(&[widget()]).expect("widget converts");
    assert_eq!(schema.kinds().len(), builtin.kinds().len() + 1);
    assert!(schema.kinds().windows(2).all(|w| w[0].kind < w[1].kind));
    let pod = kind_root(builtin, "Pod");
    assert_eq!(kind_root(&schema, "Pod"), pod);
    assert_eq!(schema.object(pod), builtin.object(pod));
    assert_eq!(builtin.kind("Widget"), None);
}

#[test]
fn a_schemaless_custom_resource_holds_anything_below_the_root() {
    let gadget = CrdDefinition {
        kind: "Gadget".to_owned(),
        group: "example.com".to_owned(),
        version: "v1".to_owned(),
        resource: "gadgets".to_owned(),
        namespaced: false,
        schema: None,
    };
    let schema = Schema::builtin()
        .with_crds(&[gadget])
        .expect("schemaless converts");
    let root = kind_root(&schema, "Gadget");
    assert_eq!(schema.field_type(root, "spec"), Some(&FieldType::Any));
    assert_eq!(schema.field_type(root, "anything"), Some(&FieldType::Any));
    assert_eq!(schema.field(root, "spec"), None, "nothing is declared");
    let metadata = object_id(field_at(&schema, root, "metadata"));
    assert_eq!(schema.object(metadata).name, OBJECT_META);
    assert!(!schema.kind("Gadget").expect("Gadget").namespaced);
}

#[test]
fn a_root_that_keeps_unknown_fields_is_schemaless() {
    let mut open = widget();
    open.schema = Some(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    let schema = Schema::builtin()
        .with_crds(&[open])
        .expect("open root converts");
    let root = kind_root(&schema, "Widget");
    assert_eq!(schema.field_type(root, "spec"), Some(&FieldType::Any));
    assert_eq!(field_at(&schema, root, "metadata.name"), &plain_string());
}

#[test]
fn a_custom_resource_adds_no_type_for_its_metadata_schema() {
    let builtin = Schema::builtin();
    let schema = builtin.with_crds(&[widget()]).expect("widget converts");
    let added: Vec<&str> = (builtin.objects.len()..schema.objects.len())
        .map(|id| schema.object(id as TypeId).name.as_str())
        .collect();
    let mut sorted = added.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["Widget", "Widget.spec", "Widget.spec.rules[]"]);
}

#[test]
fn unsupported_custom_resource_schemas_are_reported() {
    let mut with_ref = widget();
    with_ref.schema = Some(json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {
            "template": {"$ref": "#/definitions/Template"}
        }}}
    }));
    let error = Schema::builtin()
        .with_crds(&[with_ref])
        .expect_err("$ref is refused");
    assert_eq!(error.kind(), "Widget");
    assert_eq!(error.path(), "spec.template");
    assert_eq!(
        error.to_string(),
        "custom resource `Widget`: `$ref` is not allowed in custom resource schemas at `spec.template`"
    );

    let mut both = widget();
    both.schema = Some(json!({
        "type": "object",
        "properties": {"data": {"type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "string"}}}
    }));
    let error = Schema::builtin()
        .with_crds(&[both])
        .expect_err("mixed object refused");
    assert_eq!(
        error.to_string(),
        "custom resource `Widget`: `properties` and `additionalProperties` cannot be used together at `data`"
    );

    let mut scalar_root = widget();
    scalar_root.schema = Some(json!({"type": "string"}));
    let error = Schema::builtin()
        .with_crds(&[scalar_root])
        .expect_err("root must be an object");
    assert_eq!(
        error.to_string(),
        "custom resource `Widget`: the schema root must be an object"
    );
}

#[test]
fn a_kind_cannot_be_defined_twice() {
    let mut pod = widget();
    pod.kind = "Pod".to_owned();
    let error = Schema::builtin()
        .with_crds(&[pod])
        .expect_err("Pod is built in");
    assert_eq!(
        error.to_string(),
        "custom resource `Pod`: the kind is already defined"
    );
    let error = Schema::builtin()
        .with_crds(&[widget(), widget()])
        .expect_err("Widget twice");
    assert_eq!(error.kind(), "Widget");
}

/// A CRD manifest with two versions, `v1beta1` first: each has its own schema.
const TWO_VERSION_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {oldSize: {type: string}}}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: string}}}
    - name: v0
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
"#;

fn crd_config(version: &str) -> crate::config::CrdConfig {
    crate::config::CrdConfig {
        kind: "Widget".into(),
        group: "example.com".into(),
        version: version.into(),
        resource: "widgets".into(),
        namespaced: true,
        schema: Some("widget-crd.yaml".into()),
    }
}

#[test]
fn a_crd_manifest_gives_the_schema_of_the_configured_version() {
    let read = |_: &str| Ok(TWO_VERSION_CRD.to_string());
    for (version, field, other) in [("v1", "size", "oldSize"), ("v1beta1", "oldSize", "size")] {
        let crds = super::crd_definitions(&[crd_config(version)], &read).expect("reads");
        let schema = Schema::builtin().with_crds(&crds).expect("converts");
        let root = kind_root(&schema, "Widget");
        let FieldType::Object(spec) = field_at(&schema, root, "spec") else {
            panic!("spec is an object");
        };
        let names: Vec<&str> = schema
            .object(*spec)
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            names,
            [field],
            "{version}: {other} belongs to another version"
        );
    }
}

#[test]
fn a_crd_version_that_is_missing_or_not_served_is_refused() {
    let read = |_: &str| Ok(TWO_VERSION_CRD.to_string());
    let error = super::crd_definitions(&[crd_config("v2")], &read).unwrap_err();
    assert!(
        error.contains("no version `v2` (it has v1beta1, v1, v0)"),
        "{error}"
    );
    let error = super::crd_definitions(&[crd_config("v0")], &read).unwrap_err();
    assert!(error.contains("`v0` of the CRD is not served"), "{error}");
}
