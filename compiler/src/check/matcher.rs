//! `match` and `exclude`: the kinds, operations, namespaces and selectors a guardrail looks at,
//! and the roots (object, pod view) its expressions read for those kinds.

use super::*;

/// Resolves the match and exclude clauses; returns the IR match and the matched kinds.
pub(super) fn check_match(
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
pub(super) fn add_selector(
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

pub(super) fn roots_for(kinds: &[String], schema: &Schema) -> Roots {
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

pub(super) fn object_field(
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

pub(super) fn pod_types(schema: &Schema) -> Option<PodTypes> {
    let pod = schema.kind("Pod")?.root;
    let spec = object_field(schema, pod, "spec")?;
    Some(PodTypes {
        spec,
        metadata: object_field(schema, pod, "metadata")?,
        container: object_field(schema, spec, "containers")?,
        ephemeral: object_field(schema, spec, "ephemeralContainers")?,
    })
}

pub(super) fn pod_view(kinds: &[String], rules: &[ir::Rule]) -> ir::PodView {
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
