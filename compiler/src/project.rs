//! A whole project: sources + config → per-environment policies → artifacts. This is the one
//! entry point the command line, the language server and the tests call.

use crate::check::{self, CheckedGuardrail};
use crate::codes::Code;
use crate::config::{Config, Environment};
use crate::cost;
use crate::diagnostic::{has_errors, Diagnostic};
use crate::emit::{self, Artifact, Target};
use crate::ir::{self, Literal};
use crate::kube::KubeVersion;
use crate::limits;
use crate::schema::Schema;
use crate::span::{LineIndex, SourceId, Span};
use crate::syntax;
use std::collections::{BTreeMap, BTreeSet};

/// One `.guard` source, by a name the user recognises (a path relative to the project).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// What to build, beyond the config.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Only these environments (all when None).
    pub environments: Option<Vec<String>>,
    /// Only these targets (the config's when None).
    pub targets: Option<Vec<Target>>,
    pub kube_version: Option<KubeVersion>,
}

pub struct BuildInput<'a> {
    /// `sources[i]` has `SourceId(i)`.
    pub sources: &'a [SourceFile],
    pub config: &'a Config,
    /// The source id of guardrails.toml, for diagnostics about it.
    pub config_source: SourceId,
    /// Custom resources with their schemas, already read by the caller.
    pub schema: &'a Schema,
    /// Today's date (exemptions expire), `(year, month, day)`.
    pub today: (u16, u8, u8),
    pub options: &'a BuildOptions,
}

#[derive(Debug, Default)]
pub struct BuildOutput {
    pub diagnostics: Vec<Diagnostic>,
    /// Every guardrail for every environment built, sorted by (environment, id).
    pub policies: Vec<ir::Policy>,
    /// Sorted by path. Empty when any diagnostic is an error.
    pub artifacts: Vec<Artifact>,
}

/// Parses and checks every source; the front half of [`build`], also used by the editor.
pub fn check_sources(
    sources: &[SourceFile],
    schema: &Schema,
    today: (u16, u8, u8),
) -> (Vec<(SourceId, CheckedGuardrail)>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut guardrails: Vec<(SourceId, CheckedGuardrail)> = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let id = SourceId(index as u32);
        let parsed = syntax::parse(id, &source.text);
        diagnostics.extend(parsed.diagnostics);
        let lines = LineIndex::new(&source.text);
        for mut guardrail in check::check_file(&parsed.file, schema, today, &mut diagnostics) {
            for rule in &mut guardrail.rules {
                rule.line = lines.line_of(rule.span.start as usize) + 1;
            }
            if let Some((_, first)) = guardrails.iter().find(|(_, g)| g.id == guardrail.id) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateGuardrail,
                        guardrail.id_span,
                        format!("a guardrail named `{}` already exists", guardrail.id),
                    )
                    .with_secondary(first.id_span, "first defined here")
                    .with_help("guardrail ids name the emitted policies; rename one"),
                );
                continue;
            }
            guardrails.push((id, guardrail));
        }
    }
    (guardrails, diagnostics)
}

/// Builds `sources` with `config_text` as guardrails.toml, every environment and the
/// config's targets, against the built-in schema: the one-call form tests, benchmarks and
/// embedders use. Config errors come back as the output's diagnostics.
pub fn build_text(sources: &[SourceFile], config_text: &str, today: (u16, u8, u8)) -> BuildOutput {
    let config_source = SourceId(sources.len() as u32);
    match crate::config::parse(config_source, config_text) {
        Ok(config) => build(&BuildInput {
            sources,
            config: &config,
            config_source,
            schema: Schema::builtin(),
            today,
            options: &BuildOptions::default(),
        }),
        Err(diagnostics) => BuildOutput {
            diagnostics,
            ..BuildOutput::default()
        },
    }
}

/// Compiles a project: checks every source, lowers every guardrail for every environment,
/// and emits the artifacts of every target.
pub fn build(input: &BuildInput) -> BuildOutput {
    let (guardrails, mut diagnostics) = check_sources(input.sources, input.schema, input.today);
    let config = input.config;
    let declared = implied_environments(config, &guardrails);
    let environments: Vec<&Environment> = match &input.options.environments {
        None => declared.iter().collect(),
        Some(wanted) => {
            let mut selected = Vec::new();
            for name in wanted {
                match declared.iter().find(|e| &e.name == name) {
                    Some(env) => selected.push(env),
                    None => {
                        let names: Vec<&str> = declared.iter().map(|e| e.name.as_str()).collect();
                        diagnostics.push(
                            Diagnostic::new(
                                Code::UnknownEnvironment,
                                Span::new(input.config_source, 0, 0),
                                format!("the project has no environment `{name}`"),
                            )
                            .with_help(format!("environments: {}", names.join(", "))),
                        );
                    }
                }
            }
            selected
        }
    };
    let known_envs: Vec<&str> = declared.iter().map(|e| e.name.as_str()).collect();
    for (_, guardrail) in &guardrails {
        for (env, _, span) in &guardrail.enforcement {
            if let Some(env) = env {
                if !known_envs.contains(&env.as_str()) {
                    let declared = format!("declared environments: {}", known_envs.join(", "));
                    // One help: the suggestion, and the list it was chosen from.
                    let help = match crate::suggest::closest(env, known_envs.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? {declared}"),
                        None => declared,
                    };
                    diagnostics.push(
                        Diagnostic::new(
                            Code::UnknownEnvironment,
                            *span,
                            format!("environment `{env}` is not declared in guardrails.toml"),
                        )
                        .with_help(help),
                    );
                }
            }
        }
    }
    for env in &config.environments {
        for (id, o) in &env.guardrails {
            if !guardrails.iter().any(|(_, g)| &g.id == id) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidConfig,
                        o.span,
                        format!(
                            "environment `{}` configures an unknown guardrail `{id}`",
                            env.name
                        ),
                    )
                    .with_help("check the guardrail id"),
                );
            }
        }
    }
    let mut policies = Vec::new();
    for env in &environments {
        for (source, guardrail) in &guardrails {
            let name = &input.sources[source.0 as usize].name;
            if let Some(policy) = lower_policy(guardrail, name, env, input.today, &mut diagnostics)
            {
                policies.push(policy);
            }
        }
    }
    // Exemption expiry warnings are per guardrail, not per environment.
    dedup_diagnostics(&mut diagnostics);
    policies.sort_by(|a, b| (&a.env, &a.id).cmp(&(&b.env, &b.id)));
    let targets = input
        .options
        .targets
        .clone()
        .unwrap_or_else(|| config.targets.clone());
    let kube = input.options.kube_version.unwrap_or(config.kube_version);
    // A guardrail is built for the project's targets, narrowed by its own `targets` item.
    let own_targets: BTreeMap<&str, &Option<Vec<Target>>> = guardrails
        .iter()
        .map(|(_, g)| (g.id.as_str(), &g.targets))
        .collect();
    let builds = |id: &str, target: Target| {
        targets.contains(&target)
            && own_targets
                .get(id)
                .is_none_or(|own| own.as_ref().is_none_or(|own| own.contains(&target)))
    };
    for (_, guardrail) in &guardrails {
        if builds(&guardrail.id, Target::Opa) {
            let r = guardrail.reads;
            if r.old_object || r.namespace || r.request {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnavailableInTarget,
                        guardrail.id_span,
                        format!("guardrail `{}` reads request context that the `opa` target does not have", guardrail.id),
                    )
                    .with_help("in the opa target `old`, `namespace` and `request` are absent (supply them as data.guardrailc.review)"),
                );
            }
        }
    }
    let id_spans: BTreeMap<&str, Span> = guardrails
        .iter()
        .map(|(_, g)| (g.id.as_str(), g.id_span))
        .collect();
    // Files of a whole environment (`sync.yaml`) have no guardrail: the project's place.
    let span_of = |id: &str| {
        id_spans
            .get(id)
            .copied()
            .unwrap_or(Span::new(input.config_source, 0, 0))
    };
    check_name_collisions(&policies, &builds, &span_of, &mut diagnostics);
    for policy in &policies {
        diagnostics.extend(limits::check_loop_depth(policy, span_of(&policy.id)));
    }
    let mut artifacts = Vec::new();
    if !has_errors(&diagnostics) {
        // What the API server would do with each policy: refuse it for its cost, or hide a
        // message.
        for policy in policies.iter().filter(|p| builds(&p.id, Target::Vap)) {
            let model = cost::CostModel::new(&policy.params);
            diagnostics.extend(cost::check_policy(policy, &model));
            diagnostics.extend(crate::messages::hidden_messages(policy));
        }
        for policy in &policies {
            for target in targets.iter().filter(|t| builds(&policy.id, **t)) {
                let (mut emitted, emit_diagnostics) = match target {
                    Target::Vap => emit::vap::emit_vap(policy, kube),
                    Target::Gatekeeper => emit::gatekeeper::emit_gatekeeper(policy),
                    Target::Opa => emit::opa::emit_opa(policy),
                };
                diagnostics.extend(emit_diagnostics);
                artifacts.append(&mut emitted);
            }
        }
        if targets.contains(&Target::Gatekeeper) {
            artifacts.extend(emit::gatekeeper::emit_sync(
                policies
                    .iter()
                    .filter(|p| builds(&p.id, Target::Gatekeeper)),
            ));
        }
        artifacts.sort_by(|a, b| a.path.cmp(&b.path));
        for pair in artifacts.windows(2) {
            if pair[0].path == pair[1].path {
                diagnostics.push(
                    Diagnostic::new(
                        Code::NameCollision,
                        span_of(&pair[1].guardrail),
                        format!(
                            "guardrails `{}` and `{}` both emit the file `{}`",
                            pair[0].guardrail, pair[1].guardrail, pair[0].path
                        ),
                    )
                    .with_help("rename one of the guardrails"),
                );
            }
        }
        for artifact in &artifacts {
            diagnostics.extend(limits::check_size(artifact, span_of(&artifact.guardrail)));
        }
        dedup_diagnostics(&mut diagnostics);
        if has_errors(&diagnostics) {
            artifacts.clear();
        }
    }
    BuildOutput {
        diagnostics,
        policies,
        artifacts,
    }
}

/// G0504: two guardrails whose objects of one kind get the same name in one environment (or
/// whose Rego packages coincide), reported once per pair and kind, at the second guardrail.
/// `builds(id, target)`: whether the guardrail is built for the target.
fn check_name_collisions(
    policies: &[ir::Policy],
    builds: &dyn Fn(&str, Target) -> bool,
    span_of: &dyn Fn(&str) -> Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut owners: BTreeMap<(&str, &str, String), &ir::Policy> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for policy in policies {
        let builds = |target| builds(&policy.id, target);
        let mut names: Vec<(&str, String)> = Vec::new();
        if builds(Target::Vap) {
            names.push(("ValidatingAdmissionPolicy", policy.id.clone()));
            names.push((
                "ValidatingAdmissionPolicyBinding",
                emit::vap::binding_name(policy),
            ));
        }
        if builds(Target::Gatekeeper) {
            names.push((
                "ConstraintTemplate",
                emit::gatekeeper::template_name(policy),
            ));
        }
        if builds(Target::Gatekeeper) || builds(Target::Opa) {
            names.push(("Rego package", crate::backend::rego::package_name(policy)));
        }
        for (kind, name) in names {
            let first = *owners
                .entry((policy.env.as_str(), kind, name.clone()))
                .or_insert(policy);
            if first.id == policy.id || !reported.insert((&first.id, &policy.id, kind)) {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::NameCollision,
                span_of(&policy.id),
                format!(
                    "guardrails `{}` and `{}` both emit the {kind} `{name}`",
                    first.id, policy.id
                ),
            )
            .with_secondary(
                span_of(&first.id),
                format!("`{}` is defined here", first.id),
            );
            if kind == "ConstraintTemplate" {
                diagnostic = diagnostic.with_help(format!(
                    "Gatekeeper names a template after its constraint kind in lowercase (`{}` and `{}` here); rename one of the guardrails",
                    first.kind_name, policy.kind_name
                ));
            } else {
                diagnostic = diagnostic.with_help("rename one of the guardrails");
            }
            diagnostics.push(diagnostic);
        }
    }
}

/// The environments to build: the declared ones; without declarations, those the guardrails'
/// `enforce` entries name; without those, one environment named `default`.
pub fn implied_environments(
    config: &Config,
    guardrails: &[(SourceId, CheckedGuardrail)],
) -> Vec<Environment> {
    if !config.environments.is_empty() {
        return config.environments.clone();
    }
    let mut names: Vec<String> = guardrails
        .iter()
        .flat_map(|(_, g)| g.enforcement.iter().filter_map(|(env, _, _)| env.clone()))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        names.push(crate::config::DEFAULT_ENVIRONMENT.to_string());
    }
    names
        .into_iter()
        .map(|name| Environment {
            name,
            enforcement: None,
            guardrails: Default::default(),
            span: Span::default(),
        })
        .collect()
}

fn dedup_diagnostics(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = Vec::new();
    diagnostics.retain(|d| {
        let key = (d.code, d.span, d.message.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// What a guardrail does with violations in an environment. Most specific first: the
/// environment's entry for this guardrail in guardrails.toml, the guardrail's `enforce` entry
/// for this environment, the guardrail's own `enforce` default, the environment's default,
/// and finally deny.
pub fn enforcement_for(guardrail: &CheckedGuardrail, env: &Environment) -> ir::Enforcement {
    enforcement_with_source(guardrail, env).0
}

/// Which setting decided a guardrail's enforcement in an environment, most specific first
/// (docs/configuration.md, "Environments").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnforcementSource {
    /// `[environments.E.guardrails.ID] enforcement` in guardrails.toml.
    ConfigGuardrail,
    /// The guardrail's `enforce { E: action }`.
    GuardrailEnvironment,
    /// The guardrail's `enforce action`.
    Guardrail,
    /// `[environments.E] enforcement` in guardrails.toml.
    ConfigEnvironment,
    /// Nothing says: deny.
    Default,
}

impl EnforcementSource {
    /// Where the setting is written, as people look for it.
    pub fn describe(self, guardrail: &str, env: &str) -> String {
        match self {
            EnforcementSource::ConfigGuardrail => {
                format!("guardrails.toml [environments.{env}.guardrails.{guardrail}]")
            }
            EnforcementSource::GuardrailEnvironment => {
                format!("the guardrail's enforce {{ {env}: … }}")
            }
            EnforcementSource::Guardrail => "the guardrail's enforce".to_string(),
            EnforcementSource::ConfigEnvironment => {
                format!("guardrails.toml [environments.{env}]")
            }
            EnforcementSource::Default => "the default".to_string(),
        }
    }
}

/// [`enforcement_for`] with the setting that decided it.
pub fn enforcement_with_source(
    guardrail: &CheckedGuardrail,
    env: &Environment,
) -> (ir::Enforcement, EnforcementSource) {
    if let Some(action) = env
        .guardrails
        .get(&guardrail.id)
        .and_then(|o| o.enforcement)
    {
        return (action, EnforcementSource::ConfigGuardrail);
    }
    let entry = |name: Option<&str>| {
        guardrail
            .enforcement
            .iter()
            .find(|(e, _, _)| e.as_deref() == name)
            .map(|(_, a, _)| *a)
    };
    if let Some(action) = entry(Some(env.name.as_str())) {
        return (action, EnforcementSource::GuardrailEnvironment);
    }
    if let Some(action) = entry(None) {
        return (action, EnforcementSource::Guardrail);
    }
    match env.enforcement {
        Some(action) => (action, EnforcementSource::ConfigEnvironment),
        None => (ir::Enforcement::Deny, EnforcementSource::Default),
    }
}

/// The guardrail's policy in one environment: enforcement, param values and the exemptions
/// still in force.
fn lower_policy(
    guardrail: &CheckedGuardrail,
    source_file: &str,
    env: &Environment,
    today: (u16, u8, u8),
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ir::Policy> {
    let overrides = env.guardrails.get(&guardrail.id);
    let enforcement = enforcement_for(guardrail, env);

    let mut params = Vec::new();
    let mut complete = true;
    for param in &guardrail.params {
        let configured = overrides.and_then(|o| o.params.get(&param.name));
        let value = match configured {
            Some(value) => {
                let literal =
                    toml_literal(value).and_then(|l| check::literal_of_type_value(&l, &param.ty));
                if literal.is_none() {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::ParamTypeMismatch,
                            overrides.map_or(env.span, |o| o.span),
                            format!(
                                "environment `{}` sets param `{}` of `{}` to a value that is not a {}",
                                env.name,
                                param.name,
                                guardrail.id,
                                check::describe_param_type(&param.ty)
                            ),
                        )
                        .with_secondary(param.span, "declared here"),
                    );
                }
                literal
            }
            None => param.default.clone(),
        };
        match value {
            Some(value) => params.push(ir::ParamValue {
                name: param.name.clone(),
                ty: param.ty.clone(),
                value,
            }),
            None => {
                complete = false;
                if configured.is_none() {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::MissingParamValue,
                            param.span,
                            format!(
                                "param `{}` has no default and no value in environment `{}`",
                                param.name, env.name
                            ),
                        )
                        .with_help(format!(
                            "add a default, or set it under [environments.{}.guardrails.{}.params]",
                            env.name, guardrail.id
                        )),
                    );
                }
            }
        }
    }
    if let Some(o) = overrides {
        for name in o.params.keys() {
            if !guardrail.params.iter().any(|p| &p.name == name) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownParam,
                        o.span,
                        format!("guardrail `{}` has no param `{name}`", guardrail.id),
                    )
                    .with_help("remove the override, or declare the param in the guardrail"),
                );
            }
        }
    }
    // Image exemptions in force already narrow the rules (check::exemptions); the others skip
    // whole objects.
    let mut exemptions = Vec::new();
    for exemption in &guardrail.exemptions {
        if !exemption.in_force(today) {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExpiredExemption,
                    exemption.span,
                    format!(
                        "this exemption expired on {} and is not compiled",
                        exemption.expires
                    ),
                )
                .with_help("renew it with a new date and reason, or delete it"),
            );
        } else if exemption.images.is_empty() {
            exemptions.push(exemption.exemption.clone());
        }
    }
    if !complete {
        return None;
    }
    let rules = guardrail.rules.clone();
    check::env::check_param_regexes(&rules, &params, diagnostics);
    Some(ir::Policy {
        id: guardrail.id.clone(),
        kind_name: kind_name(&guardrail.id),
        meta: guardrail.meta.clone(),
        source_file: source_file.to_string(),
        env: env.name.clone(),
        enforcement,
        matcher: guardrail.matcher.clone(),
        params,
        pod: guardrail.pod.clone(),
        rules,
        exemptions,
        reads: guardrail.reads,
    })
}

fn toml_literal(value: &toml::Value) -> Option<Literal> {
    Some(match value {
        toml::Value::String(s) => Literal::String(s.clone()),
        toml::Value::Integer(i) => Literal::Int(*i),
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Array(items) => {
            Literal::List(items.iter().map(toml_literal).collect::<Option<_>>()?)
        }
        // guardrails.toml keeps its tables in file order; the IR's maps are sorted by their
        // type, so configs that differ only in the order of keys build the same output.
        toml::Value::Table(table) => Literal::Map(
            table
                .iter()
                .map(|(k, v)| Some((k.clone(), toml_literal(v)?)))
                .collect::<Option<_>>()?,
        ),
        toml::Value::Float(_) | toml::Value::Datetime(_) => return None,
    })
}

/// `no-latest-tag` → `NoLatestTag`, the Gatekeeper constraint kind.
pub fn kind_name(id: &str) -> String {
    id.split('-')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same map param written with its keys in two orders builds the same bytes.
    #[test]
    fn map_params_build_the_same_whatever_the_order_of_their_keys() {
        let sources = [SourceFile {
            name: "limits.guard".into(),
            text: "guardrail limits {\n  title \"t\"\n  match workloads\n  param m: map<string, string>\n  deny for c in pod.all_containers when c.name in params.m.keys() message \"m\"\n}\n".into(),
        }];
        let config = |entries: &str| {
            format!("[environments.prod.guardrails.limits.params]\nm = {{ {entries} }}\n")
        };
        let build = |entries: &str| {
            let output = build_text(&sources, &config(entries), crate::testing::TODAY);
            assert!(
                !output.diagnostics.iter().any(|d| d.is_error()),
                "{:#?}",
                output.diagnostics
            );
            output
                .artifacts
                .into_iter()
                .map(|a| (a.path, a.contents))
                .collect::<Vec<_>>()
        };
        let (sorted, unsorted) = (build("a = \"1\", b = \"2\""), build("b = \"2\", a = \"1\""));
        assert!(!sorted.is_empty());
        assert_eq!(sorted, unsorted);
    }

    #[test]
    fn kind_names_are_camel_case() {
        assert_eq!(kind_name("no-latest-tag"), "NoLatestTag");
        assert_eq!(kind_name("psp-1"), "Psp1");
    }
}
