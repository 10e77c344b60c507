//! The human reports' text: terminal-safe, one line per finding.

use crate::manifest_check::Finding;
use guardrailc_compiler::emit::Target;

/// `text` made safe to print on a terminal: control characters (escape sequences, line
/// breaks, backspace, C1 codes) and the bidirectional overrides that reorder what is shown
/// are written as escapes (`\n`, `\u{1b}`), so text from manifests and fixtures cannot
/// move the cursor, recolour the screen or forge report lines. JSON and SARIF escape by
/// themselves; this is for the human reports.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One finding as a line of the human report: verdict, environment, guardrail, place,
/// object and message, with `(only on …)` when some of `admission_targets` did not find
/// it. Everything that comes from the input goes through [`printable`].
pub fn human_finding(finding: &Finding, admission_targets: &[Target]) -> String {
    // The cross-object check has no targets: guardrailc runs it itself.
    let partial = !finding.targets.is_empty()
        && admission_targets
            .iter()
            .any(|t| !finding.targets.contains(t));
    let only = if partial {
        let names: Vec<&str> = finding.targets.iter().map(|t| t.as_str()).collect();
        format!(" (only on {})", names.join(", "))
    } else {
        String::new()
    };
    format!(
        "{:<6} {:<10} {:<30} {}:{} {}: {}{only}",
        finding.verdict.as_str(),
        printable(&finding.env),
        printable(&finding.guardrail),
        printable(&finding.file),
        finding.line,
        printable(&finding.object),
        printable(&finding.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest_check::finding_for_tests as finding;

    #[test]
    fn human_lines_escape_control_characters_from_the_input() {
        let forged = Finding {
            object: "Pod shop/\u{1b}[2Jweb".into(),
            message: "bad\ndeny   prod       forged                         x.yaml:1 Pod a/b: fake\r\u{202e}".into(),
            file: "in\u{7}put.yaml".into(),
            ..finding(3, Some("shop"), &[Target::Vap])
        };
        let line = human_finding(&forged, &[Target::Vap]);
        assert!(!line.contains(|c: char| c.is_control()), "{line:?}");
        assert!(!line.contains('\u{202e}'), "{line:?}");
        assert!(line.contains("Pod shop/\\u{1b}[2Jweb"), "{line}");
        assert!(line.contains("bad\\ndeny"), "{line}");
        assert!(line.contains("fake\\r\\u{202e}"), "{line}");
        assert!(line.contains("in\\u{7}put.yaml:3"), "{line}");
        // Ordinary text, quotes, backslashes and non-ASCII letters are left alone.
        assert_eq!(printable("café \"x\" a\\b"), "café \"x\" a\\b");
    }
}
