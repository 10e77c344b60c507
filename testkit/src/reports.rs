//! Machine-readable reports of a test run: JSON and JUnit XML. Every kind of test (fixture
//! case, snapshot file, property run, coverage check) is one [`TestRecord`].

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
    fn suite(self) -> &'static str {
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

/// JUnit XML: one `<testsuite>` per kind of test, one `<testcase>` per record, a
/// `<failure>` holding every failure text of a failed one. The classname is
/// `guardrail.env` so CI tools group cases by guardrail.
pub fn junit_report(records: &[TestRecord]) -> String {
    let (_, failed) = counts(records);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"guardrailc\" tests=\"{}\" failures=\"{failed}\">\n",
        records.len()
    ));
    let mut kinds: Vec<TestKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let suite: Vec<&TestRecord> = records.iter().filter(|r| r.kind == kind).collect();
        let suite_failed = suite.iter().filter(|r| !r.passed()).count();
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failed}\">\n",
            kind.suite(),
            suite.len()
        ));
        for record in suite {
            let classname = match (&record.guardrail, &record.env) {
                (Some(g), Some(e)) => format!("{g}.{e}"),
                (Some(g), None) => g.clone(),
                _ => kind.suite().to_string(),
            };
            let mut attributes = format!(
                "classname=\"{}\" name=\"{}\"",
                escape(&classname),
                escape(&record.name)
            );
            if let Some(file) = &record.file {
                attributes.push_str(&format!(" file=\"{}\"", escape(file)));
            }
            if let Some(line) = record.line {
                attributes.push_str(&format!(" line=\"{line}\""));
            }
            if record.passed() {
                xml.push_str(&format!("    <testcase {attributes}/>\n"));
            } else {
                let first = record.failures[0].lines().next().unwrap_or_default();
                xml.push_str(&format!(
                    "    <testcase {attributes}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(first),
                    escape(&record.failures.join("\n"))
                ));
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                escaped.push('\u{FFFD}')
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }

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
