//! A test run as JUnit XML, the report CI systems read.

use crate::reports::{counts, TestKind, TestRecord};

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
}
