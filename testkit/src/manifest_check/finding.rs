//! What a check finds: one [`Finding`] per violation, in the order reports list them, and
//! findings counted by namespace or owner as they stream past.

use crate::outcome::Verdict;
use guardrailc_compiler::emit::Target;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One violation of one guardrail by one object in one environment, with the targets that
/// found it (all of them unless the targets disagree; none for the cross-object
/// default-deny check, which guardrailc runs itself). Its JSON (the `check --format json`
/// findings, the spool of a run) is its serde form, fields in this order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    /// `Kind namespace/name` or `Kind name`.
    pub object: String,
    pub guardrail: String,
    pub env: String,
    /// The environment's enforcement of the guardrail.
    pub verdict: Verdict,
    pub message: String,
    /// The object's namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The value of the grouping label on the object, or else on its namespace.
    pub owner: Option<String>,
    pub targets: Vec<Target>,
}

/// The order reports list findings in: by place (file, line), then environment, guardrail
/// and message.
pub fn report_order(f: &Finding) -> (&str, usize, &str, &str, &str) {
    (&f.file, f.line, &f.env, &f.guardrail, &f.message)
}

/// Findings counted by a key: total and denied, sorted by key (`None`, the findings
/// without one, last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub findings: usize,
    pub denied: usize,
}

/// Findings counted by a key as they come, for reports that do not keep the findings.
#[derive(Clone, Debug, Default)]
pub struct Groups(BTreeMap<(bool, String), Group>);

impl Groups {
    /// Counts one finding under `key`.
    pub fn add(&mut self, key: Option<&str>, verdict: Verdict) {
        let group = self
            .0
            .entry((key.is_none(), key.unwrap_or_default().to_string()))
            .or_default();
        group.findings += 1;
        group.denied += usize::from(verdict == Verdict::Deny);
    }

    /// The groups, sorted by key, the findings without one last.
    pub fn into_sorted(self) -> Vec<(Option<String>, Group)> {
        self.0
            .into_iter()
            .map(|((none, key), group)| ((!none).then_some(key), group))
            .collect()
    }
}

/// The groups as JSON: `[{KEY_NAME, findings, denied}]`, `null` for findings without a key.
pub fn json_groups(groups: &[(Option<String>, Group)], key_name: &str) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|(key, group)| {
                let mut entry = Map::new();
                entry.insert(key_name.to_string(), json!(key));
                entry.insert("findings".into(), json!(group.findings));
                entry.insert("denied".into(), json!(group.denied));
                Value::Object(entry)
            })
            .collect(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn finding(line: usize, namespace: Option<&str>, targets: &[Target]) -> Finding {
        Finding {
            file: "export.yaml".into(),
            line,
            object: "Pod shop/web".into(),
            namespace: namespace.map(str::to_string),
            owner: None,
            guardrail: "no-latest-tag".into(),
            env: "prod".into(),
            verdict: Verdict::Warn,
            message: "container \"app\" uses nginx:latest".into(),
            targets: targets.to_vec(),
        }
    }

    #[test]
    fn a_finding_reads_back_from_its_json() {
        for finding in [
            finding(3, Some("shop"), &[Target::Vap, Target::Gatekeeper]),
            finding(7, None, &[]),
        ] {
            let json = serde_json::to_value(&finding).unwrap();
            assert_eq!(json["verdict"], "warn");
            assert_eq!(serde_json::from_value::<Finding>(json).unwrap(), finding);
        }
        assert!(serde_json::from_value::<Finding>(json!({"file": "x"})).is_err());
        let keys: Vec<String> = serde_json::to_value(finding(1, None, &[Target::Opa]))
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "file",
                "line",
                "object",
                "guardrail",
                "env",
                "verdict",
                "message",
                "namespace",
                "owner",
                "targets"
            ]
        );
    }

    #[test]
    fn groups_count_by_key_with_the_findings_without_one_last() {
        let findings = [
            finding(1, Some("shop"), &[]),
            finding(2, None, &[]),
            Finding {
                verdict: Verdict::Deny,
                ..finding(3, Some("apps"), &[])
            },
        ];
        let mut groups = Groups::default();
        for f in &findings {
            groups.add(f.namespace.as_deref(), f.verdict);
        }
        let one = |denied| Group {
            findings: 1,
            denied,
        };
        assert_eq!(
            groups.into_sorted(),
            [
                (Some("apps".to_string()), one(1)),
                (Some("shop".to_string()), one(0)),
                (None, one(0)),
            ]
        );
    }
}
