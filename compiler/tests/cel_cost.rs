//! The cost estimate warns before the API server's per-expression limit, and only then.

#[allow(dead_code)]
mod cel_policies;

use cel_policies::*;
use guardrailc_compiler::cost::{self, CostModel, EXPRESSION_COST_LIMIT, UNBOUNDED_LIST_SIZE};
use guardrailc_compiler::emit::vap::emit_vap;
use guardrailc_compiler::ir::*;
use guardrailc_compiler::kube::KubeVersion;
use guardrailc_compiler::{Code, Severity};

/// `for a in object.spec.as, for b in a.bs, for c in b.cs when c.x == "y"`: three unbounded
/// lists, 10⁹ bindings.
fn triple_loop() -> Policy {
    let mut policy = service_guardrail();
    policy.exemptions.clear();
    policy.rules = vec![rule(
        1,
        vec![
            generator(
                "a",
                list_or_empty(access(Root::Object, &[field("spec"), field("as")])),
            ),
            generator("b", list_or_empty(var("a", &[field("bs")]))),
            generator("c", list_or_empty(var("b", &[field("cs")]))),
        ],
        compare(
            CompareOp::Eq,
            Domain::String,
            string_or(var("c", &[field("x")]), ""),
            string("y"),
        ),
        vec![text("c is y")],
    )];
    policy
}

#[test]
fn a_triple_loop_over_unbounded_lists_warns_at_the_rule() {
    let policy = triple_loop();
    let (artifacts, diagnostics) = emit_vap(&policy, KubeVersion::DEFAULT);
    assert_eq!(artifacts.len(), 2, "a warning does not stop the build");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, Code::CostLimit);
    assert_eq!(diagnostics[0].severity, Severity::Warning);
    assert_eq!(diagnostics[0].span, rule_span(1));
    // at least one unit per binding of the three generators
    let estimate = cost::estimate_rule(&policy.rules[0], &CostModel::new(&policy.params));
    assert!(estimate >= UNBOUNDED_LIST_SIZE.pow(3), "{estimate}");
}

#[test]
fn bounded_lists_bring_the_same_loop_under_the_limit() {
    let policy = triple_loop();
    let bounded = |_: &Access| Some(10);
    let model = CostModel::new(&policy.params).with_max_items(&bounded);
    let diagnostics = cost::check_policy(&policy, &model);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn simple_rules_do_not_warn() {
    for policy in [
        service_guardrail(),
        request_guardrail(),
        quantity_guardrail(),
    ] {
        let model = CostModel::new(&policy.params);
        assert!(
            cost::check_policy(&policy, &model).is_empty(),
            "{}",
            policy.id
        );
        // a single loop over a thousand containers keeps a wide margin
        for rule in &policy.rules {
            let estimate = cost::estimate_rule(rule, &model);
            assert!(
                estimate < EXPRESSION_COST_LIMIT / 4,
                "{}: {estimate}",
                policy.id
            );
        }
    }
    // no loop at all: a few hundred units
    let policy = service_guardrail();
    let estimate = cost::estimate_rule(&policy.rules[0], &CostModel::new(&policy.params));
    assert!((10..1_000).contains(&estimate), "{estimate}");
}

#[test]
fn loops_over_containers_and_their_ports_stay_under_the_limit() {
    let policy = pod_guardrail();
    let model = CostModel::new(&policy.params);
    let warned: Vec<usize> = cost::check_policy(&policy, &model)
        .iter()
        .map(|d| d.span.start as usize / 100)
        .collect();
    // rule 2 iterates ports inside containers: 64 × 64 bindings of a body of a few dozen
    // units stays under 1,000,000; only a third nested loop warns (tested above)
    assert_eq!(warned, Vec::<usize>::new());
    let nested = cost::estimate_rule(&policy.rules[1], &model);
    assert!((100_000..1_000_000).contains(&nested), "{nested}");
}

#[test]
fn inline_param_lists_count_their_real_size() {
    let params = vec![ParamValue {
        name: "registries".into(),
        ty: ParamType::List(Box::new(ParamType::String)),
        value: Literal::List(vec![
            Literal::String("a/".into()),
            Literal::String("b/".into()),
        ]),
    }];
    let any_over = |list: Expr| Expr::Quantified {
        quantifier: Quantifier::Any,
        var: "r".into(),
        list: Box::new(list),
        body: Box::new(string_test(
            StringOp::StartsWith,
            string("x"),
            value(var("r", &[])),
        )),
    };
    let model = CostModel::new(&params);
    let over_param = cost::estimate(
        &any_over(value(access(Root::Param("registries".into()), &[]))),
        &model,
    );
    let over_field = cost::estimate(
        &any_over(value(access(Root::Object, &[field("spec"), field("list")]))),
        &model,
    );
    assert!(over_param < 20, "{over_param}");
    assert!(over_field >= UNBOUNDED_LIST_SIZE, "{over_field}");
}
