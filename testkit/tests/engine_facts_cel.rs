//! Which CEL the API server accepts per Kubernetes version, and what a few expressions give
//! on a Pod (`engine-facts/vap-compile.json`), against the compiler's version gates and the
//! testkit's VAP engine. Adding a case to the file adds a test case.

use guardrailc_compiler::backend::cel::print_expr;
use guardrailc_compiler::ir::{Access, CompareOp, Domain, Expr, Literal, Root, Step};
use guardrailc_compiler::kube::{CelLibrary, KubeVersion};
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::request_shape;
use guardrailc_testkit::shared_data::shared_path;
use guardrailc_testkit::{AdmissionCase, Operation, SchemaCatalog, VapPolicy};
use serde_json::Value;

fn facts() -> Option<Value> {
    let path = shared_path(
        "engine-facts/vap-compile.json",
        "the CEL the API server accepts per version",
    )?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON"))
}

/// The fact cases that exercise each library the CEL backend gates by version.
const LIBRARY_CASES: &[(CelLibrary, &[&str])] = &[
    (
        CelLibrary::Quantity,
        &["isQuantity", "quantity.compareTo", "quantity.isLessThan"],
    ),
    (
        CelLibrary::StringsV2,
        &[
            "strings.lowerAscii",
            "strings.split",
            "strings.join",
            "strings.replace",
            "strings.indexOf",
        ],
    ),
    (
        CelLibrary::Lists,
        &["k8s list isSorted", "k8s list sum/min/max"],
    ),
    (CelLibrary::Regex, &["regex find"]),
    (
        CelLibrary::Optionals,
        &["optional orValue", "optional index"],
    ),
    (CelLibrary::IpCidr, &["ip", "isIP", "cidr"]),
    (CelLibrary::Format, &["strings.format"]),
    (CelLibrary::Semver, &["isSemver", "semver.compareTo"]),
];

#[test]
fn each_library_is_gated_at_the_version_the_api_server_accepts_it_from() {
    let Some(facts) = facts() else { return };
    let cases = facts["cases"].as_array().expect("cases");
    for (library, ids) in LIBRARY_CASES {
        for id in *ids {
            let case = cases
                .iter()
                .find(|c| c["id"] == *id)
                .unwrap_or_else(|| panic!("no fact `{id}`"));
            let from = case["accepted_from"].as_str().expect("accepted_from");
            let from = KubeVersion::parse(from).unwrap_or_else(|| panic!("{id}: {from}"));
            assert_eq!(
                library.since(),
                from,
                "{library:?} is gated at {}, but the API server accepts `{}` from {from}",
                library.since(),
                case["expression"]
            );
        }
    }
}

/// A VAP policy with `expression` as its one validation, on Pods, and its binding.
fn policy(expression: &str) -> VapPolicy {
    let policy = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: p}}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [pods]\n  variables:\n  - name: x\n    expression: 'true'\n  validations:\n  - expression: {}\n",
        serde_json::to_string(expression).expect("a string")
    );
    let binding = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: p}\nspec:\n  policyName: p\n  validationActions: [Deny]\n";
    VapPolicy::load(&policy, binding).unwrap_or_else(|e| panic!("{expression}: {e}"))
}

#[test]
fn the_testkits_vap_decides_the_recorded_probes_as_the_api_server_did() {
    let Some(facts) = facts() else { return };
    let probes = facts["evaluation_probes_1.34"]["cases"]
        .as_array()
        .expect("probes");
    assert!(!probes.is_empty());
    let catalog = SchemaCatalog(Schema::builtin());
    for probe in probes {
        let expression = probe["expression"].as_str().expect("an expression");
        let object: Value =
            yaml_serde::from_str(probe["object_yaml"].as_str().expect("an object")).expect("YAML");
        let case = AdmissionCase {
            operation: Operation::Create,
            object: Some(object),
            old_object: None,
            namespace_object: None,
            user: Default::default(),
        };
        // As the API server hands it to admission (hostNetwork: false is gone).
        let case = request_shape::admitted(&case, &catalog).expect("the probe object decodes");
        let outcome = policy(expression)
            .evaluate(&case, &catalog)
            .expect("the probe evaluates");
        let decision = if !outcome.errors.is_empty() {
            "error"
        } else if outcome.violated {
            "deny"
        } else {
            "allow"
        };
        assert_eq!(decision, probe["decision"], "`{expression}`: {outcome:?}");
    }
}

/// `ROOT.FIELD.… == "default"` as the CEL backend prints it.
fn printed_equality(root: Root, fields: &[&str]) -> String {
    let expr = Expr::Compare {
        op: CompareOp::Eq,
        domain: Domain::String,
        lhs: Box::new(Expr::Value(Access {
            root,
            steps: fields.iter().map(|f| Step::Field(f.to_string())).collect(),
        })),
        rhs: Box::new(Expr::Literal(Literal::String("default".into()))),
    };
    print_expr(&expr, &[], KubeVersion::DEFAULT).expect("prints")
}

/// Whether the API server accepts `expression` at `version` (None when no fact records it).
fn accepted(facts: &Value, expression: &str, version: &str) -> Option<bool> {
    let case = facts["cases"]
        .as_array()?
        .iter()
        .find(|c| c["expression"] == expression)?;
    case["results"][version]["accepted"].as_bool()
}

#[test]
fn request_and_namespace_fields_print_as_the_api_server_accepts_them() {
    let Some(facts) = facts() else { return };
    let request = printed_equality(Root::Request, &["namespace"]);
    let object = printed_equality(Root::Object, &["metadata", "namespace"]);
    assert_eq!(accepted(&facts, &request, "1.30"), Some(true), "{request}");
    assert_eq!(accepted(&facts, &object, "1.30"), Some(true), "{object}");
    // Planted: the keyword escaping the printer used to apply is refused for `request`
    // (a typed object with no such field), so this check fails on it.
    let planted = request.replace("request.namespace", "request.__namespace__");
    assert_eq!(accepted(&facts, &planted, "1.30"), Some(false), "{planted}");
}
