//! Hand-built IR policies for the Rego backend tests, written the way lowering writes them
//! (presence guards before values, `ValueOr` for lists and message values), and a regorus
//! harness that evaluates what the backend prints.

#![allow(dead_code)] // each test file uses a different part of this module

use guardrailc_compiler::backend::rego::{package_name, print_module, RegoFlavour};
use guardrailc_compiler::ir::*;
use guardrailc_compiler::span::Span;
use serde_json::{json, Value};

#[path = "../ir_builders/mod.rs"]
mod ir_builders;
pub use ir_builders::*;

// ---- IR builders -----------------------------------------------------------------------------

pub fn access(root: Root, steps: &[&str]) -> Access {
    Access {
        root,
        steps: steps.iter().map(|s| Step::Field(s.to_string())).collect(),
    }
}

/// An access whose last step is a map key (`labels["team"]`).
pub fn keyed(root: Root, fields: &[&str], key: &str) -> Access {
    let mut access = access(root, fields);
    access.steps.push(Step::Key(key.to_string()));
    access
}

pub fn var(name: &str, steps: &[&str]) -> Access {
    access(Root::Var(name.to_string()), steps)
}

pub fn value_or(access: Access, fallback: Literal) -> Expr {
    Expr::ValueOr { access, fallback }
}

pub fn missing_or(access: Access) -> Expr {
    value_or(access, Literal::String("<missing>".into()))
}

pub fn text(value: &str) -> Expr {
    Expr::Literal(Literal::String(value.into()))
}

pub fn int(value: i64) -> Expr {
    Expr::Literal(Literal::Int(value))
}

pub fn quantified(quantifier: Quantifier, var: &str, list: Expr, body: Expr) -> Expr {
    Expr::Quantified {
        quantifier,
        var: var.into(),
        list: Box::new(list),
        body: Box::new(body),
    }
}

pub enum Part {
    T(&'static str),
    V(Expr),
}

pub fn message(parts: Vec<Part>) -> Template {
    Template {
        parts: parts
            .into_iter()
            .map(|part| match part {
                Part::T(text) => TemplatePart::Text(text.into()),
                Part::V(expr) => TemplatePart::Value(expr),
            })
            .collect(),
    }
}

pub fn rule(index: usize, generators: Vec<Generator>, condition: Expr, message: Template) -> Rule {
    rule_at(
        Span::default(),
        index,
        index * 10,
        generators,
        condition,
        message,
    )
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub fn base_policy(id: &str, kind_name: &str) -> Policy {
    denying_policy(id, kind_name, format!("{id} title"), Vec::new())
}

pub fn workload_matcher() -> (Vec<Resource>, PodView) {
    let resources = workload_resources();
    let pod = PodView {
        locations: vec![
            PodLocation {
                kinds: strings(&["CronJob"]),
                spec_path: strings(&["spec", "jobTemplate", "spec", "template", "spec"]),
                metadata_path: strings(&["spec", "jobTemplate", "spec", "template", "metadata"]),
            },
            PodLocation {
                kinds: strings(&["Deployment", "StatefulSet"]),
                spec_path: strings(&["spec", "template", "spec"]),
                metadata_path: strings(&["spec", "template", "metadata"]),
            },
            PodLocation {
                kinds: strings(&["Pod"]),
                spec_path: strings(&["spec"]),
                metadata_path: strings(&["metadata"]),
            },
        ],
        // Set from the rules by `with_pod_reads`.
        reads: PodReads::default(),
    };
    (resources, pod)
}

fn all_containers() -> Expr {
    value(access(Root::AllContainers, &[]))
}

/// Every policy below: the pod, service, limits and team-label guardrails.
pub fn all_policies() -> [Policy; 4] {
    [
        pod_policy(),
        service_policy(),
        limits_policy(),
        team_label_policy(),
    ]
}

/// Pod guardrail over workloads: `or`/`not`, nested generators, `any`/`all`, the pod view.
pub fn pod_policy() -> Policy {
    let (resources, pod) = workload_matcher();
    let mut policy = base_policy("pod-hygiene", "PodHygiene");
    policy.matcher.resources = resources;
    policy.pod = Some(pod);
    let image = || var("c", &["image"]);
    policy.rules = vec![
        // deny for c in pod.all_containers
        //   when c.image.ends_with(":latest") or not c.image.contains(":")
        rule(
            1,
            vec![generator("c", all_containers())],
            Expr::Or(vec![
                Expr::And(vec![
                    present(image()),
                    string_test(StringOp::EndsWith, value(image()), text(":latest")),
                ]),
                not(Expr::And(vec![
                    present(image()),
                    string_test(StringOp::Contains, value(image()), text(":")),
                ])),
            ]),
            message(vec![
                Part::T("container "),
                Part::V(missing_or(var("c", &["name"]))),
                Part::T(" uses "),
                Part::V(missing_or(image())),
                Part::T(", which is not pinned"),
            ]),
        ),
        // deny for c in pod.all_containers for p in c.ports when p.hostPort > 0
        rule(
            2,
            vec![
                generator("c", all_containers()),
                generator(
                    "p",
                    value_or(var("c", &["ports"]), Literal::List(Vec::new())),
                ),
            ],
            Expr::And(vec![
                present(var("p", &["hostPort"])),
                compare(
                    CompareOp::Gt,
                    Domain::Int,
                    value(var("p", &["hostPort"])),
                    int(0),
                ),
            ]),
            message(vec![
                Part::T("container "),
                Part::V(missing_or(var("c", &["name"]))),
                Part::T(" binds host port "),
                Part::V(value(var("p", &["hostPort"]))),
            ]),
        ),
        // require all c in pod.all_containers: c.securityContext.runAsNonRoot
        rule(
            3,
            Vec::new(),
            not(quantified(
                Quantifier::All,
                "c",
                all_containers(),
                compare(
                    CompareOp::Eq,
                    Domain::Bool,
                    value_or(
                        var("c", &["securityContext", "runAsNonRoot"]),
                        Literal::Bool(false),
                    ),
                    Expr::Literal(Literal::Bool(true)),
                ),
            )),
            message(vec![
                Part::T("pod "),
                Part::V(missing_or(keyed(Root::PodMetadata, &["labels"], "app"))),
                Part::T(" may run as root"),
            ]),
        ),
        // deny when any v in pod.spec.volumes: exists(v.hostPath)
        rule(
            4,
            Vec::new(),
            quantified(
                Quantifier::Any,
                "v",
                value_or(
                    access(Root::PodSpec, &["volumes"]),
                    Literal::List(Vec::new()),
                ),
                present(var("v", &["hostPath"])),
            ),
            message(vec![Part::T("pod mounts a host path")]),
        ),
    ];
    with_pod_reads(policy)
}

/// Service guardrail: selectors, excluded namespaces and two exemptions, one with an `or`.
pub fn service_policy() -> Policy {
    let mut policy = base_policy("internal-load-balancers", "InternalLoadBalancers");
    policy.enforcement = Enforcement::Warn;
    policy.meta.severity = Severity::High;
    policy.meta.category = Category::Preventive;
    policy.meta.controls = strings(&["NET-1", "NET-2"]);
    policy.matcher.resources = vec![resource("", "v1", "services", "Service")];
    policy.matcher.operations = vec![Operation::Create];
    policy.matcher.excluded_namespaces = strings(&["kube-system"]);
    policy.matcher.namespace_selector = LabelSelector {
        match_labels: vec![("env".into(), "prod".into())],
        match_expressions: vec![SelectorRequirement {
            key: "tier".into(),
            operator: SelectorOperator::In,
            values: strings(&["edge", "web"]),
        }],
    };
    policy.matcher.object_selector = LabelSelector {
        match_labels: Vec::new(),
        match_expressions: vec![SelectorRequirement {
            key: "guardrailc.dev/skip".into(),
            operator: SelectorOperator::DoesNotExist,
            values: Vec::new(),
        }],
    };
    let internal = || {
        keyed(
            Root::Object,
            &["metadata", "annotations"],
            "lb.example.com/internal",
        )
    };
    let team = || keyed(Root::Object, &["metadata", "labels"], "team");
    let name = || access(Root::Object, &["metadata", "name"]);
    policy.exemptions = vec![
        Exemption {
            reason: "platform owns its balancers".into(),
            owner: Some("platform".into()),
            expires: "2099-01-01".into(),
            condition: Expr::And(vec![
                present(team()),
                compare(
                    CompareOp::Eq,
                    Domain::String,
                    value(team()),
                    text("platform"),
                ),
            ]),
        },
        Exemption {
            reason: "legacy services\nmigrate by 2099".into(),
            owner: None,
            expires: "2099-06-30".into(),
            condition: Expr::Or(vec![
                Expr::And(vec![
                    present(name()),
                    string_test(StringOp::StartsWith, value(name()), text("legacy-")),
                ]),
                Expr::And(vec![
                    present(name()),
                    compare(CompareOp::Eq, Domain::String, value(name()), text("old")),
                ]),
            ]),
        },
    ];
    policy.rules = vec![rule(
        1,
        Vec::new(),
        Expr::And(vec![
            present(access(Root::Object, &["spec", "type"])),
            compare(
                CompareOp::Eq,
                Domain::String,
                value(access(Root::Object, &["spec", "type"])),
                text("LoadBalancer"),
            ),
            not(Expr::And(vec![
                present(internal()),
                compare(
                    CompareOp::Eq,
                    Domain::String,
                    value(internal()),
                    text("true"),
                ),
            ])),
        ]),
        message(vec![
            Part::T("service "),
            Part::V(missing_or(name())),
            Part::T(" is a public load balancer"),
        ]),
    )];
    policy
}

/// Params of every shape and a quantity comparison against a param.
pub fn limits_policy() -> Policy {
    let (resources, pod) = workload_matcher();
    let mut policy = base_policy("container-limits", "ContainerLimits");
    policy.enforcement = Enforcement::Audit;
    policy.matcher.resources = resources;
    policy.pod = Some(pod);
    policy.params = vec![
        ParamValue {
            name: "max_memory".into(),
            ty: ParamType::Quantity,
            value: Literal::Quantity("1Gi".into()),
        },
        ParamValue {
            name: "allowed_registries".into(),
            ty: ParamType::List(Box::new(ParamType::String)),
            value: Literal::List(vec![
                Literal::String("registry.example.com/".into()),
                Literal::String("mirror.example.com/".into()),
            ]),
        },
        ParamValue {
            name: "max_containers".into(),
            ty: ParamType::Int,
            value: Literal::Int(2),
        },
        ParamValue {
            name: "strict".into(),
            ty: ParamType::Bool,
            value: Literal::Bool(true),
        },
        ParamValue {
            name: "default".into(),
            ty: ParamType::Map(Box::new(ParamType::String)),
            value: Literal::Map(std::collections::BTreeMap::from([(
                "cpu".into(),
                Literal::String("500m".into()),
            )])),
        },
    ];
    let param = |name: &str| value(access(Root::Param(name.into()), &[]));
    let memory = || keyed(Root::Var("c".into()), &["resources", "limits"], "memory");
    let cpu = || keyed(Root::Var("c".into()), &["resources", "limits"], "cpu");
    let default_cpu = || {
        value(Access {
            root: Root::Param("default".into()),
            steps: vec![Step::Key("cpu".into())],
        })
    };
    policy.rules = vec![
        // require for c in pod.all_containers that c.resources.limits.memory <= params.max_memory
        rule(
            1,
            vec![generator("c", all_containers())],
            not(Expr::And(vec![
                present(memory()),
                Expr::IsType {
                    value: Box::new(value(memory())),
                    ty: ValueType::Quantity,
                },
                compare(
                    CompareOp::Le,
                    Domain::Quantity,
                    value(memory()),
                    param("max_memory"),
                ),
            ])),
            message(vec![
                Part::T("container "),
                Part::V(missing_or(var("c", &["name"]))),
                Part::T(": memory limit "),
                Part::V(missing_or(memory())),
                Part::T(" is missing or above "),
                Part::V(param("max_memory")),
            ]),
        ),
        // require for c in pod.all_containers
        //   that any r in params.allowed_registries: c.image.starts_with(r)
        rule(
            2,
            vec![generator("c", all_containers())],
            not(Expr::And(vec![
                present(var("c", &["image"])),
                quantified(
                    Quantifier::Any,
                    "r",
                    param("allowed_registries"),
                    string_test(
                        StringOp::StartsWith,
                        value(var("c", &["image"])),
                        value(var("r", &[])),
                    ),
                ),
            ])),
            message(vec![
                Part::T("container "),
                Part::V(missing_or(var("c", &["name"]))),
                Part::T(": image "),
                Part::V(missing_or(var("c", &["image"]))),
                Part::T(" is not from an allowed registry"),
            ]),
        ),
        // deny when params.strict and size(pod.all_containers) > params.max_containers
        rule(
            3,
            Vec::new(),
            Expr::And(vec![
                compare(
                    CompareOp::Eq,
                    Domain::Bool,
                    param("strict"),
                    Expr::Literal(Literal::Bool(true)),
                ),
                compare(
                    CompareOp::Gt,
                    Domain::Int,
                    Expr::Size(Box::new(all_containers())),
                    param("max_containers"),
                ),
            ]),
            message(vec![
                Part::T("strict="),
                Part::V(param("strict")),
                Part::T(": more than "),
                Part::V(param("max_containers")),
                Part::T(" containers"),
            ]),
        ),
        // deny for c in pod.all_containers when c.resources.limits.cpu > params.default["cpu"]
        rule(
            4,
            vec![generator("c", all_containers())],
            Expr::And(vec![
                present(cpu()),
                Expr::IsType {
                    value: Box::new(value(cpu())),
                    ty: ValueType::Quantity,
                },
                compare(CompareOp::Gt, Domain::Quantity, value(cpu()), default_cpu()),
            ]),
            message(vec![
                Part::T("container "),
                Part::V(missing_or(var("c", &["name"]))),
                Part::T(" asks for more than "),
                Part::V(default_cpu()),
                Part::T(" cpu"),
            ]),
        ),
    ];
    with_pod_reads(policy)
}

/// Reads of the request, the old object and the namespace, on UPDATE only.
pub fn team_label_policy() -> Policy {
    let mut policy = base_policy("team-label-frozen", "TeamLabelFrozen");
    policy.matcher.resources = vec![resource("apps", "v1", "deployments", "Deployment")];
    policy.matcher.operations = vec![Operation::Update];
    policy.reads = Reads {
        old_object: true,
        namespace: true,
        request: true,
    };
    let new_team = || keyed(Root::Object, &["metadata", "labels"], "team");
    let old_team = || keyed(Root::OldObject, &["metadata", "labels"], "team");
    let ns_env = || keyed(Root::Namespace, &["metadata", "labels"], "env");
    let groups = || access(Root::Request, &["userInfo", "groups"]);
    policy.rules = vec![
        // deny when old.metadata.labels["team"] != object.metadata.labels["team"]
        //   and not "system:masters" in request.userInfo.groups
        rule(
            1,
            Vec::new(),
            Expr::And(vec![
                present(old_team()),
                compare(
                    CompareOp::Ne,
                    Domain::String,
                    value(old_team()),
                    value_or(new_team(), Literal::String("".into())),
                ),
                not(Expr::InList {
                    item: Box::new(text("system:masters")),
                    list: Box::new(value_or(groups(), Literal::List(Vec::new()))),
                }),
            ]),
            message(vec![
                Part::T("user "),
                Part::V(missing_or(access(Root::Request, &["userInfo", "username"]))),
                Part::T(" may not change the team label from "),
                Part::V(value(old_team())),
                Part::T(" to "),
                Part::V(missing_or(new_team())),
            ]),
        ),
        // deny when namespace.metadata.labels["env"] == "prod" and object.spec.replicas < 2
        rule(
            2,
            Vec::new(),
            Expr::And(vec![
                present(ns_env()),
                compare(CompareOp::Eq, Domain::String, value(ns_env()), text("prod")),
                compare(
                    CompareOp::Lt,
                    Domain::Int,
                    value_or(access(Root::Object, &["spec", "replicas"]), Literal::Int(1)),
                    int(2),
                ),
            ]),
            message(vec![
                Part::T("deployments in "),
                Part::V(missing_or(access(Root::Request, &["namespace"]))),
                Part::T(" need two replicas"),
            ]),
        ),
    ];
    policy
}

// ---- evaluation --------------------------------------------------------------------------------

/// An engine holding the module printed for `policy`; panics when regorus rejects it, which is
/// what the tests check.
pub fn engine(policy: &Policy, flavour: RegoFlavour) -> regorus::Engine {
    let module = print_module(policy, flavour).expect("the policy prints");
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(format!("{}.rego", policy.id), module.clone())
        .unwrap_or_else(|error| panic!("regorus rejects the module: {error}\n{module}"));
    engine
}

fn eval(engine: &mut regorus::Engine, rule: String, input: &Value) -> Value {
    engine.set_input(regorus::Value::from_json_str(&input.to_string()).expect("json input"));
    let result = engine
        .eval_rule(rule)
        .unwrap_or_else(|error| panic!("evaluation fails: {error}"));
    serde_json::from_str(&result.to_json_str().expect("a json result")).expect("json")
}

/// A Gatekeeper review of `object`, as `input.review` carries it.
pub fn review(operation: &str, object: Value) -> Value {
    json!({
        "operation": operation,
        "kind": { "group": "", "version": "v1", "kind": object["kind"] },
        "namespace": object["metadata"]["namespace"],
        "name": object["metadata"]["name"],
        "object": object,
        "userInfo": { "username": "alice", "groups": ["dev"] },
    })
}

/// The Gatekeeper violations (`{"msg", "details"}` objects, in regorus's set order) for a
/// review, with the environment's params as `input.parameters`.
pub fn gatekeeper_violations(policy: &Policy, review: Value) -> Vec<Value> {
    gatekeeper_violations_with_data(policy, review, json!({}))
}

/// Like [`gatekeeper_violations`], with `data` loaded first (what Gatekeeper's sync
/// replicates into `data.inventory`).
pub fn gatekeeper_violations_with_data(policy: &Policy, review: Value, data: Value) -> Vec<Value> {
    let mut engine = engine(policy, RegoFlavour::Gatekeeper);
    engine
        .add_data(regorus::Value::from_json_str(&data.to_string()).expect("json data"))
        .expect("data loads");
    let parameters: serde_json::Map<String, Value> = policy
        .params
        .iter()
        .map(|param| (param.name.clone(), literal_json(&param.value)))
        .collect();
    let input = json!({ "review": review, "parameters": parameters });
    let rule = format!("data.{}.violation", package_name(policy));
    match eval(&mut engine, rule, &input) {
        Value::Array(items) => items,
        other => panic!("violation is not a set: {other}"),
    }
}

/// The messages of the Gatekeeper violations, sorted, duplicates kept.
pub fn gatekeeper_messages(policy: &Policy, review: Value) -> Vec<String> {
    gatekeeper_messages_with_data(policy, review, json!({}))
}

/// Like [`gatekeeper_messages`], with `data` loaded first.
pub fn gatekeeper_messages_with_data(policy: &Policy, review: Value, data: Value) -> Vec<String> {
    let mut messages: Vec<String> = gatekeeper_violations_with_data(policy, review, data)
        .iter()
        .map(|violation| violation["msg"].as_str().expect("msg").to_string())
        .collect();
    messages.sort();
    messages
}

/// The OPA flavour's `deny` set for `input` (sorted, as a set is).
pub fn opa_messages(policy: &Policy, input: Value) -> Vec<String> {
    opa_messages_with_data(policy, input, json!({}))
}

/// Like [`opa_messages`], with `data` loaded first (the `--data` a user supplies).
pub fn opa_messages_with_data(policy: &Policy, input: Value, data: Value) -> Vec<String> {
    let mut engine = engine(policy, RegoFlavour::Opa);
    engine
        .add_data(regorus::Value::from_json_str(&data.to_string()).expect("json data"))
        .expect("data loads");
    let rule = format!("data.{}.deny", package_name(policy));
    match eval(&mut engine, rule, &input) {
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().expect("msg").to_string())
            .collect(),
        other => panic!("deny is not a set: {other}"),
    }
}

pub fn literal_json(literal: &Literal) -> Value {
    match literal {
        Literal::Bool(b) => json!(b),
        Literal::Int(i) => json!(i),
        Literal::String(s) | Literal::Quantity(s) => json!(s),
        Literal::List(items) => Value::Array(items.iter().map(literal_json).collect()),
        Literal::Map(entries) | Literal::Record(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), literal_json(v)))
                .collect(),
        ),
    }
}

/// The policy with its pod view's reads computed from its rules, as lowering does.
pub fn with_pod_reads(mut policy: Policy) -> Policy {
    let reads = PodReads::of(&policy.rules);
    if let Some(pod) = &mut policy.pod {
        pod.reads = reads;
    }
    policy
}
