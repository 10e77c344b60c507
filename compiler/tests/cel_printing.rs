//! How single IR expressions print as CEL, and what stops a policy from printing. Expected
//! texts are written by hand from the CEL grammar and the Kubernetes escaping rules.

#[allow(dead_code)]
mod cel_policies;

use cel_policies::*;
use guardrailc_compiler::backend::cel::{print_expr, print_policy};
use guardrailc_compiler::ir::*;
use guardrailc_compiler::kube::KubeVersion;
use guardrailc_compiler::{Code, Severity as DiagnosticSeverity};

fn cel(expr: &Expr) -> String {
    cel_with(expr, &[])
}

fn cel_with(expr: &Expr, params: &[ParamValue]) -> String {
    let printed = print_expr(expr, params, KubeVersion::DEFAULT).expect("prints");
    if let Err(error) = cel::Program::compile(&printed) {
        panic!("`{printed}` does not parse: {error}");
    }
    printed
}

fn flag(name: &str) -> Expr {
    value(var(name, &[]))
}

fn int(n: i64) -> Expr {
    Expr::Literal(Literal::Int(n))
}

#[test]
fn presence_tests_every_step_and_nullable_roots() {
    let labels = access(
        Root::OldObject,
        &[field("metadata"), field("labels"), key("a")],
    );
    assert_eq!(
        cel(&present(labels)),
        r#"oldObject != null && has(oldObject.metadata) && has(oldObject.metadata.labels) && "a" in oldObject.metadata.labels"#
    );
    let port = var("c", &[field("ports"), Step::Index(0), field("hostPort")]);
    assert_eq!(
        cel(&present(port)),
        "has(c.ports) && size(c.ports) > 0 && has(c.ports[0].hostPort)"
    );
    assert_eq!(cel(&present(access(Root::Object, &[]))), "true");
    assert_eq!(
        cel(&present(access(Root::Namespace, &[]))),
        "namespaceObject != null"
    );
    assert_eq!(
        cel(&present(access(Root::PodSpec, &[field("hostNetwork")]))),
        "variables.podSpec != null && has(variables.podSpec.hostNetwork)"
    );
}

#[test]
fn value_or_falls_back_when_absent() {
    assert_eq!(
        cel(&string_or(var("c", &[field("image")]), "<missing>")),
        r#"has(c.image) ? c.image : "<missing>""#
    );
    // nothing can be absent: no test
    assert_eq!(cel(&string_or(access(Root::Request, &[]), "x")), "request");
    // a receiver needs the parentheses
    assert_eq!(
        cel(&string_test(
            StringOp::StartsWith,
            string_or(var("c", &[field("image")]), ""),
            string("a")
        )),
        r#"(has(c.image) ? c.image : "").startsWith("a")"#
    );
}

#[test]
fn properties_are_read_under_their_own_names_as_the_api_server_binds_them() {
    let path = |name: &str| {
        cel(&value(access(
            Root::Object,
            &[field("metadata"), field(name)],
        )))
    };
    // engine-facts/vap-compile.json: `object.metadata.__namespace__` fails with `no such key`
    assert_eq!(path("namespace"), "object.metadata.namespace");
    // `object.spec["x-y"]` is accepted; `x__dash__y` names no key of the unstructured map
    assert_eq!(path("x-y.z/w"), r#"object.metadata["x-y.z/w"]"#);
    assert_eq!(path("a__b"), "object.metadata.a__b");
    // the presence test of an indexed property is `in`
    assert_eq!(
        cel(&present(access(
            Root::Object,
            &[field("spec"), field("x-y")]
        ))),
        r#"has(object.spec) && "x-y" in object.spec"#
    );
    // map keys are strings, not properties
    assert_eq!(
        cel(&value(access(
            Root::Object,
            &[field("metadata"), field("labels"), key("a\"b-c")]
        ))),
        r#"object.metadata.labels["a\"b-c"]"#
    );
}

#[test]
fn loop_variables_never_collide_with_cel_names() {
    let all = Expr::Quantified {
        quantifier: Quantifier::All,
        var: "in".to_string(),
        list: Box::new(flag("items")),
        body: Box::new(compare(CompareOp::Gt, Domain::Int, flag("in"), int(0))),
    };
    assert_eq!(cel(&all), "items.all(in_, in_ > 0)");
    let typed = Expr::IsType {
        value: Box::new(flag("string")),
        ty: ValueType::String,
    };
    assert_eq!(cel(&typed), "type(string_) == string");
}

#[test]
fn parentheses_only_where_the_grammar_needs_them() {
    let (a, b, c) = (flag("a"), flag("b"), flag("c"));
    assert_eq!(
        cel(&not(Expr::And(vec![a.clone(), b.clone()]))),
        "!(a && b)"
    );
    assert_eq!(
        cel(&Expr::And(vec![
            Expr::Or(vec![a.clone(), b.clone()]),
            c.clone()
        ])),
        "(a || b) && c"
    );
    assert_eq!(
        cel(&Expr::Or(vec![
            Expr::And(vec![a.clone(), b.clone()]),
            c.clone()
        ])),
        "a && b || c"
    );
    assert_eq!(cel(&not(not(a.clone()))), "!!a");
    assert_eq!(
        cel(&not(compare(CompareOp::Eq, Domain::Int, a.clone(), int(1)))),
        "!(a == 1)"
    );
    assert_eq!(
        cel(&compare(
            CompareOp::Eq,
            Domain::Bool,
            compare(CompareOp::Lt, Domain::Int, a.clone(), int(-1)),
            Expr::Literal(Literal::Bool(true))
        )),
        "(a < -1) == true"
    );
    assert_eq!(cel(&Expr::And(Vec::new())), "true");
    assert_eq!(cel(&Expr::Or(Vec::new())), "false");
    assert_eq!(cel(&Expr::Or(vec![c])), "c");
}

#[test]
fn types_and_quantities() {
    let limit = || value(var("c", &[field("limits"), key("cpu")]));
    assert_eq!(
        cel(&Expr::IsType {
            value: Box::new(limit()),
            ty: ValueType::Int
        }),
        r#"type(c.limits["cpu"]) == int"#
    );
    assert_eq!(
        cel(&not(Expr::IsType {
            value: Box::new(limit()),
            ty: ValueType::Quantity
        })),
        r#"!(type(c.limits["cpu"]) == string && isQuantity(c.limits["cpu"]))"#
    );
    assert_eq!(
        cel(&compare(
            CompareOp::Le,
            Domain::Quantity,
            Expr::Literal(Literal::Quantity("500m".into())),
            limit()
        )),
        r#"quantity("500m").compareTo(quantity(c.limits["cpu"])) <= 0"#
    );
}

#[test]
fn params_are_inlined_as_literals() {
    let params = vec![
        ParamValue {
            name: "limits".into(),
            ty: ParamType::Map(Box::new(ParamType::String)),
            value: Literal::Map(std::collections::BTreeMap::from([
                ("cpu".into(), Literal::String("1".into())),
                ("memory".into(), Literal::Quantity("2Gi".into())),
            ])),
        },
        ParamValue {
            name: "ports".into(),
            ty: ParamType::List(Box::new(ParamType::Int)),
            value: Literal::List(vec![Literal::Int(80), Literal::Int(-1)]),
        },
        ParamValue {
            name: "strict".into(),
            ty: ParamType::Bool,
            value: Literal::Bool(false),
        },
    ];
    let param = |name: &str, steps: &[Step]| value(access(Root::Param(name.into()), steps));
    assert_eq!(
        cel_with(&param("limits", &[key("cpu")]), &params),
        r#"{"cpu": "1", "memory": "2Gi"}["cpu"]"#
    );
    assert_eq!(
        cel_with(
            &Expr::InList {
                item: Box::new(flag("p")),
                list: Box::new(param("ports", &[]))
            },
            &params
        ),
        "p in [80, -1]"
    );
    assert_eq!(cel_with(&not(param("strict", &[])), &params), "!false");
}

#[test]
fn a_function_the_target_version_lacks_is_an_error_at_the_rule() {
    let too_old = KubeVersion { minor: 29 };
    let diagnostics =
        print_policy(&quantity_guardrail(), too_old).expect_err("1.29 has no quantity library");
    assert!(!diagnostics.is_empty());
    for diagnostic in &diagnostics {
        assert_eq!(diagnostic.code, Code::KubeVersionTooOld);
        assert_eq!(diagnostic.severity, DiagnosticSeverity::Error);
        assert_eq!(diagnostic.span, rule_span(1));
    }
    assert!(diagnostics
        .iter()
        .any(|d| d.message == "`quantity` needs kubernetes 1.30 but the target is 1.29"));
    assert!(print_policy(&quantity_guardrail(), KubeVersion::DEFAULT).is_ok());
}

#[test]
fn more_than_64_exemptions_do_not_fit() {
    let mut policy = service_guardrail();
    let exemption = policy.exemptions[0].clone();
    policy.exemptions = vec![exemption; 64];
    assert_eq!(
        print_policy(&policy, KubeVersion::DEFAULT)
            .unwrap()
            .match_conditions
            .len(),
        64
    );
    policy.exemptions.push(policy.exemptions[0].clone());
    let diagnostics = print_policy(&policy, KubeVersion::DEFAULT).unwrap_err();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, Code::TooManyMatchConditions);
}

#[test]
fn inconsistent_ir_is_an_internal_error() {
    let unknown_param = value(access(Root::Param("nope".into()), &[]));
    let diagnostics = print_expr(&unknown_param, &[], KubeVersion::DEFAULT).unwrap_err();
    assert_eq!(diagnostics[0].code, Code::Internal);

    let list_order = compare(CompareOp::Lt, Domain::List, flag("a"), flag("b"));
    let diagnostics = print_expr(&list_order, &[], KubeVersion::DEFAULT).unwrap_err();
    assert_eq!(diagnostics[0].code, Code::Internal);

    let mut no_pod_view = pod_guardrail();
    no_pod_view.pod = None;
    let diagnostics = print_policy(&no_pod_view, KubeVersion::DEFAULT).unwrap_err();
    assert!(diagnostics.iter().all(|d| d.code == Code::Internal));
}
