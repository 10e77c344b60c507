//! Property mode: random admission requests, generated from the schema and biased toward what
//! a guardrail reads, evaluated on every target. Each request must give agreeing outcomes
//! (the canonical [`crate::compare`]) and no engine error (CEL never raises at run time);
//! every rule's estimated CEL cost must stay under the API server's limit. A failure shrinks
//! to a minimal request, printed as a fixture case with the seed that reproduces it.

pub mod reads;
pub mod values;

use crate::agreement::disagreements;
use crate::case::{AdmissionCase, Operation, ResourceCatalog, UserInfo};
use crate::compiled::{CompiledGuardrail, Evaluation};
use crate::CaseError;
use guardrailc_compiler::cost::{self, CostModel, EXPRESSION_COST_LIMIT};
use guardrailc_compiler::ir;
use guardrailc_compiler::schema::{FieldType, Schema};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use reads::{Literals, PathTree};
use serde_json::{json, Value};
use values::{value_of, Pools};

/// Generated requests per guardrail and environment when the caller does not say.
pub const DEFAULT_OBJECTS: u32 = 256;

/// How many requests to try and the seed of the random stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyConfig {
    pub objects: u32,
    pub seed: u64,
}

/// What a property run of one compiled guardrail found.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyResult {
    pub guardrail: String,
    pub env: String,
    /// Requests evaluated, shrinking included.
    pub evaluated: u32,
    /// Of those, the requests some target found violating: a run that never (or always)
    /// violates says the generators miss one side of the guardrail.
    pub violating: u32,
    /// The largest run-time cost of one VAP expression on a generated request, as the API
    /// server would charge it: the margin under its limit of 1,000,000.
    pub largest_cost: u64,
    /// Why the run failed: a shrunk counterexample, or a rule over the cost limit.
    pub failures: Vec<String>,
    /// The shrunk request that failed, if one did.
    pub counterexample: Option<AdmissionCase>,
}

impl PropertyResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs property mode on one compiled guardrail. `on_request` is called after each of the
/// first `config.objects` requests (not for shrinking), for progress reports.
pub fn run_property(
    guardrail: &CompiledGuardrail,
    schema: &Schema,
    catalog: &dyn ResourceCatalog,
    config: PropertyConfig,
    on_request: &dyn Fn(),
) -> PropertyResult {
    let policy = &guardrail.policy;
    let mut result = PropertyResult {
        guardrail: policy.id.clone(),
        env: policy.env.clone(),
        evaluated: 0,
        violating: 0,
        largest_cost: 0,
        failures: cost_failures(policy),
        counterexample: None,
    };
    let Some(strategy) = request_strategy(policy, schema) else {
        return result;
    };
    let evaluated = std::cell::Cell::new(0u32);
    let violating = std::cell::Cell::new(0u32);
    let largest_cost = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: config.objects,
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..Config::default()
        },
        seeded_rng(config.seed),
    );
    let outcome = runner.run(&strategy, |case| {
        evaluated.set(evaluated.get() + 1);
        if evaluated.get() <= config.objects {
            on_request();
        }
        let checked = check_request(guardrail, &case, catalog).map_err(TestCaseError::fail)?;
        violating.set(violating.get() + u32::from(checked.violated));
        largest_cost.set(largest_cost.get().max(checked.largest_cost));
        Ok(())
    });
    result.evaluated = evaluated.get();
    result.violating = violating.get();
    result.largest_cost = largest_cost.get();
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, case)) => {
            result.failures.push(format!(
                "{reason}\nminimal request (seed {}, reproduce with `--seed {}`):\n{}",
                config.seed,
                config.seed,
                case_yaml(&case)
            ));
            result.counterexample = Some(case);
        }
        Err(TestError::Abort(reason)) => result
            .failures
            .push(format!("the property run stopped: {reason}")),
    }
    result
}

/// The random stream of a run: the same seed gives the same requests. XorShift, not
/// proptest's default ChaCha: the stream only has to be reproducible, not unpredictable,
/// and ChaCha took about an eighth of the time spent generating a request.
pub fn seeded_rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed.rotate_left(16 * i as u32) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::XorShift, &bytes)
}

/// Rules whose CEL cost on the largest requests this run generates (every list at
/// [`values::LONG_LIST`] items) is over the limit the API server enforces at run time. The
/// model is the one the VAP emitter warns with; the build's G0501 warning assumes longer
/// lists (64 items), a bound for real objects rather than for the generated ones.
fn cost_failures(policy: &ir::Policy) -> Vec<String> {
    let generated_list_size = |_: &ir::Access| Some(values::LONG_LIST as u64);
    let model = CostModel::new(&policy.params).with_max_items(&generated_list_size);
    policy
        .rules
        .iter()
        .filter_map(|rule| {
            let estimate = cost::estimate_rule(rule, &model);
            (estimate > EXPRESSION_COST_LIMIT).then(|| {
                format!(
                    "rule {} (line {}) would cost {estimate} on a generated request, over the limit of {EXPRESSION_COST_LIMIT}",
                    rule.index, rule.line
                )
            })
        })
        .collect()
}

/// Items of a long generated list: [`values::LONG_LIST`], or the most below it at which every
/// rule's estimated cost stays within the API server's limit. Nested loops multiply list
/// sizes: with four or five of them, requests with lists of the usual length cost the
/// engines tens of seconds a guardrail, to show what `cost_failures` already reports. Short
/// lists (up to 3 items) are generated either way.
pub fn long_list_within_cost(policy: &ir::Policy) -> usize {
    (values::SHORT_LIST..values::LONG_LIST)
        .rev()
        .map(|items| items + 1)
        .find(|&items| {
            let size = |_: &ir::Access| Some(items as u64);
            let model = CostModel::new(&policy.params).with_max_items(&size);
            policy
                .rules
                .iter()
                .all(|rule| cost::estimate_rule(rule, &model) <= EXPRESSION_COST_LIMIT)
        })
        .unwrap_or(values::SHORT_LIST)
}

/// What checking one generated request found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Whether a target found a violation.
    pub violated: bool,
    /// The largest run-time cost of one VAP expression on the request.
    pub largest_cost: u64,
}

/// One generated request must give agreeing outcomes and no engine error, and its VAP
/// expressions must stay within the API server's run-time cost limits. The Rego runs on
/// regorus's VM; a request that fails there is evaluated again the reference way
/// (docs/evaluation.md, "Rego"), whose report is the one given, so a fault of the VM itself
/// shows as the VM and the interpreter disagreeing.
pub fn check_request(
    guardrail: &CompiledGuardrail,
    case: &AdmissionCase,
    catalog: &dyn ResourceCatalog,
) -> Result<Checked, String> {
    let cannot = |e: CaseError| format!("a generated request cannot be evaluated: {e}");
    let problems = |evaluation: &Evaluation| {
        let mut problems: Vec<String> = disagreements(evaluation)
            .iter()
            .map(ToString::to_string)
            .collect();
        for (target, outcome) in &evaluation.outcomes {
            for error in &outcome.errors {
                problems.push(format!("`{}` raised an error: {error}", target.as_str()));
            }
        }
        problems
    };
    let evaluation = guardrail
        .evaluate_counted_on_vm(case, catalog)
        .map_err(cannot)?;
    let cost = evaluation.vap_cost.clone().unwrap_or_default();
    let mut found = problems(&evaluation);
    if !found.is_empty() {
        // Reported as the reference evaluation sees it.
        found = problems(&guardrail.evaluate(case, catalog).map_err(cannot)?);
    }
    found.extend(cost.over_limits());
    if found.is_empty() {
        Ok(Checked {
            violated: evaluation
                .outcomes
                .iter()
                .any(|(_, outcome)| outcome.violated),
            largest_cost: cost.largest(),
        })
    } else {
        Err(found.join("\n"))
    }
}

/// A request as a fixture case, so a counterexample can be pasted into `tests/`.
pub fn case_yaml(case: &AdmissionCase) -> String {
    let mut fixture = serde_json::Map::new();
    fixture.insert("name".into(), json!("property counterexample"));
    fixture.insert("operation".into(), json!(case.operation.as_str()));
    if let Some(object) = &case.object {
        fixture.insert("object".into(), object.clone());
    }
    if let Some(old) = &case.old_object {
        fixture.insert("old_object".into(), old.clone());
    }
    if let Some(namespace) = &case.namespace_object {
        fixture.insert("namespace".into(), namespace.clone());
    }
    fixture.insert(
        "user".into(),
        json!({"username": case.user.username, "groups": case.user.groups}),
    );
    yaml_serde::to_string(&Value::Object(fixture))
        .unwrap_or_else(|e| format!("(the request does not print as YAML: {e})"))
}

/// Requests for the kinds and operations `policy` matches; `None` when the schema knows none
/// of its kinds.
pub fn request_strategy(
    policy: &ir::Policy,
    schema: &Schema,
) -> Option<BoxedStrategy<AdmissionCase>> {
    let literals = reads::literals(policy);
    let pools = Pools::new(&literals).with_long_list(long_list_within_cost(policy));
    let namespaces = namespace_names(&literals);
    let users = user_names(&literals);
    let operations: Vec<Operation> = policy
        .matcher
        .operations
        .iter()
        .copied()
        .filter(|op| *op != Operation::Connect)
        .collect();
    if operations.is_empty() {
        return None;
    }
    let per_kind: Vec<BoxedStrategy<AdmissionCase>> = policy
        .matcher
        .resources
        .iter()
        .filter_map(|resource| {
            let info = schema.kind(&resource.kind)?;
            let reads = reads::reads_for_kind(policy, &resource.kind);
            let api_version = if resource.group.is_empty() {
                resource.version.clone()
            } else {
                format!("{}/{}", resource.group, resource.version)
            };
            let object = object_strategy(
                schema,
                info.root,
                &reads.object,
                &pools,
                api_version,
                resource.kind.clone(),
            );
            let namespace = schema.kind("Namespace").map(|ns| {
                value_of(
                    schema,
                    &FieldType::Object(ns.root),
                    &reads.namespace,
                    &pools,
                )
            });
            Some(case_strategy(
                object,
                resource.namespaced.then_some(namespace).flatten(),
                operations.clone(),
                namespaces.clone(),
                users.clone(),
            ))
        })
        .collect();
    if per_kind.is_empty() {
        return None;
    }
    Some(proptest::strategy::Union::new(per_kind).boxed())
}

/// Objects of one kind: the read paths generated, then the identity Kubernetes guarantees
/// (`apiVersion`, `kind`, a name) set over them. The namespace is set by the request.
fn object_strategy(
    schema: &Schema,
    root: guardrailc_compiler::schema::TypeId,
    tree: &PathTree,
    pools: &Pools,
    api_version: String,
    kind: String,
) -> BoxedStrategy<Value> {
    let names = select(vec!["app", "web-1"]);
    (
        value_of(schema, &FieldType::Object(root), tree, pools),
        names,
    )
        .prop_map(move |(mut object, name)| {
            object["apiVersion"] = json!(api_version);
            object["kind"] = json!(kind);
            if !object.get("metadata").is_some_and(Value::is_object) {
                object["metadata"] = json!({});
            }
            object["metadata"]["name"] = json!(name);
            object
        })
        .boxed()
}

fn case_strategy(
    object: BoxedStrategy<Value>,
    namespace: Option<BoxedStrategy<Value>>,
    operations: Vec<Operation>,
    namespaces: Vec<String>,
    users: Vec<String>,
) -> BoxedStrategy<AdmissionCase> {
    let namespace = match namespace {
        Some(strategy) => strategy.prop_map(Some).boxed(),
        None => Just(None).boxed(),
    };
    // Only an UPDATE has an old object, so only an UPDATE generates a second one; and an
    // update often leaves most of the object as it was (`None`: the same object), which is
    // where "did it change" rules allow.
    let per_operation: Vec<BoxedStrategy<(Operation, Value, Option<Value>)>> = operations
        .into_iter()
        .map(|operation| match operation {
            Operation::Update => (
                object.clone(),
                prop_oneof![Just(None), object.clone().prop_map(Some)],
            )
                .prop_map(move |(object, old)| (operation, object, old))
                .boxed(),
            _ => object
                .clone()
                .prop_map(move |object| (operation, object, None))
                .boxed(),
        })
        .collect();
    (
        proptest::strategy::Union::new(per_operation),
        namespace,
        select(namespaces),
        select(users),
    )
        .prop_map(
            |((operation, object, old), namespace, namespace_name, username)| {
                let namespaced = namespace.is_some();
                let place = |mut object: Value| {
                    if namespaced {
                        object["metadata"]["namespace"] = json!(namespace_name);
                    }
                    object
                };
                let object = place(object);
                let namespace_object = namespace.map(|mut ns| {
                    ns["apiVersion"] = json!("v1");
                    ns["kind"] = json!("Namespace");
                    if !ns.get("metadata").is_some_and(Value::is_object) {
                        ns["metadata"] = json!({});
                    }
                    ns["metadata"]["name"] = json!(namespace_name);
                    if !ns["metadata"].get("labels").is_some_and(Value::is_object) {
                        ns["metadata"]["labels"] = json!({});
                    }
                    ns["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(namespace_name);
                    ns
                });
                let (object, old_object) = match operation {
                    Operation::Create | Operation::Connect => (Some(object), None),
                    Operation::Update => {
                        let old = old.map_or_else(|| object.clone(), place);
                        (Some(object), Some(old))
                    }
                    Operation::Delete => (None, Some(object)),
                };
                AdmissionCase {
                    operation,
                    object,
                    old_object,
                    namespace_object,
                    user: UserInfo {
                        username,
                        groups: vec!["system:authenticated".into()],
                    },
                }
            },
        )
        .boxed()
}

/// Namespace names: two ordinary ones, then every literal that is a valid namespace name
/// (excluded and exempted namespaces among them).
fn namespace_names(literals: &Literals) -> Vec<String> {
    let mut names = vec!["default".to_string(), "shop".to_string()];
    for literal in literals
        .strings
        .iter()
        .filter(|s| guardrailc_compiler::k8s_names::is_dns_label(s))
    {
        if !names.contains(literal) {
            names.push(literal.clone());
        }
    }
    names
}

/// User names: an ordinary user, then every literal that names a user or service account.
fn user_names(literals: &Literals) -> Vec<String> {
    let mut names = vec!["alice".to_string()];
    names.extend(
        literals
            .strings
            .iter()
            .filter(|s| s.starts_with("system:") && s.as_str() != "alice")
            .cloned(),
    );
    names
}
