//! IR builders the CEL and Rego backend tests share (`cel_policies` and `rego_fixtures`
//! include this module): expressions, generators, rules and policies built the way lowering
//! builds them. Each includer keeps its own policies, and its own access paths and message
//! parts, which it writes differently.

#![allow(dead_code)] // each test file uses a different part of this module

use guardrailc_compiler::ir::*;
use guardrailc_compiler::span::Span;

pub fn value(access: Access) -> Expr {
    Expr::Value(access)
}

pub fn present(access: Access) -> Expr {
    Expr::Present(access)
}

pub fn not(expr: Expr) -> Expr {
    Expr::Not(Box::new(expr))
}

pub fn compare(op: CompareOp, domain: Domain, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Compare {
        op,
        domain,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    }
}

pub fn string_test(op: StringOp, subject: Expr, arg: Expr) -> Expr {
    Expr::StringTest {
        op,
        subject: Box::new(subject),
        arg: Box::new(arg),
    }
}

pub fn generator(var: &str, list: Expr) -> Generator {
    Generator {
        var: var.into(),
        list,
    }
}

/// Rule `index` at `span` and source line `line`.
pub fn rule_at(
    span: Span,
    index: usize,
    line: usize,
    generators: Vec<Generator>,
    condition: Expr,
    message: Template,
) -> Rule {
    Rule {
        span,
        index,
        line,
        generators,
        condition,
        message,
    }
}

pub fn resource(group: &str, version: &str, resource: &str, kind: &str) -> Resource {
    Resource {
        group: group.into(),
        version: version.into(),
        resource: resource.into(),
        kind: kind.into(),
        namespaced: true,
    }
}

/// Pods, Deployments, StatefulSets and CronJobs: what `match workloads` covers.
pub fn workload_resources() -> Vec<Resource> {
    vec![
        resource("", "v1", "pods", "Pod"),
        resource("apps", "v1", "deployments", "Deployment"),
        resource("apps", "v1", "statefulsets", "StatefulSet"),
        resource("batch", "v1", "cronjobs", "CronJob"),
    ]
}

/// A denying guardrail `id` of environment `prod` on CREATE and UPDATE of `resources`, with
/// no rules yet.
pub fn denying_policy(
    id: &str,
    kind_name: &str,
    title: String,
    resources: Vec<Resource>,
) -> Policy {
    Policy {
        id: id.into(),
        kind_name: kind_name.into(),
        meta: Meta {
            title,
            ..Meta::default()
        },
        source_file: format!("guardrails/{id}.guard"),
        env: "prod".into(),
        enforcement: Enforcement::Deny,
        matcher: Match {
            resources,
            operations: vec![Operation::Create, Operation::Update],
            ..Match::default()
        },
        params: Vec::new(),
        pod: None,
        rules: Vec::new(),
        exemptions: Vec::new(),
        reads: Reads::default(),
    }
}
