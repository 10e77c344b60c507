//! Values: names, `let`s, literals, functions over values, iteration and message placeholders.

use super::*;

impl Checker<'_> {
    /// Checks a value expression (a path, a literal, a size).
    /// The checked value of an expression (recorded in `types` when an editor asked).
    pub fn value(&mut self, expr: &ast::Expr) -> Val {
        let val = self.value_of(expr);
        if let Some(types) = self.types.as_deref_mut() {
            types.record(expr.span, &val.ty);
        }
        val
    }

    pub(super) fn value_of(&mut self, expr: &ast::Expr) -> Val {
        match &expr.kind {
            ExprKind::Int(n) => Val::constant(Literal::Int(*n), Ty::Int),
            ExprKind::Str(s) => Val::constant(Literal::String(s.clone()), Ty::Str),
            ExprKind::Bool(b) => Val::constant(Literal::Bool(*b), Ty::Bool),
            ExprKind::Quantity(q) => Val::constant(Literal::Quantity(q.clone()), Ty::Quantity),
            ExprKind::List(items) => {
                let vals: Vec<Val> = items.iter().map(|i| self.value(i)).collect();
                let element = vals.first().map_or(Ty::Any, |v| v.ty.clone());
                for (val, item) in vals.iter().zip(items) {
                    if !compatible(&val.ty, &element) {
                        self.error(
                            Code::TypeMismatch,
                            item.span,
                            "list elements must all have the same type".into(),
                        );
                    }
                }
                let constants: Option<Vec<Literal>> =
                    vals.iter().map(|v| v.constant.clone()).collect();
                match constants {
                    Some(literals) => {
                        Val::constant(Literal::List(literals), Ty::List(Box::new(element)))
                    }
                    None => {
                        let guards = vals.iter().flat_map(|v| v.guards.clone()).collect();
                        Val {
                            expr: Expr::List(vals.into_iter().map(|v| v.expr).collect()),
                            access: None,
                            guards,
                            ty: Ty::List(Box::new(element)),
                            constant: None,
                        }
                    }
                }
            }
            ExprKind::Name(name) => self.name(name, expr.span),
            ExprKind::Field(base, field) => self.field(base, field),
            ExprKind::Index(base, index) => self.index(base, index, expr.span),
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if name.name == "size" => {
                self.arguments("size", args, 0, expr.span);
                let val = self.value(receiver);
                let sized = |ty: &Ty| matches!(ty, Ty::List(_) | Ty::Map(_) | Ty::Str);
                if !self.receives(
                    "size",
                    &val,
                    receiver.span,
                    (sized, "lists, maps and strings"),
                    None,
                ) {
                    return Val::error();
                }
                let inner = match (&val.ty, val.access.clone()) {
                    (Ty::List(_), Some(access)) => Expr::ValueOr {
                        access,
                        fallback: Literal::List(Vec::new()),
                    },
                    _ => val.expr.clone(),
                };
                let guards = if matches!(val.ty, Ty::List(_)) && val.access.is_some() {
                    Vec::new()
                } else {
                    val.guards
                };
                Val {
                    expr: Expr::Size(Box::new(inner)),
                    access: None,
                    guards,
                    ty: Ty::Int,
                    constant: None,
                }
            }
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if name.name == "keys" => self.keys(receiver, args, expr.span),
            ExprKind::Call {
                receiver: Some(receiver),
                name,
                args,
            } if string_fn(&name.name).is_some() => self.string_fn(receiver, name, args, expr.span),
            ExprKind::Error => Val::error(),
            ExprKind::Call { name, .. } => {
                let suggestion = crate::suggest::closest(&name.name, FUNCTIONS.iter().copied());
                let diagnostic = self.error(
                    Code::UnknownFunction,
                    name.span,
                    if string_op(&name.name).is_some()
                        || name.name == "exists"
                        || name.name == "missing"
                    {
                        format!("`{}` is a condition, not a value", name.name)
                    } else {
                        format!("unknown function `{}`", name.name)
                    },
                );
                if let Some(s) = suggestion {
                    diagnostic.help = Some(format!("did you mean `{s}`?"));
                    diagnostic.edit = Some(crate::diagnostic::Edit {
                        span: name.span,
                        replacement: s.to_string(),
                    });
                }
                Val::error()
            }
            ExprKind::Not(_) | ExprKind::Binary(..) | ExprKind::Quantified { .. } => {
                self.error(
                    Code::TypeMismatch,
                    expr.span,
                    "a condition cannot be used as a value here".into(),
                )
                .help = Some("conditions belong in `when` and `that`".into());
                Val::error()
            }
        }
    }

    pub(super) fn name(&mut self, name: &str, span: Span) -> Val {
        if let Some(binding) = self.lookup(name).cloned() {
            return match binding {
                Binding::Var(ty) => Val::path(
                    Access {
                        root: Root::Var(name.to_string()),
                        steps: Vec::new(),
                    },
                    ty,
                    true,
                ),
                Binding::Let(val) => val,
                Binding::Param(ty) => {
                    self.error(
                        Code::UnknownName,
                        span,
                        format!("params are read through `params`: write `params.{name}`"),
                    )
                    .edit = Some(crate::diagnostic::Edit {
                        span,
                        replacement: format!("params.{name}"),
                    });
                    let _ = ty;
                    Val::error()
                }
            };
        }
        let root = |root: Root, ty: Ty| {
            Val::path(
                Access {
                    root,
                    steps: Vec::new(),
                },
                ty,
                true,
            )
        };
        match name {
            "object" => root(Root::Object, Ty::Object(self.roots.object.clone())),
            "old" => {
                self.reads.old_object = true;
                let mut val = root(Root::OldObject, Ty::Object(self.roots.object.clone()));
                val.guards = vec![Expr::Present(val.access.clone().expect("a root is a path"))];
                val
            }
            "namespace" => {
                self.reads.namespace = true;
                let ty = self
                    .roots
                    .namespace
                    .map_or(Ty::Any, |id| Ty::Object(vec![id]));
                let mut val = root(Root::Namespace, ty);
                val.guards = vec![Expr::Present(val.access.clone().expect("a root is a path"))];
                val
            }
            "request" => {
                self.reads.request = true;
                root(Root::Request, Ty::Request)
            }
            "pod" | "params" => {
                self.error(
                    Code::UnknownName,
                    span,
                    format!("`{name}` is read through its fields"),
                )
                .help = Some(if name == "pod" {
                    "write `pod.spec`, `pod.metadata` or `pod.all_containers`".into()
                } else {
                    "write `params.NAME`".into()
                });
                Val::error()
            }
            _ => {
                let mut candidates: Vec<&str> = ROOT_NAMES.to_vec();
                candidates.extend(self.scope.iter().map(|(n, _)| n.as_str()));
                let suggestion =
                    crate::suggest::closest(name, candidates.iter().copied()).map(str::to_string);
                let diagnostic =
                    self.error(Code::UnknownName, span, format!("unknown name `{name}`"));
                match suggestion {
                    Some(s) => {
                        diagnostic.help = Some(format!("did you mean `{s}`?"));
                        diagnostic.edit = Some(crate::diagnostic::Edit { span, replacement: s });
                    }
                    None => {
                        diagnostic.help = Some("roots are object, old, pod, namespace, request and params; loop variables come from `for`, `any` and `all`".into())
                    }
                }
                Val::error()
            }
        }
    }

    /// `m.keys()`: the keys of a map as a list of strings; an absent map has none.
    pub(super) fn keys(&mut self, receiver: &ast::Expr, args: &[ast::Expr], span: Span) -> Val {
        self.arguments("keys", args, 0, span);
        let val = self.value(receiver);
        let map = |ty: &Ty| matches!(ty, Ty::Map(_));
        let help = "maps are fields such as `metadata.annotations`";
        if !self.receives("keys", &val, receiver.span, (map, "maps"), Some(help)) {
            return Val::error();
        }
        let map = match (val.access.clone(), only_own_presence(&val)) {
            (Some(access), true) if !val.guards.is_empty() => Expr::ValueOr {
                access,
                fallback: Literal::Map(Default::default()),
            },
            (_, true) if val.guards.is_empty() => val.expr.clone(),
            _ => {
                self.error(
                    Code::TypeMismatch,
                    receiver.span,
                    "`keys` needs a map read through fields and keys that are always present"
                        .into(),
                );
                return Val::error();
            }
        };
        Val {
            expr: Expr::Keys(Box::new(map)),
            access: None,
            guards: Vec::new(),
            ty: Ty::List(Box::new(Ty::Str)),
            constant: None,
        }
    }

    /// `s.trim_prefix(x)`, `s.trim_suffix(x)`: a string, defined where both operands are.
    pub(super) fn string_fn(
        &mut self,
        receiver: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Val {
        let op = string_fn(&name.name).expect("caller checked the name");
        if !self.arguments(&name.name, args, 1, span) {
            return Val::error();
        }
        let subject = self.value(receiver);
        let arg = self.value(&args[0]);
        if subject.ty == Ty::Error || arg.ty == Ty::Error {
            return Val::error();
        }
        let mut type_guards = Vec::new();
        self.expect_string(&subject, receiver.span, &mut type_guards);
        self.expect_string(&arg, args[0].span, &mut type_guards);
        let mut guards = subject.guards;
        guards.extend(arg.guards);
        guards.extend(type_guards);
        dedup(&mut guards);
        Val {
            expr: Expr::StringFn {
                op,
                subject: Box::new(subject.expr),
                arg: Box::new(arg.expr),
            },
            access: None,
            guards,
            ty: Ty::Str,
            constant: None,
        }
    }

    /// The element type of something iterated, with a diagnostic when it is not a list.
    pub fn element_type(&mut self, val: &Val, span: Span) -> Ty {
        match &val.ty {
            Ty::List(inner) => (**inner).clone(),
            Ty::Error | Ty::Any => Ty::Any,
            other => {
                let described = other.describe(self.schema);
                self.error(
                    Code::NotAList,
                    span,
                    format!("expected a list, found {described}"),
                )
                .help = Some(match other {
                    Ty::Map(_) => "maps are indexed by key, e.g. `labels[\"team\"]`".into(),
                    _ => "iterate over a list such as `pod.all_containers`".into(),
                });
                Ty::Error
            }
        }
    }

    /// The list expression of a loop: absent lists iterate nothing.
    pub fn iterable(&mut self, val: Val, span: Span) -> Expr {
        if val.access.is_some() && !only_own_presence(&val) {
            self.error(
                Code::TypeMismatch,
                span,
                "this list is read with a key that may be absent, so it cannot be iterated".into(),
            )
            .help = Some(
                "read the key from a value that is always present, such as a loop variable".into(),
            );
            return Expr::Literal(Literal::List(Vec::new()));
        }
        iterable_path(val)
    }

    /// A message placeholder: a scalar that is never absent.
    pub fn template_value(&mut self, expr: &ast::Expr) -> Expr {
        let val = self.value(expr);
        if !val.ty.is_scalar() {
            let described = val.ty.with_article(self.schema);
            self.error(
                Code::NotInterpolatable,
                expr.span,
                format!("a message cannot print {described}"),
            )
            .help = Some("print a scalar field, such as `{c.name}`".into());
            return Expr::Literal(Literal::String(String::new()));
        }
        let own_presence = only_own_presence(&val);
        if let (Some((zero, _)), true) = (val.plain_zero(), own_presence) {
            // As the API server stores it: the zero value, also when the parent is absent.
            let zero = zero.clone();
            return Expr::ValueOr {
                access: val.access.expect("a plain value is a path"),
                fallback: zero,
            };
        }
        match (val.access, val.guards.is_empty()) {
            (_, true) => val.expr,
            (Some(access), false) if own_presence => Expr::ValueOr {
                access,
                fallback: Literal::String("<missing>".into()),
            },
            (Some(_), false) => {
                self.error(
                    Code::NotInterpolatable,
                    expr.span,
                    "a message cannot print a map value whose key may be absent".into(),
                )
                .help = Some(
                    "print the key instead, or read the key from a value that is always present"
                        .into(),
                );
                Expr::Literal(Literal::String(String::new()))
            }
            (None, false) => {
                self.error(
                    Code::NotInterpolatable,
                    expr.span,
                    "a message can print a field or a constant, not a computed value that may be absent".into(),
                );
                Expr::Literal(Literal::String(String::new()))
            }
        }
    }
}
