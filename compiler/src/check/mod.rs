//! The checker: resolves names and kinds against the schema, type-checks every expression,
//! and lowers a guardrail to its environment-independent IR parts ([`CheckedGuardrail`]).

pub mod env;
mod exemptions;
pub mod expr;
mod matcher;
mod meta;
mod params;
mod rules;
pub mod types;

pub use exemptions::{CheckedExemption, ImageExemption};
pub use params::{describe_param_type, literal_of_type_value};

use matcher::{check_match, pod_view, roots_for};
use meta::check_meta;
use params::{check_param, param_ty};
use rules::check_rule;

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
    /// The targets the guardrail is for (`targets [...]`); `None`: every target the project
    /// builds.
    pub targets: Option<Vec<crate::emit::Target>>,
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
    let (meta, targets) = check_meta(guardrail, diagnostics);
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
                enforcement.extend(meta::check_enforce(enforce, checker.diagnostics));
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
    check_reads(guardrail, &matcher, reads, diagnostics);
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
        targets,
    }
}

/// What the rules read that the match cannot give: `old` without UPDATE, `namespace` on
/// cluster-scoped kinds.
fn check_reads(
    guardrail: &ast::Guardrail,
    matcher: &ir::Match,
    reads: ir::Reads,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let id = &guardrail.id;
    if reads.old_object && !matcher.operations.contains(&ir::Operation::Update) {
        diagnostics.push(
            Diagnostic::new(
                Code::OldWithoutUpdate,
                id.span,
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
                    id.span,
                    format!(
                        "`namespace` is absent for the cluster-scoped {}",
                        cluster_scoped.join(", ")
                    ),
                )
                .with_help("tests on `namespace` are false for those kinds"),
            );
        }
    }
}
