//! Shortening upstream descriptions to what an editor hover needs: the first sentence.

/// Longest summary kept, in characters; a longer first sentence is cut at a word boundary.
const MAX_SUMMARY_CHARS: usize = 300;

/// Abbreviations whose period does not end a sentence in the Kubernetes descriptions.
const ABBREVIATIONS: &[&str] = &["e.g", "i.e", "vs", "etc"];

/// The first sentence of `description`, with whitespace collapsed, at most
/// [`MAX_SUMMARY_CHARS`] characters (a cut sentence ends in `…`).
pub fn summarize(description: &str) -> String {
    let words: Vec<&str> = description.split_whitespace().collect();
    let mut summary = String::new();
    for (index, word) in words.iter().enumerate() {
        if !summary.is_empty() {
            summary.push(' ');
        }
        summary.push_str(word);
        if ends_sentence(word, words.get(index + 1).copied()) {
            break;
        }
    }
    truncate_at_word(summary)
}

/// A word ends a sentence if it ends in `.` (not an abbreviation) and the next word, if any,
/// starts with something other than a lowercase letter.
fn ends_sentence(word: &str, next: Option<&str>) -> bool {
    let Some(stem) = word.strip_suffix('.') else {
        return false;
    };
    if ABBREVIATIONS
        .iter()
        .any(|abbreviation| stem.to_ascii_lowercase().ends_with(abbreviation))
    {
        return false;
    }
    next.is_none_or(|next| !next.starts_with(|c: char| c.is_lowercase()))
}

fn truncate_at_word(summary: String) -> String {
    if summary.chars().count() <= MAX_SUMMARY_CHARS {
        return summary;
    }
    let limit = summary
        .char_indices()
        .nth(MAX_SUMMARY_CHARS)
        .map_or(summary.len(), |(index, _)| index);
    let cut = summary[..limit].rfind(' ').unwrap_or(limit);
    format!("{}…", summary[..cut].trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn keeps_only_the_first_sentence() {
        assert_eq!(
            summarize("Image pull policy. One of Always, Never, IfNotPresent."),
            "Image pull policy."
        );
    }

    #[test]
    fn an_abbreviation_does_not_end_the_sentence() {
        assert_eq!(
            summarize("A list of families (e.g. IPv4, IPv6) assigned here. More text."),
            "A list of families (e.g. IPv4, IPv6) assigned here."
        );
    }

    #[test]
    fn a_period_before_a_lowercase_word_does_not_end_the_sentence() {
        assert_eq!(
            summarize("Uses the field in .spec. containers only. Then more."),
            "Uses the field in .spec. containers only."
        );
    }

    #[test]
    fn collapses_line_breaks_and_indentation() {
        assert_eq!(summarize("Two\n  lines\n\nhere"), "Two lines here");
    }

    #[test]
    fn a_long_sentence_is_cut_at_a_word_boundary() {
        let long = "word ".repeat(100);
        let summary = summarize(&long);
        assert!(summary.ends_with("word…"), "{summary}");
        assert!(summary.chars().count() <= 301, "{summary}");
    }

    #[test]
    fn an_empty_description_stays_empty() {
        assert_eq!(summarize(""), "");
    }
}
