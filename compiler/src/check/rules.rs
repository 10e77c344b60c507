//! Rules: generators, `when`/`that`, messages; image exemptions narrow the containers bound.

use super::*;

pub(super) fn check_rule(rule: &ast::Rule, index: usize, checker: &mut Checker) -> ir::Rule {
    let depth = checker.scope.len();
    let mut generators = Vec::new();
    // The exemption tests of the containers the generators bind: no violation is bound to an
    // exempt container.
    let mut exempt = Vec::new();
    for binding in &rule.bindings {
        match binding {
            ast::Binding::For(f) => {
                let list = checker.value(&f.list);
                let element = checker.element_type(&list, f.list.span);
                let from_param = checker.derives_from_param(&list);
                generators.push(ir::Generator {
                    var: f.var.name.clone(),
                    list: checker.iterable(list, f.list.span),
                });
                exempt.extend(checker.container_exemption(&f.var.name, &element));
                checker.declare_loop_var(&f.var, element, from_param);
            }
            ast::Binding::Let(l) => {
                let val = checker.value(&l.value);
                checker.declare(&l.name, Binding::Let(val));
            }
        }
    }
    let when = rule.when.as_ref().map(|e| checker.condition(e));
    let that = rule.that.as_ref().map(|e| checker.condition(e));
    let condition = match rule.kind {
        ast::RuleKind::Deny => {
            if rule.that.is_some() {
                checker.diagnostics.push(
                    Diagnostic::new(
                        Code::NotAllowedHere,
                        rule.that.as_ref().map_or(rule.keyword, |e| e.span),
                        "`deny` rules take `when`, not `that`".to_string(),
                    )
                    .with_help("`deny … when X` rejects when X holds; `require … that X` rejects when X does not"),
                );
            }
            // Without `when`, every binding is a violation: `deny for c in
            // pod.spec.ephemeralContainers message "…"`, or every matched object.
            when.unwrap_or(Expr::Literal(Literal::Bool(true)))
        }
        ast::RuleKind::Require => {
            let that = that.unwrap_or_else(|| {
                checker.diagnostics.push(
                    Diagnostic::new(Code::MissingItem, rule.keyword, "a `require` rule needs `that`".to_string())
                        .with_help("say what must hold: `require that exists(object.metadata.labels[\"team\"]) …`"),
                );
                Expr::Literal(Literal::Bool(true))
            });
            let violated = Expr::Not(Box::new(that));
            match when {
                Some(pre) => expr::and(vec![pre, violated]),
                None => violated,
            }
        }
    };
    let condition = match exempt.is_empty() {
        true => condition,
        false => {
            let mut parts = vec![condition];
            parts.extend(exempt.into_iter().map(|e| Expr::Not(Box::new(e))));
            expr::and(parts)
        }
    };
    if let Some(constant) = constant_condition(rule) {
        checker.diagnostics.push(
            Diagnostic::new(
                Code::ConstantCondition,
                constant,
                "this condition does not depend on the object".to_string(),
            )
            .with_help("a constant condition makes the rule deny everything or nothing"),
        );
    }
    let mut parts = Vec::new();
    if let Some(message) = &rule.message {
        template_parts(message, checker, &mut parts);
    }
    if let Some(fix) = &rule.fix {
        parts.push(ir::TemplatePart::Text(" (fix: ".into()));
        template_parts(fix, checker, &mut parts);
        parts.push(ir::TemplatePart::Text(")".into()));
    }
    checker.scope.truncate(depth);
    let scope = &checker.scope;
    checker
        .param_vars
        .retain(|var| scope.iter().any(|(name, _)| name == var));
    let mut lowered = ir::Rule {
        span: rule.span,
        index,
        line: 0,
        generators,
        condition,
        message: ir::Template {
            parts: merge_text(parts),
        },
    };
    if lowered.reads(|root| *root == ir::Root::OldObject) {
        // `old` is the object before an UPDATE: a rule that reads it applies to UPDATEs only,
        // so a negated test on the missing old object cannot fire on CREATE, DELETE or in
        // Gatekeeper's audit, which reviews existing objects with no operation.
        let condition =
            std::mem::replace(&mut lowered.condition, Expr::Literal(Literal::Bool(false)));
        lowered.condition = expr::and(vec![update_only(), condition]);
    }
    lowered
}

/// `request.operation == "UPDATE"`.
pub(super) fn update_only() -> Expr {
    Expr::Compare {
        op: ir::CompareOp::Eq,
        domain: ir::Domain::String,
        lhs: Box::new(Expr::Value(ir::Access {
            root: ir::Root::Request,
            steps: vec![ir::Step::Field("operation".to_string())],
        })),
        rhs: Box::new(Expr::Literal(Literal::String("UPDATE".to_string()))),
    }
}

pub(super) fn constant_condition(rule: &ast::Rule) -> Option<Span> {
    let expr = match rule.kind {
        ast::RuleKind::Deny => rule.when.as_ref()?,
        ast::RuleKind::Require => rule.that.as_ref()?,
    };
    matches!(expr.kind, ast::ExprKind::Bool(_)).then_some(expr.span)
}

pub(super) fn template_parts(
    message: &ast::Message,
    checker: &mut Checker,
    parts: &mut Vec<ir::TemplatePart>,
) {
    for part in &message.parts {
        match part {
            ast::MessagePart::Text(text) => parts.push(ir::TemplatePart::Text(text.clone())),
            ast::MessagePart::Expr(e) => {
                let value = checker.template_value(e);
                parts.push(match value {
                    Expr::Literal(Literal::String(s)) => ir::TemplatePart::Text(s),
                    Expr::Literal(Literal::Int(n)) => ir::TemplatePart::Text(n.to_string()),
                    Expr::Literal(Literal::Bool(b)) => ir::TemplatePart::Text(b.to_string()),
                    Expr::Literal(Literal::Quantity(q)) => ir::TemplatePart::Text(q),
                    other => ir::TemplatePart::Value(other),
                });
            }
        }
    }
}

pub(super) fn merge_text(parts: Vec<ir::TemplatePart>) -> Vec<ir::TemplatePart> {
    let mut out: Vec<ir::TemplatePart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(ir::TemplatePart::Text(prev)), ir::TemplatePart::Text(next)) => {
                prev.push_str(&next)
            }
            (_, ir::TemplatePart::Text(t)) if t.is_empty() => {}
            (_, part) => out.push(part),
        }
    }
    out
}
