//! "Did you mean …?" suggestions: the name a misspelt field, kind, param or keyword was
//! probably meant to be.

/// The candidate closest to `name` by case-insensitive edit distance (insertions, deletions,
/// substitutions and swaps of adjacent characters each cost one), if it is a plausible typo:
/// at most one edit for every three characters of `name`, and at least one edit. Among
/// equally close candidates the first wins.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    let threshold = (name.len() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let lowered: Vec<char> = candidate.to_lowercase().chars().collect();
        // The distance is at least the difference in length; skip the table for far ones.
        if lowered.len().abs_diff(name.len()) > threshold {
            continue;
        }
        let distance = edit_distance(&name, &lowered);
        if distance <= threshold && best.is_none_or(|(closest, _)| distance < closest) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions (`imgae` is
/// one edit from `image`), each substring edited at most once.
pub fn edit_distance(a: &[char], b: &[char]) -> usize {
    // rows[i][j] is the distance between a[..i] and b[..j]; three rows suffice.
    let width = b.len() + 1;
    let mut before_previous = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..width {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut distance = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                distance = distance.min(before_previous[j - 2] + 1);
            }
            current[j] = distance;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest as did_you_mean, edit_distance};

    fn distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        edit_distance(&a, &b)
    }

    #[test]
    fn edit_distance_counts_each_kind_of_edit_once() {
        assert_eq!(distance("image", "image"), 0);
        assert_eq!(distance("imagee", "image"), 1); // deletion
        assert_eq!(distance("imag", "image"), 1); // insertion
        assert_eq!(distance("imaxe", "image"), 1); // substitution
        assert_eq!(distance("imgae", "image"), 1); // transposition
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_the_closest_plausible_candidate() {
        let candidates = ["name", "image", "images", "args"];
        assert_eq!(did_you_mean("imagee", candidates), Some("image"));
        assert_eq!(did_you_mean("imgae", candidates), Some("image"));
        assert_eq!(did_you_mean("IMAGE", candidates), Some("image"));
        assert_eq!(did_you_mean("nmae", candidates), Some("name"));
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(did_you_mean("cat", ["bat", "hat"]), Some("bat"));
        assert_eq!(did_you_mean("cat", ["hat", "bat"]), Some("hat"));
    }

    #[test]
    fn far_names_get_no_suggestion() {
        let candidates = ["name", "image", "args"];
        assert_eq!(did_you_mean("volumeMounts", candidates), None);
        // Two edits in a five-letter word is more than one per three characters.
        assert_eq!(did_you_mean("imxxe", candidates), None);
        assert_eq!(did_you_mean("anything", std::iter::empty()), None);
    }
}
