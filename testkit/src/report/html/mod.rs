//! The HTML pages guardrailc writes: the catalog of guardrails (`docs --format html`) and the
//! impact report (`check --format html`). Each is one self-contained page (no scripts, no
//! external assets) on the one [`STYLESHEET`].

pub mod catalog;
pub mod impact;

/// The stylesheet of every page. Shared: `muted`, `bars` (`by-env`: the catalog's label and
/// bar; `by-group`: the impact page's label, bar and count), `bar` with `deny`, `warn`,
/// `audit` and `other` segments, tables and `card`s. The catalog's: `legend`, `tag`,
/// `sev-*`, `expired`; the impact page's: `cards` (the summary numbers), `v-*` verdicts.
pub const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;padding:0 1rem}
h1{margin-bottom:.2rem}.muted{color:#57606a}
.bars{display:grid;gap:.4rem 1rem;align-items:center;margin:1rem 0 2rem}
.bars.by-env{grid-template-columns:8rem 1fr}.bars.by-group{grid-template-columns:14rem 1fr 7rem}
.bar{display:flex;height:1.2rem;border-radius:3px;overflow:hidden;background:#eaeef2}
.bar span{display:block;height:100%}.deny{background:#cf222e}.warn,.other{background:#bf8700}.audit{background:#0969da}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
.card{border:1px solid #d0d7de;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0}
.cards{display:flex;gap:1rem;margin:1rem 0 2rem}.cards .card{padding:.8rem 1.2rem;margin:0;min-width:9rem}.card b{display:block;font-size:1.8rem}
.tag{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85rem;background:#eaeef2;margin-right:.3rem}
.sev-critical,.sev-high{background:#ffebe9}.expired{color:#cf222e;font-weight:600}
.v-deny{color:#cf222e;font-weight:600}.v-warn{color:#9a6700;font-weight:600}.v-audit{color:#0969da}
";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A whole page: `title` (escaped here) in the head, the stylesheet, and `body` (HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{STYLESHEET}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_page_is_one_document_with_the_stylesheet() {
        let page = page("a < b", "<p>x</p>\n");
        assert!(page.starts_with("<!DOCTYPE html>\n"));
        assert!(page.contains("<title>a &lt; b</title>"));
        assert_eq!(page.matches("<style>").count(), 1);
        assert!(page.ends_with("<p>x</p>\n</body>\n</html>\n"));
    }
}
