//! The encoding rules, each checked against what a real API server did
//! (engine-facts/README.md sections 6 to 8; apiserver-encoding.json case ids in comments).
//! The data-driven test over every recorded case is testkit/tests/engine_facts_encoding.rs.

use super::*;
use serde_json::json;

fn admitted(object: Value) -> Value {
    as_admitted(&object, Schema::builtin())
        .unwrap_or_else(|e| panic!("the object should decode: {e}"))
}

fn refused(object: Value) -> EncodeError {
    match as_admitted(&object, Schema::builtin()) {
        Ok(value) => panic!("the object should not decode, but became {value}"),
        Err(error) => error,
    }
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn container_of(object: &Value) -> &Value {
    &object["spec"]["containers"][0]
}

#[test]
fn plain_zero_values_vanish() {
    // Cases 01, 02, 04, 05, 15: hostNetwork/hostPID/hostIPC false, hostPort 0, hostIP "",
    // empty lists and maps, stdin/tty false.
    let out = admitted(pod(json!({
        "hostNetwork": false, "hostPID": false, "hostIPC": false, "nodeSelector": {},
        "initContainers": [], "serviceAccountName": "",
        "containers": [{"name": "app", "image": "", "stdin": false, "tty": false, "args": [],
            "ports": [{"containerPort": 80, "hostPort": 0, "hostIP": ""}],
            "securityContext": {"capabilities": {"drop": [], "add": []}}}]
    })));
    let spec = out["spec"].as_object().expect("a spec");
    let spec_keys: Vec<&str> = spec.keys().map(String::as_str).collect();
    assert_eq!(spec_keys, ["containers"]);
    assert_eq!(
        container_of(&out),
        &json!({"name": "app", "ports": [{"containerPort": 80}], "resources": {},
                "securityContext": {"capabilities": {}}})
    );
}

#[test]
fn pointer_zero_values_are_kept() {
    // Cases 03 and 15: pointers keep false, 0 and "".
    let spec = json!({
        "automountServiceAccountToken": false, "enableServiceLinks": false,
        "shareProcessNamespace": false, "terminationGracePeriodSeconds": 0, "priority": 0,
        "securityContext": {"runAsNonRoot": false, "runAsUser": 0},
        "containers": [{"name": "app", "image": "nginx", "securityContext": {
            "privileged": false, "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": false, "runAsUser": 0, "runAsGroup": 0, "procMount": ""}}]
    });
    let out = admitted(pod(spec.clone()));
    assert_eq!(out["spec"]["securityContext"], spec["securityContext"]);
    assert_eq!(
        container_of(&out)["securityContext"],
        spec["containers"][0]["securityContext"]
    );
    for field in [
        "automountServiceAccountToken",
        "enableServiceLinks",
        "shareProcessNamespace",
        "terminationGracePeriodSeconds",
        "priority",
    ] {
        assert_eq!(out["spec"][field], spec[field], "{field}");
    }
    // Cases 13 and 14: replicas 0, suspend false, successfulJobsHistoryLimit 0, backoffLimit 0.
    let deployment = admitted(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"replicas": 0}}));
    assert_eq!(deployment["spec"]["replicas"], json!(0));
    let cron_job = admitted(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "c"}, "spec": {"schedule": "* * * * *", "suspend": false,
        "successfulJobsHistoryLimit": 0, "jobTemplate": {"spec": {"backoffLimit": 0}}}}));
    assert_eq!(cron_job["spec"]["suspend"], json!(false));
    assert_eq!(cron_job["spec"]["successfulJobsHistoryLimit"], json!(0));
    assert_eq!(
        cron_job["spec"]["jobTemplate"]["spec"]["backoffLimit"],
        json!(0)
    );
}

#[test]
fn struct_fields_appear_when_absent() {
    // Cases 01, 13, 14: resources {}, status {}, strategy {}, jobTemplate.metadata {},
    // template.metadata {}.
    let out = admitted(pod(
        json!({"containers": [{"name": "app", "image": "nginx"}]}),
    ));
    assert_eq!(container_of(&out)["resources"], json!({}));
    assert_eq!(out["status"], json!({}));
    let deployment = admitted(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}));
    assert_eq!(deployment["spec"]["strategy"], json!({}));
    let cron_job = admitted(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "c"}, "spec": {"schedule": "* * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}}));
    let job_template = &cron_job["spec"]["jobTemplate"];
    assert_eq!(job_template["metadata"], json!({}));
    assert_eq!(job_template["spec"]["template"]["metadata"], json!({}));
}

#[test]
fn fields_without_omitempty_keep_their_zero_value() {
    // containerPort and a container's name have no omitempty in k8s.io/api.
    let out = admitted(pod(
        json!({"containers": [{"name": "", "ports": [{"containerPort": 0}]}]}),
    ));
    assert_eq!(
        container_of(&out),
        &json!({"name": "", "ports": [{"containerPort": 0}], "resources": {}})
    );
    // Required and absent: written as the zero value; a required list stays absent (Go would
    // encode a nil list as null, but validation refuses the object before admission).
    let out = admitted(pod(json!({"containers": [{"ports": [{"name": "http"}]}]})));
    assert_eq!(container_of(&out)["name"], json!(""));
    assert_eq!(container_of(&out)["ports"][0]["containerPort"], json!(0));
    let out = admitted(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}));
    assert_eq!(out["spec"], json!({}));
}

#[test]
fn unknown_fields_and_nulls_are_dropped() {
    // Cases 11 and 17.
    let out = admitted(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "extraMeta": "x", "creationTimestamp": null},
        "spec": {"fooBar": 1, "containers": [{"name": "app", "image": "nginx",
            "unknownContainerField": {"a": 1}, "securityContext": {"notAField": true},
            "livenessProbe": null}]},
        "status": {"phase": "Running"}}));
    assert_eq!(
        out,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {},
                "securityContext": {}}]},
            "status": {"phase": "Running"}})
    );
}

#[test]
fn quantities_are_canonical_strings_numbers_included() {
    // Cases 06, 07 and 14: YAML numbers are accepted and printed as Go prints them first.
    let out = admitted(pod(json!({"containers": [{"name": "app", "resources": {
        "limits": {"memory": 8589934592u64, "cpu": 0.5, "ephemeral-storage": 1e9},
        "requests": {"memory": "1024Mi", "cpu": 0.25, "nvidia.com/gpu": 1}}}]})));
    assert_eq!(
        container_of(&out)["resources"],
        json!({"limits": {"memory": "8589934592", "cpu": "500m", "ephemeral-storage": "1G"},
               "requests": {"memory": "1Gi", "cpu": "250m", "nvidia.com/gpu": "1"}})
    );
}

#[test]
fn numbers_print_as_go_prints_them() {
    let text = |value: Value| go_number_text(value.as_number().expect("a number"));
    assert_eq!(text(json!(1e9)), "1000000000");
    assert_eq!(text(json!(0.5)), "0.5");
    assert_eq!(text(json!(8589934592u64)), "8589934592");
    assert_eq!(text(json!(-3)), "-3");
    assert_eq!(text(json!(1e21)), "1e21");
    assert_eq!(text(json!(1e-7)), "1e-7");
}

#[test]
fn a_value_that_is_not_a_quantity_is_undecodable() {
    let error = refused(pod(json!({"containers": [{"name": "app",
        "resources": {"limits": {"cpu": "lots"}}}]})));
    assert_eq!(error.path, "spec.containers[0].resources.limits.cpu");
    assert!(
        error.message.contains("`lots` is not a quantity"),
        "{error}"
    );
}

#[test]
fn wrong_scalar_types_are_undecodable_at_their_path() {
    // Case 16: a label value 1, containerPort "80".
    let error = refused(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"n": 1}}}));
    assert_eq!(error.path, "metadata.labels.n");
    assert!(
        error
            .message
            .starts_with("expected a string, found the number 1"),
        "{error}"
    );
    let error = refused(pod(json!({"containers": [{"name": "app",
        "ports": [{"containerPort": "80"}]}]})));
    assert_eq!(error.path, "spec.containers[0].ports[0].containerPort");
    assert!(
        error
            .message
            .starts_with("expected an integer, found the string \"80\""),
        "{error}"
    );
    // Case 18: an unquoted YAML 1.1 boolean where a string belongs.
    let error = refused(pod(json!({"containers": [{"name": "app",
        "env": [{"name": true, "value": "1"}]}]})));
    assert_eq!(error.path, "spec.containers[0].env[0].name");
    assert!(error.message.contains("quote it"), "{error}");
    let error = refused(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app.kubernetes.io/on": true}}}));
    assert_eq!(error.path, "metadata.labels[\"app.kubernetes.io/on\"]");
    // Integer-like strings stay strings (case 10); a whole float is an integer.
    let out = admitted(pod(
        json!({"containers": [{"name": "app", "args": ["1", "2.0"],
        "ports": [{"containerPort": 8080.0}]}]}),
    ));
    assert_eq!(container_of(&out)["args"], json!(["1", "2.0"]));
    assert_eq!(container_of(&out)["ports"][0]["containerPort"], json!(8080));
    refused(pod(
        json!({"containers": [{"name": "app", "ports": [{"containerPort": 80.5}]}]}),
    ));
    refused(pod(json!({"containers": {"name": "app"}})));
}

#[test]
fn the_namespace_is_not_filled_in() {
    // Cases 09 and 13: the request carries "default"; the object does not.
    let out = admitted(pod(json!({"containers": [{"name": "app"}]})));
    assert_eq!(out["metadata"], json!({"name": "p"}));
}

#[test]
fn objects_that_are_not_built_in_kinds_are_unchanged() {
    let custom = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "spec": {"enabled": false, "items": []}});
    assert_eq!(admitted(custom.clone()), custom);
    // A built-in kind's name at another version is not the type the table describes.
    let old_hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "spec": {"minReplicas": 0, "extra": []}});
    assert_eq!(admitted(old_hpa.clone()), old_hpa);
    for not_an_object in [json!("Pod"), json!(null), json!({"kind": "Pod"})] {
        assert_eq!(admitted(not_an_object.clone()), not_an_object);
    }
    // A custom resource added to the schema is still not decoded into a Go type.
    let widget = guardrailc_compiler::schema::CrdDefinition {
        kind: "Widget".into(),
        group: "example.com".into(),
        version: "v1".into(),
        resource: "widgets".into(),
        namespaced: true,
        schema: Some(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"enabled": {"type": "boolean"},
                "items": {"type": "array", "items": {"type": "string"}}}}}}),
        ),
    };
    let schema = Schema::builtin().with_crds(&[widget]).expect("a valid CRD");
    assert!(schema.kind("Widget").is_some());
    assert_eq!(as_admitted(&custom, &schema), Ok(custom));
}

#[test]
fn every_table_entry_names_a_field_of_the_right_kind() {
    let schema = Schema::builtin();
    let table = GoFieldTable::get();
    let types: std::collections::BTreeMap<&str, &ObjectType> = schema
        .kinds()
        .iter()
        .flat_map(|kind| reachable(schema, kind.root))
        .map(|id| {
            let ty = schema.object(id);
            (ty.name.as_str(), ty)
        })
        .collect();
    let field = |type_name: &str, name: &str| -> FieldType {
        let ty = types
            .get(type_name)
            .unwrap_or_else(|| panic!("{type_name} is not a type of the schema"));
        let field = ty.fields.iter().find(|field| field.name == name);
        field
            .unwrap_or_else(|| panic!("{type_name} has no field {name}"))
            .ty
            .clone()
    };
    let scalar = |ty: &FieldType| {
        !matches!(
            ty,
            FieldType::Object(_) | FieldType::Array { .. } | FieldType::Map { .. } | FieldType::Any
        )
    };
    for (type_name, names) in &table.pointer_scalars {
        for name in names {
            assert!(scalar(&field(type_name, name)), "{type_name}.{name}");
        }
    }
    for (type_name, names) in &table.always_encoded {
        for name in names {
            assert!(scalar(&field(type_name, name)), "{type_name}.{name}");
        }
    }
    for (type_name, names) in &table.value_structs {
        for name in names {
            let ty = field(type_name, name);
            assert!(matches!(ty, FieldType::Object(_)), "{type_name}.{name}");
        }
    }
}

fn reachable(schema: &Schema, root: TypeId) -> Vec<TypeId> {
    let mut seen = vec![root];
    let mut index = 0;
    while index < seen.len() {
        for field in &schema.object(seen[index]).fields {
            let mut ty = &field.ty;
            loop {
                match ty {
                    FieldType::Array { items, .. } => ty = items,
                    FieldType::Map { values } => ty = values,
                    _ => break,
                }
            }
            if let FieldType::Object(id) = ty {
                if !seen.contains(id) {
                    seen.push(*id);
                }
            }
        }
        index += 1;
    }
    seen
}
