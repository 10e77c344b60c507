//! Pod Security Admission: every v1.37 fixture evaluated by the matching library set, as a
//! Pod and wrapped as a Deployment and as a CronJob.

use super::engines::{create, Compiled};
use super::{Tally, TARGETS};
use serde_json::{json, Value};
use std::path::Path;

/// One fixture: its path under the psa folder, whether PSA denies it, and the pod.
pub struct Fixture {
    pub name: String,
    pub deny: bool,
    pub pod: Value,
}

/// The fixtures of one level (`baseline`, `restricted`), sorted by path.
pub fn fixtures(psa: &Path, level: &str) -> Vec<Fixture> {
    let mut fixtures = Vec::new();
    for (folder, deny) in [("pass", false), ("fail", true)] {
        let dir = psa.join(level).join("v1.37").join(folder);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("a fixture file");
            let mut pod: Value = yaml_serde::from_str(&text).expect("a fixture is YAML");
            // Some stems hold `_`, which a real API server rejects in a name; the policies do
            // not read names, and every request needs a namespace.
            pod["metadata"]["namespace"] = json!("psa");
            fixtures.push(Fixture {
                name: format!(
                    "{level}/{folder}/{}",
                    path.file_name().unwrap().to_string_lossy()
                ),
                deny,
                pod,
            });
        }
    }
    fixtures
}

/// The pod as the template of a Deployment.
pub fn as_deployment(pod: &Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "wrapped", "namespace": "psa"},
        "spec": {
            "selector": {"matchLabels": {"app": "wrapped"}},
            "template": template(pod),
        }
    })
}

/// The pod as the template of a CronJob's job.
pub fn as_cron_job(pod: &Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "wrapped", "namespace": "psa"},
        "spec": {
            "schedule": "0 1 * * *",
            "jobTemplate": {"spec": {"template": template(pod)}}
        }
    })
}

fn template(pod: &Value) -> Value {
    let mut metadata = json!({"labels": {"app": "wrapped"}});
    if let Some(annotations) = pod["metadata"].get("annotations") {
        metadata["annotations"] = annotations.clone();
    }
    json!({"metadata": metadata, "spec": pod["spec"].clone()})
}

/// Evaluates `object` with every guardrail of a set and counts, per target, whether the set's
/// verdict (any guardrail violated) equals `deny`.
pub fn judge(set: &[Compiled], case_name: &str, object: Value, deny: bool, tally: &mut Tally) {
    let case = create(object);
    let mut denied = [false; TARGETS.len()];
    let mut failure: Option<String> = None;
    for policy in set {
        match policy.evaluate(&case, true) {
            Ok(verdicts) => {
                if let Err(problem) = verdicts.agreement() {
                    failure.get_or_insert(format!("{}: {problem}", policy.id));
                }
                denied[0] |= verdicts.vap.violated;
                denied[1] |= verdicts.gatekeeper.violated;
                denied[2] |= verdicts.opa.as_ref().is_some_and(|o| o.violated);
            }
            Err(error) => {
                failure.get_or_insert(format!("{}: {error}", policy.id));
            }
        }
    }
    tally.record(case_name, &denied.map(|d| Some(d == deny)), failure);
}
