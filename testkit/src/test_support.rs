//! What tests share, in one place: the date they build on, in-memory builds of guardrail
//! sources, the emitted artifacts loaded into every engine and evaluated with the targets
//! held to agreement, requests as the API server builds them, and the reference data beside
//! the repository ([`crate::shared_data`]). Used by the command line's semantics,
//! conformance and extension tests and by the testkit's own.

use crate::compiled::load_targets;
use crate::rego::RegoRun;
use crate::request_shape;
use crate::{
    compare, AdmissionCase, GatekeeperPolicy, OpaPolicy, Operation, Outcome, SchemaCatalog,
    UserInfo, VapPolicy,
};
use guardrailc_compiler::emit::{Artifact, Target};
use guardrailc_compiler::project::{self, BuildOutput, SourceFile};
use guardrailc_compiler::schema::Schema;
use serde_json::{json, Value};

pub use crate::shared_data::{shared_dir, shared_path};

/// The date every test builds on (defined in the compiler, which every test reaches).
pub use guardrailc_compiler::testing::{namespace_sync_set, FUZZ_PUNCTUATION, TODAY, TODAY_ISO};

/// The three compiled forms of one guardrail in one environment.
pub struct Compiled {
    pub id: String,
    pub vap: VapPolicy,
    pub gatekeeper: GatekeeperPolicy,
    /// `None` for a guardrail whose `targets` leave the plain OPA target out.
    pub opa: Option<OpaPolicy>,
}

/// Builds `sources` with `config_text` as guardrails.toml; errors are returned as rendered
/// text so a caller can report which guardrail failed.
pub fn build(sources: &[(String, String)], config_text: &str) -> Result<Vec<Artifact>, String> {
    let sources: Vec<SourceFile> = sources
        .iter()
        .map(|(name, text)| SourceFile {
            name: name.clone(),
            text: text.clone(),
        })
        .collect();
    let output = project::build_text(&sources, config_text, TODAY);
    let errors: Vec<String> = output
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let file = sources
                .get(d.span.source.0 as usize)
                .map_or("guardrails.toml", |s| s.name.as_str());
            format!("{file}: {}: {}", d.code.as_str(), d.message)
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(output.artifacts)
}

/// Builds one source, `name`, with an empty guardrails.toml on [`TODAY`]: all the build gives,
/// errors included.
pub fn build_one(name: &str, text: &str) -> BuildOutput {
    let sources = [SourceFile {
        name: name.into(),
        text: text.into(),
    }];
    project::build_text(&sources, "", TODAY)
}

/// Builds one source text with an empty config and panics on errors: for tests.
pub fn compile(name: &str, text: &str) -> Vec<Artifact> {
    build(&[(name.to_string(), text.to_string())], "").unwrap_or_else(|e| panic!("{e}"))
}

/// Guardrail `id` of environment `env` loaded into every engine
/// ([`crate::compiled::load_targets`]); a missing admission target is an error (the plain OPA
/// target may be left out by the guardrail's `targets`).
pub fn load(artifacts: &[Artifact], env: &str, id: &str) -> Result<Compiled, String> {
    let targets = load_targets(artifacts, env, id)?;
    let missing = |target: &str| format!("no {target} artifacts for `{id}` in `{env}`");
    Ok(Compiled {
        id: id.to_string(),
        vap: targets.vap.ok_or_else(|| missing("vap"))?,
        gatekeeper: targets.gatekeeper.ok_or_else(|| missing("gatekeeper"))?,
        opa: targets.opa,
    })
}

/// The ids of the guardrails an environment's artifacts hold, sorted.
pub fn guardrail_ids(artifacts: &[Artifact], env: &str) -> Vec<String> {
    let prefix = format!("{env}/vap/");
    let mut ids: Vec<String> = artifacts
        .iter()
        .filter_map(|a| a.path.strip_prefix(&prefix)?.strip_suffix(".policy.yaml"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids
}

/// The object as the API server passes it to admission: decoded into its Go type and encoded
/// again, which drops every field set to null (`livenessProbe: null` in a manifest).
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(entries) => Value::Object(
            entries
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// A request with the namespace object Kubernetes would have for the object's namespace
/// (every namespace carries its name as the `kubernetes.io/metadata.name` label).
pub fn request(operation: Operation, object: Value, old_object: Option<Value>) -> AdmissionCase {
    let object = without_nulls(object);
    let old_object = old_object.map(without_nulls);
    let namespace_object = object["metadata"]["namespace"].as_str().map(|ns| {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}})
    });
    AdmissionCase {
        operation,
        object: Some(object),
        old_object,
        namespace_object,
        user: UserInfo {
            username: "alice".into(),
            groups: vec!["dev".into()],
        },
    }
}

pub fn create(object: Value) -> AdmissionCase {
    request(Operation::Create, object, None)
}

/// What every target said about one case, in every shape it meets it in.
pub struct Verdicts {
    pub vap: Outcome,
    pub gatekeeper: Outcome,
    /// Gatekeeper's audit of the object as the cluster stores it (CREATE and UPDATE cases).
    pub audit: Option<Outcome>,
    /// `gator test` of the manifest as written, with the same review as audit.
    pub gator: Option<Outcome>,
    pub opa: Option<Outcome>,
}

impl Compiled {
    /// Evaluates on every target. `with_opa`: the plain OPA package sees only the object and
    /// applies no match, so it joins only for objects in scope without request context.
    /// The admission targets see the request as the API server builds it
    /// (`request_shape::admitted`); Gatekeeper is also run as its audit reviews the stored
    /// object and as `gator test` reviews the manifest as written, and the plain OPA package
    /// reads the manifest as written, as conftest does (`request_shape::manifest`).
    pub fn evaluate(&self, case: &AdmissionCase, with_opa: bool) -> Result<Verdicts, String> {
        let catalog = SchemaCatalog(Schema::builtin());
        let manifest = &request_shape::manifest(case, &catalog).map_err(|e| e.to_string())?;
        let case = &request_shape::admitted(case, &catalog).map_err(|e| e.to_string())?;
        let vap = self
            .vap
            .evaluate(case, &catalog)
            .map_err(|e| e.to_string())?;
        let gatekeeper = self
            .gatekeeper
            .evaluate(case, &catalog)
            .map_err(|e| e.to_string())?;
        let audit_of = |case: &AdmissionCase| {
            self.gatekeeper
                .evaluate_audit(case, &catalog, RegoRun::Reference(None))
                .map_err(|e| e.to_string())
        };
        // Audit reviews what exists whatever the operation that made it, so it is held to the
        // admission review of a CREATE, which every guardrail here matches.
        let (audit, gator) = if case.operation == Operation::Create {
            (audit_of(case)?, audit_of(manifest)?)
        } else {
            (None, None)
        };
        let opa = match (&self.opa, with_opa) {
            (Some(opa), true) => Some(opa.evaluate(manifest).map_err(|e| e.to_string())?),
            _ => None,
        };
        Ok(Verdicts {
            vap,
            gatekeeper,
            audit,
            gator,
            opa,
        })
    }

    /// [`Compiled::run`] for a test that expects it to pass: panics with the error or the
    /// disagreement.
    pub fn check(&self, case: &AdmissionCase, with_opa: bool) -> Outcome {
        self.run(case, with_opa)
            .unwrap_or_else(|e| panic!("`{}`: {e}", self.id))
    }

    /// Evaluates on every target, fails unless they agree and raise no error, and returns the
    /// VAP outcome.
    pub fn run(&self, case: &AdmissionCase, with_opa: bool) -> Result<Outcome, String> {
        let verdicts = self.evaluate(case, with_opa)?;
        verdicts.agreement()?;
        Ok(verdicts.vap)
    }
}

impl Verdicts {
    /// Ok when no engine raised an error and all agree on verdict and messages.
    pub fn agreement(&self) -> Result<(), String> {
        for (name, outcome) in [("CEL", &self.vap), ("Rego", &self.gatekeeper)]
            .into_iter()
            .chain(self.opa.iter().map(|o| ("OPA", o)))
        {
            if !outcome.errors.is_empty() {
                return Err(format!("{name} raised {:?}", outcome.errors));
            }
        }
        compare(
            (Target::Vap, &self.vap),
            (Target::Gatekeeper, &self.gatekeeper),
        )
        .map_err(|d| format!("vap and gatekeeper disagree:\n{d}"))?;
        if let Some(opa) = &self.opa {
            compare((Target::Vap, &self.vap), (Target::Opa, opa))
                .map_err(|d| format!("vap and opa disagree:\n{d}"))?;
        }
        self.shape_agrees("audit", &self.audit)?;
        // `gator test` of the manifest as written: the guardrail means the same on a
        // manifest's explicit zero values as on the object the API server admits, which has
        // dropped them (docs/language.md, "Absent values").
        self.shape_agrees("gator test", &self.gator)
    }

    /// Gatekeeper in another shape agrees with its admission review and raises no error.
    fn shape_agrees(&self, shape: &str, outcome: &Option<Outcome>) -> Result<(), String> {
        let Some(outcome) = outcome else {
            return Ok(());
        };
        if !outcome.errors.is_empty() {
            return Err(format!("Gatekeeper's {shape} raised {:?}", outcome.errors));
        }
        compare(
            (Target::Gatekeeper, &self.gatekeeper),
            (Target::Gatekeeper, outcome),
        )
        .map_err(|d| format!("gatekeeper's admission review and its {shape} disagree:\n{d}"))
    }
}

/// A fixture for guardrail `guardrail`, which denies the `:latest` tag: one case passes, and
/// the second wrongly expects `allow` of an unpinned image, so it fails.
pub fn pinned_image_fixture(guardrail: &str) -> String {
    format!(
        "guardrail: {guardrail}
cases:
  - name: a pinned image is allowed
    object: {{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: a}}, spec: {{containers: [{{name: app, image: \"nginx:1.27\"}}]}}}}
    expect: allow
  - name: the latest tag is wrongly expected to pass
    object: {{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: a}}, spec: {{containers: [{{name: app, image: \"nginx:latest\"}}]}}}}
    expect: allow
"
    )
}
