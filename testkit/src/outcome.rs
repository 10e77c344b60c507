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
    /// The side is Gatekeeper's audit of the stored object, not an admission review.
    pub audit: bool,
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
            audit: false,
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

impl ComparedSide {
    /// The target, and `(audit)` for Gatekeeper's audit.
    pub fn name(&self) -> String {
        if self.audit {
            format!("{} (audit)", self.target.as_str())
        } else {
            self.target.as_str().to_string()
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
}
