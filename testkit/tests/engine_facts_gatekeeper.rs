//! The `input` Gatekeeper's audit and `gator` hand a ConstraintTemplate
//! (`engine-facts/gatekeeper-review.json`) against the review the testkit builds for its audit
//! shape (`request_shape::audit_review`). Adding a case to the file adds a test case.

use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::rego::RegoRun;
use guardrailc_testkit::request_shape::audit_review;
use guardrailc_testkit::shared_data::shared_path;
use guardrailc_testkit::{AdmissionCase, GatekeeperPolicy, Operation, SchemaCatalog};
use serde_json::Value;

fn cases() -> Option<Vec<Value>> {
    let path = shared_path(
        "engine-facts/gatekeeper-review.json",
        "the input Gatekeeper's audit and gator give a template",
    )?;
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
    Some(file["cases"].as_array().expect("cases").clone())
}

/// Whether the case reviews an existing object (`gator test`, or `gator verify` given a plain
/// object), not an AdmissionReview written by hand.
fn reviews_an_existing_object(case: &Value) -> bool {
    case["input"]["review"]["operation"] == ""
}

#[test]
fn the_audit_review_is_the_one_gator_gives() {
    let Some(cases) = cases() else { return };
    let mut checked = 0;
    for case in cases.iter().filter(|c| reviews_an_existing_object(c)) {
        let recorded = &case["input"]["review"];
        let object = &recorded["object"];
        assert_eq!(
            &audit_review(object),
            recorded,
            "{}: the audit review differs from gator's",
            case["id"]
        );
        checked += 1;
    }
    eprintln!("gatekeeper-review.json: {checked} audit reviews equal gator's");
    assert!(checked >= 4, "only {checked} audit cases in the file");
}

#[test]
fn the_testkits_gatekeeper_hands_a_template_the_input_gator_gives() {
    // The recorded template reports its whole input (`json.marshal(input)`): evaluated by the
    // testkit's Gatekeeper in the audit shape, it must report the input gator recorded.
    let Some(path) = shared_path(
        "engine-facts/gatekeeper-review.json",
        "gator's template input",
    ) else {
        return;
    };
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
    let policy = GatekeeperPolicy::load(
        file["template"].as_str().expect("the template"),
        file["constraint"].as_str().expect("the constraint"),
    )
    .expect("the recorded template loads");
    let catalog = SchemaCatalog(Schema::builtin());
    let mut checked = 0;
    for case in file["cases"].as_array().expect("cases") {
        let recorded = &case["input"];
        let object = &recorded["review"]["object"];
        // A stored object always has its namespace; gator on a manifest without one does
        // not, and the testkit's audit reviews stored objects.
        if !reviews_an_existing_object(case) || object["metadata"]["namespace"].is_null() {
            continue;
        }
        let admission = AdmissionCase {
            operation: Operation::Create,
            object: Some(object.clone()),
            old_object: None,
            namespace_object: None,
            user: Default::default(),
        };
        let outcome = policy
            .evaluate_audit(&admission, &catalog, RegoRun::Reference(None))
            .expect("evaluates")
            .expect("audit reviews a created object");
        assert_eq!(outcome.messages.len(), 1, "{}: {outcome:?}", case["id"]);
        let input: Value = serde_json::from_str(&outcome.messages[0]).expect("JSON");
        assert_eq!(&input, recorded, "{}", case["id"]);
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} cases checked end to end");
}
