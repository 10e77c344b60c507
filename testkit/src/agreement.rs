//! Agreement of the targets on one case: every target's outcome against the first
//! admission target's, with the canonical [`compare`].

use crate::compiled::Evaluation;
use crate::outcome::{compare, compare_manifest, Difference, Review};
use guardrailc_compiler::emit::Target;

/// The differences between the targets on one evaluation: each target against the first
/// one (VAP when emitted). The plain OPA target joins only where the evaluation says it is
/// comparable (see [`Evaluation::opa_comparable`]).
pub fn disagreements(evaluation: &Evaluation) -> Vec<Difference> {
    let compared: Vec<_> = evaluation
        .outcomes
        .iter()
        .filter(|(target, _)| *target != Target::Opa || evaluation.opa_comparable)
        .collect();
    let Some(((reference_target, reference), rest)) = compared.split_first() else {
        return Vec::new();
    };
    let mut differences: Vec<Difference> = rest
        .iter()
        .filter_map(|(target, outcome)| {
            compare((*reference_target, reference), (*target, outcome)).err()
        })
        .collect();
    // Gatekeeper's audit of the stored object, and `gator test` of the manifest, against its
    // admission review.
    if let (Some(admission), true) = (
        evaluation.outcome(Target::Gatekeeper),
        evaluation.audit_comparable,
    ) {
        for (review, outcome) in evaluation.reviews() {
            let compared = match review {
                Review::Gator => compare_manifest(admission, outcome),
                _ => compare(
                    (Target::Gatekeeper, admission),
                    (Target::Gatekeeper, outcome),
                ),
            };
            if let Err(mut difference) = compared {
                difference.right.review = review;
                differences.push(difference);
            }
        }
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Verdict};

    fn denied(message: &str) -> Outcome {
        Outcome {
            verdict: Verdict::Deny,
            violated: true,
            messages: vec![message.to_string()],
            errors: Vec::new(),
            rules: Vec::new(),
        }
    }

    #[test]
    fn opa_is_compared_only_when_comparable() {
        let mut evaluation = Evaluation {
            outcomes: vec![
                (Target::Vap, Outcome::allowed()),
                (Target::Gatekeeper, Outcome::allowed()),
                (
                    Target::Opa,
                    denied("out of scope for the admission targets"),
                ),
            ],
            opa_comparable: false,
            vap_cost: None,
            audit: None,
            gator: None,
            audit_comparable: false,
        };
        assert!(disagreements(&evaluation).is_empty());
        evaluation.opa_comparable = true;
        let found = disagreements(&evaluation);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].right.target, Target::Opa);
    }

    #[test]
    fn every_target_is_compared_with_the_first() {
        let evaluation = Evaluation {
            outcomes: vec![
                (Target::Vap, denied("a")),
                (Target::Gatekeeper, denied("b")),
            ],
            opa_comparable: true,
            vap_cost: None,
            audit: None,
            gator: None,
            audit_comparable: false,
        };
        let found = disagreements(&evaluation);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].left.messages, vec!["a"]);
        assert_eq!(found[0].right.messages, vec!["b"]);
    }

    #[test]
    fn gatekeeper_audit_is_compared_with_admission_where_comparable() {
        let mut evaluation = Evaluation {
            outcomes: vec![
                (Target::Vap, denied("a")),
                (Target::Gatekeeper, denied("a")),
            ],
            opa_comparable: false,
            vap_cost: None,
            audit: Some(Outcome::allowed()),
            gator: None,
            audit_comparable: false,
        };
        assert!(disagreements(&evaluation).is_empty());
        evaluation.audit_comparable = true;
        let found = disagreements(&evaluation);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].right.review, Review::Audit);
        assert!(
            found[0]
                .to_string()
                .starts_with("`gatekeeper` and `gatekeeper (audit)` disagree"),
            "{}",
            found[0]
        );
    }
}
