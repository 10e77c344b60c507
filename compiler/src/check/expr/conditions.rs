//! Conditions: tests, `exists`/`missing`, membership, comparisons and quantifiers, lowered with
//! the guards of the values they test.

use super::*;

impl Checker<'_> {
    /// Checks a boolean expression and lowers it to an IR condition.
    pub fn condition(&mut self, expr: &ast::Expr) -> Expr {
        match &expr.kind {
            ExprKind::Bool(b) => Expr::Literal(Literal::Bool(*b)),
            ExprKind::Not(inner) => Expr::Not(Box::new(self.condition(inner))),
            ExprKind::Binary(BinaryOp::And, l, r) => {
                and(vec![self.condition(l), self.condition(r)])
            }
            ExprKind::Binary(BinaryOp::Or, l, r) => {
                let mut items = Vec::new();
                for side in [self.condition(l), self.condition(r)] {
                    match side {
                        Expr::Or(inner) => items.extend(inner),
                        other => items.push(other),
                    }
                }
                Expr::Or(items)
            }
            ExprKind::Binary(op @ (BinaryOp::In | BinaryOp::NotIn), l, r) => {
                self.membership(*op, l, r)
            }
            ExprKind::Binary(op, l, r) => self.comparison(*op, l, r, expr.span),
            ExprKind::Quantified {
                all,
                var,
                list,
                body,
            } => {
                let list_val = self.value(list);
                let element = self.element_type(&list_val, list.span);
                let from_param = self.derives_from_param(&list_val);
                let list_expr = self.iterable(list_val, list.span);
                let exempt = self.container_exemption(&var.name, &element);
                self.declare_loop_var(var, element, from_param);
                let mut body = self.condition(body);
                self.scope.pop();
                self.param_vars.retain(|name| name != &var.name);
                // Exempt containers are not in the list: `any` skips them, `all` lets them by.
                if let Some(exempt) = exempt {
                    body = match all {
                        false => and(vec![body, Expr::Not(Box::new(exempt))]),
                        true => Expr::Or(vec![body, exempt]),
                    };
                }
                Expr::Quantified {
                    quantifier: if *all {
                        ir::Quantifier::All
                    } else {
                        ir::Quantifier::Any
                    },
                    var: var.name.clone(),
                    list: Box::new(list_expr),
                    body: Box::new(body),
                }
            }
            ExprKind::Call {
                receiver: None,
                name,
                args,
            } if name.name == "exists" || name.name == "missing" => {
                let present = self.presence(name, args, expr.span);
                if name.name == "missing" {
                    Expr::Not(Box::new(present))
                } else {
                    present
                }
            }
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if string_op(&name.name).is_some() => {
                self.string_test(receiver, name, args, expr.span)
            }
            ExprKind::Error => Expr::Literal(Literal::Bool(false)),
            _ => {
                let val = self.value(expr);
                match val.ty {
                    // A plain-valued boolean is a value with a default, not a path: it is
                    // tested as one.
                    Ty::Bool if val.plain_zero().is_some() => {
                        let test = Expr::Compare {
                            op: CompareOp::Eq,
                            domain: Domain::Bool,
                            lhs: Box::new(val.expr),
                            rhs: Box::new(Expr::Literal(Literal::Bool(true))),
                        };
                        with_guards(val.guards, test)
                    }
                    Ty::Bool | Ty::Error => with_guards(val.guards, val.expr),
                    Ty::Any => {
                        let guard = Expr::IsType {
                            value: Box::new(val.expr.clone()),
                            ty: ValueType::Bool,
                        };
                        let mut guards = val.guards;
                        guards.push(guard);
                        with_guards(guards, val.expr)
                    }
                    other => {
                        let described = other.describe(self.schema);
                        self.error(
                            Code::TypeMismatch,
                            expr.span,
                            format!("expected a condition, found a value of type {described}"),
                        )
                        .help = Some("compare it with something, e.g. `x == \"value\"`, or test it with `exists(x)`".into());
                        Expr::Literal(Literal::Bool(false))
                    }
                }
            }
        }
    }

    pub(super) fn presence(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Expr {
        if args.len() != 1 {
            self.error(
                Code::WrongArgumentCount,
                span,
                format!(
                    "`{}` takes one path, found {} arguments",
                    name.name,
                    args.len()
                ),
            );
            return Expr::Literal(Literal::Bool(false));
        }
        let val = self.value(&args[0]);
        match val.access.clone() {
            Some(access) => {
                // Index steps are guarded by their own presence; a nullable root by itself.
                // A key computed at run time brings its own guards, which must hold first.
                let key_guards = foreign_guards(&val.guards, &access);
                match val.plain_zero() {
                    // A plain-valued scalar exists when it holds something other than its
                    // zero value: the API server cannot tell the two apart. Its default
                    // covers an absent parent too.
                    Some((zero, domain)) => with_guards(
                        key_guards,
                        Expr::Compare {
                            op: CompareOp::Ne,
                            domain,
                            lhs: Box::new(val.expr.clone()),
                            rhs: Box::new(Expr::Literal(zero.clone())),
                        },
                    ),
                    // A struct value is present wherever its parent is; a value that is never
                    // absent (`request.operation`) always exists.
                    None if !val.guards.contains(&Expr::Present(access.clone())) => {
                        match val.guards.is_empty() {
                            true => Expr::Literal(Literal::Bool(true)),
                            false => and(val.guards),
                        }
                    }
                    None => with_guards(key_guards, Expr::Present(access)),
                }
            }
            None if val.ty == Ty::Error => Expr::Literal(Literal::Bool(false)),
            None => {
                self.error(
                    Code::TypeMismatch,
                    args[0].span,
                    format!(
                        "`{}` takes a field path such as `c.securityContext`",
                        name.name
                    ),
                );
                Expr::Literal(Literal::Bool(false))
            }
        }
    }

    pub(super) fn string_test(
        &mut self,
        receiver: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Expr {
        let op = string_op(&name.name).expect("caller checked the name");
        let subject = self.value(receiver);
        if !self.arguments(&name.name, args, 1, span) {
            return Expr::Literal(Literal::Bool(false));
        }
        let arg = self.value(&args[0]);
        let mut guards = Vec::new();
        self.expect_string(&subject, receiver.span, &mut guards);
        self.expect_string(&arg, args[0].span, &mut guards);
        if op == StringOp::Matches {
            match &arg.constant {
                Some(Literal::String(pattern)) => {
                    if let Err(error) = regex_syntax::Parser::new().parse(pattern) {
                        let detail = error.to_string();
                        let last = detail.lines().last().unwrap_or("invalid regex").trim();
                        self.error(
                            Code::InvalidRegex,
                            args[0].span,
                            format!(
                                "the regular expression does not compile: {}",
                                last.trim_start_matches("error: ")
                            ),
                        )
                        .help = Some(
                            "regexes use RE2 syntax; double backslashes inside strings (\"\\\\d\")"
                                .into(),
                        );
                    }
                }
                _ if arg.ty.is_error_or_any() => {}
                _ => {
                    // Params are constants per environment, chosen by whoever configures the
                    // guardrail; a pattern read from the object under review is not.
                    if !self.derives_from_param(&arg) {
                        self.error(
                            Code::InvalidRegex,
                            args[0].span,
                            "the pattern of `matches` must be a string literal or come from a param".into(),
                        )
                        .help = Some("a param, an element of a list param, or a field of a record param".into());
                    }
                }
            }
        }
        let mut all = subject.guards;
        all.extend(arg.guards);
        all.extend(guards);
        with_guards(
            all,
            Expr::StringTest {
                op,
                subject: Box::new(subject.expr),
                arg: Box::new(arg.expr),
            },
        )
    }

    pub(super) fn expect_string(&mut self, val: &Val, span: Span, guards: &mut Vec<Expr>) {
        match &val.ty {
            Ty::Str | Ty::Error => {}
            Ty::Any | Ty::IntOrString => guards.push(Expr::IsType {
                value: Box::new(val.expr.clone()),
                ty: ValueType::String,
            }),
            other => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::TypeMismatch,
                    span,
                    format!("expected a string, found {described}"),
                );
            }
        }
    }

    pub(super) fn membership(&mut self, op: BinaryOp, item: &ast::Expr, list: &ast::Expr) -> Expr {
        let item_val = self.value(item);
        let list_val = self.value(list);
        let element = self.element_type(&list_val, list.span);
        if !compatible(&item_val.ty, &element) {
            let (a, b) = (
                item_val.ty.with_article(self.schema),
                element.describe(self.schema),
            );
            self.error(
                Code::TypeMismatch,
                item.span,
                format!("cannot look for {a} in a list of {b}"),
            );
        }
        let mut guards = item_val.guards.clone();
        guards.extend(list_val.guards.clone());
        let test = Expr::InList {
            item: Box::new(item_val.expr),
            list: Box::new(list_val.expr),
        };
        let test = if op == BinaryOp::NotIn {
            Expr::Not(Box::new(test))
        } else {
            test
        };
        with_guards(guards, test)
    }

    pub(super) fn comparison(
        &mut self,
        op: BinaryOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> Expr {
        let lhs = self.value(l);
        let rhs = self.value(r);
        let op_ir = match op {
            BinaryOp::Eq => CompareOp::Eq,
            BinaryOp::Ne => CompareOp::Ne,
            BinaryOp::Lt => CompareOp::Lt,
            BinaryOp::Le => CompareOp::Le,
            BinaryOp::Gt => CompareOp::Gt,
            BinaryOp::Ge => CompareOp::Ge,
            _ => unreachable!("and, or, in are handled by the caller"),
        };
        let ordering = !matches!(op_ir, CompareOp::Eq | CompareOp::Ne);
        let mut guards = lhs.guards.clone();
        guards.extend(rhs.guards.clone());
        let (mut lhs_expr, mut rhs_expr) = (lhs.expr.clone(), rhs.expr.clone());
        let domain = match (&lhs.ty, &rhs.ty) {
            (Ty::Error, _) | (_, Ty::Error) => return Expr::Literal(Literal::Bool(false)),
            (Ty::Quantity, _) | (_, Ty::Quantity) => {
                for (side, val, span) in
                    [(&mut lhs_expr, &lhs, l.span), (&mut rhs_expr, &rhs, r.span)]
                {
                    match (&val.ty, &val.constant) {
                        (Ty::Quantity, Some(_)) => {}
                        (Ty::Int, Some(Literal::Int(n))) => {
                            *side = Expr::Literal(Literal::Quantity(n.to_string()))
                        }
                        (Ty::Quantity | Ty::Any | Ty::IntOrString | Ty::Str, _) => {
                            guards.push(Expr::IsType {
                                value: Box::new(side.clone()),
                                ty: ValueType::Quantity,
                            })
                        }
                        (other, _) => {
                            let described = other.with_article(self.schema);
                            self.error(
                                Code::NotAQuantity,
                                span,
                                format!("cannot compare a quantity with {described}"),
                            );
                            return Expr::Literal(Literal::Bool(false));
                        }
                    }
                }
                Domain::Quantity
            }
            (Ty::Str, Ty::Str) => Domain::String,
            (Ty::Int, Ty::Int)
            | (Ty::Int, Ty::Number)
            | (Ty::Number, Ty::Int)
            | (Ty::Number, Ty::Number) => Domain::Int,
            (Ty::Bool, Ty::Bool) if !ordering => Domain::Bool,
            (Ty::List(_), Ty::List(_))
                if !ordering
                    && !matches!(lhs_expr, Expr::Keys(_))
                    && !matches!(rhs_expr, Expr::Keys(_)) =>
            {
                Domain::List
            }
            (Ty::Any | Ty::IntOrString, other) | (other, Ty::Any | Ty::IntOrString) => {
                let (domain, value_type) = match other {
                    Ty::Str => (Domain::String, ValueType::String),
                    Ty::Int | Ty::Number => (Domain::Int, ValueType::Int),
                    Ty::Bool => (Domain::Bool, ValueType::Bool),
                    _ => {
                        self.error(
                            Code::TypeMismatch,
                            span,
                            "compare a schemaless value with a string, integer or boolean".into(),
                        );
                        return Expr::Literal(Literal::Bool(false));
                    }
                };
                for (side, val) in [(&lhs_expr, &lhs), (&rhs_expr, &rhs)] {
                    if val.ty.is_error_or_any() || val.ty == Ty::IntOrString {
                        guards.push(Expr::IsType {
                            value: Box::new(side.clone()),
                            ty: value_type,
                        });
                    }
                }
                domain
            }
            (a, b) => {
                let bool_involved = *a == Ty::Bool || *b == Ty::Bool;
                let (a, b) = (a.with_article(self.schema), b.with_article(self.schema));
                let message = if ordering {
                    format!("cannot order {a} and {b} with `{}`", op.as_str())
                } else {
                    format!("cannot compare {a} with {b}")
                };
                let diagnostic = self.error(Code::TypeMismatch, span, message);
                if bool_involved {
                    diagnostic.help = Some("booleans are compared with `==` and `!=` only".into());
                } else {
                    diagnostic.help =
                        Some("both sides of a comparison must have the same type".into());
                }
                return Expr::Literal(Literal::Bool(false));
            }
        };
        with_guards(
            guards,
            Expr::Compare {
                op: op_ir,
                domain,
                lhs: Box::new(lhs_expr),
                rhs: Box::new(rhs_expr),
            },
        )
    }

    // ---- values -------------------------------------------------------------------------
}
