//! Items: a file, guardrails, and each item of a guardrail (metadata, match, params, lets,
//! rules, enforcement, exemptions), with recovery to the next item.

use super::*;

impl<'a> Parser<'a> {
    pub(super) fn file(&mut self) -> File {
        let mut guardrails = Vec::new();
        while !self.at(TokenKind::Eof) {
            if self.at_word("guardrail") {
                if let Some(guardrail) = self.guardrail() {
                    guardrails.push(guardrail);
                }
            } else {
                self.expected(
                    "`guardrail`",
                    Some("a file holds guardrails: `guardrail my-id { … }`"),
                );
                // Skip to the next `guardrail` at the start of a line.
                self.bump();
                while !(self.at(TokenKind::Eof)
                    || (self.at_word("guardrail") && self.peek().line_start))
                {
                    self.bump();
                }
            }
        }
        File { guardrails }
    }

    pub(super) fn guardrail(&mut self) -> Option<Guardrail> {
        let keyword = self.bump();
        let id = match self.ident("a guardrail id such as `no-latest-tag`") {
            Ok(id) => id,
            Err(Failed) => Ident {
                name: String::new(),
                span: self.previous_end(),
            },
        };
        let Some(open) = self.eat(TokenKind::LBrace) else {
            self.expected("`{` to open the guardrail body", None);
            self.recover_to_item();
            if !self.at_item_start() {
                return None;
            }
            return Some(self.guardrail_body(keyword, id, None));
        };
        Some(self.guardrail_body(keyword, id, Some(open)))
    }

    pub(super) fn guardrail_body(
        &mut self,
        keyword: Token,
        id: Ident,
        open: Option<Token>,
    ) -> Guardrail {
        let mut items = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Guardrail {
                    id,
                    items,
                    span: keyword.span.to(close.span),
                };
            }
            if self.at(TokenKind::Eof) || (self.at_word("guardrail") && self.peek().line_start) {
                let mut diagnostic = Diagnostic::new(
                    Code::UnclosedDelimiter,
                    self.peek().span,
                    format!("the body of guardrail `{}` is not closed", id.name),
                )
                .with_help("add `}` after the last item");
                if let Some(open) = open {
                    diagnostic = diagnostic.with_secondary(open.span, "opened here");
                }
                self.diagnostics.push(diagnostic);
                let end = self.previous_end();
                return Guardrail {
                    id,
                    items,
                    span: keyword.span.to(end),
                };
            }
            match self.item() {
                Ok(item) => items.push(item),
                Err(Failed) => self.recover_to_item(),
            }
        }
    }

    pub(super) fn item(&mut self) -> PResult<Item> {
        let token = self.peek();
        if token.kind != TokenKind::Ident {
            return Err(self.expected("an item (`title`, `match`, `deny`, `require`, …)", None));
        }
        let word = self.slice(token.span);
        match word {
            "title" | "why" | "owner" | "docs" => {
                let key = self.ident("")?;
                let value = self.string_lit()?;
                let span = key.span.to(value.span);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::Text(value),
                    span,
                }))
            }
            "category" | "severity" => {
                let key = self.ident("")?;
                let value = self.ident(if word == "category" {
                    "`preventive`, `detective` or `corrective`"
                } else {
                    "`low`, `medium`, `high` or `critical`"
                })?;
                let span = key.span.to(value.span);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::Word(value),
                    span,
                }))
            }
            "controls" => {
                let key = self.ident("")?;
                let (values, end) = self.string_list()?;
                let span = key.span.to(end);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::List(values),
                    span,
                }))
            }
            "targets" => {
                let key = self.ident("")?;
                let (values, end) = self.word_list("a target such as `vap`")?;
                let span = key.span.to(end);
                Ok(Item::Meta(Meta {
                    key,
                    value: MetaValue::Words(values),
                    span,
                }))
            }
            "match" => Ok(Item::Match(self.match_clause()?)),
            "exclude" => Ok(Item::Exclude(self.match_clause()?)),
            "param" => Ok(Item::Param(self.param()?)),
            "let" => Ok(Item::Let(self.let_binding()?)),
            "deny" | "require" => Ok(Item::Rule(self.rule()?)),
            "enforce" => Ok(Item::Enforce(self.enforce()?)),
            "exempt" => Ok(Item::Exempt(self.exempt()?)),
            _ => {
                let suggestion = crate::syntax::closest_word(word, ITEM_KEYWORDS);
                let help = suggestion.map(|s| format!("did you mean `{s}`?"));
                let mut diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    token.span,
                    format!("expected an item, found `{word}`"),
                )
                .with_help(help.clone().unwrap_or_else(|| {
                    "items are title, why, category, severity, owner, controls, docs, targets, match, exclude, param, let, deny, require, enforce and exempt".to_string()
                }));
                if let Some(s) = suggestion {
                    diagnostic = diagnostic.with_edit(token.span, s);
                }
                self.diagnostics.push(diagnostic);
                self.bump();
                Err(Failed)
            }
        }
    }

    // ---- literals -----------------------------------------------------------------------

    pub(super) fn string_lit(&mut self) -> PResult<StrLit> {
        let token = self.peek();
        if token.kind != TokenKind::Str {
            return Err(self.expected("a string in double quotes", None));
        }
        self.bump();
        let value = strings::plain(self.text, token.span, &mut self.diagnostics);
        Ok(StrLit {
            value,
            span: token.span,
        })
    }

    /// `[ "a", "b" ]`, returning the closing bracket's span.
    pub(super) fn string_list(&mut self) -> PResult<(Vec<StrLit>, Span)> {
        self.expect(TokenKind::LBracket)?;
        let mut values = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBracket) {
                return Ok((values, close.span));
            }
            values.push(self.string_lit()?);
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                return Err(self.expected("`,` or `]`", None));
            }
        }
    }

    /// `[ A, B ]` of words (kinds, operations).
    pub(super) fn word_list(&mut self, what: &str) -> PResult<(Vec<Ident>, Span)> {
        self.expect(TokenKind::LBracket)?;
        let mut values = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBracket) {
                return Ok((values, close.span));
            }
            values.push(self.ident(what)?);
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) {
                return Err(self.expected("`,` or `]`", None));
            }
        }
    }

    pub(super) fn message(&mut self) -> PResult<Message> {
        let token = self.peek();
        if token.kind != TokenKind::Str {
            return Err(self.expected(
                "a message in double quotes",
                Some("messages may interpolate values: \"container {c.name} is privileged\""),
            ));
        }
        self.bump();
        let segments = strings::decode(self.text, token.span, true, &mut self.diagnostics);
        let parts = segments
            .into_iter()
            .map(|segment| match segment {
                Segment::Text(text) => MessagePart::Text(text),
                Segment::Placeholder(span) => {
                    if span.is_empty() || self.slice(span).trim().is_empty() {
                        self.error_at(
                            Code::InvalidInterpolation,
                            span,
                            "an empty placeholder".to_string(),
                            Some("put an expression between the braces, or write `\\{` for a literal brace"),
                        );
                        return MessagePart::Expr(Expr {
                            kind: ExprKind::Error,
                            span,
                        });
                    }
                    MessagePart::Expr(parse_expression_in(self.text, span, &mut self.diagnostics))
                }
            })
            .collect();
        Ok(Message {
            parts,
            span: token.span,
        })
    }

    // ---- items --------------------------------------------------------------------------

    pub(super) fn match_clause(&mut self) -> PResult<MatchClause> {
        let keyword = self.bump();
        let what = self.ident(
            "`workloads`, `kinds`, `operations`, `namespaces`, `namespace_labels` or `labels`",
        )?;
        let (kind, end) = match what.name.as_str() {
            "workloads" => (MatchKind::Workloads, what.span),
            "kinds" => {
                let (kinds, end) = self.word_list("a kind such as `Pod`")?;
                (MatchKind::Kinds(kinds), end)
            }
            "operations" => {
                let (ops, end) = self.word_list("an operation such as `CREATE`")?;
                (MatchKind::Operations(ops), end)
            }
            "namespaces" => {
                let (names, end) = self.string_list()?;
                (MatchKind::Namespaces(names), end)
            }
            "namespace_labels" => {
                let (terms, end) = self.selector()?;
                (MatchKind::NamespaceLabels(terms), end)
            }
            "labels" => {
                let (terms, end) = self.selector()?;
                (MatchKind::Labels(terms), end)
            }
            other => {
                let suggestion = crate::syntax::closest_word(other, crate::syntax::MATCH_TARGETS);
                let mut diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    what.span,
                    format!("`{other}` is not something a guardrail can match on"),
                )
                .with_help(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("write one of: {}", crate::syntax::MATCH_TARGETS.join(", ")),
                });
                if let Some(s) = suggestion {
                    diagnostic = diagnostic.with_edit(what.span, s);
                }
                self.diagnostics.push(diagnostic);
                return Err(Failed);
            }
        };
        Ok(MatchClause {
            kind,
            span: keyword.span.to(end),
        })
    }

    /// `{ "key" = "v", "k2" in ["a"], "k3" exists, "k4" missing, "k5" != "x", "k6" not in [..] }`.
    pub(super) fn selector(&mut self) -> PResult<(Vec<SelectorTerm>, Span)> {
        self.expect(TokenKind::LBrace)?;
        let mut terms = Vec::new();
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Ok((terms, close.span));
            }
            let key = self.string_lit()?;
            let test = if self.eat(TokenKind::Eq).is_some() || self.eat(TokenKind::EqEq).is_some() {
                SelectorTest::Equals(self.string_lit()?)
            } else if self.eat(TokenKind::NotEq).is_some() {
                SelectorTest::NotEquals(self.string_lit()?)
            } else if self.eat_word("in").is_some() {
                SelectorTest::In(self.string_list()?.0)
            } else if self.eat_word("not").is_some() {
                self.expect_word("in")?;
                SelectorTest::NotIn(self.string_list()?.0)
            } else if self.eat_word("exists").is_some() {
                SelectorTest::Exists
            } else if self.eat_word("missing").is_some() {
                SelectorTest::Missing
            } else {
                return Err(self.expected(
                    "`=`, `!=`, `in`, `not in`, `exists` or `missing`",
                    Some(
                        "a selector term reads `\"app\" = \"web\"` or `\"tier\" in [\"a\", \"b\"]`",
                    ),
                ));
            };
            let span = key.span.to(self.previous_end());
            terms.push(SelectorTerm { key, test, span });
            self.eat(TokenKind::Comma);
        }
    }

    pub(super) fn param(&mut self) -> PResult<Param> {
        let keyword = self.bump();
        let name = self.ident("a param name")?;
        self.expect(TokenKind::Colon)?;
        let ty = self.type_expr()?;
        let default = if self.eat(TokenKind::Eq).is_some() {
            Some(self.expr())
        } else {
            None
        };
        let span = keyword.span.to(self.previous_end());
        Ok(Param {
            name,
            ty,
            default,
            span,
        })
    }

    pub(super) fn type_expr(&mut self) -> PResult<TypeExpr> {
        if !self.enter() {
            return Err(Failed);
        }
        let ty = self.type_expr_inner();
        self.leave();
        if self.depth == 0 {
            self.too_deep = false;
        }
        ty
    }

    pub(super) fn type_expr_inner(&mut self) -> PResult<TypeExpr> {
        if let Some(open) = self.eat(TokenKind::LBrace) {
            return self.record_type(open);
        }
        let name = self.ident("a type such as `string` or `list<string>`")?;
        let mut args = Vec::new();
        if self.eat(TokenKind::Lt).is_some() {
            loop {
                args.push(self.type_expr()?);
                if self.eat(TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(TokenKind::Gt)?;
        }
        let span = name.span.to(self.previous_end());
        Ok(TypeExpr {
            name,
            args,
            fields: Vec::new(),
            span,
        })
    }

    /// `{ name: type, … }`, after its `{`.
    pub(super) fn record_type(&mut self, open: Token) -> PResult<TypeExpr> {
        let mut fields = Vec::new();
        while !self.at(TokenKind::RBrace) {
            let name = self.ident("a field name")?;
            self.expect(TokenKind::Colon)?;
            let ty = self.type_expr()?;
            fields.push(RecordField { name, ty });
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RBrace)?;
        Ok(TypeExpr {
            name: Ident {
                name: "record".to_string(),
                span: open.span,
            },
            args: Vec::new(),
            fields,
            span: open.span.to(self.previous_end()),
        })
    }

    pub(super) fn let_binding(&mut self) -> PResult<Let> {
        let keyword = self.bump();
        let name = self.ident("a name for the binding")?;
        self.expect(TokenKind::Eq)?;
        let value = self.expr();
        let span = keyword.span.to(value.span);
        Ok(Let { name, value, span })
    }

    pub(super) fn rule(&mut self) -> PResult<Rule> {
        let keyword = self.bump();
        let kind = if self.slice(keyword.span) == "deny" {
            RuleKind::Deny
        } else {
            RuleKind::Require
        };
        let mut rule = Rule {
            kind,
            keyword: keyword.span,
            bindings: Vec::new(),
            when: None,
            that: None,
            message: None,
            fix: None,
            span: keyword.span,
        };
        loop {
            let token = self.peek();
            let word = if token.kind == TokenKind::Ident {
                self.slice(token.span)
            } else {
                ""
            };
            match word {
                "for" => {
                    self.bump();
                    let var = self.ident("a loop variable name")?;
                    self.expect_word("in")?;
                    let list = self.outermost(Self::postfix);
                    let span = token.span.to(list.span);
                    rule.bindings.push(Binding::For(For { var, list, span }));
                    let loops = rule
                        .bindings
                        .iter()
                        .filter(|b| matches!(b, Binding::For(_)))
                        .count();
                    if loops > MAX_NESTING {
                        // Each loop nests the next in every backend.
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::TooDeep,
                                span,
                                format!("this rule has more than {MAX_NESTING} `for` loops"),
                            )
                            .with_help("split the rule, or loop over fewer lists"),
                        );
                        return Err(Failed);
                    }
                }
                "let" => rule.bindings.push(Binding::Let(self.let_binding()?)),
                "when" => {
                    self.bump();
                    let expr = self.expr();
                    self.set_once(&mut rule.when, expr, "when")?;
                }
                "that" => {
                    self.bump();
                    let expr = self.expr();
                    self.set_once(&mut rule.that, expr, "that")?;
                }
                "message" => {
                    self.bump();
                    let message = self.message()?;
                    self.set_once(&mut rule.message, message, "message")?;
                }
                "fix" => {
                    self.bump();
                    let message = self.message()?;
                    self.set_once(&mut rule.fix, message, "fix")?;
                }
                _ => break,
            }
        }
        rule.span = keyword.span.to(self.previous_end());
        if rule.message.is_none() {
            let token = self.peek();
            let found = if token.kind == TokenKind::Eof {
                "the end of the file".to_string()
            } else {
                format!("`{}`", self.slice(token.span))
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::UnexpectedToken,
                    token.span,
                    format!("expected `message` to end the rule, found {found}"),
                )
                .with_secondary(keyword.span, "rule starts here")
                .with_help(
                    "every rule says what is wrong: `message \"container {c.name} is privileged\"`",
                ),
            );
            // The rule itself is complete enough to check; keep it.
            if !self.at_item_start() && !self.at(TokenKind::RBrace) {
                self.recover_to_item();
            }
        }
        Ok(rule)
    }

    pub(super) fn set_once<T: HasSpan>(
        &mut self,
        slot: &mut Option<T>,
        value: T,
        what: &str,
    ) -> PResult<()> {
        if let Some(first) = slot {
            let diagnostic = Diagnostic::new(
                Code::DuplicateItem,
                value.span(),
                format!("a rule has one `{what}` clause"),
            )
            .with_secondary(first.span(), "first given here")
            .with_help("combine the conditions with `and` / `or`");
            self.diagnostics.push(diagnostic);
            return Err(Failed);
        }
        *slot = Some(value);
        Ok(())
    }

    pub(super) fn enforce(&mut self) -> PResult<Enforce> {
        let keyword = self.bump();
        let mut entries = Vec::new();
        if self.eat(TokenKind::LBrace).is_none() {
            let action = self.ident("`deny`, `warn`, `audit` or `{ env: action, … }`")?;
            let span = keyword.span.to(action.span);
            entries.push(EnforceEntry { env: None, action });
            return Ok(Enforce { entries, span });
        }
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                return Ok(Enforce {
                    entries,
                    span: keyword.span.to(close.span),
                });
            }
            let env = self.ident("an environment name")?;
            self.expect(TokenKind::Colon)?;
            let action = self.ident("`deny`, `warn` or `audit`")?;
            entries.push(EnforceEntry {
                env: Some(env),
                action,
            });
            self.eat(TokenKind::Comma);
        }
    }

    pub(super) fn exempt(&mut self) -> PResult<Exempt> {
        let keyword = self.bump();
        self.expect(TokenKind::LBrace)?;
        let mut exempt = Exempt {
            namespaces: Vec::new(),
            names: Vec::new(),
            images: Vec::new(),
            labels: Vec::new(),
            reason: None,
            owner: None,
            expires: None,
            span: keyword.span,
        };
        loop {
            if let Some(close) = self.eat(TokenKind::RBrace) {
                exempt.span = keyword.span.to(close.span);
                return Ok(exempt);
            }
            let key = self.ident(
                "`namespaces`, `names`, `labels`, `images`, `reason`, `owner` or `expires`",
            )?;
            match key.name.as_str() {
                "namespaces" => exempt.namespaces.extend(self.string_list()?.0),
                "names" => exempt.names.extend(self.string_list()?.0),
                "images" => exempt.images.extend(self.string_list()?.0),
                "labels" => exempt.labels.extend(self.selector()?.0),
                "reason" => exempt.reason = Some(self.string_lit()?),
                "owner" => exempt.owner = Some(self.string_lit()?),
                "expires" => exempt.expires = Some(self.date()?),
                other => {
                    let options = [
                        "namespaces",
                        "names",
                        "labels",
                        "images",
                        "reason",
                        "owner",
                        "expires",
                    ];
                    let suggestion = crate::syntax::closest_word(other, &options);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::UnexpectedToken,
                            key.span,
                            format!("`{other}` is not an exemption field"),
                        )
                        .with_help(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "exemption fields are namespaces, names, labels, images, reason, owner and expires".to_string(),
                        }),
                    );
                    return Err(Failed);
                }
            }
        }
    }

    pub(super) fn date(&mut self) -> PResult<Date> {
        let token = self.peek();
        if token.kind != TokenKind::Date {
            return Err(self.expected("a date such as `2027-01-31`", None));
        }
        self.bump();
        let text = self.slice(token.span);
        match parse_date(text) {
            Some((year, month, day)) => Ok(Date {
                year,
                month,
                day,
                span: token.span,
            }),
            None => {
                self.error_at(
                    Code::InvalidDate,
                    token.span,
                    format!("`{text}` is not a calendar date"),
                    Some("write the date as YYYY-MM-DD, e.g. 2027-01-31"),
                );
                Err(Failed)
            }
        }
    }

    // ---- expressions --------------------------------------------------------------------
}
