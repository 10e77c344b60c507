//! Detective mode: a project's compiled guardrails evaluated on existing manifests, each
//! object as if it were being created, on every target the project builds (the admission
//! targets apply their match; plain OPA joins where it is comparable, as in fixtures).
//! Namespaced objects are checked in their Namespace from the same manifests when there is
//! one, so namespace selectors and rules see its labels. Findings render as JSON or SARIF
//! 2.1.0 and group by namespace and by an owner label.

use crate::case::{AdmissionCase, Operation, ResourceCatalog, UserInfo};
use crate::compiled::CompiledGuardrail;
use crate::fixtures::namespace_kubernetes_creates;
use crate::manifests::{ObjectText, ObjectTexts};
use crate::network_policy::default_deny;
use crate::outcome::Verdict;
use guardrailc_compiler::config::{
    DefaultDenyCheck, Direction, DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE,
};
use guardrailc_compiler::emit::Target;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufReader;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Object texts waiting for a worker; bounds memory whatever the input size.
const QUEUE: usize = 256;
/// How far the reader may run ahead of the object whose findings are delivered next:
/// results that arrive out of order wait for the earlier ones, and this bounds how many.
const WINDOW: usize = 2 * QUEUE;

/// One violation of one guardrail by one object in one environment, with the targets that
/// found it (all of them unless the targets disagree; none for the cross-object
/// default-deny check, which guardrailc runs itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    /// `Kind namespace/name` or `Kind name`.
    pub object: String,
    /// The object's namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The value of the grouping label on the object, or else on its namespace.
    pub owner: Option<String>,
    pub guardrail: String,
    pub env: String,
    /// The environment's enforcement of the guardrail.
    pub verdict: Verdict,
    pub message: String,
    pub targets: Vec<Target>,
}

/// What checking one object found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectCheck {
    pub findings: Vec<Finding>,
    /// The object's kind is unknown to the catalog, so no guardrail can match it.
    pub skipped: bool,
    /// Evaluation errors (a CEL error is a compiler bug worth reporting).
    pub errors: Vec<String>,
    /// The namespaces the objects were checked in (none for cluster-scoped objects).
    pub namespaces: Vec<String>,
}

/// The Namespace objects of the manifests, by name, reduced to what policies read of them
/// (name and labels), so an export of many namespaces stays small; and, for the
/// default-deny check, where each was read and the directions its NetworkPolicies deny.
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    by_name: HashMap<String, Value>,
    places: HashMap<String, (String, usize)>,
    default_deny: HashMap<String, BTreeSet<Direction>>,
}

impl Namespaces {
    /// Keeps `object` if it is a Namespace, read at `place` (file, line), or records what it
    /// denies if it is a NetworkPolicy.
    pub fn add(&mut self, object: &Value, place: (&str, usize)) {
        if let Some((namespace, denied)) = default_deny(object) {
            self.default_deny
                .entry(namespace)
                .or_default()
                .extend(denied);
            return;
        }
        let is_namespace = object.get("kind").and_then(Value::as_str) == Some("Namespace")
            && object.get("apiVersion").and_then(Value::as_str) == Some("v1");
        let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        if !is_namespace {
            return;
        }
        let mut labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        // The API server sets this label on every namespace.
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        self.places
            .insert(name.to_string(), (place.0.to_string(), place.1));
        self.by_name.insert(
            name.to_string(),
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": labels},
            }),
        );
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Whether `text` may hold a Namespace or a NetworkPolicy, so a first pass parses only
    /// those texts.
    pub fn may_hold_namespace(text: &str) -> bool {
        text.contains("Namespace") || text.contains("NetworkPolicy")
    }

    /// The namespaces a `namespace_label` default-deny check cannot decide on: objects are
    /// in them, but the input holds no Namespace object to read the label from. Sorted;
    /// empty when the check selects every namespace.
    pub fn default_deny_unknown(
        &self,
        check: &DefaultDenyCheck,
        seen: &BTreeMap<String, (String, usize)>,
    ) -> Vec<String> {
        if check.namespace_label.is_none() {
            return Vec::new();
        }
        seen.keys()
            .filter(|name| !self.by_name.contains_key(*name))
            .filter(|name| !check.exclude_namespaces.contains(name))
            .cloned()
            .collect()
    }

    /// The findings of the default-deny check in each of `envs`: one per namespace that
    /// `check` selects and whose NetworkPolicies leave a direction of `check.directions`
    /// open. The namespaces are those of the manifests' Namespace objects (the finding is on
    /// the Namespace) and those `seen` names, where objects were checked without one (the
    /// finding is on the first such object). A namespace without a Namespace object has no
    /// known labels, so a `namespace_label` check cannot select it. `group_by_label` names
    /// the owner label, read from the namespace.
    pub fn default_deny_findings(
        &self,
        check: &DefaultDenyCheck,
        envs: &[String],
        group_by_label: &str,
        seen: &BTreeMap<String, (String, usize)>,
    ) -> Vec<Finding> {
        let mut names: Vec<&String> = self.by_name.keys().chain(seen.keys()).collect();
        names.sort();
        names.dedup();
        let mut findings = Vec::new();
        for name in names {
            let labels = self
                .by_name
                .get(name)
                .and_then(|namespace| namespace.pointer("/metadata/labels"));
            let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            let selected = check
                .namespace_label
                .as_deref()
                .is_none_or(|key| label(key).is_some());
            if !selected || check.exclude_namespaces.contains(name) {
                continue;
            }
            let denied = self.default_deny.get(name);
            let open: Vec<&str> = check
                .directions
                .iter()
                .filter(|d| !denied.is_some_and(|denied| denied.contains(d)))
                .map(|d| d.as_str())
                .collect();
            if open.is_empty() {
                continue;
            }
            let Some((file, line)) = self.places.get(name).or_else(|| seen.get(name)).cloned()
            else {
                continue;
            };
            let message = format!(
                "namespace {name} has no default-deny NetworkPolicy for {} traffic: add one with `podSelector: {{}}`, `policyTypes: [{}]` and no rules",
                open.join(" and "),
                open.join(", ")
            );
            for env in envs {
                findings.push(Finding {
                    file: file.clone(),
                    line,
                    object: format!("Namespace {name}"),
                    namespace: Some(name.clone()),
                    owner: label(group_by_label).map(str::to_string),
                    guardrail: DEFAULT_DENY_CHECK.to_string(),
                    env: env.clone(),
                    verdict: check.enforcement.into(),
                    message: message.clone(),
                    targets: Vec::new(),
                });
            }
        }
        findings
    }
}

/// Evaluates every compiled guardrail on `object`, as a CREATE of it into its namespace: the
/// Namespace of the manifests when they have one, else the namespace Kubernetes creates
/// (with only its name label). `group_by_label` names the owner label of findings.
pub fn check_object(
    compiled: &[CompiledGuardrail],
    object: Value,
    place: (&str, usize),
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &dyn ResourceCatalog,
) -> ObjectCheck {
    let (file, line) = place;
    let mut check = ObjectCheck::default();
    let described = describe(&object);
    let created = namespace_kubernetes_creates(Some(&object), catalog);
    let namespace_name = created
        .as_ref()
        .and_then(|ns| ns.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let namespace_object = match &namespace_name {
        Some(name) => namespaces.by_name.get(name).cloned().or(created),
        None => None,
    };
    check.namespaces.extend(namespace_name.clone());
    let label = |value: Option<&Value>| {
        value
            .and_then(|v| v.pointer("/metadata/labels"))
            .and_then(|labels| labels.get(group_by_label))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let owner = label(Some(&object)).or_else(|| label(namespace_object.as_ref()));
    let case = AdmissionCase {
        operation: Operation::Create,
        object: Some(object),
        old_object: None,
        namespace_object,
        user: UserInfo {
            username: "guardrailc-check".into(),
            groups: vec!["system:authenticated".into()],
        },
    };
    for guardrail in compiled {
        let evaluation = match guardrail.evaluate_on_vm(&case, catalog) {
            Ok(evaluation) => evaluation,
            Err(_) => {
                // Every guardrail sees the same kind: unknown to one is unknown to all.
                check.skipped = true;
                return check;
            }
        };
        // Message → targets that yielded it, in message order of first appearance.
        let mut found: Vec<(String, Vec<Target>)> = Vec::new();
        for (target, outcome) in &evaluation.outcomes {
            if *target == Target::Opa && !evaluation.opa_comparable {
                continue;
            }
            check.errors.extend(outcome.errors.iter().map(|e| {
                format!(
                    "{file}:{line}: `{}` in `{}` on `{}`: {e}",
                    guardrail.policy.id,
                    guardrail.policy.env,
                    target.as_str()
                )
            }));
            let mut messages = outcome.messages.clone();
            messages.dedup();
            for message in messages {
                match found.iter_mut().find(|(m, _)| *m == message) {
                    Some((_, targets)) if !targets.contains(target) => targets.push(*target),
                    Some(_) => {}
                    None => found.push((message, vec![*target])),
                }
            }
        }
        check
            .findings
            .extend(found.into_iter().map(|(message, targets)| Finding {
                file: file.to_string(),
                line,
                object: described.clone(),
                namespace: namespace_name.clone(),
                owner: owner.clone(),
                guardrail: guardrail.policy.id.clone(),
                env: guardrail.policy.env.clone(),
                verdict: guardrail.enforcement(),
                message,
                targets,
            }));
    }
    check
}

/// What checking a set of manifest files found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckRun {
    /// Object texts read (a `List` document's items each count once).
    pub objects: usize,
    /// Every namespace an object was checked in, with the first place (file, line) of an
    /// object in it: the default-deny check also covers namespaces the manifests hold no
    /// Namespace object for.
    pub namespaces_seen: BTreeMap<String, (String, usize)>,
    /// Objects of kinds the catalog does not know.
    pub skipped: usize,
    /// Malformed objects and evaluation errors, with their place.
    pub problems: Vec<String>,
    /// Objects whose check failed inside guardrailc (a bug, not the input's fault).
    pub internal_errors: Vec<String>,
}

/// What a worker sends back for one object text, with the object's place.
enum Checked<'f> {
    Object(ObjectCheck, &'f str, usize),
    Malformed(String),
    /// Nothing in the text is a Kubernetes object: one error each, and no object counted.
    Rejected(Vec<String>),
    /// Checking the object panicked.
    Internal(String),
}

/// The first pass: the Namespace objects of every input (`(shown name, path)`). Texts that
/// cannot hold one are not parsed, and problems are left to the second pass to report.
pub fn read_namespaces(inputs: &[(String, PathBuf)]) -> Result<Namespaces, String> {
    let mut namespaces = Namespaces::default();
    for (shown, path) in inputs {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        for text in ObjectTexts::new(BufReader::new(file)).map_while(Result::ok) {
            if !Namespaces::may_hold_namespace(&text.text) {
                continue;
            }
            for object in text.parse().into_iter().flatten() {
                namespaces.add(&object, (shown, text.line));
            }
        }
    }
    Ok(namespaces)
}

/// The second pass: every object of `inputs`, streamed from the files line by line through
/// a bounded queue to `workers` threads that parse and check it. Each finding is handed to
/// `on_finding` as soon as the objects before it are done, in the order of the inputs and
/// of the objects in them (an object's own findings by environment, guardrail and
/// message), and is not kept: memory grows neither with the input nor with the findings.
/// The error is an unreadable input, or the first error `on_finding` returns.
pub fn check_manifests(
    inputs: &[(String, PathBuf)],
    compiled: &[CompiledGuardrail],
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &(dyn ResourceCatalog + Sync),
    workers: usize,
    on_finding: &mut dyn FnMut(Finding) -> Result<(), String>,
) -> Result<CheckRun, String> {
    let (texts_in, texts_out) = mpsc::sync_channel::<(usize, &str, ObjectText)>(QUEUE);
    let texts_out = Mutex::new(texts_out);
    let (results_in, results_out) = mpsc::channel::<(usize, Checked<'_>)>();
    // How many texts have been delivered, for the reader to wait on.
    let delivered = (Mutex::new(0usize), Condvar::new());
    let stopped = AtomicBool::new(false);
    let mut panicked = None;
    let mut run = CheckRun::default();
    let finished = std::thread::scope(|scope| -> Result<(), String> {
        for _ in 0..workers.max(1) {
            let results_in = results_in.clone();
            let texts_out = &texts_out;
            scope.spawn(move || loop {
                let next = texts_out
                    .lock()
                    .map_err(|_| ())
                    .and_then(|receiver| receiver.recv().map_err(|_| ()));
                let Ok((sequence, file, text)) = next else {
                    break;
                };
                // Every text must give a result, or the ones after it would wait forever.
                let checked = crate::panics::contain(|| {
                    crate::panics::injected_check_panic(&text.text);
                    check_text(compiled, file, &text, namespaces, group_by_label, catalog)
                })
                .unwrap_or_else(|_| {
                    Checked::Internal(format!("{file}:{}: checking this object failed", text.line))
                });
                if results_in.send((sequence, checked)).is_err() {
                    break;
                }
            });
        }
        drop(results_in);
        let (delivered, stopped) = (&delivered, &stopped);
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut sequence = 0;
            for (shown, path) in inputs {
                let file =
                    std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
                for text in ObjectTexts::new(BufReader::new(file)) {
                    let text = text.map_err(|e| format!("{shown}: {e}"))?;
                    // Wait until the results of the texts read WINDOW before are delivered.
                    let (count, changed) = delivered;
                    let mut count = count.lock().map_err(|_| "a worker panicked")?;
                    while sequence >= *count + WINDOW && !stopped.load(Ordering::SeqCst) {
                        count = changed.wait(count).map_err(|_| "a worker panicked")?;
                    }
                    drop(count);
                    if stopped.load(Ordering::SeqCst)
                        || texts_in.send((sequence, shown.as_str(), text)).is_err()
                    {
                        return Ok(());
                    }
                    sequence += 1;
                }
            }
            Ok(())
        });
        // Results wait here until every earlier one has arrived.
        let mut waiting: BTreeMap<usize, Checked<'_>> = BTreeMap::new();
        let mut next = 0;
        let mut failed = None;
        for (sequence, checked) in results_out {
            waiting.insert(sequence, checked);
            while let Some(checked) = waiting.remove(&next) {
                next += 1;
                if failed.is_none() && panicked.is_none() {
                    // A panic of `on_finding` is raised again once the threads are done:
                    // here it would leave the reader waiting.
                    match std::panic::catch_unwind(AssertUnwindSafe(|| {
                        deliver(&mut run, checked, on_finding)
                    })) {
                        Ok(delivered) => failed = delivered.err(),
                        Err(panic) => panicked = Some(panic),
                    }
                    if failed.is_some() || panicked.is_some() {
                        stopped.store(true, Ordering::SeqCst);
                    }
                }
            }
            let (count, changed) = delivered;
            if let Ok(mut count) = count.lock() {
                *count = next;
            }
            changed.notify_all();
        }
        // No worker is left: a reader still waiting must not wait for them.
        stopped.store(true, Ordering::SeqCst);
        delivered.1.notify_all();
        reader
            .join()
            .map_err(|_| "the manifest reader panicked".to_string())??;
        failed.map_or(Ok(()), Err)
    });
    if let Some(panic) = panicked {
        std::panic::resume_unwind(panic);
    }
    finished?;
    Ok(run)
}

/// Parses one object text (a `List` holds several objects) and checks each object in it.
fn check_text<'f>(
    compiled: &[CompiledGuardrail],
    file: &'f str,
    text: &ObjectText,
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &(dyn ResourceCatalog + Sync),
) -> Checked<'f> {
    let values = match text.parse() {
        Ok(values) => values,
        Err(error) => return Checked::Malformed(format!("{file}: {error}")),
    };
    let mut merged = ObjectCheck::default();
    let mut rejected = 0;
    let count = values.len();
    for value in values {
        if let Err(problem) = kubernetes_object(&value) {
            merged
                .errors
                .push(format!("{file}:{}: {problem}", text.line));
            rejected += 1;
            continue;
        }
        let check = check_object(
            compiled,
            value,
            (file, text.line),
            namespaces,
            group_by_label,
            catalog,
        );
        merged.findings.extend(check.findings);
        merged.skipped |= check.skipped;
        merged.errors.extend(check.errors);
        merged.namespaces.extend(check.namespaces);
    }
    if count > 0 && rejected == count {
        return Checked::Rejected(merged.errors);
    }
    // Every finding of the text has its place: this orders them by environment, guardrail
    // and message.
    merged
        .findings
        .sort_by(|a, b| report_order(a).cmp(&report_order(b)));
    Checked::Object(merged, file, text.line)
}

/// Whether `value` can be a Kubernetes object: a map with a string `apiVersion` and `kind`.
/// Anything else would be counted as an unknown kind and pass unchecked.
fn kubernetes_object(value: &Value) -> Result<(), String> {
    let Some(fields) = value.as_object() else {
        return Err(format!(
            "a manifest document must be a Kubernetes object (a map), not `{}`",
            short(value)
        ));
    };
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|key| !fields.get(*key).is_some_and(Value::is_string))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the object has no {}: every Kubernetes object names its `apiVersion` and `kind`, so this one cannot be checked",
        missing
            .iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    ))
}

/// A value in an error message: its JSON, cut after 60 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The order reports list findings in: by place (file, line), then environment, guardrail
/// and message.
pub fn report_order(f: &Finding) -> (&str, usize, &str, &str, &str) {
    (&f.file, f.line, &f.env, &f.guardrail, &f.message)
}

/// Adds what checking one object text found to `run`, its findings to `on_finding`.
fn deliver(
    run: &mut CheckRun,
    checked: Checked<'_>,
    on_finding: &mut dyn FnMut(Finding) -> Result<(), String>,
) -> Result<(), String> {
    match checked {
        Checked::Object(check, file, line) => {
            for namespace in check.namespaces {
                // The first place an object of the namespace was read.
                run.namespaces_seen
                    .entry(namespace)
                    .or_insert((file.to_string(), line));
            }
            run.objects += 1;
            run.skipped += usize::from(check.skipped);
            run.problems.extend(check.errors);
            for finding in check.findings {
                on_finding(finding)?;
            }
        }
        Checked::Malformed(error) => run.problems.push(error),
        Checked::Rejected(errors) => run.problems.extend(errors),
        Checked::Internal(error) => run.internal_errors.push(error),
    }
    Ok(())
}

/// Findings counted by a key: total and denied, sorted by key (`None`, the findings
/// without one, last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub findings: usize,
    pub denied: usize,
}

/// Findings counted by a key as they come, for reports that do not keep the findings.
#[derive(Clone, Debug, Default)]
pub struct Groups(BTreeMap<(bool, String), Group>);

impl Groups {
    /// Counts one finding under `key`.
    pub fn add(&mut self, key: Option<&str>, verdict: Verdict) {
        let group = self
            .0
            .entry((key.is_none(), key.unwrap_or_default().to_string()))
            .or_default();
        group.findings += 1;
        group.denied += usize::from(verdict == Verdict::Deny);
    }

    /// The groups, sorted by key, the findings without one last.
    pub fn into_sorted(self) -> Vec<(Option<String>, Group)> {
        self.0
            .into_iter()
            .map(|((none, key), group)| ((!none).then_some(key), group))
            .collect()
    }
}

/// The groups as JSON: `[{KEY_NAME, findings, denied}]`, `null` for findings without a key.
pub fn json_groups(groups: &[(Option<String>, Group)], key_name: &str) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|(key, group)| {
                let mut entry = Map::new();
                entry.insert(key_name.to_string(), json!(key));
                entry.insert("findings".into(), json!(group.findings));
                entry.insert("denied".into(), json!(group.denied));
                Value::Object(entry)
            })
            .collect(),
    )
}

fn describe(object: &Value) -> String {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let kind = text("/kind").unwrap_or("<no kind>");
    let name = text("/metadata/name").unwrap_or("<no name>");
    match text("/metadata/namespace") {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The rules of a SARIF report: the project's guardrails, and the default-deny check when
/// it found something.
pub struct SarifRules<'c>(Vec<(&'c str, &'c str)>);

impl<'c> SarifRules<'c> {
    pub fn new(compiled: &'c [CompiledGuardrail], default_deny: bool) -> Self {
        let mut rules: Vec<(&str, &str)> = compiled
            .iter()
            .map(|c| (c.policy.id.as_str(), c.policy.meta.title.as_str()))
            .collect();
        if default_deny {
            rules.push((DEFAULT_DENY_CHECK, DEFAULT_DENY_TITLE));
        }
        rules.sort();
        rules.dedup();
        SarifRules(rules)
    }

    /// The report with no results yet (`runs[0].results` is empty).
    pub fn report(&self) -> Value {
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "guardrailc",
                    "version": guardrailc_compiler::emit::COMPILER_VERSION,
                    "rules": self.0.iter().map(|(id, title)| json!({
                        "id": id,
                        "shortDescription": {"text": title},
                    })).collect::<Vec<_>>(),
                }},
                "results": [],
            }],
        })
    }

    /// One finding as a SARIF result.
    pub fn result(&self, f: &Finding) -> Value {
        json!({
            "ruleId": f.guardrail,
            "ruleIndex": self.0.iter().position(|(id, _)| *id == f.guardrail),
            "level": match f.verdict {
                Verdict::Deny => "error",
                Verdict::Warn => "warning",
                Verdict::Audit | Verdict::Allow => "note",
            },
            "message": {"text": format!("{} ({}, {}): {}", f.object, f.env, f.verdict, f.message)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.file},
                "region": {"startLine": f.line},
            }}],
            "properties": {
                "environment": f.env,
                "verdict": f.verdict.as_str(),
                "object": f.object,
                "targets": f.targets.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            },
        })
    }
}

/// Writes `document` as `format!("{document:#}")` would, with the array at `pointer` (empty
/// in `document`) made of `items` as they come: a report of any length without holding it.
pub fn write_pretty_streaming(
    out: &mut dyn std::io::Write,
    document: &Value,
    pointer: &str,
    items: &mut dyn Iterator<Item = Result<Value, String>>,
) -> Result<(), String> {
    let write_error = |e: std::io::Error| format!("cannot write: {e}");
    // The document printed twice, with `"a"` and with `"b"` where the array goes: the
    // prints differ only there, wherever else either text may occur in the document.
    let printed = |placeholder: &str| -> Result<String, String> {
        let mut document = document.clone();
        *document
            .pointer_mut(pointer)
            .ok_or_else(|| format!("the report has no `{pointer}`"))? = json!(placeholder);
        Ok(format!("{document:#}"))
    };
    let (text, other) = (printed("a")?, printed("b")?);
    // The placeholder's opening quote is the last byte the two prints share.
    let at = text
        .bytes()
        .zip(other.bytes())
        .position(|(x, y)| x != y)
        .ok_or("the streamed array is missing from the report")?
        - 1;
    let marker = "\"a\"";
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start().len();
    out.write_all(&text.as_bytes()[..at]).map_err(write_error)?;
    let mut first = true;
    for item in items {
        let item = item?;
        out.write_all(if first { b"[\n" } else { b",\n" })
            .map_err(write_error)?;
        first = false;
        for (i, line) in format!("{item:#}").lines().enumerate() {
            if i > 0 {
                out.write_all(b"\n").map_err(write_error)?;
            }
            write!(out, "{:width$}{line}", "", width = indent + 2).map_err(write_error)?;
        }
    }
    if first {
        out.write_all(b"[]").map_err(write_error)?;
    } else {
        write!(out, "\n{:width$}]", "", width = indent).map_err(write_error)?;
    }
    out.write_all(&text.as_bytes()[at + marker.len()..])
        .map_err(write_error)
}

/// `text` made safe to print on a terminal: control characters (escape sequences, line
/// breaks, backspace, C1 codes) and the bidirectional overrides that reorder what is shown
/// are written as escapes (`\n`, `\u{1b}`), so text from manifests and fixtures cannot
/// move the cursor, recolour the screen or forge report lines. JSON and SARIF escape by
/// themselves; this is for the human reports.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One finding as a line of the human report: verdict, environment, guardrail, place,
/// object and message, with `(only on …)` when some of `admission_targets` did not find
/// it. Everything that comes from the input goes through [`printable`].
pub fn human_finding(finding: &Finding, admission_targets: &[Target]) -> String {
    // The cross-object check has no targets: guardrailc runs it itself.
    let partial = !finding.targets.is_empty()
        && admission_targets
            .iter()
            .any(|t| !finding.targets.contains(t));
    let only = if partial {
        let names: Vec<&str> = finding.targets.iter().map(|t| t.as_str()).collect();
        format!(" (only on {})", names.join(", "))
    } else {
        String::new()
    };
    format!(
        "{:<6} {:<10} {:<30} {}:{} {}: {}{only}",
        finding.verdict.as_str(),
        printable(&finding.env),
        printable(&finding.guardrail),
        printable(&finding.file),
        finding.line,
        printable(&finding.object),
        printable(&finding.message)
    )
}

/// A finding read back from [`json_finding`]'s form.
pub fn finding_from_json(value: &Value) -> Option<Finding> {
    let text = |key: &str| value.get(key)?.as_str().map(str::to_string);
    let optional = |key: &str| match value.get(key)? {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => None,
    };
    Some(Finding {
        file: text("file")?,
        line: usize::try_from(value.get("line")?.as_u64()?).ok()?,
        object: text("object")?,
        namespace: optional("namespace")?,
        owner: optional("owner")?,
        guardrail: text("guardrail")?,
        env: text("env")?,
        verdict: Verdict::parse(value.get("verdict")?.as_str()?)?,
        message: text("message")?,
        targets: value
            .get("targets")?
            .as_array()?
            .iter()
            .map(|t| t.as_str().and_then(Target::parse))
            .collect::<Option<_>>()?,
    })
}

/// A finding as JSON.
pub fn json_finding(finding: &Finding) -> Value {
    json!({
        "file": finding.file,
        "line": finding.line,
        "object": finding.object,
        "guardrail": finding.guardrail,
        "env": finding.env,
        "verdict": finding.verdict.as_str(),
        "message": finding.message,
        "namespace": finding.namespace,
        "owner": finding.owner,
        "targets": finding.targets.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(line: usize, namespace: Option<&str>, targets: &[Target]) -> Finding {
        Finding {
            file: "export.yaml".into(),
            line,
            object: "Pod shop/web".into(),
            namespace: namespace.map(str::to_string),
            owner: None,
            guardrail: "no-latest-tag".into(),
            env: "prod".into(),
            verdict: Verdict::Warn,
            message: "container \"app\" uses nginx:latest".into(),
            targets: targets.to_vec(),
        }
    }

    #[test]
    fn human_lines_escape_control_characters_from_the_input() {
        let forged = Finding {
            object: "Pod shop/\u{1b}[2Jweb".into(),
            message: "bad\ndeny   prod       forged                         x.yaml:1 Pod a/b: fake\r\u{202e}".into(),
            file: "in\u{7}put.yaml".into(),
            ..finding(3, Some("shop"), &[Target::Vap])
        };
        let line = human_finding(&forged, &[Target::Vap]);
        assert!(!line.contains(|c: char| c.is_control()), "{line:?}");
        assert!(!line.contains('\u{202e}'), "{line:?}");
        assert!(line.contains("Pod shop/\\u{1b}[2Jweb"), "{line}");
        assert!(line.contains("bad\\ndeny"), "{line}");
        assert!(line.contains("fake\\r\\u{202e}"), "{line}");
        assert!(line.contains("in\\u{7}put.yaml:3"), "{line}");
        // Ordinary text, quotes, backslashes and non-ASCII letters are left alone.
        assert_eq!(printable("café \"x\" a\\b"), "café \"x\" a\\b");
    }

    #[test]
    fn a_finding_reads_back_from_its_json() {
        for finding in [
            finding(3, Some("shop"), &[Target::Vap, Target::Gatekeeper]),
            finding(7, None, &[]),
        ] {
            assert_eq!(finding_from_json(&json_finding(&finding)), Some(finding));
        }
        assert_eq!(finding_from_json(&json!({"file": "x"})), None);
    }

    /// Streamed, a report is byte for byte what printing it whole gives, wherever the array
    /// is and however many items it has.
    #[test]
    fn a_streamed_array_prints_as_the_whole_document_would() {
        let items: Vec<Value> = (0..3)
            .map(|i| json_finding(&finding(i, Some("shop"), &[Target::Vap])))
            .collect();
        for count in [0, 1, 3] {
            let shown = &items[..count];
            // Text from the manifests (label values, namespace names) comes before the array
            // and may be anything, the placeholders included.
            let mut json = json!({
                "groups": [{"value": "a"}, {"value": "\"a\""}, {"value": "b"}, {"value": "[]"}],
                "findings": [],
                "errors": ["e\nf"],
            });
            let mut sarif = json!({"version": "2.1.0", "runs": [{"tool": {}, "results": []}]});
            for (document, pointer) in [(&mut json, "/findings"), (&mut sarif, "/runs/0/results")] {
                let mut streamed = Vec::new();
                let mut stream = shown.iter().cloned().map(Ok);
                write_pretty_streaming(&mut streamed, document, pointer, &mut stream).unwrap();
                *document.pointer_mut(pointer).unwrap() = Value::Array(shown.to_vec());
                assert_eq!(
                    String::from_utf8(streamed).unwrap(),
                    format!("{document:#}")
                );
            }
        }
    }

    #[test]
    fn an_item_that_fails_stops_the_stream_with_its_error() {
        let mut stream = [Ok(json!(1)), Err("spool unreadable".to_string())].into_iter();
        let mut out = Vec::new();
        let error = write_pretty_streaming(&mut out, &json!({"a": []}), "/a", &mut stream);
        assert_eq!(error, Err("spool unreadable".to_string()));
    }

    #[test]
    fn groups_count_by_key_with_the_findings_without_one_last() {
        let findings = [
            finding(1, Some("shop"), &[]),
            finding(2, None, &[]),
            Finding {
                verdict: Verdict::Deny,
                ..finding(3, Some("apps"), &[])
            },
        ];
        let mut groups = Groups::default();
        for f in &findings {
            groups.add(f.namespace.as_deref(), f.verdict);
        }
        let one = |denied| Group {
            findings: 1,
            denied,
        };
        assert_eq!(
            groups.into_sorted(),
            [
                (Some("apps".to_string()), one(1)),
                (Some("shop".to_string()), one(0)),
                (None, one(0)),
            ]
        );
    }
}
