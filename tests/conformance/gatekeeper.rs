//! Gatekeeper library suites: every case of index.tsv, with the Constraint's parameters as
//! the guardrail's params and the Constraint's match applied as gator applies it.

use super::engines::{self, request};
use super::{build_library_with, repository, Tally, TARGETS};
use guardrailc_testkit::Operation;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Which library guardrail stands for each upstream template, and the folder holding it.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("general/allowedrepos", "allowed-repos"),
    (
        "general/block-loadbalancer-services",
        "block-loadbalancer-services",
    ),
    ("general/block-nodeport-services", "block-nodeport-services"),
    ("general/containerlimits", "container-limits"),
    ("general/containerrequests", "container-requests"),
    ("general/containerresources", "container-resources"),
    ("general/disallowanonymous", "disallow-anonymous"),
    ("general/disallowedtags", "disallowed-tags"),
    ("general/externalip", "external-ips"),
    ("general/httpsonly", "https-only"),
    ("general/imagedigests", "image-digests"),
    ("general/replicalimits", "replica-limits"),
    ("general/requiredlabels", "required-labels"),
    ("general/requiredprobes", "required-probes"),
    (
        "pod-security-policy/allow-privilege-escalation",
        "psp-allow-privilege-escalation",
    ),
    ("pod-security-policy/apparmor", "psp-apparmor"),
    ("pod-security-policy/capabilities", "psp-capabilities"),
    (
        "pod-security-policy/forbidden-sysctls",
        "psp-forbidden-sysctls",
    ),
    ("pod-security-policy/host-filesystem", "psp-host-filesystem"),
    ("pod-security-policy/host-namespaces", "psp-host-namespaces"),
    (
        "pod-security-policy/host-network-ports",
        "psp-host-network-ports",
    ),
    (
        "pod-security-policy/host-probes-lifecycle",
        "psp-host-probes-lifecycle",
    ),
    ("pod-security-policy/host-process", "psp-host-process"),
    (
        "pod-security-policy/privileged-containers",
        "psp-privileged-containers",
    ),
    ("pod-security-policy/proc-mount", "psp-proc-mount"),
    (
        "pod-security-policy/read-only-root-filesystem",
        "psp-read-only-root-filesystem",
    ),
    ("pod-security-policy/seccomp", "psp-seccomp"),
    ("pod-security-policy/selinux", "psp-selinux"),
    ("pod-security-policy/users", "psp-users"),
    ("pod-security-policy/volumes", "psp-volumes"),
];

/// The library folder of a template's area.
fn library_folder(template_dir: &str) -> &'static str {
    if template_dir.starts_with("general/") {
        "library/general"
    } else {
        "library/psp"
    }
}

/// One row of index.tsv.
pub struct Case {
    pub template_dir: String,
    pub test: String,
    pub constraint: String,
    pub name: String,
    pub object: String,
    pub deny: bool,
    /// Exact violation counts the case asserts without a message pattern.
    pub counts: Vec<usize>,
    /// Assertions scoped to a message pattern that names what was flagged rather than
    /// upstream wording: a container list (`initContainer`) or a subject (`system:anonymous`).
    pub scoped: Vec<Scoped>,
}

/// `violations: N matching /pattern/` where the pattern is a hint we can check.
pub struct Scoped {
    pub expected: Expected,
    pub target: Flagged,
}

pub enum Expected {
    AtLeastOne,
    Exactly(usize),
}

pub enum Flagged {
    /// Violations about the containers of one pod-spec list (`containers`, `initContainers`,
    /// `ephemeralContainers`): counted on the object with only that list.
    ContainerList(&'static str),
    /// Violations whose message contains this text (a subject name).
    Text(String),
}

impl Scoped {
    fn parse(assertion: &str) -> Option<Scoped> {
        let (count, pattern) = assertion
            .strip_prefix("violations=")?
            .split_once(" matching /")?;
        let pattern = pattern.strip_suffix('/')?;
        let expected = match count {
            "yes" => Expected::AtLeastOne,
            n => Expected::Exactly(n.parse().ok()?),
        };
        let target = match pattern {
            "container" => Flagged::ContainerList("containers"),
            "initContainer" => Flagged::ContainerList("initContainers"),
            "ephemeralContainer" => Flagged::ContainerList("ephemeralContainers"),
            // Upstream sentences (with spaces, quotes) are its own wording, not a hint.
            text if text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":-_".contains(c)) =>
            {
                Flagged::Text(text.to_string())
            }
            _ => return None,
        };
        Some(Scoped { expected, target })
    }

    fn holds(&self, count: usize) -> bool {
        match self.expected {
            Expected::AtLeastOne => count > 0,
            Expected::Exactly(n) => count == n,
        }
    }
}

pub fn cases(gatekeeper: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(gatekeeper.join("index.tsv")).expect("index.tsv");
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            let counts = columns[8]
                .split("; ")
                .filter(|assertion| !assertion.contains(" matching "))
                .filter_map(|assertion| assertion.strip_prefix("violations="))
                .filter_map(|count| count.parse().ok())
                .collect();
            let scoped = columns[8].split("; ").filter_map(Scoped::parse).collect();
            Case {
                scoped,
                template_dir: columns[0].to_string(),
                test: columns[1].to_string(),
                constraint: columns[2].to_string(),
                name: columns[3].to_string(),
                object: columns[4].to_string(),
                deny: columns[7] == "deny",
                counts,
            }
        })
        .collect()
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `allowedCapabilities` → `allowed_capabilities`, `allowedIPs` → `allowed_ips`: params are
/// snake_case in the language; a `_` goes before each capital that follows a lower-case letter.
pub fn param_name(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A JSON value as a TOML inline value.
fn toml_value(value: &Value) -> String {
    match value {
        Value::Null => "\"\"".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).expect("a string serialises"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} = {}",
                        serde_json::to_string(k).expect("a key"),
                        toml_value(v)
                    )
                })
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// guardrails.toml for one Constraint: its parameters as the guardrail's params.
fn config(id: &str, parameters: &Value) -> String {
    let mut text = format!("[environments.conformance.guardrails.{id}.params]\n");
    if let Value::Object(entries) = parameters {
        for (key, value) in entries {
            text.push_str(&format!("{} = {}\n", param_name(key), toml_value(value)));
        }
    }
    text
}

/// Whether the Constraint's `spec.match` selects the object (kinds and namespaces).
fn constraint_matches(constraint: &Value, object: &Value) -> bool {
    let matcher = &constraint["spec"]["match"];
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let kind = object["kind"].as_str().unwrap_or("");
    let kinds_match = match matcher["kinds"].as_array() {
        None => true,
        Some(kinds) => kinds.iter().any(|entry| {
            let listed = |field: &str, value: &str| {
                entry[field]
                    .as_array()
                    .is_some_and(|values| values.iter().any(|v| v == value || v == "*"))
            };
            listed("apiGroups", group) && listed("kinds", kind)
        }),
    };
    let namespace = object["metadata"]["namespace"].as_str();
    let in_list = |field: &str| {
        matcher[field].as_array().is_some_and(|list| {
            list.iter()
                .any(|n| Some(n.as_str().unwrap_or("")) == namespace)
        })
    };
    let namespaces_match = matcher["namespaces"].as_array().is_none() || in_list("namespaces");
    kinds_match && namespaces_match && !in_list("excludedNamespaces")
}

const CLUSTER_SCOPED: &[&str] = &["Namespace", "ClusterRole", "ClusterRoleBinding"];

/// Runs every case and returns one tally per template, in [`TEMPLATES`] order.
pub fn run(gatekeeper: &Path) -> Vec<(String, Tally)> {
    let cases = cases(gatekeeper);
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut built: Option<((String, String), Result<engines::Compiled, String>)> = None;
    for case in &cases {
        let (_, id) = TEMPLATES
            .iter()
            .find(|(dir, _)| *dir == case.template_dir)
            .unwrap_or_else(|| panic!("no library guardrail for {}", case.template_dir));
        let template = gatekeeper.join(&case.template_dir);
        let constraint = read_yaml(&template.join(&case.constraint));
        let key = (case.template_dir.clone(), case.constraint.clone());
        if built.as_ref().map(|(k, _)| k) != Some(&key) {
            let parameters = constraint["spec"]["parameters"].clone();
            let folder = repository().join(library_folder(&case.template_dir));
            let policy = build_library_with(&folder, &config(id, &parameters))
                .and_then(|artifacts| engines::load(&artifacts, "conformance", id));
            built = Some((key, policy));
        }
        let policy = &built.as_ref().expect("just built").1;
        let tally = tallies.entry(case.template_dir.as_str()).or_default();
        let case_name = format!("{}/{}/{}", case.template_dir, case.test, case.name);
        let policy = match policy {
            Ok(policy) => policy,
            Err(error) => {
                tally.record(
                    &case_name,
                    &[Some(false), Some(false), None],
                    Some(error.clone()),
                );
                continue;
            }
        };
        let document = read_yaml(&template.join(&case.object));
        let (operation, mut object, old_object) = if document["kind"] == "AdmissionReview" {
            let request_part = &document["request"];
            let operation = request_part["operation"]
                .as_str()
                .and_then(Operation::parse)
                .expect("an admission review names its operation");
            let old = request_part
                .get("oldObject")
                .filter(|o| !o.is_null())
                .cloned();
            (operation, request_part["object"].clone(), old)
        } else {
            (Operation::Create, document, None)
        };
        if object["apiVersion"].is_null() {
            object["apiVersion"] = json!("v1");
        }
        let kind = object["kind"].as_str().unwrap_or("").to_string();
        if object["metadata"]["namespace"].is_null() && !CLUSTER_SCOPED.contains(&kind.as_str()) {
            // gator evaluates a namespaced object without a namespace as one in `default`.
            object["metadata"]["namespace"] = json!("default");
        }
        let plain_create = operation == Operation::Create;
        if !constraint_matches(&constraint, &object) {
            let allowed = !case.deny && case.counts.iter().all(|n| *n == 0);
            let opa = plain_create.then_some(allowed);
            tally.record(&case_name, &[Some(allowed), Some(allowed), opa], None);
            continue;
        }
        let admission = request(operation, object.clone(), old_object.clone());
        match policy.evaluate(&admission, plain_create) {
            Ok(verdicts) => {
                let scoped = scoped_problems(policy, case, operation, &object, &old_object);
                let judge = |outcome: &guardrailc_testkit::Outcome| {
                    outcome.violated == case.deny
                        && case.counts.iter().all(|n| *n == outcome.messages.len())
                };
                // OPA's `deny` is a set of messages: two containers with the same name and
                // image give one message, so only its verdict is compared with the counts'.
                let opa = verdicts.opa.as_ref().map(|o| o.violated == case.deny);
                let right = [
                    Some(judge(&verdicts.vap)),
                    Some(judge(&verdicts.gatekeeper)),
                    opa,
                ];
                let problem = verdicts.agreement().err().or(scoped);
                tally.record(&case_name, &right, problem);
            }
            Err(error) => tally.record(&case_name, &[Some(false); TARGETS.len()], Some(error)),
        }
    }
    TEMPLATES
        .iter()
        .map(|(dir, _)| (dir.to_string(), tallies.remove(dir).unwrap_or_default()))
        .collect()
}

/// Checks the case's scoped assertions on the VAP outcome; the problem, if one fails.
fn scoped_problems(
    policy: &engines::Compiled,
    case: &Case,
    operation: Operation,
    object: &Value,
    old_object: &Option<Value>,
) -> Option<String> {
    for scoped in &case.scoped {
        let (variant, what) = match &scoped.target {
            Flagged::Text(text) => (object.clone(), text.clone()),
            Flagged::ContainerList(list) => {
                let mut only = object.clone();
                if let Some(spec) = only["spec"].as_object_mut() {
                    spec.retain(|field, _| !field.ends_with("ontainers") || field == list);
                }
                (only, format!("{list} only"))
            }
        };
        let outcome = match policy.evaluate(&request(operation, variant, old_object.clone()), false)
        {
            Ok(verdicts) => verdicts.vap,
            Err(error) => return Some(error),
        };
        let count = match &scoped.target {
            Flagged::Text(text) => outcome
                .messages
                .iter()
                .filter(|m| m.contains(text.as_str()))
                .count(),
            Flagged::ContainerList(_) => outcome.messages.len(),
        };
        if !scoped.holds(count) {
            return Some(format!("{count} violations about {what}"));
        }
    }
    None
}
