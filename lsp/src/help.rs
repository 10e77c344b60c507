//! One-line help for keywords, functions and roots, shown on hover and in completion.

/// `(word, help)` for every keyword of the language.
pub const KEYWORDS: &[(&str, &str)] = &[
    ("guardrail", "`guardrail ID { … }` — one policy: what it matches, what it forbids or requires, what it tells the user"),
    ("title", "`title \"…\"` — the one-line name shown in catalogs and reports (required)"),
    ("why", "`why \"…\"` — the rationale, shown with violations"),
    ("category", "`category preventive | detective | corrective`"),
    ("severity", "`severity low | medium | high | critical` (default medium)"),
    ("owner", "`owner \"team\"` — who to ask about this guardrail"),
    ("controls", "`controls [\"CIS 5.2.1\", …]` — the compliance controls it implements"),
    ("docs", "`docs \"https://…\"` — a link to more documentation"),
    ("match", "`match workloads | kinds [...] | operations [...] | namespaces [...] | namespace_labels {…} | labels {…}` — several clauses combine with *and*"),
    ("exclude", "`exclude namespaces [...] | namespace_labels {…} | labels {…}` — each term excludes what it matches"),
    ("param", "`param NAME: TYPE = default` — a value environments may override in guardrails.toml, read as `params.NAME`"),
    ("let", "`let NAME = expr` — names a value for the rest of the rule (or, outside rules, for every rule after it)"),
    ("deny", "`deny [for …] when COND message \"…\"` — a violation whenever COND holds"),
    ("require", "`require [for …] [when PRE] that COND message \"…\"` — a violation whenever PRE holds and COND does not"),
    ("enforce", "`enforce deny | warn | audit` or `enforce { env: action, … }` — what happens on a violation"),
    ("exempt", "`exempt { namespaces […] names […] labels {…} reason \"…\" owner \"…\" expires YYYY-MM-DD }` — objects this guardrail skips until the date"),
    ("for", "`for x in LIST` — checks the rule once per element; each violating element gets its own message"),
    ("when", "`when COND` — for `deny`: the violation; for `require`: the precondition"),
    ("that", "`that COND` — what a `require` rule demands"),
    ("message", "`message \"… {expr} …\"` — what the user reads; `{…}` interpolates a value"),
    ("fix", "`fix \"…\"` — how to fix it, appended as ` (fix: …)`"),
    ("and", "`a and b` — both hold"),
    ("or", "`a or b` — at least one holds"),
    ("not", "`not a` — a does not hold (true when `a` tests an absent value)"),
    ("in", "`x in LIST` — membership; false when `x` is absent"),
    ("any", "`any x in LIST: COND` — some element satisfies COND (false for an absent list)"),
    ("all", "`all x in LIST: COND` — every element satisfies COND (true for an absent list)"),
    ("true", "the boolean true"),
    ("false", "the boolean false"),
    ("workloads", "Pod and every pod controller: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob"),
];

/// `(name, signature, help)` of the functions and methods.
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    (
        "exists",
        "exists(path) -> bool",
        "the path is present (not missing and not null)",
    ),
    (
        "missing",
        "missing(path) -> bool",
        "the path is absent or null",
    ),
    (
        "starts_with",
        "string.starts_with(prefix) -> bool",
        "the string begins with `prefix`",
    ),
    (
        "ends_with",
        "string.ends_with(suffix) -> bool",
        "the string ends with `suffix`",
    ),
    (
        "contains",
        "string.contains(part) -> bool",
        "the string contains `part`",
    ),
    (
        "matches",
        "string.matches(regex) -> bool",
        "the string matches the RE2 regular expression (unanchored unless `^…$`)",
    ),
    (
        "size",
        "list.size() -> int / string.size() -> int",
        "the number of elements, or of characters (code points) of a string",
    ),
    (
        "keys",
        "map.keys() -> list<string>",
        "the map's keys, in no particular order; an absent map has none",
    ),
    (
        "trim_prefix",
        "string.trim_prefix(prefix) -> string",
        "the string without `prefix` at its start, unchanged when it does not start with it",
    ),
    (
        "trim_suffix",
        "string.trim_suffix(suffix) -> string",
        "the string without `suffix` at its end, unchanged when it does not end with it",
    ),
];

/// `(name, help)` of the roots of expressions.
pub const ROOTS: &[(&str, &str)] = &[
    ("object", "the object under review"),
    ("old", "the object before an UPDATE (absent otherwise)"),
    ("pod", "the pod view of Pod and every pod controller: `pod.spec`, `pod.metadata`, `pod.all_containers`"),
    ("namespace", "the Namespace of a namespaced request (absent for cluster-scoped objects)"),
    ("request", "the admission request: `operation`, `user`, `groups`, `namespace`, `name`"),
    ("params", "the guardrail's params, with the values of the environment being built"),
];

pub const ENFORCEMENT_ACTIONS: &[(&str, &str)] = &[
    ("deny", "reject the request (VAP `Deny`, Gatekeeper `deny`)"),
    (
        "warn",
        "admit with a warning (VAP `Warn`, Gatekeeper `warn`)",
    ),
    (
        "audit",
        "admit and record (VAP `Audit`, Gatekeeper `dryrun`)",
    ),
];

pub const CATEGORIES: &[&str] = &["preventive", "detective", "corrective"];
pub const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
pub const OPERATIONS: &[&str] = &["CREATE", "UPDATE", "DELETE", "CONNECT"];
pub const PARAM_TYPES: &[&str] = &["string", "int", "bool", "quantity", "list", "map"];

pub fn keyword(word: &str) -> Option<&'static str> {
    KEYWORDS.iter().find(|(k, _)| *k == word).map(|(_, h)| *h)
}

pub fn function(name: &str) -> Option<(&'static str, &'static str)> {
    FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, signature, help)| (*signature, *help))
}

pub fn root(name: &str) -> Option<&'static str> {
    ROOTS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}
