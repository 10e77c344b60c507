//! Expressions, by precedence: `or`, `and`, `not`, comparisons, postfix (fields, indexes,
//! calls), primaries and quantifiers, with the nesting and operator limits (G0109).

use super::*;

impl<'a> Parser<'a> {
    pub(super) fn expr(&mut self) -> Expr {
        if self.depth > 0 {
            return self.or_expr();
        }
        self.outermost(Self::or_expr)
    }

    /// Parses a whole expression with `parse` (not nested in another one): its operators are
    /// counted afresh, and the height of its tree, which chains grow without nesting the
    /// parser, is bounded.
    pub(super) fn outermost(&mut self, parse: fn(&mut Self) -> Expr) -> Expr {
        self.operators = 0;
        let expr = parse(self);
        let too_high = height_exceeds(&expr, MAX_NESTING);
        let reported = std::mem::replace(&mut self.too_deep, false);
        if !too_high {
            return expr;
        }
        if !reported {
            self.too_deep_error(expr.span);
        }
        Expr {
            kind: ExprKind::Error,
            span: expr.span,
        }
    }

    pub(super) fn binary(&self, op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        }
    }

    pub(super) fn or_expr(&mut self) -> Expr {
        let mut lhs = self.and_expr();
        while self.at_word("or") && self.operator() {
            self.bump();
            let rhs = self.and_expr();
            lhs = self.binary(BinaryOp::Or, lhs, rhs);
        }
        lhs
    }

    pub(super) fn and_expr(&mut self) -> Expr {
        let mut lhs = self.not_expr();
        while self.at_word("and") && self.operator() {
            self.bump();
            let rhs = self.not_expr();
            lhs = self.binary(BinaryOp::And, lhs, rhs);
        }
        lhs
    }

    pub(super) fn not_expr(&mut self) -> Expr {
        if let Some(not) = self.eat_word("not") {
            if !(self.operator() && self.enter()) {
                return Expr {
                    kind: ExprKind::Error,
                    span: not.span.to(self.previous_end()),
                };
            }
            let inner = self.not_expr();
            self.leave();
            let span = not.span.to(inner.span);
            return Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            };
        }
        self.comparison()
    }

    pub(super) fn comparison(&mut self) -> Expr {
        let lhs = self.postfix();
        let op = match self.peek().kind {
            TokenKind::EqEq => Some(BinaryOp::Eq),
            TokenKind::NotEq => Some(BinaryOp::Ne),
            TokenKind::Lt => Some(BinaryOp::Lt),
            TokenKind::Le => Some(BinaryOp::Le),
            TokenKind::Gt => Some(BinaryOp::Gt),
            TokenKind::Ge => Some(BinaryOp::Ge),
            TokenKind::Eq => {
                let token = self.peek();
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        token.span,
                        "`=` is not a comparison".to_string(),
                    )
                    .with_help("compare with `==`")
                    .with_edit(token.span, "=="),
                );
                Some(BinaryOp::Eq)
            }
            TokenKind::Ident if self.at_word("in") => Some(BinaryOp::In),
            TokenKind::Ident
                if self.at_word("not") && {
                    let next = self.peek_at(1);
                    next.kind == TokenKind::Ident && self.slice(next.span) == "in"
                } =>
            {
                self.bump();
                Some(BinaryOp::NotIn)
            }
            _ => None,
        };
        let Some(op) = op else {
            return lhs;
        };
        if !self.operator() {
            return lhs;
        }
        self.bump();
        let rhs = self.postfix();
        self.binary(op, lhs, rhs)
    }

    pub(super) fn postfix(&mut self) -> Expr {
        let mut expr = self.primary();
        loop {
            let chained = self.at(TokenKind::Dot)
                || (self.at(TokenKind::LBracket) && !self.peek().line_start);
            if chained && !self.operator() {
                return expr;
            }
            if self.eat(TokenKind::Dot).is_some() {
                let name = match self.ident("a field or method name after `.`") {
                    Ok(name) => name,
                    Err(Failed) => {
                        let span = expr.span.to(self.previous_end());
                        return Expr {
                            kind: ExprKind::Error,
                            span,
                        };
                    }
                };
                if self.at(TokenKind::LParen) {
                    let (args, end) = self.arguments();
                    let span = expr.span.to(end);
                    expr = Expr {
                        kind: ExprKind::Call {
                            receiver: Some(Box::new(expr)),
                            name,
                            args,
                        },
                        span,
                    };
                } else {
                    let span = expr.span.to(name.span);
                    expr = Expr {
                        kind: ExprKind::Field(Box::new(expr), name),
                        span,
                    };
                }
            } else if self.at(TokenKind::LBracket) && !self.peek().line_start {
                let open = self.bump();
                let index = self.expr();
                let end = match self.eat(TokenKind::RBracket) {
                    Some(close) => close.span,
                    None => {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `]` to close the index",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        index.span
                    }
                };
                let span = expr.span.to(end);
                expr = Expr {
                    kind: ExprKind::Index(Box::new(expr), Box::new(index)),
                    span,
                };
            } else {
                return expr;
            }
        }
    }

    /// `( a, b )`; returns the arguments and the span of the closing parenthesis.
    pub(super) fn arguments(&mut self) -> (Vec<Expr>, Span) {
        let open = self.bump();
        let mut args = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RParen) {
                return (args, close.span);
            }
            if self.at_clause_boundary() {
                self.unclosed(
                    Diagnostic::new(
                        Code::UnclosedDelimiter,
                        self.previous_end(),
                        "expected `)` to close the call",
                    )
                    .with_secondary(open.span, "opened here"),
                );
                return (args, self.previous_end());
            }
            let before = self.pos;
            args.push(self.expr());
            if self.eat(TokenKind::Comma).is_none()
                && !self.at(TokenKind::RParen)
                && !self.at_clause_boundary()
            {
                self.expected("`,` or `)`", None);
                if self.pos == before {
                    self.bump();
                }
                // Skip to the closing parenthesis on this line, if any.
                while !self.at(TokenKind::RParen)
                    && !self.at(TokenKind::Eof)
                    && !self.peek().line_start
                {
                    self.bump();
                }
            }
        }
    }

    pub(super) fn primary(&mut self) -> Expr {
        let start = self.peek().span;
        if !self.enter() {
            return Expr {
                kind: ExprKind::Error,
                span: start.to(self.previous_end()),
            };
        }
        let expr = self.primary_inner();
        self.leave();
        expr
    }

    pub(super) fn primary_inner(&mut self) -> Expr {
        let token = self.peek();
        let text = self.slice(token.span);
        match token.kind {
            TokenKind::Int => {
                self.bump();
                match text.parse::<i64>() {
                    Ok(value) => Expr {
                        kind: ExprKind::Int(value),
                        span: token.span,
                    },
                    Err(_) => {
                        self.error_at(
                            Code::InvalidNumber,
                            token.span,
                            format!("`{text}` does not fit in a 64-bit integer"),
                            None,
                        );
                        Expr {
                            kind: ExprKind::Error,
                            span: token.span,
                        }
                    }
                }
            }
            TokenKind::Quantity => {
                self.bump();
                if crate::quantity::parse(text).is_some() {
                    Expr {
                        kind: ExprKind::Quantity(text.to_string()),
                        span: token.span,
                    }
                } else {
                    self.error_at(
                        Code::InvalidQuantity,
                        token.span,
                        format!("`{text}` is not a Kubernetes quantity"),
                        Some(
                            "a quantity is a number with an optional suffix: 250m, 1.5Gi, 2G, 1e3",
                        ),
                    );
                    Expr {
                        kind: ExprKind::Error,
                        span: token.span,
                    }
                }
            }
            TokenKind::Str => {
                self.bump();
                let value = strings::plain(self.text, token.span, &mut self.diagnostics);
                Expr {
                    kind: ExprKind::Str(value),
                    span: token.span,
                }
            }
            TokenKind::LBracket => {
                let open = self.bump();
                let mut items = Vec::new();
                loop {
                    if let Some(close) = self.eat(TokenKind::RBracket) {
                        return Expr {
                            kind: ExprKind::List(items),
                            span: open.span.to(close.span),
                        };
                    }
                    if self.at(TokenKind::Eof) || self.at_item_start() {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `]` to close the list",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        return Expr {
                            kind: ExprKind::List(items),
                            span: open.span.to(self.previous_end()),
                        };
                    }
                    let before = self.pos;
                    items.push(self.expr());
                    if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                        self.expected("`,` or `]`", None);
                        if self.pos == before {
                            self.bump();
                        }
                    }
                }
            }
            TokenKind::LParen => {
                let open = self.bump();
                let inner = self.expr();
                match self.eat(TokenKind::RParen) {
                    Some(close) => Expr {
                        kind: inner.kind,
                        span: open.span.to(close.span),
                    },
                    None => {
                        self.unclosed(
                            Diagnostic::new(
                                Code::UnclosedDelimiter,
                                self.peek().span,
                                "expected `)`",
                            )
                            .with_secondary(open.span, "opened here"),
                        );
                        inner
                    }
                }
            }
            TokenKind::Ident => match text {
                "true" | "false" => {
                    self.bump();
                    Expr {
                        kind: ExprKind::Bool(text == "true"),
                        span: token.span,
                    }
                }
                "any" | "all" => self.quantified(),
                _ if CLAUSE_KEYWORDS.contains(&text)
                    || EXPRESSION_KEYWORDS.contains(&text)
                    || (token.line_start && ITEM_KEYWORDS.contains(&text)) =>
                {
                    self.expected("an expression", None);
                    Expr {
                        kind: ExprKind::Error,
                        span: Span {
                            end: token.span.start,
                            ..token.span
                        },
                    }
                }
                _ => {
                    self.bump();
                    if self.at(TokenKind::LParen) && !self.peek().line_start {
                        let name = Ident {
                            name: text.to_string(),
                            span: token.span,
                        };
                        let (args, end) = self.arguments();
                        return Expr {
                            kind: ExprKind::Call {
                                receiver: None,
                                name,
                                args,
                            },
                            span: token.span.to(end),
                        };
                    }
                    Expr {
                        kind: ExprKind::Name(text.to_string()),
                        span: token.span,
                    }
                }
            },
            TokenKind::LBrace => {
                self.expected(
                    "an expression",
                    Some("a guardrail has no map literals: give a map param its value in guardrails.toml, under `[environments.ENV.guardrails.ID.params]`"),
                );
                // Skipped with its `}`, which would otherwise close the guardrail.
                let end = self.skip_braces();
                Expr {
                    kind: ExprKind::Error,
                    span: token.span.to(end),
                }
            }
            _ => {
                self.expected("an expression", None);
                // Consume the token unless it closes something or ends the input, so that
                // the caller always makes progress.
                if !matches!(
                    token.kind,
                    TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen | TokenKind::Eof
                ) {
                    self.bump();
                }
                Expr {
                    kind: ExprKind::Error,
                    span: token.span,
                }
            }
        }
    }

    /// `any x in list: body` — the body extends as far right as possible.
    pub(super) fn quantified(&mut self) -> Expr {
        let keyword = self.bump();
        let all = self.slice(keyword.span) == "all";
        let error = |span| Expr {
            kind: ExprKind::Error,
            span,
        };
        let Ok(var) = self.ident("a variable name") else {
            return error(keyword.span);
        };
        if self.expect_word("in").is_err() {
            return error(keyword.span.to(var.span));
        }
        let list = self.postfix();
        if self.expect(TokenKind::Colon).is_err() {
            return error(keyword.span.to(list.span));
        }
        let body = self.expr();
        let span = keyword.span.to(body.span);
        Expr {
            kind: ExprKind::Quantified {
                all,
                var,
                list: Box::new(list),
                body: Box::new(body),
            },
            span,
        }
    }
}

/// Whether the tree of `expr` is more than `limit` nodes high, found without recursion (the
/// tree may be as deep as the parser allows chains to grow).
pub(super) fn height_exceeds(expr: &Expr, limit: usize) -> bool {
    let mut stack = vec![(expr, 1usize)];
    while let Some((expr, height)) = stack.pop() {
        if height > limit {
            return true;
        }
        expr.for_each_child(|child| stack.push((child, height + 1)));
    }
    false
}
