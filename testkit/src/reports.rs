//! The records of a test run and its JSON report. Every kind of test (fixture case, snapshot
//! file, property run, coverage check, exemption) is one [`TestRecord`]; the JUnit XML of
//! them is rendered in [`crate::report::junit`].

use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TestKind {
    Case,
    Snapshot,
    Property,
    Coverage,
    /// An exemption still in force: it fails once its expiry date has passed.
    Exemption,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Case => "case",
            TestKind::Snapshot => "snapshot",
            TestKind::Property => "property",
            TestKind::Coverage => "coverage",
            TestKind::Exemption => "exemption",
        }
    }

    /// The JUnit test suite name of this kind.
    pub(crate) fn suite(self) -> &'static str {
        match self {
            TestKind::Case => "fixtures",
            TestKind::Snapshot => "snapshots",
            TestKind::Property => "property",
            TestKind::Coverage => "coverage",
            TestKind::Exemption => "exemptions",
        }
    }
}

/// One test of a run and why it failed (no failures: passed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRecord {
    pub kind: TestKind,
    pub name: String,
    pub guardrail: Option<String>,
    pub env: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub failures: Vec<String>,
}

impl TestRecord {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// `(passed, failed)`.
pub fn counts(records: &[TestRecord]) -> (usize, usize) {
    let passed = records.iter().filter(|r| r.passed()).count();
    (passed, records.len() - passed)
}

/// The closing line of every report: `N passed, N failed`.
pub fn summary_line(records: &[TestRecord]) -> String {
    let (passed, failed) = counts(records);
    format!("{passed} passed, {failed} failed")
}

pub fn json_report(records: &[TestRecord], extra: Value) -> Value {
    let (passed, failed) = counts(records);
    json!({
        "passed": passed,
        "failed": failed,
        "tests": records.iter().map(|r| json!({
            "kind": r.kind.as_str(),
            "name": r.name,
            "guardrail": r.guardrail,
            "env": r.env,
            "file": r.file,
            "line": r.line,
            "passed": r.passed(),
            "failures": r.failures,
        })).collect::<Vec<_>>(),
        "details": extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_failures() {
        let record = |failures: Vec<String>| TestRecord {
            kind: TestKind::Case,
            name: "n".into(),
            guardrail: None,
            env: None,
            file: None,
            line: None,
            failures,
        };
        let records = [record(vec![]), record(vec!["x".into()]), record(vec![])];
        assert_eq!(summary_line(&records), "2 passed, 1 failed");
    }
}
