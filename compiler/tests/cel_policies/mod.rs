//! Hand-built IR policies for the CEL backend tests: what lowering would produce for a few
//! typical guardrails.

use guardrailc_compiler::ir::*;
use guardrailc_compiler::span::{SourceId, Span};

#[path = "../ir_builders/mod.rs"]
mod ir_builders;
pub use ir_builders::*;

pub fn access(root: Root, steps: &[Step]) -> Access {
    Access {
        root,
        steps: steps.to_vec(),
    }
}

pub fn field(name: &str) -> Step {
    Step::Field(name.to_string())
}

pub fn key(name: &str) -> Step {
    Step::Key(name.to_string())
}

pub fn var(name: &str, steps: &[Step]) -> Access {
    access(Root::Var(name.to_string()), steps)
}

pub fn string(text: &str) -> Expr {
    Expr::Literal(Literal::String(text.to_string()))
}

pub fn string_or(access: Access, fallback: &str) -> Expr {
    Expr::ValueOr {
        access,
        fallback: Literal::String(fallback.to_string()),
    }
}

pub fn list_or_empty(access: Access) -> Expr {
    Expr::ValueOr {
        access,
        fallback: Literal::List(Vec::new()),
    }
}

pub fn text(text: &str) -> TemplatePart {
    TemplatePart::Text(text.to_string())
}

pub fn interpolate(expr: Expr) -> TemplatePart {
    TemplatePart::Value(expr)
}

pub fn rule_span(index: usize) -> Span {
    Span::new(SourceId(0), index * 100, index * 100 + 40)
}

pub fn rule(
    index: usize,
    generators: Vec<Generator>,
    condition: Expr,
    message: Vec<TemplatePart>,
) -> Rule {
    let message = Template { parts: message };
    rule_at(
        rule_span(index),
        index,
        index * 5,
        generators,
        condition,
        message,
    )
}

fn base_policy(id: &str, kind_name: &str, resources: Vec<Resource>) -> Policy {
    denying_policy(id, kind_name, format!("The {id} guardrail"), resources)
}

fn workloads() -> (Vec<Resource>, PodView) {
    let resources = workload_resources();
    let location = |kinds: &[&str], prefix: &[&str]| PodLocation {
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        spec_path: prefix
            .iter()
            .chain(&["spec"])
            .map(|s| s.to_string())
            .collect(),
        metadata_path: prefix
            .iter()
            .chain(&["metadata"])
            .map(|s| s.to_string())
            .collect(),
    };
    let pod = PodView {
        locations: vec![
            PodLocation {
                kinds: vec!["Pod".to_string()],
                spec_path: vec!["spec".to_string()],
                metadata_path: vec!["metadata".to_string()],
            },
            location(&["Deployment", "StatefulSet"], &["spec", "template"]),
            location(&["CronJob"], &["spec", "jobTemplate", "spec", "template"]),
        ],
        // Set from the rules by `with_pod_reads`.
        reads: PodReads::default(),
    };
    (resources, pod)
}

/// A pod guardrail over workloads: pinned images, host ports (two nested generators), an
/// annotation on the pod metadata, and a list param.
pub fn pod_guardrail() -> Policy {
    let (resources, pod) = workloads();
    let mut policy = base_policy("pod-hardening", "PodHardening", resources);
    policy.meta.severity = Severity::High;
    policy.meta.controls = vec!["CIS 5.5.1".to_string(), "NSA 3.2".to_string()];
    policy.matcher.excluded_namespaces = vec!["kube-system".to_string()];
    policy.pod = Some(pod);
    policy.params = vec![ParamValue {
        name: "allowed_registries".to_string(),
        ty: ParamType::List(Box::new(ParamType::String)),
        value: Literal::List(vec![
            Literal::String("registry.example.com/".to_string()),
            Literal::String("ghcr.io/acme/".to_string()),
        ]),
    }];
    let containers = || value(access(Root::AllContainers, &[]));
    let image = || string_or(var("c", &[field("image")]), "<missing>");
    let name = || string_or(var("c", &[field("name")]), "<missing>");
    policy.rules = vec![
        rule(
            1,
            vec![generator("c", containers())],
            Expr::Or(vec![
                string_test(StringOp::EndsWith, image(), string(":latest")),
                not(string_test(StringOp::Contains, image(), string(":"))),
            ]),
            vec![
                text("container "),
                interpolate(name()),
                text(" uses "),
                interpolate(image()),
                text(", which is not pinned (fix: pin a version tag or digest)"),
            ],
        ),
        rule(
            2,
            vec![
                generator("c", containers()),
                generator("p", list_or_empty(var("c", &[field("ports")]))),
            ],
            Expr::And(vec![
                present(var("p", &[field("hostPort")])),
                compare(
                    CompareOp::Ne,
                    Domain::Int,
                    value(var("p", &[field("hostPort")])),
                    Expr::Literal(Literal::Int(0)),
                ),
            ]),
            vec![
                text("container "),
                interpolate(name()),
                text(" uses host port "),
                interpolate(value(var("p", &[field("hostPort")]))),
            ],
        ),
        rule(
            3,
            Vec::new(),
            not(present(access(
                Root::PodMetadata,
                &[
                    field("annotations"),
                    key("container.apparmor.security.beta.kubernetes.io/app"),
                ],
            ))),
            vec![text("the pod has no AppArmor profile for container `app`")],
        ),
        rule(
            4,
            vec![generator("c", containers())],
            not(Expr::Quantified {
                quantifier: Quantifier::Any,
                var: "r".to_string(),
                list: Box::new(value(access(
                    Root::Param("allowed_registries".to_string()),
                    &[],
                ))),
                body: Box::new(string_test(
                    StringOp::StartsWith,
                    image(),
                    value(var("r", &[])),
                )),
            }),
            vec![
                text("container "),
                interpolate(name()),
                text(": image "),
                interpolate(image()),
                text(" is not from an allowed registry"),
            ],
        ),
    ];
    policy.exemptions = vec![Exemption {
        reason: "the platform team runs its own registry".to_string(),
        owner: Some("platform".to_string()),
        expires: "2099-01-31".to_string(),
        condition: Expr::And(vec![
            present(access(
                Root::Object,
                &[field("metadata"), field("labels"), key("team")],
            )),
            compare(
                CompareOp::Eq,
                Domain::String,
                value(access(
                    Root::Object,
                    &[field("metadata"), field("labels"), key("team")],
                )),
                string("platform"),
            ),
        ]),
    }];
    with_pod_reads(policy)
}

/// A Service guardrail with namespace and object label selectors and two exemptions; it
/// prints the object's namespace, whose field name is a CEL reserved word.
pub fn service_guardrail() -> Policy {
    let mut policy = base_policy(
        "no-public-load-balancers",
        "NoPublicLoadBalancers",
        vec![resource("", "v1", "services", "Service")],
    );
    policy.enforcement = Enforcement::Warn;
    policy.meta.category = Category::Detective;
    policy.matcher.operations = vec![Operation::Create];
    policy.matcher.namespaces = vec!["shop".to_string(), "web".to_string()];
    policy.matcher.excluded_namespaces = vec!["web-staging".to_string()];
    policy.matcher.namespace_selector = LabelSelector {
        match_labels: vec![("env".to_string(), "prod".to_string())],
        match_expressions: vec![SelectorRequirement {
            key: "tier".to_string(),
            operator: SelectorOperator::Exists,
            values: Vec::new(),
        }],
    };
    policy.matcher.object_selector = LabelSelector {
        match_labels: Vec::new(),
        match_expressions: vec![SelectorRequirement {
            key: "exposure".to_string(),
            operator: SelectorOperator::NotIn,
            values: vec!["internal".to_string()],
        }],
    };
    let service_type = || access(Root::Object, &[field("spec"), field("type")]);
    let internal_annotation = || {
        access(
            Root::Object,
            &[
                field("metadata"),
                field("annotations"),
                key("networking.gke.io/load-balancer-type"),
            ],
        )
    };
    policy.rules = vec![rule(
        1,
        Vec::new(),
        Expr::And(vec![
            present(service_type()),
            compare(
                CompareOp::Eq,
                Domain::String,
                value(service_type()),
                string("LoadBalancer"),
            ),
            Expr::Or(vec![
                not(present(internal_annotation())),
                compare(
                    CompareOp::Ne,
                    Domain::String,
                    value(internal_annotation()),
                    string("Internal"),
                ),
            ]),
        ]),
        vec![
            text("service "),
            interpolate(string_or(
                access(Root::Object, &[field("metadata"), field("name")]),
                "<missing>",
            )),
            text(" in namespace "),
            interpolate(string_or(
                access(Root::Object, &[field("metadata"), field("namespace")]),
                "<missing>",
            )),
            text(" is a public load balancer"),
        ],
    )];
    let label_is = |label: &str, wanted: &str| {
        let label = access(
            Root::Object,
            &[field("metadata"), field("labels"), key(label)],
        );
        Expr::And(vec![
            present(label.clone()),
            compare(CompareOp::Eq, Domain::String, value(label), string(wanted)),
        ])
    };
    policy.exemptions = vec![
        Exemption {
            reason: "the ingress controller is public by design".to_string(),
            owner: None,
            expires: "2099-12-31".to_string(),
            condition: label_is("app.kubernetes.io/name", "ingress-nginx"),
        },
        Exemption {
            reason: "legacy shop frontend".to_string(),
            owner: Some("shop".to_string()),
            expires: "2099-06-30".to_string(),
            condition: Expr::And(vec![
                compare(
                    CompareOp::Eq,
                    Domain::String,
                    string_or(
                        access(Root::Object, &[field("metadata"), field("namespace")]),
                        "",
                    ),
                    string("shop"),
                ),
                label_is("app", "frontend"),
            ]),
        },
    ];
    policy
}

/// Memory limits compared as quantities against an inline param.
pub fn quantity_guardrail() -> Policy {
    let (resources, pod) = workloads();
    let mut policy = base_policy("memory-limits", "MemoryLimits", resources);
    policy.enforcement = Enforcement::Audit;
    policy.pod = Some(pod);
    policy.params = vec![ParamValue {
        name: "max_memory".to_string(),
        ty: ParamType::Quantity,
        value: Literal::Quantity("2Gi".to_string()),
    }];
    let limit = || var("c", &[field("resources"), field("limits"), key("memory")]);
    policy.rules = vec![rule(
        1,
        vec![generator("c", value(access(Root::AllContainers, &[])))],
        Expr::Or(vec![
            not(present(limit())),
            not(Expr::IsType {
                value: Box::new(value(limit())),
                ty: ValueType::Quantity,
            }),
            compare(
                CompareOp::Gt,
                Domain::Quantity,
                value(limit()),
                value(access(Root::Param("max_memory".to_string()), &[])),
            ),
        ]),
        vec![
            text("container "),
            interpolate(string_or(var("c", &[field("name")]), "<missing>")),
            text(" needs a memory limit of at most 2Gi"),
        ],
    )];
    with_pod_reads(policy)
}

/// An UPDATE guardrail reading the old object, the namespace and the request.
pub fn request_guardrail() -> Policy {
    let mut policy = base_policy(
        "owner-label-is-stable",
        "OwnerLabelIsStable",
        vec![
            resource("", "v1", "configmaps", "ConfigMap"),
            resource("apps", "v1", "deployments", "Deployment"),
        ],
    );
    policy.matcher.operations = vec![Operation::Update];
    policy.reads = Reads {
        old_object: true,
        namespace: true,
        request: true,
    };
    let owner = |root: Root| access(root, &[field("metadata"), field("labels"), key("owner")]);
    let frozen = access(
        Root::Namespace,
        &[field("metadata"), field("labels"), key("frozen")],
    );
    policy.rules = vec![rule(
        1,
        Vec::new(),
        Expr::And(vec![
            present(owner(Root::OldObject)),
            compare(
                CompareOp::Ne,
                Domain::String,
                value(owner(Root::OldObject)),
                string_or(owner(Root::Object), ""),
            ),
            not(Expr::InList {
                item: Box::new(string("system:masters")),
                list: Box::new(list_or_empty(access(
                    Root::Request,
                    &[field("userInfo"), field("groups")],
                ))),
            }),
            present(frozen.clone()),
            compare(CompareOp::Eq, Domain::String, value(frozen), string("true")),
        ]),
        vec![
            text("user "),
            interpolate(string_or(
                access(Root::Request, &[field("userInfo"), field("username")]),
                "<missing>",
            )),
            text(" may not change the owner label in a frozen namespace during "),
            interpolate(value(access(Root::Request, &[field("operation")]))),
        ],
    )];
    policy
}

pub fn all_policies() -> Vec<Policy> {
    vec![
        pod_guardrail(),
        service_guardrail(),
        quantity_guardrail(),
        request_guardrail(),
    ]
}

/// A JSON value as the API server hands it to CEL: integers stay `int` (serde binding would
/// make them `uint`).
pub fn to_cel(json: &serde_json::Value) -> cel::Value {
    use serde_json::Value as Json;
    match json {
        Json::Null => cel::Value::Null,
        Json::Bool(b) => cel::Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => cel::Value::from(s.clone()),
        Json::Array(items) => {
            cel::Value::List(std::sync::Arc::new(items.iter().map(to_cel).collect()))
        }
        Json::Object(entries) => {
            let map: std::collections::HashMap<String, cel::Value> = entries
                .iter()
                .map(|(k, v)| (k.clone(), to_cel(v)))
                .collect();
            cel::Value::from(map)
        }
    }
}

/// Runs a printed expression with the CEL standard library and the strings extension, with
/// `bindings` as its variables.
pub fn evaluate(expression: &str, bindings: &[(&str, cel::Value)]) -> Result<cel::Value, String> {
    let mut env = cel::Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .map_err(|e| format!("{e:?}"))?;
    let env = std::sync::Arc::new(env);
    let program = env
        .compile(expression)
        .map_err(|e| format!("`{expression}` does not parse: {e}"))?;
    let mut context = cel::Context::with_env(env);
    for (name, value) in bindings {
        context.add_variable_from_value(*name, value.clone());
    }
    program
        .execute(&context)
        .map_err(|e| format!("`{expression}` fails: {e:?}"))
}

/// The policy with its pod view's reads computed from its rules, as lowering does.
pub fn with_pod_reads(mut policy: Policy) -> Policy {
    let reads = PodReads::of(&policy.rules);
    if let Some(pod) = &mut policy.pod {
        pod.reads = reads;
    }
    policy
}
