//! What one evaluation of one artifact produced, and the one comparison of two of them that
//! every agreement check uses (docs/evaluation.md, "The canonical comparison").

use guardrailc_compiler::emit::Target;
use std::fmt;

/// What the enforcement did with the request. Serialised as [`Verdict::as_str`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not matched, no violation, or an error under `failurePolicy: Ignore`.
    Allow,
    Deny,
    /// Admitted with a warning to the client.
    Warn,
    /// Admitted and recorded for audit only (VAP `[Audit]`, Gatekeeper `dryrun`).
    Audit,
}

impl From<guardrailc_compiler::ir::Enforcement> for Verdict {
    /// The verdict a violation gets under an enforcement action.
    fn from(enforcement: guardrailc_compiler::ir::Enforcement) -> Verdict {
        use guardrailc_compiler::ir::Enforcement;
        match enforcement {
            Enforcement::Deny => Verdict::Deny,
            Enforcement::Warn => Verdict::Warn,
            Enforcement::Audit => Verdict::Audit,
        }
    }
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [Verdict::Allow, Verdict::Deny, Verdict::Warn, Verdict::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Warn => "warn",
            Verdict::Audit => "audit",
        }
    }

    /// The verdict [`Verdict::as_str`] names.
    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Whether at least one rule yielded a violation (whatever the enforcement did with it).
    pub violated: bool,
    /// One message per violation, in the order the engine produced them.
    pub messages: Vec<String>,
    /// Evaluation errors. They never count as violations; the verdict says what the failure
    /// policy made of them.
    pub errors: Vec<String>,
    /// The guardrail rules (`ir::Rule::index`, 1-based) that yielded a violation, sorted, when
    /// the target says: VAP by its `rule_N` variables, Gatekeeper by `details.rule`. Plain
    /// OPA does not. Coverage reads it; the comparison does not.
    pub rules: Vec<usize>,
}

impl Outcome {
    /// The request was not in scope, or nothing was violated.
    pub fn allowed() -> Outcome {
        Outcome {
            verdict: Verdict::Allow,
            violated: false,
            messages: Vec::new(),
            errors: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// How a target met the object (docs/evaluation.md, "Request shapes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    /// An admission request, as the API server builds it.
    Admission,
    /// Gatekeeper's audit of the stored object.
    Audit,
    /// `gator test` of the manifest as written.
    Gator,
}

impl Review {
    pub fn as_str(self) -> &'static str {
        match self {
            Review::Admission => "admission",
            Review::Audit => "audit",
            Review::Gator => "gator",
        }
    }
}

/// Two outcomes that disagree, with both sides as the comparison saw them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub left: ComparedSide,
    pub right: ComparedSide,
}

/// One side of a comparison: its target, whether it was violated, and its messages sorted
/// (and de-duplicated where the other side is a set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComparedSide {
    pub target: Target,
    /// How the target reviewed the object: in admission, or (Gatekeeper) in its audit or
    /// `gator test`.
    pub review: Review,
    pub violated: bool,
    pub messages: Vec<String>,
}

/// The canonical comparison: two outcomes agree iff they are equally violated and their
/// sorted message multisets are equal. The `opa` target's `deny` is a set of strings, so
/// when one side is `opa` the other side's duplicate messages collapse first.
pub fn compare(left: (Target, &Outcome), right: (Target, &Outcome)) -> Result<(), Difference> {
    let collapse = left.0 == Target::Opa || right.0 == Target::Opa;
    let side = |(target, outcome): (Target, &Outcome)| {
        let mut messages = outcome.messages.clone();
        messages.sort();
        if collapse {
            messages.dedup();
        }
        ComparedSide {
            target,
            review: Review::Admission,
            violated: outcome.violated,
            messages,
        }
    };
    let (left, right) = (side(left), side(right));
    if left.violated == right.violated && left.messages == right.messages {
        Ok(())
    } else {
        Err(Difference { left, right })
    }
}

/// [`compare`] for `gator test` of a manifest against admission of the same object: a
/// message may print a quantity as the manifest writes it (`0.5Gi`) where admission prints
/// the API server's canonical form (`512Mi`), so two messages also agree when they differ only
/// in words that are equal quantities. Everything else must be equal, as in [`compare`].
pub fn compare_manifest(admission: &Outcome, manifest: &Outcome) -> Result<(), Difference> {
    let Err(difference) = compare(
        (Target::Gatekeeper, admission),
        (Target::Gatekeeper, manifest),
    ) else {
        return Ok(());
    };
    let (left, right) = (&difference.left, &difference.right);
    let mut unmatched: Vec<&String> = right.messages.iter().collect();
    let all_matched = left.violated == right.violated
        && left.messages.len() == right.messages.len()
        && left.messages.iter().all(|message| {
            match unmatched
                .iter()
                .position(|other| equal_but_quantities(message, other))
            {
                Some(index) => {
                    unmatched.swap_remove(index);
                    true
                }
                None => false,
            }
        });
    if all_matched {
        Ok(())
    } else {
        Err(difference)
    }
}

/// Whether two messages have the same words, where a pair of differing words may be two
/// spellings of one quantity.
fn equal_but_quantities(a: &str, b: &str) -> bool {
    use crate::vap::library::quantity::Quantity;
    let (a_words, b_words): (Vec<&str>, Vec<&str>) =
        (a.split(' ').collect(), b.split(' ').collect());
    a_words.len() == b_words.len()
        && a_words.iter().zip(&b_words).all(|(x, y)| {
            if x == y {
                return true;
            }
            // A word may carry punctuation after the value: `512Mi,`.
            let trim = |w: &str| -> (String, String) {
                let end = w.trim_end_matches([',', '.', ';', ':', ')']);
                (end.to_string(), w[end.len()..].to_string())
            };
            let ((x, x_tail), (y, y_tail)) = (trim(x), trim(y));
            x_tail == y_tail
                && matches!(
                    (Quantity::parse(&x), Quantity::parse(&y)),
                    (Ok(p), Ok(q)) if p == q
                )
        })
}

impl ComparedSide {
    /// The target, and `(audit)` or `(gator)` for Gatekeeper's reviews outside admission.
    pub fn name(&self) -> String {
        match self.review {
            Review::Admission => self.target.as_str().to_string(),
            review => format!("{} ({})", self.target.as_str(), review.as_str()),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (l, r) = (&self.left, &self.right);
        writeln!(f, "`{}` and `{}` disagree", l.name(), r.name())?;
        if l.violated != r.violated {
            writeln!(
                f,
                "  violated: {} says {}, {} says {}",
                l.name(),
                l.violated,
                r.name(),
                r.violated
            )?;
        }
        for side in [l, r] {
            writeln!(f, "  {} messages:", side.name())?;
            if side.messages.is_empty() {
                writeln!(f, "    (none)")?;
            }
            for message in &side.messages {
                let marker = if only_in(message, side, self) {
                    '!'
                } else {
                    ' '
                };
                writeln!(f, "   {marker}{message}")?;
            }
        }
        write!(f, "  (`!` marks a message the other side lacks)")
    }
}

/// Whether `message` of `side` has no counterpart on the other side (counting duplicates).
fn only_in(message: &str, side: &ComparedSide, difference: &Difference) -> bool {
    let other = if std::ptr::eq(side, &difference.left) {
        &difference.right
    } else {
        &difference.left
    };
    let count = |s: &ComparedSide| s.messages.iter().filter(|m| *m == message).count();
    count(side) > count(other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(violated: bool, messages: &[&str]) -> Outcome {
        Outcome {
            verdict: if violated {
                Verdict::Deny
            } else {
                Verdict::Allow
            },
            violated,
            messages: messages.iter().map(|m| m.to_string()).collect(),
            errors: Vec::new(),
            rules: Vec::new(),
        }
    }

    #[test]
    fn order_does_not_matter() {
        let a = outcome(true, &["b", "a"]);
        let b = outcome(true, &["a", "b"]);
        assert_eq!(compare((Target::Vap, &a), (Target::Gatekeeper, &b)), Ok(()));
    }

    #[test]
    fn duplicates_count_between_multisets() {
        let a = outcome(true, &["a", "a"]);
        let b = outcome(true, &["a"]);
        assert!(compare((Target::Vap, &a), (Target::Gatekeeper, &b)).is_err());
    }

    #[test]
    fn duplicates_collapse_against_opa() {
        let a = outcome(true, &["a", "a", "b"]);
        let b = outcome(true, &["b", "a"]);
        assert_eq!(compare((Target::Vap, &a), (Target::Opa, &b)), Ok(()));
        assert_eq!(compare((Target::Opa, &b), (Target::Gatekeeper, &a)), Ok(()));
    }

    #[test]
    fn violation_flag_must_match_even_without_messages() {
        let a = outcome(true, &[]);
        let b = outcome(false, &[]);
        assert!(compare((Target::Vap, &a), (Target::Gatekeeper, &b)).is_err());
    }

    #[test]
    fn the_verdict_is_not_compared() {
        let mut warned = outcome(true, &["a"]);
        warned.verdict = Verdict::Warn;
        let denied = outcome(true, &["a"]);
        assert_eq!(
            compare((Target::Vap, &warned), (Target::Gatekeeper, &denied)),
            Ok(())
        );
    }

    #[test]
    fn difference_prints_both_sides() {
        let a = outcome(true, &["x", "shared"]);
        let b = outcome(false, &["shared"]);
        let difference = compare((Target::Vap, &a), (Target::Gatekeeper, &b)).unwrap_err();
        assert_eq!(
            difference.to_string(),
            "`vap` and `gatekeeper` disagree\n  violated: vap says true, gatekeeper says false\n  vap messages:\n    shared\n   !x\n  gatekeeper messages:\n    shared\n  (`!` marks a message the other side lacks)"
        );
    }

    #[test]
    fn a_manifest_may_spell_a_quantity_differently_in_a_message() {
        let admission = outcome(
            true,
            &["c has CPU limit 512Mi, above 1", "c has no memory limit"],
        );
        // The same quantity written another way, in any order: agreement.
        let manifest = outcome(
            true,
            &["c has no memory limit", "c has CPU limit 0.5Gi, above 1"],
        );
        assert!(compare_manifest(&admission, &manifest).is_ok());
        // Another quantity, another word, a missing message, another verdict: disagreement.
        for other in [
            outcome(
                true,
                &["c has CPU limit 1Gi, above 1", "c has no memory limit"],
            ),
            outcome(
                true,
                &["c has CPU limit 512Mi; above 1", "c has no memory limit"],
            ),
            outcome(
                true,
                &["d has CPU limit 512Mi, above 1", "c has no memory limit"],
            ),
            outcome(true, &["c has CPU limit 512Mi, above 1"]),
            outcome(
                false,
                &["c has CPU limit 512Mi, above 1", "c has no memory limit"],
            ),
        ] {
            assert!(compare_manifest(&admission, &other).is_err(), "{other:?}");
        }
    }
}
