//! The emitted artifacts of one guardrail in one environment, loaded into the engines, so
//! a case can be evaluated on every target the project builds.

use crate::case::{AdmissionCase, ResourceCatalog};
use crate::outcome::{Outcome, Review, Verdict};
use crate::rego::{RegoObjects, RegoRun};
use crate::request_shape;
use crate::vap::RuntimeCost;
use crate::{CaseError, GatekeeperPolicy, OpaPolicy, VapPolicy};
use guardrailc_compiler::emit::{Artifact, Target};
use guardrailc_compiler::ir;

/// One guardrail compiled for one environment, on every target that was emitted.
pub struct CompiledGuardrail {
    pub policy: ir::Policy,
    pub vap: Option<VapPolicy>,
    pub gatekeeper: Option<GatekeeperPolicy>,
    pub opa: Option<OpaPolicy>,
}

/// The outcomes of one case on every target, in `Target::ALL` order; the plain OPA target
/// only where it is comparable.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub outcomes: Vec<(Target, Outcome)>,
    /// Whether the plain OPA package is comparable with the admission targets on this case:
    /// it sees only the object and applies the match it can judge from the object (not the
    /// namespace selector, without the Namespace supplied as data), so only when the VAP
    /// policy has the request in scope, or there is no VAP policy, and the guardrail reads
    /// no request context.
    pub opa_comparable: bool,
    /// The VAP policy's run-time cost on the case, when it was counted.
    pub vap_cost: Option<RuntimeCost>,
    /// Gatekeeper's audit (and `gator test`) of the object the case leaves in the cluster,
    /// when the guardrail has a Gatekeeper target and audit reviews the object
    /// (`request_shape`). The admission targets saw the case as the API server admits it.
    pub audit: Option<Outcome>,
    /// `gator test` of the manifest as written, with the review audit gives, when it differs
    /// from the stored object (else it is the audit outcome and is not evaluated again).
    pub gator: Option<Outcome>,
    /// Whether the audit and gator outcomes must equal the Gatekeeper admission outcome: the
    /// case is an operation the guardrail matches, and no rule reads the request or the old
    /// object, which audit does not have.
    pub audit_comparable: bool,
}

impl Evaluation {
    /// Gatekeeper's outcomes outside admission: its audit, and `gator test`.
    pub fn reviews(&self) -> impl Iterator<Item = (Review, &Outcome)> {
        let audit = self.audit.iter().map(|outcome| (Review::Audit, outcome));
        audit.chain(self.gator.iter().map(|outcome| (Review::Gator, outcome)))
    }

    pub fn outcome(&self, target: Target) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|(t, _)| *t == target)
            .map(|(_, outcome)| outcome)
    }
}

impl CompiledGuardrail {
    /// The verdict a violation gets in this environment.
    pub fn enforcement(&self) -> Verdict {
        self.policy.enforcement.into()
    }

    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        if self.vap.is_some() {
            targets.push(Target::Vap);
        }
        if self.gatekeeper.is_some() {
            targets.push(Target::Gatekeeper);
        }
        if self.opa.is_some() {
            targets.push(Target::Opa);
        }
        targets
    }

    /// Evaluates `case` on every target (the plain OPA package only where comparable), the
    /// Rego in regorus's interpreter, cross-checked by its VM ([`RegoRun::Reference`](crate::rego::RegoRun::Reference)).
    pub fn evaluate(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Evaluation, CaseError> {
        self.evaluate_with(case, catalog, RegoSpeed::Reference, false)
    }

    /// [`CompiledGuardrail::evaluate`] with the Rego on regorus's VM alone
    /// ([`RegoRun::Vm`](crate::rego::RegoRun::Vm)): for the bulk of property mode and `check`.
    pub fn evaluate_on_vm(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Evaluation, CaseError> {
        self.evaluate_with(case, catalog, RegoSpeed::Vm, false)
    }

    /// [`CompiledGuardrail::evaluate_on_vm`], also counting the VAP policy's run-time cost
    /// ([`Evaluation::vap_cost`]) in the same pass: property mode's evaluation.
    pub fn evaluate_counted_on_vm(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Evaluation, CaseError> {
        self.evaluate_with(case, catalog, RegoSpeed::Vm, true)
    }

    fn evaluate_with(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        rego: RegoSpeed,
        count: bool,
    ) -> Result<Evaluation, CaseError> {
        let mut outcomes = Vec::with_capacity(3);
        // The plain OPA package applies the guardrail's match to the object itself; without a
        // VAP policy to say whether the request is in scope, it is evaluated on its own.
        let reads = self.policy.reads;
        let mut opa_comparable =
            self.vap.is_none() && !(reads.old_object || reads.namespace || reads.request);
        // Every target sees the objects in the shapes it meets them in production
        // (docs/evaluation.md, "Request shapes"): admission the request as the API server
        // builds it, Gatekeeper's audit the stored object with its own review, `gator test`
        // and the plain OPA package the manifest as written.
        let manifest = &request_shape::manifest(case, catalog)?;
        let case = &request_shape::admitted(case, catalog)?;
        let objects = RegoObjects::default();
        let run = || match rego {
            RegoSpeed::Reference => RegoRun::Reference(None),
            RegoSpeed::Vm => RegoRun::Vm,
        };
        let mut vap_cost = None;
        if let Some(vap) = &self.vap {
            let (outcome, in_scope) = if count {
                let (outcome, in_scope, cost) = vap.evaluate_counted(case, catalog)?;
                vap_cost = Some(cost);
                (outcome, in_scope)
            } else {
                vap.evaluate_in_scope(case, catalog)?
            };
            outcomes.push((Target::Vap, outcome));
            opa_comparable = !(reads.old_object || reads.namespace || reads.request) && in_scope;
        }
        let mut audit = None;
        let mut gator = None;
        let mut audit_comparable = false;
        if let Some(gatekeeper) = &self.gatekeeper {
            let outcome = gatekeeper.evaluate_sharing(case, catalog, &objects, run())?;
            outcomes.push((Target::Gatekeeper, outcome));
            audit = gatekeeper.evaluate_audit(case, catalog, run())?;
            if request_shape::audited(manifest) != request_shape::audited(case) {
                gator = gatekeeper.evaluate_audit(manifest, catalog, run())?;
            }
            audit_comparable = self.policy.matcher.operations.contains(&case.operation)
                && !(reads.old_object || reads.request);
        }
        // The plain OPA package is evaluated only where it is compared: elsewhere its
        // outcome says nothing about the admission targets, and skipping it saves the most
        // expensive evaluation on every request out of scope.
        if let Some(opa) = self.opa.as_ref().filter(|_| opa_comparable) {
            let outcome = opa.evaluate_sharing(manifest, &objects, run())?;
            outcomes.push((Target::Opa, outcome));
        }
        Ok(Evaluation {
            outcomes,
            opa_comparable,
            vap_cost,
            audit,
            gator,
            audit_comparable,
        })
    }
}

/// Which of regorus's evaluators runs the Rego (the choice [`crate::rego::RegoRun`] makes, without the
/// coverage it can carry).
#[derive(Clone, Copy)]
enum RegoSpeed {
    Reference,
    Vm,
}

/// Loads every policy's artifacts into the engines ([`load_targets`]). A target without
/// artifacts for a policy is left out; an artifact an engine refuses is an error naming the
/// file.
pub fn load_compiled(
    policies: Vec<ir::Policy>,
    artifacts: &[Artifact],
) -> Result<Vec<CompiledGuardrail>, String> {
    policies
        .into_iter()
        .map(|policy| {
            let targets = load_targets(artifacts, &policy.env, &policy.id)?;
            Ok(CompiledGuardrail {
                policy,
                vap: targets.vap,
                gatekeeper: targets.gatekeeper,
                opa: targets.opa,
            })
        })
        .collect()
}

/// The engines of one guardrail in one environment, each present when its artifacts are.
pub struct Targets {
    pub vap: Option<VapPolicy>,
    pub gatekeeper: Option<GatekeeperPolicy>,
    pub opa: Option<OpaPolicy>,
}

/// The one loader of emitted artifacts into the engines: guardrail `id` of environment `env`
/// from `ENV/vap/ID.policy.yaml` + `.binding.yaml`, `ENV/gatekeeper/ID.template.yaml` +
/// `.constraint.yaml` and `ENV/opa/ID.rego`. A target whose files are missing is `None`; an
/// artifact an engine refuses is an error naming the file.
pub fn load_targets(artifacts: &[Artifact], env: &str, id: &str) -> Result<Targets, String> {
    let file = |target: Target, name: String| {
        let path = format!("{env}/{}/{name}", target.as_str());
        artifacts
            .iter()
            .find(|a| a.path == path)
            .map(|a| (path, a.contents.as_str()))
    };
    let refused = |path: &str, e: String| format!("`{path}`: {e}");
    let vap = match (
        file(Target::Vap, format!("{id}.policy.yaml")),
        file(Target::Vap, format!("{id}.binding.yaml")),
    ) {
        (Some((path, policy)), Some((_, binding))) => {
            Some(VapPolicy::load(policy, binding).map_err(|e| refused(&path, e))?)
        }
        _ => None,
    };
    let gatekeeper = match (
        file(Target::Gatekeeper, format!("{id}.template.yaml")),
        file(Target::Gatekeeper, format!("{id}.constraint.yaml")),
    ) {
        (Some((path, template)), Some((_, constraint))) => {
            Some(GatekeeperPolicy::load(template, constraint).map_err(|e| refused(&path, e))?)
        }
        _ => None,
    };
    let opa = match file(Target::Opa, format!("{id}.rego")) {
        Some((path, module)) => Some(OpaPolicy::load(module).map_err(|e| refused(&path, e))?),
        None => None,
    };
    Ok(Targets {
        vap,
        gatekeeper,
        opa,
    })
}

/// The guardrail ids and environment names of `compiled`, each sorted and once: what fixture
/// files may name (`fixtures::ProjectFacts`).
pub fn names(compiled: &[CompiledGuardrail]) -> (Vec<String>, Vec<String>) {
    let sorted = |mut names: Vec<String>| {
        names.sort();
        names.dedup();
        names
    };
    (
        sorted(compiled.iter().map(|c| c.policy.id.clone()).collect()),
        sorted(compiled.iter().map(|c| c.policy.env.clone()).collect()),
    )
}
