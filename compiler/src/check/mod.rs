//! The checker: resolves names and kinds against the schema, type-checks every expression,
//! and lowers a guardrail to its environment-independent IR parts ([`CheckedGuardrail`]).

pub mod env;
mod exemptions;
pub mod expr;
pub mod types;

pub use exemptions::{CheckedExemption, ImageExemption};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Expr, Literal, ParamType};
use crate::k8s_names::{is_dns_label, is_label_key, is_label_value};
use crate::schema::{FieldType, Schema};
use crate::span::Span;
use crate::syntax::ast::{self, Item, MatchKind, MetaValue, SelectorTest};
use expr::{Binding, Checker, PodTypes, Roots, Val};
use types::{Ty, TypeTable};

/// Pod and every pod controller, in the order `match workloads` lists them.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// A guardrail after checking: everything but the environment-specific choices
/// (enforcement, param values, expired exemptions).
#[derive(Clone, Debug)]
pub struct CheckedGuardrail {
    pub id: String,
    pub id_span: Span,
    pub span: Span,
    pub meta: ir::Meta,
    pub matcher: ir::Match,
    pub params: Vec<CheckedParam>,
    pub pod: Option<ir::PodView>,
    pub rules: Vec<ir::Rule>,
    /// `(environment or None for all, action, span)` in source order.
    pub enforcement: Vec<(Option<String>, ir::Enforcement, Span)>,
    pub exemptions: Vec<CheckedExemption>,
    pub reads: ir::Reads,
}

#[derive(Clone, Debug)]
pub struct CheckedParam {
    pub name: String,
    pub ty: ParamType,
    pub default: Option<Literal>,
    pub span: Span,
}

/// Checks every guardrail of a parsed file, on `today` (which image exemptions are in force).
pub fn check_file(
    file: &ast::File,
    schema: &Schema,
    today: (u16, u8, u8),
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<CheckedGuardrail> {
    file.guardrails
        .iter()
        .filter(|g| !g.id.name.is_empty())
        .map(|g| check_guardrail(g, schema, Some(today), diagnostics, None))
        .collect()
}

/// Checks one guardrail for an editor and returns the type of each of its expressions and
/// declared names; its diagnostics are [`check_file`]'s to report.
pub fn guardrail_types(guardrail: &ast::Guardrail, schema: &Schema) -> TypeTable {
    let mut table = TypeTable::default();
    check_guardrail(guardrail, schema, None, &mut Vec::new(), Some(&mut table));
    table
}

/// `today`: the day image exemptions are judged in force on; `None` applies none (for types).
fn check_guardrail(
    guardrail: &ast::Guardrail,
    schema: &Schema,
    today: Option<(u16, u8, u8)>,
    diagnostics: &mut Vec<Diagnostic>,
    types: Option<&mut TypeTable>,
) -> CheckedGuardrail {
    let id = &guardrail.id;
    if id.name == "review" {
        // The opa target reads request context from `data.guardrailc.review`, which the
        // package `guardrailc.review` would shadow.
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidGuardrailId,
                id.span,
                "`review` is reserved for the request context of the opa target".to_string(),
            )
            .with_help("choose another id, such as `review-required`"),
        );
    } else if !is_dns_label(&id.name) {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidGuardrailId,
                id.span,
                format!("`{}` is not a valid guardrail id", id.name),
            )
            .with_help(
                "use lowercase letters, digits and `-`, at most 63 characters: `no-latest-tag`",
            ),
        );
    }
    let meta = check_meta(guardrail, diagnostics);
    let matcher_items: Vec<(&ast::MatchClause, bool)> = guardrail
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Match(clause) => Some((clause, true)),
            Item::Exclude(clause) => Some((clause, false)),
            _ => None,
        })
        .collect();
    let (matcher, kinds) = check_match(guardrail, &matcher_items, schema, diagnostics);

    let roots = roots_for(&kinds, schema);
    let mut checker = Checker {
        schema,
        roots: &roots,
        scope: Vec::new(),
        diagnostics,
        reads: ir::Reads::default(),
        reads_pod: false,
        param_vars: Vec::new(),
        types,
        image_exemptions: Vec::new(),
        has_image_exemptions: false,
    };

    // Exemptions before rules: image exemptions narrow the containers rules iterate.
    let mut exemptions = Vec::new();
    for item in &guardrail.items {
        if let Item::Exempt(exempt) = item {
            if let Some(checked) = exemptions::check_exemption(exempt, &mut checker) {
                exemptions.push(checked);
            }
        }
    }
    checker.has_image_exemptions = exemptions.iter().any(|e| !e.images.is_empty());
    checker.image_exemptions = exemptions
        .iter()
        .filter(|e| today.is_some_and(|today| e.in_force(today)))
        .filter_map(CheckedExemption::image_exemption)
        .collect();

    // Params first: rules anywhere in the guardrail may use them.
    let mut params = Vec::new();
    for item in &guardrail.items {
        if let Item::Param(param) = item {
            if let Some(checked) = check_param(param, &mut checker) {
                checker.declare(&param.name, Binding::Param(param_ty(&checked.ty)));
                params.push(checked);
            }
        }
    }
    let mut rules = Vec::new();
    let mut enforcement = Vec::new();
    for item in &guardrail.items {
        match item {
            Item::Let(binding) => {
                let val = checker.value(&binding.value);
                checker.declare(&binding.name, Binding::Let(val));
            }
            Item::Rule(rule) => {
                let index = rules.len() + 1;
                rules.push(check_rule(rule, index, &mut checker));
            }
            Item::Enforce(enforce) => {
                for entry in &enforce.entries {
                    let action = match entry.action.name.as_str() {
                        "deny" => ir::Enforcement::Deny,
                        "warn" => ir::Enforcement::Warn,
                        "audit" | "dryrun" => ir::Enforcement::Audit,
                        other => {
                            let suggestion =
                                crate::suggest::closest(other, ["deny", "warn", "audit"]);
                            let mut d = Diagnostic::new(
                                Code::UnknownEnforcement,
                                entry.action.span,
                                format!("`{other}` is not an enforcement action"),
                            )
                            .with_help("use deny, warn or audit");
                            if let Some(s) = suggestion {
                                d = d.with_edit(entry.action.span, s);
                            }
                            checker.diagnostics.push(d);
                            continue;
                        }
                    };
                    enforcement.push((
                        entry.env.as_ref().map(|e| e.name.clone()),
                        action,
                        entry
                            .env
                            .as_ref()
                            .map_or(entry.action.span, |e| e.span.to(entry.action.span)),
                    ));
                }
            }
            _ => {}
        }
    }
    if rules.is_empty() {
        checker.diagnostics.push(
            Diagnostic::new(
                Code::NoRules,
                guardrail.id.span,
                format!("guardrail `{}` has no rules", id.name),
            )
            .with_help("add `deny … when … message \"…\"` or `require … that … message \"…\"`"),
        );
    }
    let reads = checker.reads;
    let reads_pod = checker.reads_pod;
    if reads.old_object && !matcher.operations.contains(&ir::Operation::Update) {
        diagnostics.push(
            Diagnostic::new(
                Code::OldWithoutUpdate,
                guardrail.id.span,
                format!(
                    "guardrail `{}` reads `old` but does not match UPDATE",
                    id.name
                ),
            )
            .with_help("add `match operations [CREATE, UPDATE]`"),
        );
    }
    if reads.namespace {
        let cluster_scoped: Vec<&str> = matcher
            .resources
            .iter()
            .filter(|r| !r.namespaced && r.kind != "Namespace")
            .map(|r| r.kind.as_str())
            .collect();
        if !cluster_scoped.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::NamespaceOnClusterScoped,
                    guardrail.id.span,
                    format!(
                        "`namespace` is absent for the cluster-scoped {}",
                        cluster_scoped.join(", ")
                    ),
                )
                .with_help("tests on `namespace` are false for those kinds"),
            );
        }
    }
    let pod = reads_pod.then(|| pod_view(&kinds, &rules));
    CheckedGuardrail {
        id: id.name.clone(),
        id_span: id.span,
        span: guardrail.span,
        meta,
        matcher,
        params,
        pod,
        rules,
        enforcement,
        exemptions,
        reads,
    }
}

fn check_meta(guardrail: &ast::Guardrail, diagnostics: &mut Vec<Diagnostic>) -> ir::Meta {
    let mut meta = ir::Meta::default();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    let mut has_title = false;
    for item in &guardrail.items {
        let Item::Meta(m) = item else { continue };
        let key = m.key.name.as_str();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateItem,
                    m.span,
                    format!("`{key}` is given twice"),
                )
                .with_secondary(*first, "first given here")
                .with_help("keep one of them"),
            );
            continue;
        }
        seen.push((key, m.span));
        match (key, &m.value) {
            ("title", MetaValue::Text(t)) => {
                has_title = true;
                meta.title = t.value.clone();
            }
            ("why", MetaValue::Text(t)) => meta.why = Some(t.value.clone()),
            ("owner", MetaValue::Text(t)) => meta.owner = Some(t.value.clone()),
            ("docs", MetaValue::Text(t)) => meta.docs = Some(t.value.clone()),
            ("controls", MetaValue::List(list)) => {
                meta.controls = list.iter().map(|s| s.value.clone()).collect()
            }
            ("category", MetaValue::Word(w)) => {
                meta.category = match w.name.as_str() {
                    "preventive" => ir::Category::Preventive,
                    "detective" => ir::Category::Detective,
                    "corrective" => ir::Category::Corrective,
                    other => {
                        let s = crate::suggest::closest(
                            other,
                            ["preventive", "detective", "corrective"],
                        );
                        let mut d = Diagnostic::new(
                            Code::UnknownCategory,
                            w.span,
                            format!("`{other}` is not a category"),
                        )
                        .with_help("use preventive, detective or corrective");
                        if let Some(s) = s {
                            d = d.with_edit(w.span, s);
                        }
                        diagnostics.push(d);
                        continue;
                    }
                }
            }
            ("severity", MetaValue::Word(w)) => {
                meta.severity = match w.name.as_str() {
                    "low" => ir::Severity::Low,
                    "medium" => ir::Severity::Medium,
                    "high" => ir::Severity::High,
                    "critical" => ir::Severity::Critical,
                    other => {
                        let s =
                            crate::suggest::closest(other, ["low", "medium", "high", "critical"]);
                        let mut d = Diagnostic::new(
                            Code::UnknownSeverity,
                            w.span,
                            format!("`{other}` is not a severity"),
                        )
                        .with_help("use low, medium, high or critical");
                        if let Some(s) = s {
                            d = d.with_edit(w.span, s);
                        }
                        diagnostics.push(d);
                        continue;
                    }
                }
            }
            _ => {}
        }
    }
    if !has_title {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingItem,
                guardrail.id.span,
                format!("guardrail `{}` has no `title`", guardrail.id.name),
            )
            .with_help("add `title \"…\"`: catalogs and reports show it"),
        );
    }
    meta
}

/// Resolves the match and exclude clauses; returns the IR match and the matched kinds.
fn check_match(
    guardrail: &ast::Guardrail,
    clauses: &[(&ast::MatchClause, bool)],
    schema: &Schema,
    diagnostics: &mut Vec<Diagnostic>,
) -> (ir::Match, Vec<String>) {
    let mut matcher = ir::Match::default();
    let mut kinds: Vec<String> = Vec::new();
    let mut saw_kinds = false;
    let mut saw_operations = false;
    for (clause, include) in clauses {
        match (&clause.kind, include) {
            (MatchKind::Workloads, true) => {
                saw_kinds = true;
                kinds.extend(WORKLOAD_KINDS.iter().map(|k| k.to_string()));
            }
            (MatchKind::Kinds(list), true) => {
                saw_kinds = true;
                for kind in list {
                    if kind.name == "workloads" {
                        kinds.extend(WORKLOAD_KINDS.iter().map(|k| k.to_string()));
                    } else if schema.kind(&kind.name).is_some() {
                        kinds.push(kind.name.clone());
                    } else {
                        let names = schema.kinds().iter().map(|k| k.kind.as_str());
                        let suggestion = crate::suggest::closest(&kind.name, names);
                        let mut d = Diagnostic::new(
                            Code::UnknownKind,
                            kind.span,
                            format!("unknown kind `{}`", kind.name),
                        );
                        d = match suggestion {
                            Some(s) => d
                                .with_help(format!("did you mean `{s}`?"))
                                .with_edit(kind.span, s),
                            None => d.with_help(
                                "declare custom resources under [[crds]] in guardrails.toml",
                            ),
                        };
                        diagnostics.push(d);
                    }
                }
            }
            (MatchKind::Operations(list), true) => {
                saw_operations = true;
                for op in list {
                    let Some(parsed) = ir::Operation::parse(&op.name) else {
                        let mut d = Diagnostic::new(
                            Code::UnknownOperation,
                            op.span,
                            format!("`{}` is not an admission operation", op.name),
                        )
                        .with_help("operations are CREATE, UPDATE, DELETE and CONNECT");
                        let upper = op.name.to_uppercase();
                        if ir::Operation::parse(&upper).is_some() {
                            d = d.with_edit(op.span, upper);
                        }
                        diagnostics.push(d);
                        continue;
                    };
                    matcher.operations.push(parsed);
                }
            }
            (MatchKind::Namespaces(list), include) => {
                for ns in list {
                    if !is_dns_label(&ns.value) {
                        diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidNamespace,
                                ns.span,
                                format!("`{}` is not a valid namespace name", ns.value),
                            )
                            .with_help("namespace names are lowercase letters, digits and `-`"),
                        );
                        continue;
                    }
                    if *include {
                        matcher.namespaces.push(ns.value.clone());
                    } else {
                        matcher.excluded_namespaces.push(ns.value.clone());
                    }
                }
            }
            (MatchKind::NamespaceLabels(terms), include) => add_selector(
                &mut matcher.namespace_selector,
                terms,
                *include,
                diagnostics,
            ),
            (MatchKind::Labels(terms), include) => {
                add_selector(&mut matcher.object_selector, terms, *include, diagnostics)
            }
            (MatchKind::Workloads | MatchKind::Kinds(_) | MatchKind::Operations(_), false) => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::NotAllowedHere,
                        clause.span,
                        "only namespaces, namespace_labels and labels can be excluded".to_string(),
                    )
                    .with_help("list the kinds or operations to match instead"),
                );
            }
        }
    }
    if !saw_kinds {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingItem,
                guardrail.id.span,
                format!(
                    "guardrail `{}` does not say what it matches",
                    guardrail.id.name
                ),
            )
            .with_help("add `match workloads` or `match kinds [Service]`"),
        );
    }
    if !saw_operations {
        matcher.operations = vec![ir::Operation::Create, ir::Operation::Update];
    }
    matcher.operations.sort();
    matcher.operations.dedup();
    kinds.sort();
    kinds.dedup();
    let mut resources: Vec<ir::Resource> = kinds
        .iter()
        .filter_map(|k| schema.kind(k))
        .map(|info| ir::Resource {
            group: info.group.clone(),
            version: info.version.clone(),
            resource: info.resource.clone(),
            kind: info.kind.clone(),
            namespaced: info.namespaced,
        })
        .collect();
    resources.sort();
    matcher.resources = resources;
    matcher.namespaces.sort();
    matcher.namespaces.dedup();
    matcher.excluded_namespaces.sort();
    matcher.excluded_namespaces.dedup();
    matcher.namespace_selector.match_labels.sort();
    matcher.object_selector.match_labels.sort();
    (matcher, kinds)
}

/// Adds selector terms; an `exclude` term excludes the objects it matches, so it is added
/// negated (each excluded term excludes on its own).
fn add_selector(
    selector: &mut ir::LabelSelector,
    terms: &[ast::SelectorTerm],
    include: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    use ir::SelectorOperator::*;
    for term in terms {
        if !is_label_key(&term.key.value) {
            diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLabelKey,
                    term.key.span,
                    format!("`{}` is not a valid label key", term.key.value),
                )
                .with_help(
                    "a label key is an optional DNS prefix and a name: `app.kubernetes.io/name`",
                ),
            );
            continue;
        }
        let values = |list: &[ast::StrLit], diagnostics: &mut Vec<Diagnostic>| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for v in list {
                if is_label_value(&v.value) {
                    out.push(v.value.clone());
                } else {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidLabelKey,
                            v.span,
                            format!("`{}` is not a valid label value", v.value),
                        )
                        .with_help("label values are at most 63 letters, digits, `-`, `_` and `.`"),
                    );
                }
            }
            out.sort();
            out.dedup();
            out
        };
        let key = term.key.value.clone();
        let (operator, vals) = match &term.test {
            SelectorTest::Equals(v) => {
                let vals = values(std::slice::from_ref(v), diagnostics);
                if include {
                    if let Some(value) = vals.into_iter().next() {
                        selector.match_labels.push((key, value));
                    }
                    continue;
                }
                (NotIn, vals)
            }
            SelectorTest::NotEquals(v) => (
                if include { NotIn } else { In },
                values(std::slice::from_ref(v), diagnostics),
            ),
            SelectorTest::In(list) => (if include { In } else { NotIn }, values(list, diagnostics)),
            SelectorTest::NotIn(list) => {
                (if include { NotIn } else { In }, values(list, diagnostics))
            }
            SelectorTest::Exists => (if include { Exists } else { DoesNotExist }, Vec::new()),
            SelectorTest::Missing => (if include { DoesNotExist } else { Exists }, Vec::new()),
        };
        selector.match_expressions.push(ir::SelectorRequirement {
            key,
            operator,
            values: vals,
        });
    }
}

fn roots_for(kinds: &[String], schema: &Schema) -> Roots {
    let object: Vec<_> = kinds
        .iter()
        .filter_map(|k| schema.kind(k))
        .map(|info| info.root)
        .collect();
    let non_pod_kinds: Vec<String> = kinds
        .iter()
        .filter(|k| !WORKLOAD_KINDS.contains(&k.as_str()))
        .cloned()
        .collect();
    let pod = (non_pod_kinds.is_empty() && !kinds.is_empty())
        .then(|| pod_types(schema))
        .flatten();
    let namespace = schema.kind("Namespace").map(|k| k.root);
    Roots {
        object,
        pod,
        namespace,
        non_pod_kinds,
    }
}

fn object_field(
    schema: &Schema,
    id: crate::schema::TypeId,
    name: &str,
) -> Option<crate::schema::TypeId> {
    match &schema.field(id, name)?.ty {
        FieldType::Object(id) => Some(*id),
        FieldType::Array { items, .. } => match items.as_ref() {
            FieldType::Object(id) => Some(*id),
            _ => None,
        },
        _ => None,
    }
}

fn pod_types(schema: &Schema) -> Option<PodTypes> {
    let pod = schema.kind("Pod")?.root;
    let spec = object_field(schema, pod, "spec")?;
    Some(PodTypes {
        spec,
        metadata: object_field(schema, pod, "metadata")?,
        container: object_field(schema, spec, "containers")?,
        ephemeral: object_field(schema, spec, "ephemeralContainers")?,
    })
}

fn pod_view(kinds: &[String], rules: &[ir::Rule]) -> ir::PodView {
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut locations: Vec<ir::PodLocation> = Vec::new();
    for kind in kinds {
        let (spec, metadata) = match kind.as_str() {
            "Pod" => (path(&["spec"]), path(&["metadata"])),
            "CronJob" => (
                path(&["spec", "jobTemplate", "spec", "template", "spec"]),
                path(&["spec", "jobTemplate", "spec", "template", "metadata"]),
            ),
            _ => (
                path(&["spec", "template", "spec"]),
                path(&["spec", "template", "metadata"]),
            ),
        };
        match locations.iter_mut().find(|l| l.spec_path == spec) {
            Some(location) => location.kinds.push(kind.clone()),
            None => locations.push(ir::PodLocation {
                kinds: vec![kind.clone()],
                spec_path: spec,
                metadata_path: metadata,
            }),
        }
    }
    for location in &mut locations {
        location.kinds.sort();
    }
    locations.sort_by(|a, b| {
        a.spec_path
            .len()
            .cmp(&b.spec_path.len())
            .then(a.kinds.cmp(&b.kinds))
    });
    ir::PodView {
        locations,
        reads: ir::PodReads::of(rules),
    }
}

fn check_param(param: &ast::Param, checker: &mut Checker) -> Option<CheckedParam> {
    let ty = parse_param_type(&param.ty, checker.diagnostics)?;
    let default = match &param.default {
        Some(expr) => {
            let val = checker.value(expr);
            match literal_of_type(&val, &ty) {
                Some(literal) => Some(literal),
                None => {
                    if val.ty != Ty::Error {
                        checker.diagnostics.push(
                            Diagnostic::new(
                                Code::ParamTypeMismatch,
                                expr.span,
                                format!(
                                    "the default of `{}` is not a {}",
                                    param.name.name,
                                    describe_param_type(&ty)
                                ),
                            )
                            .with_help("write a literal of the declared type"),
                        );
                    }
                    None
                }
            }
        }
        // A record says which of its fields are given; with none given it is a value too.
        None if matches!(ty, ParamType::Record(_)) => Some(Literal::Record(Vec::new())),
        None => None,
    };
    Some(CheckedParam {
        name: param.name.name.clone(),
        ty,
        default,
        span: param.span,
    })
}

fn parse_param_type(ty: &ast::TypeExpr, diagnostics: &mut Vec<Diagnostic>) -> Option<ParamType> {
    let arity = |n: usize, diagnostics: &mut Vec<Diagnostic>| {
        if ty.args.len() != n {
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownType,
                    ty.span,
                    format!("`{}` takes {n} type argument(s)", ty.name.name),
                )
                .with_help("write list<string> or map<string, string>"),
            );
            return false;
        }
        true
    };
    let scalar = |name: &str| match name {
        "string" => Some(ParamType::String),
        "int" => Some(ParamType::Int),
        "bool" => Some(ParamType::Bool),
        "quantity" => Some(ParamType::Quantity),
        _ => None,
    };
    if !ty.fields.is_empty()
        || (ty.name.name == "record" && ty.name.span.end - ty.name.span.start == 1)
    {
        return parse_record_type(ty, diagnostics);
    }
    match ty.name.name.as_str() {
        "list" => {
            if !arity(1, diagnostics) {
                return None;
            }
            Some(ParamType::List(Box::new(parse_param_type(
                &ty.args[0],
                diagnostics,
            )?)))
        }
        "map" => {
            if !arity(2, diagnostics) {
                return None;
            }
            if ty.args[0].name.name != "string" {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownType,
                        ty.args[0].span,
                        "map keys are strings".to_string(),
                    )
                    .with_help("write map<string, T>"),
                );
                return None;
            }
            Some(ParamType::Map(Box::new(parse_param_type(
                &ty.args[1],
                diagnostics,
            )?)))
        }
        name => match scalar(name) {
            Some(t) if arity(0, diagnostics) => Some(t),
            Some(_) => None,
            None => {
                let options = ["string", "int", "bool", "quantity", "list", "map"];
                let suggestion = crate::suggest::closest(name, options);
                let mut d = Diagnostic::new(
                    Code::UnknownType,
                    ty.name.span,
                    format!("unknown type `{name}`"),
                )
                .with_help("types are string, int, bool, quantity, list<T>, map<string, T> and records {name: T, …}");
                if let Some(s) = suggestion {
                    d = d.with_edit(ty.name.span, s);
                }
                diagnostics.push(d);
                None
            }
        },
    }
}

/// `{name: T, …}`: at least one field, each named once.
fn parse_record_type(ty: &ast::TypeExpr, diagnostics: &mut Vec<Diagnostic>) -> Option<ParamType> {
    if ty.fields.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::UnknownType,
                ty.span,
                "a record type needs at least one field".to_string(),
            )
            .with_help("write `{min: int, max: int}`"),
        );
        return None;
    }
    let mut fields: Vec<(String, ParamType)> = Vec::new();
    let mut valid = true;
    for field in &ty.fields {
        if fields.iter().any(|(name, _)| name == &field.name.name) {
            diagnostics.push(Diagnostic::new(
                Code::DuplicateName,
                field.name.span,
                format!("the record has two fields named `{}`", field.name.name),
            ));
            valid = false;
            continue;
        }
        match parse_param_type(&field.ty, diagnostics) {
            Some(field_ty) => fields.push((field.name.name.clone(), field_ty)),
            None => valid = false,
        }
    }
    valid.then_some(ParamType::Record(fields))
}

pub fn describe_param_type(ty: &ParamType) -> String {
    match ty {
        ParamType::String => "string".into(),
        ParamType::Int => "int".into(),
        ParamType::Bool => "bool".into(),
        ParamType::Quantity => "quantity".into(),
        ParamType::List(inner) => format!("list<{}>", describe_param_type(inner)),
        ParamType::Map(inner) => format!("map<string, {}>", describe_param_type(inner)),
        ParamType::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, ty)| format!("{name}: {}", describe_param_type(ty)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

fn param_ty(ty: &ParamType) -> Ty {
    match ty {
        ParamType::String => Ty::Str,
        ParamType::Int => Ty::Int,
        ParamType::Bool => Ty::Bool,
        ParamType::Quantity => Ty::Quantity,
        ParamType::List(inner) => Ty::List(Box::new(param_ty(inner))),
        ParamType::Map(inner) => Ty::Map(Box::new(param_ty(inner))),
        ParamType::Record(fields) => Ty::Record(
            fields
                .iter()
                .map(|(name, ty)| (name.clone(), param_ty(ty)))
                .collect(),
        ),
    }
}

/// The literal as a value of `ty`, if it is one (an int or string literal may stand for a
/// quantity).
pub fn literal_of_type_value(literal: &Literal, ty: &ParamType) -> Option<Literal> {
    match (ty, literal) {
        (ParamType::String, Literal::String(_))
        | (ParamType::Int, Literal::Int(_))
        | (ParamType::Bool, Literal::Bool(_))
        | (ParamType::Quantity, Literal::Quantity(_)) => Some(literal.clone()),
        (ParamType::Quantity, Literal::Int(n)) => Some(Literal::Quantity(n.to_string())),
        (ParamType::Quantity, Literal::String(s)) if crate::quantity::parse(s).is_some() => {
            Some(Literal::Quantity(s.clone()))
        }
        (ParamType::List(inner), Literal::List(items)) => Some(Literal::List(
            items
                .iter()
                .map(|item| literal_of_type_value(item, inner))
                .collect::<Option<Vec<_>>>()?,
        )),
        (ParamType::Map(inner), Literal::Map(entries)) => Some(Literal::Map(
            entries
                .iter()
                .map(|(k, v)| Some((k.clone(), literal_of_type_value(v, inner)?)))
                .collect::<Option<Vec<_>>>()?,
        )),
        (ParamType::Record(fields), Literal::Map(entries) | Literal::Record(entries)) => {
            let mut typed = entries
                .iter()
                .map(|(key, value)| {
                    let (_, field_ty) = fields.iter().find(|(name, _)| name == key)?;
                    Some((key.clone(), literal_of_type_value(value, field_ty)?))
                })
                .collect::<Option<Vec<_>>>()?;
            typed.sort_by(|a, b| a.0.cmp(&b.0));
            Some(Literal::Record(typed))
        }
        _ => None,
    }
}

fn literal_of_type(val: &Val, ty: &ParamType) -> Option<Literal> {
    literal_of_type_value(val.constant.as_ref()?, ty)
}

fn check_rule(rule: &ast::Rule, index: usize, checker: &mut Checker) -> ir::Rule {
    let depth = checker.scope.len();
    let mut generators = Vec::new();
    // The exemption tests of the containers the generators bind: no violation is bound to an
    // exempt container.
    let mut exempt = Vec::new();
    for binding in &rule.bindings {
        match binding {
            ast::Binding::For(f) => {
                let list = checker.value(&f.list);
                let element = checker.element_type(&list, f.list.span);
                let from_param = checker.derives_from_param(&list);
                generators.push(ir::Generator {
                    var: f.var.name.clone(),
                    list: checker.iterable(list, f.list.span),
                });
                exempt.extend(checker.container_exemption(&f.var.name, &element));
                checker.declare_loop_var(&f.var, element, from_param);
            }
            ast::Binding::Let(l) => {
                let val = checker.value(&l.value);
                checker.declare(&l.name, Binding::Let(val));
            }
        }
    }
    let when = rule.when.as_ref().map(|e| checker.condition(e));
    let that = rule.that.as_ref().map(|e| checker.condition(e));
    let condition = match rule.kind {
        ast::RuleKind::Deny => {
            if rule.that.is_some() {
                checker.diagnostics.push(
                    Diagnostic::new(
                        Code::NotAllowedHere,
                        rule.that.as_ref().map_or(rule.keyword, |e| e.span),
                        "`deny` rules take `when`, not `that`".to_string(),
                    )
                    .with_help("`deny … when X` rejects when X holds; `require … that X` rejects when X does not"),
                );
            }
            when.unwrap_or_else(|| {
                checker.diagnostics.push(
                    Diagnostic::new(
                        Code::MissingItem,
                        rule.keyword,
                        "a `deny` rule needs `when`".to_string(),
                    )
                    .with_help("say when to deny: `deny when object.spec.hostNetwork == true …`"),
                );
                Expr::Literal(Literal::Bool(false))
            })
        }
        ast::RuleKind::Require => {
            let that = that.unwrap_or_else(|| {
                checker.diagnostics.push(
                    Diagnostic::new(Code::MissingItem, rule.keyword, "a `require` rule needs `that`".to_string())
                        .with_help("say what must hold: `require that exists(object.metadata.labels[\"team\"]) …`"),
                );
                Expr::Literal(Literal::Bool(true))
            });
            let violated = Expr::Not(Box::new(that));
            match when {
                Some(pre) => expr::and(vec![pre, violated]),
                None => violated,
            }
        }
    };
    let condition = match exempt.is_empty() {
        true => condition,
        false => {
            let mut parts = vec![condition];
            parts.extend(exempt.into_iter().map(|e| Expr::Not(Box::new(e))));
            expr::and(parts)
        }
    };
    if let Some(constant) = constant_condition(rule) {
        checker.diagnostics.push(
            Diagnostic::new(
                Code::ConstantCondition,
                constant,
                "this condition does not depend on the object".to_string(),
            )
            .with_help("a constant condition makes the rule deny everything or nothing"),
        );
    }
    let mut parts = Vec::new();
    if let Some(message) = &rule.message {
        template_parts(message, checker, &mut parts);
    }
    if let Some(fix) = &rule.fix {
        parts.push(ir::TemplatePart::Text(" (fix: ".into()));
        template_parts(fix, checker, &mut parts);
        parts.push(ir::TemplatePart::Text(")".into()));
    }
    checker.scope.truncate(depth);
    let scope = &checker.scope;
    checker
        .param_vars
        .retain(|var| scope.iter().any(|(name, _)| name == var));
    let mut lowered = ir::Rule {
        span: rule.span,
        index,
        line: 0,
        generators,
        condition,
        message: ir::Template {
            parts: merge_text(parts),
        },
    };
    if lowered.reads(|root| *root == ir::Root::OldObject) {
        // `old` is the object before an UPDATE: a rule that reads it applies to UPDATEs only,
        // so a negated test on the missing old object cannot fire on CREATE, DELETE or in
        // Gatekeeper's audit, which reviews existing objects with no operation.
        let condition =
            std::mem::replace(&mut lowered.condition, Expr::Literal(Literal::Bool(false)));
        lowered.condition = expr::and(vec![update_only(), condition]);
    }
    lowered
}

/// `request.operation == "UPDATE"`.
fn update_only() -> Expr {
    Expr::Compare {
        op: ir::CompareOp::Eq,
        domain: ir::Domain::String,
        lhs: Box::new(Expr::Value(ir::Access {
            root: ir::Root::Request,
            steps: vec![ir::Step::Field("operation".to_string())],
        })),
        rhs: Box::new(Expr::Literal(Literal::String("UPDATE".to_string()))),
    }
}

fn constant_condition(rule: &ast::Rule) -> Option<Span> {
    let expr = match rule.kind {
        ast::RuleKind::Deny => rule.when.as_ref()?,
        ast::RuleKind::Require => rule.that.as_ref()?,
    };
    matches!(expr.kind, ast::ExprKind::Bool(_)).then_some(expr.span)
}

fn template_parts(
    message: &ast::Message,
    checker: &mut Checker,
    parts: &mut Vec<ir::TemplatePart>,
) {
    for part in &message.parts {
        match part {
            ast::MessagePart::Text(text) => parts.push(ir::TemplatePart::Text(text.clone())),
            ast::MessagePart::Expr(e) => {
                let value = checker.template_value(e);
                parts.push(match value {
                    Expr::Literal(Literal::String(s)) => ir::TemplatePart::Text(s),
                    Expr::Literal(Literal::Int(n)) => ir::TemplatePart::Text(n.to_string()),
                    Expr::Literal(Literal::Bool(b)) => ir::TemplatePart::Text(b.to_string()),
                    Expr::Literal(Literal::Quantity(q)) => ir::TemplatePart::Text(q),
                    other => ir::TemplatePart::Value(other),
                });
            }
        }
    }
}

fn merge_text(parts: Vec<ir::TemplatePart>) -> Vec<ir::TemplatePart> {
    let mut out: Vec<ir::TemplatePart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(ir::TemplatePart::Text(prev)), ir::TemplatePart::Text(next)) => {
                prev.push_str(&next)
            }
            (_, ir::TemplatePart::Text(t)) if t.is_empty() => {}
            (_, part) => out.push(part),
        }
    }
    out
}
