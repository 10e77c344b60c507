//! Fixture files: admission cases for one guardrail and what each must produce
//! (docs/testing.md, "Fixtures"). Loading checks everything that can be checked before
//! evaluation and reports problems as `file:line: message`.

use crate::case::{AdmissionCase, Operation, ResourceCatalog, UserInfo};
use crate::compiled::{names, CompiledGuardrail};
use crate::files::{inside_project, read_regular, MAX_FIXTURE_BYTES};
use crate::manifests::{objects_in, parse_yaml, parse_yaml_document};
use crate::outcome::Verdict;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use std::path::Path;

/// Where a project keeps its fixture files, below its root.
pub const TESTS_DIR: &str = "tests";

/// A problem in a fixture file, at a line of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureError {
    pub file: String,
    pub line: usize,
    /// 1-based column, where the YAML parser gives one (syntax and field errors).
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// One fixture file: cases for one guardrail.
#[derive(Clone, Debug)]
pub struct FixtureFile {
    /// The path as the user should see it.
    pub file: String,
    pub guardrail: String,
    pub cases: Vec<FixtureCase>,
    /// The files its cases read with `{file: …}`, resolved (filled by [`load_fixture`]).
    pub referenced: Vec<std::path::PathBuf>,
}

#[derive(Clone, Debug)]
pub struct FixtureCase {
    pub name: String,
    /// 1-based line where the case starts in its file.
    pub line: usize,
    /// The environments to run in; empty means every environment of the project.
    pub envs: Vec<String>,
    pub case: AdmissionCase,
    pub expect: Expectation,
}

/// What a case must produce on every target.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub verdict: ExpectedVerdict,
    /// When given, the violation messages must match these one to one, in any order.
    pub messages: Option<Vec<MessagePattern>>,
}

/// `allow`: no violation. `deny`: a violation, enforced as the environment says (so
/// `audit` on an environment that audits). `warn`/`audit`: a violation, and the
/// environment's enforcement must be exactly that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVerdict {
    Allow,
    Deny,
    Warn,
    Audit,
}

impl ExpectedVerdict {
    fn parse(text: &str) -> Option<ExpectedVerdict> {
        Some(match text {
            "allow" => ExpectedVerdict::Allow,
            "deny" => ExpectedVerdict::Deny,
            "warn" => ExpectedVerdict::Warn,
            "audit" => ExpectedVerdict::Audit,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedVerdict::Allow => "allow",
            ExpectedVerdict::Deny => "deny",
            ExpectedVerdict::Warn => "warn",
            ExpectedVerdict::Audit => "audit",
        }
    }

    /// The verdict a target must give where the guardrail's enforcement is `enforcement`,
    /// or `None` when the expectation cannot hold there (`warn` in a denying environment).
    pub fn verdict_under(self, enforcement: Verdict) -> Option<Verdict> {
        match self {
            ExpectedVerdict::Allow => Some(Verdict::Allow),
            ExpectedVerdict::Deny => Some(enforcement),
            ExpectedVerdict::Warn => (enforcement == Verdict::Warn).then_some(Verdict::Warn),
            ExpectedVerdict::Audit => (enforcement == Verdict::Audit).then_some(Verdict::Audit),
        }
    }
}

#[derive(Clone, Debug)]
pub enum MessagePattern {
    Exact(String),
    Regex(regex::Regex),
}

impl PartialEq for MessagePattern {
    fn eq(&self, other: &MessagePattern) -> bool {
        match (self, other) {
            (MessagePattern::Exact(a), MessagePattern::Exact(b)) => a == b,
            (MessagePattern::Regex(a), MessagePattern::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl MessagePattern {
    /// A string matches the message exactly, or the message without the ` (fix: …)` hint the
    /// rule's `fix` appends, so a fixture need not repeat the hint; a regex matches anywhere.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            MessagePattern::Exact(text) => {
                text == message || without_fix_hint(message).is_some_and(|bare| bare == text)
            }
            MessagePattern::Regex(regex) => regex.is_match(message),
        }
    }
}

/// The message before the ` (fix: …)` a rule's `fix` appends to it, when it has one.
fn without_fix_hint(message: &str) -> Option<&str> {
    let start = message.rfind(" (fix: ")?;
    message.ends_with(')').then(|| &message[..start])
}

impl fmt::Display for MessagePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessagePattern::Exact(text) => write!(f, "{text:?}"),
            MessagePattern::Regex(regex) => write!(f, "/{}/", regex.as_str()),
        }
    }
}

/// What fixture loading needs to know about the project.
pub struct ProjectFacts<'a> {
    pub guardrails: &'a [String],
    pub environments: &'a [String],
    pub catalog: &'a dyn ResourceCatalog,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    guardrail: String,
    #[serde(default)]
    env: Option<EnvSelection>,
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EnvSelection {
    One(String),
    Many(Vec<String>),
}

impl EnvSelection {
    fn names(self) -> Vec<String> {
        match self {
            EnvSelection::One(name) => vec![name],
            EnvSelection::Many(names) => names,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    #[serde(default)]
    env: Option<EnvSelection>,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    old_object: Option<Value>,
    #[serde(default)]
    namespace: Option<Value>,
    #[serde(default)]
    user: Option<RawUser>,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    #[serde(default)]
    username: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// Parses the fixture file at `path` (shown to the user as `shown`) of the project in the
/// folder `root`, for a project that compiled to `compiled`: the guardrails and
/// environments it may name are those, and `{file: …}` objects are read relative to the
/// fixture's folder, and only inside `root` (regular files of at most
/// [`MAX_FIXTURE_BYTES`]). `guardrailc test` and the language server load fixtures through
/// this one function.
pub fn load_fixture(
    root: &Path,
    path: &Path,
    shown: &str,
    text: &str,
    compiled: &[CompiledGuardrail],
    catalog: &dyn ResourceCatalog,
) -> Result<FixtureFile, FixtureError> {
    let (guardrails, environments) = names(compiled);
    let facts = ProjectFacts {
        guardrails: &guardrails,
        environments: &environments,
        catalog,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let referenced = std::cell::RefCell::new(Vec::new());
    let read = |relative: &str| {
        let resolved = inside_project(root, &folder.join(relative), relative)?;
        let text = read_regular(&resolved, relative, MAX_FIXTURE_BYTES, "fixture files")?;
        referenced.borrow_mut().push(resolved);
        Ok(text)
    };
    let mut fixture = parse_fixture(shown, text, &facts, &read)?;
    fixture.referenced = referenced.into_inner();
    Ok(fixture)
}

/// What a YAML or JSON file under the fixture folder is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestsFile {
    /// A fixture file: a map with a top-level `guardrail` key.
    Fixture,
    /// Not a fixture (objects that cases refer to, or anything else), with what it holds.
    Other(String),
    /// Not valid YAML or JSON, or a fixture missing its `guardrail` key.
    Malformed(FixtureError),
}

/// Parses a file under the fixture folder enough to say what it is: however its
/// `guardrail` key is written (`guardrail:`, `"guardrail":`, `guardrail :`, JSON), a file
/// whose top-level map has it is a fixture file.
pub fn classify(file: &str, text: &str) -> TestsFile {
    let documents = match documents(text) {
        Ok(documents) => documents,
        Err(error) => return TestsFile::Malformed(yaml_error(file, &error)),
    };
    let top_keys = |key: &str| {
        documents
            .iter()
            .any(|d| d.as_object().is_some_and(|m| m.contains_key(key)))
    };
    if top_keys("guardrail") {
        return TestsFile::Fixture;
    }
    if top_keys("cases") {
        return TestsFile::Malformed(FixtureError {
            file: file.to_string(),
            line: key_line(text, "cases"),
            column: None,
            message: "this file has `cases` but no `guardrail` key; name the guardrail its cases test with `guardrail: ID`".into(),
        });
    }
    let objects = documents
        .iter()
        .filter(|d| d.get("kind").is_some_and(Value::is_string))
        .count();
    TestsFile::Other(match (objects, documents.len()) {
        (0, 0) => "an empty file".to_string(),
        (0, _) => "no `guardrail` key and no Kubernetes object".to_string(),
        (n, total) if n == total => format!("{}, no fixture", count(n, "Kubernetes object")),
        (n, _) => format!(
            "{} and other documents, no fixture",
            count(n, "Kubernetes object")
        ),
    })
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The documents of a YAML stream (JSON is YAML), duplicate keys refused.
fn documents(text: &str) -> Result<Vec<Value>, yaml_serde::Error> {
    let mut documents = Vec::new();
    for document in yaml_serde::Deserializer::from_str(text) {
        let value: Value = parse_yaml_document(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Whether a YAML text is a fixture file: see [`classify`]. A text that does not parse is
/// taken for one when a line names a `guardrail` key, so its syntax errors are shown.
pub fn is_fixture(text: &str) -> bool {
    match classify("", text) {
        TestsFile::Fixture => true,
        TestsFile::Other(_) => false,
        TestsFile::Malformed(_) => text.lines().any(|line| is_key_line(line, "guardrail")),
    }
}

/// Whether `line` starts a top-level `key`, written plain or quoted, with any spaces
/// before its colon.
fn is_key_line(line: &str, key: &str) -> bool {
    let unquoted = ["\"", "'", ""].iter().find_map(|quote| {
        line.strip_prefix(quote)?
            .strip_prefix(key)?
            .strip_prefix(quote)
    });
    unquoted.is_some_and(|rest| rest.trim_start().starts_with(':'))
}

/// The 1-based line of the top-level `key` in `text` (1 when not found).
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| is_key_line(l, key))
        .map_or(1, |index| index + 1)
}

/// A YAML error at its line, without the location the message repeats.
fn yaml_error(file: &str, e: &yaml_serde::Error) -> FixtureError {
    let message = e.to_string();
    let message = message
        .find(" at line ")
        .map_or(message.as_str(), |index| &message[..index]);
    FixtureError {
        file: file.to_string(),
        line: e.location().map_or(1, |at| at.line()),
        column: e.location().map(|at| at.column()),
        message: message.to_string(),
    }
}

/// Parses one fixture file. `read` returns the text of a file a case refers to, given the
/// path written in the fixture (relative to the fixture's folder; the caller resolves it).
pub fn parse_fixture(
    file: &str,
    text: &str,
    project: &ProjectFacts,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<FixtureFile, FixtureError> {
    let error = |line: usize, message: String| FixtureError {
        file: file.to_string(),
        line,
        column: None,
        message,
    };
    let raw: RawFile = yaml_serde::from_str(text).map_err(|e| yaml_error(file, &e))?;
    // A key given twice is an error: the typed parse keeps the last one of a map silently.
    parse_yaml(text).map_err(|e| yaml_error(file, &e))?;
    let key_line = |key: &str| key_line(text, key);
    if !project.guardrails.contains(&raw.guardrail) {
        let mut message = format!("unknown guardrail `{}`", raw.guardrail);
        if let Some(close) = closest(&raw.guardrail, project.guardrails) {
            message.push_str(&format!("; did you mean `{close}`?"));
        }
        return Err(error(key_line("guardrail"), message));
    }
    let check_envs = |envs: &[String], line: usize| {
        for env in envs {
            if !project.environments.contains(env) {
                return Err(error(
                    line,
                    format!(
                        "unknown environment `{env}`; the project has {}",
                        project.environments.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    };
    let file_envs = raw.env.map(EnvSelection::names).unwrap_or_default();
    check_envs(&file_envs, key_line("env"))?;
    let case_lines = case_lines(text);
    let mut cases = Vec::new();
    for (index, raw_case) in raw.cases.into_iter().enumerate() {
        let line = case_lines
            .get(index)
            .copied()
            .unwrap_or_else(|| key_line("cases"));
        let at = |message: String| error(line, format!("case `{}`: {message}", raw_case.name));
        let envs = match raw_case.env {
            Some(selection) => selection.names(),
            None => file_envs.clone(),
        };
        check_envs(&envs, line)?;
        let operation = match &raw_case.operation {
            None => Operation::Create,
            Some(text) => Operation::parse(text).ok_or_else(|| {
                at(format!(
                    "unknown operation `{text}`; use CREATE, UPDATE, DELETE or CONNECT"
                ))
            })?,
        };
        let expect = parse_expectation(&raw_case.expect).map_err(&at)?;
        let objects = raw_case
            .object
            .as_ref()
            .map(|v| resolve_objects(v, read))
            .transpose()
            .map_err(&at)?;
        let old_object = raw_case
            .old_object
            .as_ref()
            .map(|v| single_object(v, read, "old_object"))
            .transpose()
            .map_err(&at)?;
        match (operation, &objects, &old_object) {
            (Operation::Delete, Some(_), _) => {
                return Err(at(
                    "a DELETE has no `object`; give the stored object as `old_object`".into(),
                ))
            }
            (Operation::Delete, None, None) => {
                return Err(at("a DELETE needs the stored object as `old_object`".into()))
            }
            (Operation::Update, _, None) => return Err(at("an UPDATE needs `old_object`".into())),
            (Operation::Create | Operation::Connect | Operation::Update, None, _) => {
                return Err(at("the case has no `object`".into()))
            }
            _ => {}
        }
        let user = raw_case
            .user
            .map(|u| UserInfo {
                username: u.username,
                groups: u.groups,
            })
            .unwrap_or_else(default_user);
        let subjects: Vec<Option<Value>> = match objects {
            Some(objects) => objects.into_iter().map(Some).collect(),
            None => vec![None],
        };
        let several = subjects.len() > 1;
        for (position, object) in subjects.into_iter().enumerate() {
            let subject = object.as_ref().or(old_object.as_ref());
            let namespace_object =
                namespace_object(subject, raw_case.namespace.as_ref(), project.catalog)
                    .map_err(&at)?;
            let name = if several {
                format!("{} [object {}]", raw_case.name, position + 1)
            } else {
                raw_case.name.clone()
            };
            cases.push(FixtureCase {
                name,
                line,
                envs: envs.clone(),
                case: AdmissionCase {
                    operation,
                    object,
                    old_object: old_object.clone(),
                    namespace_object,
                    user: user.clone(),
                },
                expect: expect.clone(),
            });
        }
    }
    Ok(FixtureFile {
        file: file.to_string(),
        guardrail: raw.guardrail,
        cases,
        referenced: Vec::new(),
    })
}

/// The user of a case that names none: an ordinary authenticated person.
fn default_user() -> UserInfo {
    UserInfo {
        username: "fixture-user".into(),
        groups: vec!["system:authenticated".into()],
    }
}

/// 1-based lines where each entry of the top-level `cases:` block sequence starts, found by
/// scanning: the YAML parser keeps no positions for values.
fn case_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut in_cases = false;
    let mut entry_indent = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 && !line.starts_with('-') {
            in_cases = is_key_line(line, "cases");
            continue;
        }
        if !in_cases || !trimmed.starts_with('-') {
            continue;
        }
        match entry_indent {
            None => {
                entry_indent = Some(indent);
                lines.push(index + 1);
            }
            Some(expected) if expected == indent => lines.push(index + 1),
            Some(_) => {}
        }
    }
    lines
}

fn parse_expectation(value: &Value) -> Result<Expectation, String> {
    let verdict_of = |v: &Value| {
        v.as_str().and_then(ExpectedVerdict::parse).ok_or_else(|| {
            format!(
                "`expect` must be allow, deny, warn or audit, not `{}`",
                compact(v)
            )
        })
    };
    match value {
        Value::String(_) => Ok(Expectation {
            verdict: verdict_of(value)?,
            messages: None,
        }),
        Value::Object(fields) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| !["verdict", "messages"].contains(&k.as_str()))
            {
                return Err(format!(
                    "unknown field `{unknown}` in `expect`; use `verdict` and `messages`"
                ));
            }
            let verdict = verdict_of(fields.get("verdict").ok_or("`expect` has no `verdict`")?)?;
            let messages = match fields.get("messages") {
                None => None,
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(parse_message_pattern)
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(other) => {
                    return Err(format!(
                        "`messages` must be a list, not `{}`",
                        compact(other)
                    ))
                }
            };
            if verdict == ExpectedVerdict::Allow && messages.as_ref().is_some_and(|m| !m.is_empty())
            {
                return Err("an allowed case has no messages".into());
            }
            Ok(Expectation { verdict, messages })
        }
        other => Err(format!(
            "`expect` must be a verdict or a map with `verdict`, not `{}`",
            compact(other)
        )),
    }
}

fn parse_message_pattern(value: &Value) -> Result<MessagePattern, String> {
    match value {
        Value::String(text) => Ok(MessagePattern::Exact(text.clone())),
        Value::Object(fields) if fields.len() == 1 && fields.contains_key("regex") => {
            let pattern = fields["regex"].as_str().ok_or("`regex` must be a string")?;
            regex::Regex::new(pattern)
                .map(MessagePattern::Regex)
                .map_err(|e| format!("`{pattern}` is not a valid regex: {e}"))
        }
        other => Err(format!(
            "a message is a string or `{{regex: …}}`, not `{}`",
            compact(other)
        )),
    }
}

/// An inline object, or the objects of `{file: path}` (a multi-document or list file
/// gives several).
fn resolve_objects(
    value: &Value,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<Value>, String> {
    let objects = match file_reference(value) {
        Some(path) => {
            let text = read(path)?;
            let objects: Vec<Value> = objects_in(&text)
                .map_err(|e| format!("`{path}`: {e}"))?
                .into_iter()
                .map(|(_, object)| object)
                .collect();
            if objects.is_empty() {
                return Err(format!("`{path}` holds no object"));
            }
            objects
        }
        None => vec![value.clone()],
    };
    for object in &objects {
        if !object.is_object() {
            return Err(format!(
                "an object must be a map, not `{}`",
                compact(object)
            ));
        }
    }
    Ok(objects)
}

fn single_object(
    value: &Value,
    read: &dyn Fn(&str) -> Result<String, String>,
    field: &str,
) -> Result<Value, String> {
    let mut objects = resolve_objects(value, read)?;
    if objects.len() != 1 {
        return Err(format!(
            "`{field}` must be one object, but its file holds {}",
            objects.len()
        ));
    }
    Ok(objects.remove(0))
}

/// `{file: path}`: a map whose only key is `file`.
fn file_reference(value: &Value) -> Option<&str> {
    let fields = value.as_object()?;
    (fields.len() == 1)
        .then(|| fields.get("file")?.as_str())
        .flatten()
}

/// The Namespace object of the request, as the API server would bind it. For a
/// namespaced object without an explicit one, the namespace Kubernetes creates: its name
/// and the `kubernetes.io/metadata.name` label. `namespace:` may be a whole Namespace
/// object or `{name, labels}`, whose labels add to that default label.
fn namespace_object(
    subject: Option<&Value>,
    given: Option<&Value>,
    catalog: &dyn ResourceCatalog,
) -> Result<Option<Value>, String> {
    let object_namespace = subject
        .and_then(|s| s.pointer("/metadata/namespace"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    match given {
        Some(Value::Object(fields)) if fields.contains_key("kind") => Ok(given.cloned()),
        Some(Value::Object(fields)) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| !["name", "labels"].contains(&k.as_str()))
            {
                return Err(format!(
                    "unknown field `{unknown}` in `namespace`; use `name` and `labels`, or a whole Namespace object"
                ));
            }
            let name = match fields.get("name") {
                None => object_namespace,
                Some(Value::String(name)) => name.as_str(),
                Some(other) => {
                    return Err(format!(
                        "`namespace.name` must be a string, not `{}`",
                        compact(other)
                    ))
                }
            };
            let mut labels = json!({ "kubernetes.io/metadata.name": name });
            match fields.get("labels") {
                None => {}
                Some(Value::Object(extra)) => {
                    for (key, value) in extra {
                        let text = value
                            .as_str()
                            .ok_or_else(|| format!("namespace label `{key}` must be a string"))?;
                        labels[key] = Value::String(text.to_string());
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "`namespace.labels` must be a map, not `{}`",
                        compact(other)
                    ))
                }
            }
            Ok(Some(namespace(name, labels)))
        }
        Some(other) => Err(format!(
            "`namespace` must be a map, not `{}`",
            compact(other)
        )),
        None => Ok(namespace_kubernetes_creates(subject, catalog)),
    }
}

/// The Namespace of a namespaced object as Kubernetes creates it when nobody labels it:
/// its name and the `kubernetes.io/metadata.name` label. `None` for cluster-scoped or
/// unknown kinds.
pub fn namespace_kubernetes_creates(
    subject: Option<&Value>,
    catalog: &dyn ResourceCatalog,
) -> Option<Value> {
    let subject = subject?;
    let api_version = subject.get("apiVersion")?.as_str()?;
    let kind = subject.get("kind")?.as_str()?;
    if !catalog.resource(api_version, kind)?.namespaced {
        return None;
    }
    let name = subject
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    Some(namespace(
        name,
        json!({ "kubernetes.io/metadata.name": name }),
    ))
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
    })
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The name in `names` closest to `wanted`, when it is close enough to be a typo.
fn closest<'n>(wanted: &str, names: &'n [String]) -> Option<&'n str> {
    guardrailc_compiler::suggest::closest(wanted, names.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_is_a_file_whose_top_level_map_has_a_guardrail_key_however_written() {
        for text in [
            "guardrail: x\ncases: []\n",
            "\"guardrail\": x\ncases: []\n",
            "guardrail   : x\n",
            "'guardrail': x\n",
            "{\"guardrail\": \"x\", \"cases\": []}",
            "# a comment first\n---\nguardrail: x\n",
        ] {
            assert_eq!(classify("f", text), TestsFile::Fixture, "{text}");
            assert!(is_fixture(text), "{text}");
        }
        let other = |text| match classify("f", text) {
            TestsFile::Other(holds) => holds,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            other("kind: Pod\n---\nkind: Pod\n"),
            "2 Kubernetes objects, no fixture"
        );
        assert_eq!(
            other("a: 1\n"),
            "no `guardrail` key and no Kubernetes object"
        );
        assert_eq!(other(""), "an empty file");
        // `guardrail` deeper than the top level does not make a fixture.
        assert!(!is_fixture("spec:\n  guardrail: x\n"));
    }

    #[test]
    fn a_file_with_cases_but_no_guardrail_or_that_does_not_parse_is_malformed() {
        let TestsFile::Malformed(error) = classify("t.yaml", "# x\ncases: []\n") else {
            panic!("not malformed");
        };
        assert_eq!(error.line, 2);
        let TestsFile::Malformed(error) = classify("t.yaml", "guardrail: x\nguardrail: y\n") else {
            panic!("not malformed");
        };
        assert_eq!((error.line, error.column), (2, Some(1)));
        assert!(
            error.message.contains("duplicate key `guardrail`"),
            "{error}"
        );
        // Broken, it is still shown as a fixture in the editor when a line names the key.
        assert!(is_fixture("\"guardrail\": x\ncases: [\n"));
        assert!(!is_fixture("kind: [\n"));
    }

    #[test]
    fn an_exact_message_may_leave_out_the_fix_hint() {
        let pattern = MessagePattern::Exact("container app is privileged".into());
        for message in [
            "container app is privileged",
            "container app is privileged (fix: set privileged to false)",
            "container app is privileged (fix: drop it (or set it to false))",
        ] {
            assert!(pattern.matches(message), "{message}");
        }
        for message in [
            "container app is privileged, twice",
            "container app is privileged (fix: unclosed",
            "container app (fix: a) is privileged",
            "container web is privileged (fix: set privileged to false)",
        ] {
            assert!(!pattern.matches(message), "{message}");
        }
        // Written with the hint, the whole message must match.
        let whole = MessagePattern::Exact("container app is privileged (fix: x)".into());
        assert!(whole.matches("container app is privileged (fix: x)"));
        assert!(!whole.matches("container app is privileged (fix: y)"));
    }
}
