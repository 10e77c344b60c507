//! Gatekeeper: a ConstraintTemplate's Rego evaluated for one of its Constraints, with the
//! input Gatekeeper builds from an admission request.

use super::gatekeeper_match::ConstraintMatch;
use super::{
    failed, rego_value, LineCoverage, PreparedRule, RegoObjects, RegoRun, TEMPLATE_MODULE,
};
use crate::case::{AdmissionCase, RequestFacts, ResourceCatalog};
use crate::outcome::{compare, Outcome, Verdict};
use crate::request_shape::{audit_review, audited};
use crate::CaseError;
use guardrailc_compiler::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

/// The admission target every template we evaluate is written for.
const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// Where a template finds the namespace object of the request; Gatekeeper versions differ
/// (docs/rego-backend.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceSource {
    /// `input.review.namespaceObject`, as Gatekeeper 3.22 and newer review a request.
    Review,
    /// Only `data.inventory.cluster["v1"].Namespace[<namespace of the request>]`: older
    /// Gatekeeper, with Namespaces replicated by the emitted `SyncSet` (or a `Config`).
    Inventory,
}

pub struct GatekeeperPolicy {
    violation: PreparedRule,
    /// Whether the template's Rego reads `data.inventory`; only then can the two
    /// [`NamespaceSource`]s give different outcomes.
    reads_inventory: bool,
    matcher: ConstraintMatch,
    /// `spec.parameters` of the Constraint, as Rego input.
    parameters: regorus::Value,
    enforcement: Verdict,
}

impl GatekeeperPolicy {
    /// Prepares `template` (a ConstraintTemplate, templates.gatekeeper.sh/v1) and
    /// `constraint` (a Constraint of the kind it defines), both as YAML text.
    pub fn load(template: &str, constraint: &str) -> Result<GatekeeperPolicy, String> {
        let template: Value = yaml_serde::from_str(template)
            .map_err(|e| format!("the ConstraintTemplate is not valid YAML: {e}"))?;
        let constraint: Value = yaml_serde::from_str(constraint)
            .map_err(|e| format!("the Constraint is not valid YAML: {e}"))?;
        if template.get("kind").and_then(Value::as_str) != Some("ConstraintTemplate") {
            return Err("expected a ConstraintTemplate".to_string());
        }
        let defined_kind = template
            .pointer("/spec/crd/spec/names/kind")
            .and_then(Value::as_str)
            .ok_or("the ConstraintTemplate has no `spec.crd.spec.names.kind`")?;
        let constraint_kind = constraint.get("kind").and_then(Value::as_str);
        if constraint_kind != Some(defined_kind) {
            return Err(format!(
                "the Constraint is a `{}`, but the template defines `{defined_kind}`",
                constraint_kind.unwrap_or_default()
            ));
        }
        let target = template
            .pointer("/spec/targets/0")
            .ok_or("the ConstraintTemplate has no `spec.targets`")?;
        let target_name = target.get("target").and_then(Value::as_str);
        if target_name != Some(ADMISSION_TARGET) {
            return Err(format!(
                "the template's target is `{}`, not `{ADMISSION_TARGET}`",
                target_name.unwrap_or_default()
            ));
        }
        let modules = template_modules(target)?;
        let reads_inventory = modules
            .iter()
            .any(|(_, source)| source.contains("data.inventory"));
        let violation = PreparedRule::new(&modules, "violation")?;
        let enforcement = match constraint
            .pointer("/spec/enforcementAction")
            .and_then(Value::as_str)
        {
            None | Some("deny") => Verdict::Deny,
            Some("warn") => Verdict::Warn,
            Some("dryrun") => Verdict::Audit,
            Some(other) => return Err(format!("unknown enforcementAction `{other}`")),
        };
        Ok(GatekeeperPolicy {
            violation,
            reads_inventory,
            matcher: ConstraintMatch::parse(constraint.pointer("/spec/match"))?,
            parameters: constraint
                .pointer("/spec/parameters")
                .map_or_else(regorus::Value::new_object, rego_value),
            enforcement,
        })
    }

    /// Applies the constraint's match, then evaluates the template's `violation` rule. When
    /// the case has a namespace object and the template reads `data.inventory`, it is
    /// evaluated as older Gatekeeper does too ([`NamespaceSource::Inventory`]), and an outcome
    /// that differs is an error: the emitted sync and fallback promise the same verdicts.
    pub fn evaluate(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Outcome, CaseError> {
        self.evaluate_sharing(
            case,
            catalog,
            &RegoObjects::default(),
            RegoRun::Reference(None),
        )
    }

    /// [`GatekeeperPolicy::evaluate`] on regorus's VM alone ([`RegoRun::Vm`]).
    pub fn evaluate_on_vm(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
    ) -> Result<Outcome, CaseError> {
        self.evaluate_sharing(case, catalog, &RegoObjects::default(), RegoRun::Vm)
    }

    /// [`GatekeeperPolicy::evaluate`], merging the template's Rego lines the evaluation
    /// reached into `coverage` (nothing when the request is out of scope).
    pub fn evaluate_covered(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        coverage: &mut LineCoverage,
    ) -> Result<Outcome, CaseError> {
        self.evaluate_sharing(
            case,
            catalog,
            &RegoObjects::default(),
            RegoRun::Reference(Some(coverage)),
        )
    }

    /// The outcome with the namespace object from `source` alone, on the reference run
    /// without the cross-check [`GatekeeperPolicy::evaluate`] makes.
    pub fn evaluate_with_namespace_from(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        source: NamespaceSource,
    ) -> Result<Outcome, CaseError> {
        self.evaluate_from(
            case,
            catalog,
            &RegoObjects::default(),
            source,
            RegoRun::Reference(None),
        )
    }

    /// Evaluates with the case's objects converted by (or for) another Rego target.
    pub(crate) fn evaluate_sharing(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        objects: &RegoObjects,
        run: RegoRun<'_>,
    ) -> Result<Outcome, CaseError> {
        let RegoRun::Reference(mut coverage) = run else {
            return self.evaluate_from(case, catalog, objects, NamespaceSource::Review, run);
        };
        let current = self.evaluate_from(
            case,
            catalog,
            objects,
            NamespaceSource::Review,
            RegoRun::Reference(coverage.as_deref_mut()),
        )?;
        if !self.reads_inventory || case.namespace_object.is_none() {
            return Ok(current);
        }
        let older = self.evaluate_from(
            case,
            catalog,
            objects,
            NamespaceSource::Inventory,
            RegoRun::Reference(coverage),
        )?;
        let same = compare((Target::Gatekeeper, &current), (Target::Gatekeeper, &older)).is_ok()
            && current.errors == older.errors;
        if same {
            Ok(current)
        } else {
            Ok(failed(format!(
                "with the namespace from data.inventory (Gatekeeper before 3.22) the template gives {}, with input.review.namespaceObject {}",
                summary(&older),
                summary(&current)
            )))
        }
    }

    fn evaluate_from(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        objects: &RegoObjects,
        source: NamespaceSource,
        run: RegoRun<'_>,
    ) -> Result<Outcome, CaseError> {
        let facts = RequestFacts::of(case, catalog).map_err(CaseError)?;
        // On DELETE, Gatekeeper reviews the stored object as `object`.
        let object = case
            .object
            .as_ref()
            .or(case.old_object.as_ref())
            .ok_or_else(|| CaseError("the case has neither an object nor an old object".into()))?;
        // Gatekeeper's matcher tries the object, then the old object, and the constraint
        // applies when either matches (pkg/target/matcher.go, `matchAny`): an UPDATE that
        // adds an excluding label is still reviewed, as VAP's objectSelector does.
        let mut in_scope = false;
        for candidate in [Some(object), case.old_object.as_ref()]
            .into_iter()
            .flatten()
        {
            if self
                .matcher
                .matches(candidate, &facts, case.namespace_object.as_ref())
                .map_err(CaseError)?
            {
                in_scope = true;
                break;
            }
        }
        if !in_scope {
            return Ok(Outcome::allowed());
        }
        let key = |name: &str| regorus::Value::String(name.into());
        let mut review = BTreeMap::new();
        if let Value::Object(fields) = case.admission_request(&facts) {
            for (name, value) in &fields {
                review.insert(key(name), rego_value(value));
            }
        }
        review.insert(
            key("object"),
            match case.object {
                Some(_) => objects.object(case),
                None => objects.old_object(case),
            },
        );
        review.insert(key("oldObject"), objects.old_object(case));
        // Older Gatekeeper finds the namespace only among the replicated Namespaces, by the
        // request's namespace, as the template's fallback looks it up.
        let mut data = None;
        if let Some(namespace) = &case.namespace_object {
            match source {
                NamespaceSource::Review => {
                    review.insert(key("namespaceObject"), rego_value(namespace));
                }
                NamespaceSource::Inventory => data = Some(inventory(&facts.namespace, namespace)),
            }
        }
        let input = regorus::Value::from(BTreeMap::from([
            (key("review"), regorus::Value::from(review)),
            (key("parameters"), self.parameters.clone()),
        ]));
        Ok(self.violations(input, data.as_ref(), run))
    }

    /// The outcome of Gatekeeper's audit (or `gator test`) on the object `case` leaves in the
    /// cluster: `None` when audit never sees it (DELETE, CONNECT); allowed when the
    /// constraint's match leaves it out. The review is [`audit_review`]'s: no operation, user, old object or
    /// namespace object; the namespace is found only through the replicated Namespaces
    /// (`data.inventory`, which the emitted SyncSet keeps) when the case has one.
    pub fn evaluate_audit(
        &self,
        case: &AdmissionCase,
        catalog: &dyn ResourceCatalog,
        run: RegoRun<'_>,
    ) -> Result<Option<Outcome>, CaseError> {
        let Some(object) = audited(case) else {
            return Ok(None);
        };
        let facts = RequestFacts::of(case, catalog).map_err(CaseError)?;
        // A stored object is in its namespace.
        let mut object = object.clone();
        if facts.namespaced && crate::case::string_at(&object, &["metadata", "namespace"]).is_none()
        {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.insert("namespace".into(), Value::String(facts.namespace.clone()));
            }
        }
        if !self
            .matcher
            .matches(&object, &facts, case.namespace_object.as_ref())
            .map_err(CaseError)?
        {
            return Ok(Some(Outcome::allowed()));
        }
        let key = |name: &str| regorus::Value::String(name.into());
        let data = case
            .namespace_object
            .as_ref()
            .filter(|_| self.reads_inventory)
            .map(|namespace| inventory(&facts.namespace, namespace));
        let input = regorus::Value::from(BTreeMap::from([
            (key("review"), rego_value(&audit_review(&object))),
            (key("parameters"), self.parameters.clone()),
        ]));
        Ok(Some(self.violations(input, data.as_ref(), run)))
    }

    /// Evaluates the `violation` rule on `input` into an outcome.
    fn violations(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
        run: RegoRun<'_>,
    ) -> Outcome {
        let violations = match self.violation.evaluate_set(input, data, run) {
            Ok(violations) => violations,
            Err(error) => return failed(error),
        };
        let mut messages = Vec::new();
        let mut rules = Vec::new();
        for violation in &violations {
            let fields = violation.as_object().ok();
            let message = fields
                .and_then(|fields| fields.get(&regorus::Value::from("msg")))
                .and_then(|msg| msg.as_string().ok());
            match message {
                Some(msg) => messages.push(msg.to_string()),
                None => return failed("a violation has no string `msg`".to_string()),
            }
            // guardrailc's templates say which rule yielded the violation; others may not.
            let rule = fields
                .and_then(|fields| fields.get(&regorus::Value::from("details")))
                .and_then(|details| details.as_object().ok())
                .and_then(|details| details.get(&regorus::Value::from("rule")))
                .and_then(|rule| rule.as_u64().ok());
            rules.extend(rule.and_then(|rule| usize::try_from(rule).ok()));
        }
        rules.sort_unstable();
        rules.dedup();
        Outcome {
            verdict: if messages.is_empty() {
                Verdict::Allow
            } else {
                self.enforcement
            },
            violated: !messages.is_empty(),
            messages,
            errors: Vec::new(),
            rules,
        }
    }
}

/// The data document of Gatekeeper's sync with one Namespace replicated:
/// `{"inventory": {"cluster": {"v1": {"Namespace": {NAME: namespace}}}}}`.
fn inventory(name: &str, namespace: &Value) -> regorus::Value {
    let key = |name: &str| regorus::Value::String(name.into());
    let by_name = BTreeMap::from([(key(name), rego_value(namespace))]);
    [
        key("Namespace"),
        key("v1"),
        key("cluster"),
        key("inventory"),
    ]
    .into_iter()
    .fold(regorus::Value::from(by_name), |inner, name| {
        regorus::Value::from(BTreeMap::from([(name, inner)]))
    })
}

/// An outcome in a few words, for the message when two evaluations differ.
fn summary(outcome: &Outcome) -> String {
    if !outcome.errors.is_empty() {
        format!("the errors {:?}", outcome.errors)
    } else if outcome.violated {
        format!("the violations {:?}", outcome.messages)
    } else {
        "no violation".to_string()
    }
}

/// The Rego modules of a template target: `rego` (with `libs`), or the `Rego` engine entry
/// of `code` (with its `source.libs`).
fn template_modules(target: &Value) -> Result<Vec<(String, String)>, String> {
    let source = match target.get("rego").and_then(Value::as_str) {
        Some(rego) => Some((rego, target.get("libs"))),
        None => target
            .get("code")
            .and_then(Value::as_array)
            .and_then(|code| {
                code.iter()
                    .find(|c| c.get("engine").and_then(Value::as_str) == Some("Rego"))
            })
            .and_then(|code| code.get("source"))
            .and_then(|source| {
                let rego = source.get("rego").and_then(Value::as_str)?;
                Some((rego, source.get("libs")))
            }),
    };
    let (rego, libs) =
        source.ok_or("the template target has neither `rego` nor a `Rego` entry in `code`")?;
    let mut modules = vec![(TEMPLATE_MODULE.to_string(), rego.to_string())];
    for (i, lib) in libs
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let lib = lib.as_str().ok_or("a template lib is not a string")?;
        modules.push((format!("lib{i}.rego"), lib.to_string()));
    }
    Ok(modules)
}
