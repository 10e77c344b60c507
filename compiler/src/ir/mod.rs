//! The backend-neutral intermediate representation.
//!
//! Lowering makes every decision here, once: which paths may be absent (explicit
//! [`Expr::Present`] guards and [`Expr::ValueOr`] defaults), where the pod spec lives for each
//! matched kind ([`PodLocation`]), how loops nest ([`Generator`]), what params hold in the
//! environment being built. A backend walks this tree and prints; it never looks at source.
//!
//! Semantics every backend implements (docs/language.md, "Semantics"):
//! * [`Expr::Value`] of an access whose path is missing is *absent*. Lowering only places a
//!   `Value` where its presence is already guaranteed by an enclosing `Present` (or by the
//!   schema), so a backend may print it as a plain field access.
//! * [`Expr::Present`] is true iff every step of the access exists and is not null. In CEL it
//!   prints as a chain of `has()` / `in` tests (plus `!= null` for nullable roots); in Rego as a
//!   reference that is defined and not null.
//! * A rule yields one violation per binding of its generators for which `condition` is true;
//!   the violation's message is `message` rendered with that binding.

mod visit;

pub use visit::each_access;

use serde::Serialize;
use std::collections::BTreeMap;

/// One guardrail compiled for one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policy {
    /// The guardrail id, a DNS label: `no-latest-tag`.
    pub id: String,
    /// The id as a CamelCase Gatekeeper kind: `NoLatestTag`.
    pub kind_name: String,
    pub meta: Meta,
    /// The file the guardrail came from, for the header of emitted files.
    pub source_file: String,
    pub env: String,
    pub enforcement: Enforcement,
    pub matcher: Match,
    /// Param values for this environment, in declaration order.
    pub params: Vec<ParamValue>,
    /// Present iff some expression reads the pod view (`Root::PodSpec`, `Root::PodMetadata`,
    /// `Root::AllContainers`).
    pub pod: Option<PodView>,
    pub rules: Vec<Rule>,
    /// Exemptions still in force; an object for which any `condition` is true is skipped.
    pub exemptions: Vec<Exemption>,
    /// Which request context the rules read (for targets that lack it).
    pub reads: Reads,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Meta {
    pub title: String,
    pub why: Option<String>,
    pub category: Category,
    pub severity: Severity,
    pub owner: Option<String>,
    pub controls: Vec<String>,
    pub docs: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    #[default]
    Preventive,
    Detective,
    Corrective,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

/// What happens to a violating object in an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Reject. VAP `[Deny]`, Gatekeeper `deny`.
    Deny,
    /// Admit with a warning. VAP `[Warn]`, Gatekeeper `warn`.
    Warn,
    /// Admit and record. VAP `[Audit]`, Gatekeeper `dryrun`.
    Audit,
}

/// Which objects the guardrail looks at.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Match {
    /// Sorted by (group, resource); never empty after lowering.
    pub resources: Vec<Resource>,
    /// Sorted; never empty after lowering (default CREATE, UPDATE).
    pub operations: Vec<Operation>,
    /// Only these namespaces (empty: all).
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Resource {
    /// API group, "" for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name: `pods`, `deployments`.
    pub resource: String,
    pub kind: String,
    pub namespaced: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Connect,
    ];

    /// The operation spelt as admission requests spell it: `CREATE`, `UPDATE` …
    pub fn parse(text: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// A Kubernetes label selector; empty means "everything".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LabelSelector {
    /// Sorted by key.
    pub match_labels: Vec<(String, String)>,
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    /// Empty for `Exists` / `DoesNotExist`.
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl SelectorOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectorOperator::In => "In",
            SelectorOperator::NotIn => "NotIn",
            SelectorOperator::Exists => "Exists",
            SelectorOperator::DoesNotExist => "DoesNotExist",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamValue {
    pub name: String,
    pub ty: ParamType,
    pub value: Literal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Int,
    Bool,
    Quantity,
    List(Box<ParamType>),
    Map(Box<ParamType>),
    /// `{name: T, …}`: an object with these fields, in declaration order. Every field may be
    /// absent from a value.
    Record(Vec<(String, ParamType)>),
}

/// Where the pod spec and pod metadata live in each matched kind. Every matched kind has an
/// entry when `Policy::pod` is set (lowering rejects `pod` on kinds without one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodView {
    /// One entry per distinct location, each with the kinds that use it, sorted by kind.
    pub locations: Vec<PodLocation>,
    /// Which parts of the pod the rules read, so each backend defines only those.
    pub reads: PodReads,
}

/// The parts of the pod view a policy reads (`Root::PodSpec`, `Root::PodMetadata`,
/// `Root::AllContainers`), computed once in lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodReads {
    /// The pod spec, read directly or through `all_containers` (which is built from it).
    pub spec: bool,
    pub metadata: bool,
    pub all_containers: bool,
}

impl PodReads {
    /// What `rules` read of the pod view.
    pub fn of(rules: &[Rule]) -> PodReads {
        let reads = |root: Root| rules.iter().any(|rule| rule.reads(|r| *r == root));
        let all_containers = reads(Root::AllContainers);
        PodReads {
            spec: all_containers || reads(Root::PodSpec),
            metadata: reads(Root::PodMetadata),
            all_containers,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodLocation {
    pub kinds: Vec<String>,
    /// Field path from the object to the pod spec: `["spec"]`, `["spec", "template", "spec"]`.
    pub spec_path: Vec<String>,
    /// Field path to the pod's metadata: `["metadata"]`, `["spec", "template", "metadata"]`.
    pub metadata_path: Vec<String>,
}

/// A `deny` or `require` rule, normalised: it yields a violation for each binding of
/// `generators` (outermost first) for which `condition` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The rule in the source, for diagnostics about what it compiles to (cost).
    pub span: crate::span::Span,
    /// 1-based position among the guardrail's rules; names the rule in emitted code
    /// (`rule_1`) and in coverage reports.
    pub index: usize,
    /// 1-based source line of the rule keyword, for reports.
    pub line: usize,
    pub generators: Vec<Generator>,
    pub condition: Expr,
    /// The message with the fix hint already appended (`… (fix: …)`).
    pub message: Template,
}

/// `for var in list`. The list is an expression that is never absent (lowering wraps a
/// possibly-absent path in `ValueOr(path, [])`), so iterating an absent list iterates nothing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Generator {
    pub var: String,
    pub list: Expr,
}

/// A message: literal text and interpolated scalar values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TemplatePart {
    Text(String),
    /// A scalar (string, int or bool) printed as CEL `string()` and Rego `%v` print it. The
    /// expression is never absent: lowering wraps optional paths in `ValueOr(_, "<missing>")`.
    Value(Expr),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exemption {
    pub reason: String,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// True for objects the exemption covers. Reads only `Root::Object` metadata.
    pub condition: Expr,
}

/// Request context the policy reads, so a target without it can say so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reads {
    pub old_object: bool,
    pub namespace: bool,
    pub request: bool,
}

/// A boolean, string, integer or list expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Expr {
    Literal(Literal),
    /// A list built from expressions (a literal list is `Literal(Literal::List)`).
    List(Vec<Expr>),
    /// The value at an access; present by construction (see the module docs).
    Value(Access),
    /// The value at an access, or `fallback` when the path is absent.
    ValueOr {
        access: Access,
        fallback: Literal,
    },
    /// True iff the access's path exists (every step) and its value is not null.
    Present(Access),
    /// True iff the value has the given type; guards schemaless paths against
    /// type-confused input. Print: CEL `type(x) == string`, Rego `is_string(x)`.
    IsType {
        value: Box<Expr>,
        ty: ValueType,
    },
    Not(Box<Expr>),
    /// Conjunction, evaluated left to right; later operands may rely on earlier guards.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare {
        op: CompareOp,
        domain: Domain,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    StringTest {
        op: StringOp,
        subject: Box<Expr>,
        arg: Box<Expr>,
    },
    /// `item in list` (list membership, by equality).
    InList {
        item: Box<Expr>,
        list: Box<Expr>,
    },
    /// Size of a list, map or string (strings count Unicode code points).
    Size(Box<Expr>),
    /// `any var in list: body` / `all var in list: body`. The list is never absent.
    Quantified {
        quantifier: Quantifier,
        var: String,
        list: Box<Expr>,
        body: Box<Expr>,
    },
    /// The keys of a map that is never absent, as a list of strings. Lowering places it only
    /// where a list is iterated (a [`Generator`]'s or [`Expr::Quantified`]'s list), searched
    /// ([`Expr::InList`]) or counted ([`Expr::Size`]): in those positions a CEL map stands
    /// for its keys, so CEL prints the map itself; Rego prints `object.keys(map)`.
    Keys(Box<Expr>),
    /// A string computed from two strings that are never absent.
    StringFn {
        op: StringFn,
        subject: Box<Expr>,
        arg: Box<Expr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StringFn {
    /// `subject` without `arg` at its start, or `subject` unchanged when it does not start
    /// with `arg`. CEL `s.startsWith(a) ? s.substring(size(a)) : s`; Rego `trim_prefix`.
    TrimPrefix,
    /// `subject` without `arg` at its end, or unchanged. CEL
    /// `s.endsWith(a) ? s.substring(0, size(s) - size(a)) : s`; Rego `trim_suffix`.
    TrimSuffix,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    String(String),
    /// A Kubernetes quantity in its source spelling, validated by the checker: `500m`, `2Gi`.
    Quantity(String),
    List(Vec<Literal>),
    /// A map with string keys; sorted by key by its type, so equal maps print alike.
    Map(BTreeMap<String, Literal>),
    /// A value of a record param: the fields it gives, sorted by name by its type. CEL prints
    /// each field value as `dyn(…)`, because the API server type-checks map literals as
    /// homogeneous and a record's fields differ in type; Rego prints an object.
    Record(BTreeMap<String, Literal>),
}

/// A path: a root followed by field, key and index steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    pub root: Root,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Root {
    /// The object under review. CEL `object`, Gatekeeper `input.review.object`, OPA `input`.
    Object,
    /// The object before an UPDATE; null otherwise. CEL `oldObject`, Gatekeeper
    /// `input.review.oldObject`. Nullable: `Present` must test the root itself.
    OldObject,
    /// The namespace object of a namespaced request; null for cluster-scoped ones. Nullable.
    Namespace,
    /// The admission request: steps are `operation`, `userInfo.username`, `userInfo.groups`
    /// in the Kubernetes AdmissionRequest spelling.
    Request,
    /// The pod spec of the object, at the location [`PodView`] gives for its kind. Nullable:
    /// the location may be missing in an object that was never validated (a raw manifest).
    PodSpec,
    /// The pod template's (or Pod's) metadata. Nullable, like `PodSpec`.
    PodMetadata,
    /// containers + initContainers + ephemeralContainers of the pod spec, each absent list
    /// counting as empty. A list, never absent.
    AllContainers,
    /// A param of the guardrail; its value is in `Policy::params`.
    Param(String),
    /// A loop variable bound by a [`Generator`] or [`Expr::Quantified`].
    Var(String),
}

impl Root {
    /// Roots that are null in some requests, so presence must test the root itself.
    pub fn is_nullable(&self) -> bool {
        matches!(
            self,
            Root::OldObject | Root::Namespace | Root::PodSpec | Root::PodMetadata
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Step {
    /// `.name` on an object with a schema.
    Field(String),
    /// `["key"]` on a map (labels, annotations, resource limits).
    Key(String),
    /// `[key]` on a map, the key a string expression computed at run time (a loop variable,
    /// a param element). Lowering places the key's own presence guards before any
    /// `Present` of an access through this step, so the key is defined wherever it is read.
    Lookup(Box<Expr>),
    /// `[n]` on a list, n ≥ 0.
    Index(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ValueType {
    String,
    Int,
    Bool,
    List,
    Map,
    /// A string that parses as a Kubernetes quantity. CEL: `type(x) == string &&
    /// isQuantity(x)`; Rego: `is_string(x)` and `units.parse(x)` defined.
    Quantity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What is being compared, which decides how a backend prints the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Domain {
    String,
    Int,
    Bool,
    /// Both sides are quantity strings, compared as numbers: CEL
    /// `quantity(a).compareTo(quantity(b)) < 0`, Rego `units.parse(a) < units.parse(b)`.
    /// Lowering guards each non-literal side with `Present` and `IsType { ty: Quantity }`.
    Quantity,
    /// Lists compared element-wise for equality only.
    List,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StringOp {
    StartsWith,
    EndsWith,
    Contains,
    /// RE2 regex match anywhere in the string (CEL `matches`, Rego `regex.match`).
    Matches,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Quantifier {
    Any,
    All,
}

impl Rule {
    /// Calls `visit` on every access the rule makes: in its generators, its condition and
    /// its message.
    pub fn each_access(&self, visit: &mut impl FnMut(&Access)) {
        let rule = self;
        for generator in &rule.generators {
            each_access(&generator.list, visit);
        }
        each_access(&rule.condition, visit);
        for part in &rule.message.parts {
            if let TemplatePart::Value(expr) = part {
                each_access(expr, visit);
            }
        }
    }

    /// Whether any access of the rule starts at a root `wanted` accepts.
    pub fn reads(&self, wanted: impl Fn(&Root) -> bool) -> bool {
        let mut reads = false;
        self.each_access(&mut |access| reads |= wanted(&access.root));
        reads
    }
}
