//! `guardrails.toml`: the project file. Parsed here (pure, from text); the command line
//! reads it and the files it names.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::emit::Target;
use crate::ir::Enforcement;
use crate::k8s_names::{is_api_group, is_api_version, is_dns_label, is_resource_name};
use crate::kube::KubeVersion;
use crate::span::{SourceId, Span};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The prefix that names a set of the standard library among the sources:
/// `@library/multi-tenancy`.
pub const LIBRARY_PREFIX: &str = "@library/";

/// The environment a project without `[environments]` builds.
pub const DEFAULT_ENVIRONMENT: &str = "default";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Glob patterns of `.guard` files, relative to the project directory.
    pub sources: Vec<String>,
    /// Where each of `sources` is written in guardrails.toml; empty when the file does not
    /// set `sources` (the default pattern is written nowhere).
    pub source_spans: Vec<Span>,
    pub targets: Vec<Target>,
    pub kube_version: KubeVersion,
    /// Output directory relative to the project directory.
    pub out: String,
    /// In declaration order (the rollout order people write: dev, staging, prod). Empty when
    /// the project declares none: then the environments are
    /// those the guardrails' `enforce` entries name, or [`DEFAULT_ENVIRONMENT`].
    pub environments: Vec<Environment>,
    pub crds: Vec<CrdConfig>,
    /// `[detective.default-deny-network-policy]`: the cross-object check `guardrailc check`
    /// runs on exports; `None` when the project does not ask for it.
    pub default_deny_network_policy: Option<DefaultDenyCheck>,
}

/// Every selected namespace of a cluster export must hold a NetworkPolicy that selects all
/// its pods and allows no traffic in each of `directions`. It looks across objects, so it
/// has no admission form: only `guardrailc check` runs it (docs/configuration.md).
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultDenyCheck {
    /// Only namespaces carrying this label are checked (all namespaces when `None`).
    pub namespace_label: Option<String>,
    pub exclude_namespaces: Vec<String>,
    /// `Ingress`, `Egress` or both, in that order.
    pub directions: Vec<Direction>,
    /// How a missing policy is reported; audit unless the project says otherwise.
    pub enforcement: Enforcement,
}

/// The id findings of [`DefaultDenyCheck`] carry, and its key under `[detective]`.
pub const DEFAULT_DENY_CHECK: &str = "default-deny-network-policy";

/// The title of [`DefaultDenyCheck`], where guardrails show theirs (reports, catalog).
pub const DEFAULT_DENY_TITLE: &str = "Every namespace has a default-deny NetworkPolicy";

/// A NetworkPolicy `policyTypes` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }
}

impl Config {
    /// The library sets `sources` names (`@library/SET` entries), without the prefix.
    pub fn library_sets(&self) -> impl Iterator<Item = &str> {
        self.sources
            .iter()
            .filter_map(|pattern| pattern.strip_prefix(LIBRARY_PREFIX))
    }

    /// The matcher of the project's own `.guard` files: the patterns of `sources` other
    /// than library sets, matched against paths relative to the project folder (`/`
    /// separated). `None` when every source is a library set. The error names a bad pattern.
    pub fn local_sources(&self) -> Result<Option<globset::GlobSet>, String> {
        let mut builder = globset::GlobSetBuilder::new();
        let mut any = false;
        for pattern in self
            .sources
            .iter()
            .filter(|p| !p.starts_with(LIBRARY_PREFIX))
        {
            let glob = globset::Glob::new(pattern)
                .map_err(|e| format!("bad source pattern `{pattern}`: {e}"))?;
            builder.add(glob);
            any = true;
        }
        if !any {
            return Ok(None);
        }
        builder.build().map(Some).map_err(|e| e.to_string())
    }

    /// Which of `paths` (relative to the project folder, `/` separated) are the project's
    /// own sources: `.guard` files a pattern of `sources` matches. The CLI (files on disk)
    /// and the language server (files it knows) both select through this function. Each
    /// pattern written in guardrails.toml that matches none of `paths` gets a warning
    /// (G0406) at the pattern, so a typo or a missing file is not silently ignored.
    pub fn select_sources(&self, paths: &[&str]) -> SourceSelection {
        let patterns: Vec<(usize, globset::GlobMatcher)> = self
            .sources
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.starts_with(LIBRARY_PREFIX))
            .filter_map(|(i, p)| Some((i, globset::Glob::new(p).ok()?.compile_matcher())))
            .collect();
        let mut matched = vec![false; self.sources.len()];
        let mut selected = Vec::new();
        for (index, path) in paths.iter().enumerate() {
            if !path.ends_with(".guard") {
                continue;
            }
            let mut any = false;
            for (pattern, glob) in &patterns {
                if glob.is_match(path) {
                    matched[*pattern] = true;
                    any = true;
                }
            }
            if any {
                selected.push(index);
            }
        }
        let unmatched = patterns
            .iter()
            .filter(|(i, _)| !matched[*i])
            .filter_map(|(i, _)| {
                let span = *self.source_spans.get(*i)?;
                let pattern = &self.sources[*i];
                Some(
                    Diagnostic::new(
                        Code::UnmatchedSourcePattern,
                        span,
                        format!("`{pattern}` matches no `.guard` file"),
                    )
                    .with_label("matches nothing")
                    .with_help(
                        "check its spelling: patterns are globs relative to the project folder, such as `guardrails/**/*.guard`, and skip hidden folders and the output folder",
                    ),
                )
            })
            .collect();
        SourceSelection {
            selected,
            unmatched,
        }
    }
}

/// The result of [`Config::select_sources`].
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSelection {
    /// Indices of the selected paths, in the order given.
    pub selected: Vec<usize>,
    /// One warning per pattern of guardrails.toml that matches no path.
    pub unmatched: Vec<Diagnostic>,
}

/// Why a `sources` pattern cannot name project files: it is absolute or climbs out of the
/// project folder with `..`. Sources are read only inside the project.
fn outside_project(pattern: &str) -> Option<&'static str> {
    let drive = pattern.len() >= 2 && pattern.as_bytes()[1] == b':';
    if pattern.starts_with('/') || pattern.starts_with('\\') || drive {
        return Some("is an absolute path");
    }
    pattern
        .split(['/', '\\'])
        .any(|part| part == "..")
        .then_some("leaves the project folder with `..`")
}

/// How a name of a custom resource is checked: the test, what the name is, how to fix it.
type NameRule = (fn(&str) -> bool, &'static str, &'static str);

#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: String,
    /// The default enforcement of guardrails in this environment.
    pub enforcement: Option<Enforcement>,
    /// Per-guardrail overrides, by guardrail id.
    pub guardrails: BTreeMap<String, GuardrailOverride>,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GuardrailOverride {
    pub enforcement: Option<Enforcement>,
    /// Param values as TOML values, checked against the param types when lowered.
    pub params: BTreeMap<String, toml::Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrdConfig {
    pub kind: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    #[serde(default = "yes")]
    pub namespaced: bool,
    /// Path of an OpenAPI v3 schema (YAML or JSON) of the whole object, or of a CRD manifest.
    pub schema: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sources: vec!["**/*.guard".to_string()],
            targets: Target::ALL.to_vec(),
            kube_version: KubeVersion::DEFAULT,
            source_spans: Vec::new(),
            out: "out".to_string(),
            environments: Vec::new(),
            crds: Vec::new(),
            default_deny_network_policy: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    sources: Option<Vec<toml::Spanned<String>>>,
    targets: Option<Vec<toml::Spanned<String>>>,
    kube_version: Option<toml::Spanned<String>>,
    out: Option<String>,
    #[serde(default)]
    environments: indexmap::IndexMap<toml::Spanned<String>, RawEnvironment>,
    #[serde(default)]
    crds: Vec<RawCrd>,
    #[serde(default)]
    detective: RawDetective,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrd {
    kind: String,
    group: toml::Spanned<String>,
    version: toml::Spanned<String>,
    resource: toml::Spanned<String>,
    #[serde(default = "yes")]
    namespaced: bool,
    schema: Option<toml::Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetective {
    #[serde(rename = "default-deny-network-policy")]
    default_deny_network_policy: Option<RawDefaultDeny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaultDeny {
    namespace_label: Option<String>,
    exclude_namespaces: Option<Vec<String>>,
    directions: Option<Vec<toml::Spanned<String>>>,
    enforcement: Option<toml::Spanned<String>>,
}

/// The namespaces Kubernetes itself runs, which hold no tenant workloads.
const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    enforcement: Option<toml::Spanned<String>>,
    #[serde(default)]
    guardrails: BTreeMap<toml::Spanned<String>, RawOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    enforcement: Option<toml::Spanned<String>>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
}

/// Parses the project file whose source id is `source`. Errors are diagnostics with spans.
pub fn parse(source: SourceId, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let span = |range: std::ops::Range<usize>| Span::new(source, range.start, range.end);
    let raw: RawConfig = toml::from_str(text).map_err(|error| {
        let range = error.span().unwrap_or(0..0);
        vec![Diagnostic::new(
            Code::InvalidConfig,
            span(range),
            format!("guardrails.toml: {}", error.message().trim_end_matches('.')),
        )
        .with_help("see docs/configuration.md for the keys of guardrails.toml")]
    })?;
    let mut diagnostics = Vec::new();
    let mut config = Config::default();
    if let Some(sources) = raw.sources {
        for pattern in &sources {
            if let Some(problem) = outside_project(pattern.get_ref()) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidConfig,
                        span(pattern.span()),
                        format!("the source pattern `{}` {problem}", pattern.get_ref()),
                    )
                    .with_label("outside the project")
                    .with_help(
                        "sources are read only inside the project folder: write a pattern relative to it, such as `guardrails/*.guard`",
                    ),
                );
            }
        }
        config.source_spans = sources.iter().map(|p| span(p.span())).collect();
        config.sources = sources.into_iter().map(toml::Spanned::into_inner).collect();
    }
    if let Some(out) = raw.out {
        config.out = out;
    }
    if let Some(targets) = raw.targets {
        config.targets.clear();
        for target in targets {
            match Target::parse(target.get_ref()) {
                Some(t) if !config.targets.contains(&t) => config.targets.push(t),
                Some(_) => {}
                None => diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownTarget,
                        span(target.span()),
                        format!("`{}` is not a target", target.get_ref()),
                    )
                    .with_help("targets are vap, gatekeeper and opa"),
                ),
            }
        }
        config.targets.sort();
    }
    if let Some(version) = raw.kube_version {
        match KubeVersion::parse(version.get_ref()) {
            Some(v) if v >= KubeVersion::OLDEST => config.kube_version = v,
            _ => diagnostics.push(
                Diagnostic::new(
                    Code::UnsupportedKubeVersion,
                    span(version.span()),
                    format!(
                        "`{}` is not a supported Kubernetes version",
                        version.get_ref()
                    ),
                )
                .with_help(format!(
                    "write a version from {} on, such as \"1.30\"",
                    KubeVersion::OLDEST
                )),
            ),
        }
    }
    for (name, env) in raw.environments {
        let enforcement = env
            .enforcement
            .and_then(|e| parse_enforcement(&e, source, &mut diagnostics));
        let mut guardrails = BTreeMap::new();
        for (id, o) in env.guardrails {
            let enforcement = o
                .enforcement
                .and_then(|e| parse_enforcement(&e, source, &mut diagnostics));
            guardrails.insert(
                id.get_ref().clone(),
                GuardrailOverride {
                    enforcement,
                    params: o.params,
                    span: span(id.span()),
                },
            );
        }
        if !is_dns_label(name.get_ref()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::InvalidConfig,
                    span(name.span()),
                    format!("`{}` is not a valid environment name", name.get_ref()),
                )
                .with_help("environment names are lowercase letters, digits and `-`"),
            );
        }
        config.environments.push(Environment {
            name: name.get_ref().clone(),
            enforcement,
            guardrails,
            span: span(name.span()),
        });
    }
    for crd in raw.crds {
        let checks: [(&toml::Spanned<String>, NameRule); 3] = [
            (
                &crd.group,
                (
                    is_api_group,
                    "API group",
                    "a group is a DNS subdomain with at least one dot, such as \"example.com\"",
                ),
            ),
            (
                &crd.version,
                (
                    is_api_version,
                    "API version",
                    "a version is written like \"v1\", \"v1beta2\" or \"v2alpha1\"",
                ),
            ),
            (
                &crd.resource,
                (
                    is_resource_name,
                    "resource name",
                    "a resource is the lowercase plural of the kind, such as \"widgets\"",
                ),
            ),
        ];
        for (value, (valid, what, help)) in checks {
            if !valid(value.get_ref()) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidConfig,
                        span(value.span()),
                        format!(
                            "`{}` is not a valid {what} for custom resource `{}`",
                            value.get_ref(),
                            crd.kind
                        ),
                    )
                    .with_help(help),
                );
            }
        }
        if let Some(schema) = &crd.schema {
            if let Some(problem) = outside_project(schema.get_ref()) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidConfig,
                        span(schema.span()),
                        format!("the schema path `{}` {problem}", schema.get_ref()),
                    )
                    .with_help("schema files are read only inside the project folder: write a path relative to it"),
                );
            }
        }
        config.crds.push(CrdConfig {
            kind: crd.kind,
            group: crd.group.into_inner(),
            version: crd.version.into_inner(),
            resource: crd.resource.into_inner(),
            namespaced: crd.namespaced,
            schema: crd.schema.map(toml::Spanned::into_inner),
        });
    }
    if let Some(check) = raw.detective.default_deny_network_policy {
        let mut directions = Vec::new();
        for direction in check.directions.unwrap_or_default() {
            match direction.get_ref().as_str() {
                "Ingress" => directions.push(Direction::Ingress),
                "Egress" => directions.push(Direction::Egress),
                other => diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidConfig,
                        span(direction.span()),
                        format!("`{other}` is not a NetworkPolicy direction"),
                    )
                    .with_help("directions are \"Ingress\" and \"Egress\""),
                ),
            }
        }
        if directions.is_empty() {
            directions.push(Direction::Ingress);
        }
        directions.sort();
        directions.dedup();
        config.default_deny_network_policy = Some(DefaultDenyCheck {
            namespace_label: check.namespace_label,
            exclude_namespaces: check
                .exclude_namespaces
                .unwrap_or_else(|| SYSTEM_NAMESPACES.map(String::from).to_vec()),
            directions,
            enforcement: check
                .enforcement
                .and_then(|e| parse_enforcement(&e, source, &mut diagnostics))
                .unwrap_or(Enforcement::Audit),
        });
    }
    if diagnostics.is_empty() {
        Ok(config)
    } else {
        Err(diagnostics)
    }
}

fn parse_enforcement(
    value: &toml::Spanned<String>,
    source: SourceId,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Enforcement> {
    match value.get_ref().as_str() {
        "deny" => Some(Enforcement::Deny),
        "warn" => Some(Enforcement::Warn),
        "audit" | "dryrun" => Some(Enforcement::Audit),
        other => {
            let range = value.span();
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownEnforcement,
                    Span::new(source, range.start, range.end),
                    format!("`{other}` is not an enforcement action"),
                )
                .with_help("use deny, warn or audit"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_has_the_defaults() {
        let config = parse(SourceId(0), "").unwrap();
        assert_eq!(config, Config::default());
        assert!(config.environments.is_empty());
    }

    #[test]
    fn reads_the_default_deny_check_with_its_defaults() {
        let config = parse(
            SourceId(0),
            "[detective.default-deny-network-policy]\nnamespace_label = \"team\"\n",
        )
        .unwrap();
        assert_eq!(
            config.default_deny_network_policy,
            Some(DefaultDenyCheck {
                namespace_label: Some("team".into()),
                exclude_namespaces: vec![
                    "kube-system".into(),
                    "kube-public".into(),
                    "kube-node-lease".into()
                ],
                directions: vec![Direction::Ingress],
                enforcement: Enforcement::Audit,
            })
        );
        let config = parse(
            SourceId(0),
            "[detective.default-deny-network-policy]\ndirections = [\"Egress\", \"Ingress\"]\nexclude_namespaces = []\nenforcement = \"warn\"\n",
        )
        .unwrap();
        let check = config.default_deny_network_policy.unwrap();
        assert_eq!(
            check.directions,
            vec![Direction::Ingress, Direction::Egress]
        );
        assert!(check.exclude_namespaces.is_empty());
        assert_eq!(check.enforcement, Enforcement::Warn);
    }

    #[test]
    fn a_wrong_direction_or_key_of_the_default_deny_check_is_reported_where_written() {
        let text = "[detective.default-deny-network-policy]\ndirections = [\"Inbound\"]\n";
        let errors = parse(SourceId(0), text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "`Inbound` is not a NetworkPolicy direction"
        );
        let (start, end) = (errors[0].span.start as usize, errors[0].span.end as usize);
        assert_eq!(&text[start..end], "\"Inbound\"");
        let errors = parse(SourceId(0), "[detective.default-deny]\n").unwrap_err();
        assert!(
            errors[0].message.contains("unknown field"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn custom_resource_names_are_validated_where_written() {
        let crd = |group: &str, version: &str, resource: &str| {
            format!("[[crds]]\nkind = \"Widget\"\ngroup = \"{group}\"\nversion = \"{version}\"\nresource = \"{resource}\"\n")
        };
        for (group, version, resource) in [
            ("example.com", "v1", "widgets"),
            ("apps.example.io", "v1beta2", "widget-sets"),
            ("x.y", "v2alpha1", "w2"),
        ] {
            assert!(parse(SourceId(0), &crd(group, version, resource)).is_ok());
        }
        let text = crd("Example_Com", "1.0", "Widgets");
        let errors = parse(SourceId(0), &text).unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`Example_Com` is not a valid API group for custom resource `Widget`",
                "`1.0` is not a valid API version for custom resource `Widget`",
                "`Widgets` is not a valid resource name for custom resource `Widget`",
            ]
        );
        let written: Vec<&str> = errors.iter().map(|d| &text[d.span.range()]).collect();
        assert_eq!(written, ["\"Example_Com\"", "\"1.0\"", "\"Widgets\""]);
        for (group, version, resource) in [
            ("example", "v1", "widgets"),
            ("example.com", "v0", "widgets"),
            ("example.com", "v1gamma1", "widgets"),
            ("example.com", "v1beta", "widgets"),
            ("example.com", "v01", "widgets"),
            ("example.com", "v1", "1widgets"),
            ("example..com", "v1", "widgets"),
            ("", "v1", "widgets"),
        ] {
            let errors = parse(SourceId(0), &crd(group, version, resource)).unwrap_err();
            assert_eq!(errors.len(), 1, "{group} {version} {resource}");
            assert_eq!(errors[0].code, Code::InvalidConfig);
        }
    }

    #[test]
    fn source_patterns_and_schema_paths_outside_the_project_are_errors() {
        for pattern in [
            "../x.guard",
            "/etc/passwd",
            "a/../../b/*.guard",
            "C:/x.guard",
            "..\\\\x.guard",
        ] {
            let text = format!("sources = [\"ok/*.guard\", {pattern:?}]\n");
            let errors = parse(SourceId(0), &text).unwrap_err();
            assert_eq!(errors.len(), 1, "{pattern}");
            assert!(
                errors[0]
                    .message
                    .starts_with(&format!("the source pattern `{pattern}` ")),
                "{}",
                errors[0].message
            );
            assert_eq!(&text[errors[0].span.range()], format!("{pattern:?}"));
        }
        // `..` inside a name is not a parent folder.
        assert!(parse(SourceId(0), "sources = [\"a..b/*.guard\"]").is_ok());
        let text = "[[crds]]\nkind = \"W\"\ngroup = \"example.com\"\nversion = \"v1\"\nresource = \"ws\"\nschema = \"../w.yaml\"\n";
        let errors = parse(SourceId(0), text).unwrap_err();
        assert_eq!(
            errors[0].message,
            "the schema path `../w.yaml` leaves the project folder with `..`"
        );
    }

    #[test]
    fn each_source_pattern_that_selects_nothing_gets_a_warning_at_it() {
        let text = "sources = [\"guardrails/*.guard\", \"guardrail/*.gaurd\", \"@library/general\", \"notes.txt\"]\n";
        let config = parse(SourceId(0), text).unwrap();
        let selection = config.select_sources(&[
            "guardrails/a.guard",
            "notes.txt",
            "other/b.guard",
            "guardrails/c.guard",
        ]);
        assert_eq!(selection.selected, [0, 3]);
        let unmatched: Vec<&str> = selection
            .unmatched
            .iter()
            .map(|d| &text[d.span.range()])
            .collect();
        // A pattern matching only a file that is not a `.guard` file selects nothing; a
        // library set is not a pattern.
        assert_eq!(unmatched, ["\"guardrail/*.gaurd\"", "\"notes.txt\""]);
        assert!(selection
            .unmatched
            .iter()
            .all(|d| d.code == Code::UnmatchedSourcePattern
                && d.severity == crate::Severity::Warning));
        // The default pattern is written nowhere: no warning for it.
        let selection = Config::default().select_sources(&[]);
        assert!(selection.unmatched.is_empty());
    }

    #[test]
    fn reads_environments_and_overrides() {
        let text = r#"
targets = ["vap", "opa"]
kube_version = "1.31"
[environments.prod]
enforcement = "deny"
[environments.dev]
enforcement = "audit"
[environments.prod.guardrails.no-latest-tag]
enforcement = "warn"
params = { allowed = ["a/"] }
"#;
        let config = parse(SourceId(0), text).unwrap();
        assert_eq!(config.targets, vec![Target::Vap, Target::Opa]);
        assert_eq!(config.kube_version.minor, 31);
        let names: Vec<_> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["prod", "dev"], "declaration order");
        let prod = &config.environments[0];
        assert_eq!(prod.enforcement, Some(Enforcement::Deny));
        assert_eq!(
            prod.guardrails["no-latest-tag"].enforcement,
            Some(Enforcement::Warn)
        );
    }

    #[test]
    fn reports_bad_values_with_spans() {
        let text = "targets = [\"vap\", \"kyverno\"]\nkube_version = \"1.20\"\n";
        let errors = parse(SourceId(3), text).unwrap_err();
        let codes: Vec<_> = errors.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnknownTarget, Code::UnsupportedKubeVersion]);
        assert_eq!(&text[errors[0].span.range()], "\"kyverno\"");
        let unknown_key = parse(SourceId(0), "colour = 1").unwrap_err();
        assert_eq!(unknown_key[0].code, Code::InvalidConfig);
    }
}
