//! Field paths: schema fields (with their Go encoding), the pod view, params and indexing.

use super::*;

impl Checker<'_> {
    pub(super) fn field(&mut self, base: &ast::Expr, field: &ast::Ident) -> Val {
        // Roots whose fields are not schema fields.
        if let ExprKind::Name(root) = &base.kind {
            if self.lookup(root).is_none() {
                match root.as_str() {
                    "pod" => return self.pod_field(field),
                    "params" => return self.param_field(field),
                    _ => {}
                }
            }
        }
        let base_val = self.value(base);
        if base_val.ty == Ty::Error {
            return Val::error();
        }
        let Some(access) = base_val.access.clone() else {
            self.error(
                Code::TypeMismatch,
                field.span,
                format!("`.{}` can only follow a field path", field.name),
            );
            return Val::error();
        };
        let ty = match &base_val.ty {
            Ty::Object(ids) => {
                let mut found: Option<Ty> = None;
                // How every kind that declares the field encodes it, when they agree.
                let mut encoding: Option<Encoding> = None;
                for id in ids {
                    if let Some(f) = self.schema.field(*id, &field.name) {
                        let ty = Ty::from_field(&f.ty);
                        encoding = match encoding {
                            Some(e) if e != f.encoding => Some(Encoding::AsWritten),
                            _ => Some(f.encoding),
                        };
                        found = Some(match found {
                            None => ty,
                            Some(prev) => merge(prev, ty),
                        });
                    }
                }
                let Some(ty) = found else {
                    self.unknown_field(ids, field);
                    return Val::error();
                };
                let mut access = access;
                access.steps.push(Step::Field(field.name.clone()));
                return match (encoding, zero_value(&ty)) {
                    (Some(Encoding::PlainValue), Some(zero)) => {
                        Val::plain(base_val.guards, access, ty, zero)
                    }
                    (Some(Encoding::ValueStruct), _) => Val {
                        // Present wherever its parent is: the parent's guards are its own.
                        expr: Expr::Value(access.clone()),
                        access: Some(access),
                        guards: base_val.guards,
                        ty,
                        constant: None,
                    },
                    _ => extend(base_val.guards, access, ty, false),
                };
            }
            Ty::Request => {
                let (steps, ty): (&[&str], Ty) = match field.name.as_str() {
                    "operation" => (&["operation"], Ty::Str),
                    "user" => (&["userInfo", "username"], Ty::Str),
                    "groups" => (&["userInfo", "groups"], Ty::List(Box::new(Ty::Str))),
                    "namespace" => (&["namespace"], Ty::Str),
                    "name" => (&["name"], Ty::Str),
                    other => {
                        let options = ["operation", "user", "groups", "namespace", "name"];
                        let suggestion = crate::suggest::closest(other, options);
                        self.error(
                            Code::UnknownField,
                            field.span,
                            format!("the request has no field `{other}`"),
                        )
                        .help = Some(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => {
                                "request fields are operation, user, groups, namespace and name"
                                    .into()
                            }
                        });
                        return Val::error();
                    }
                };
                let mut access = access;
                access
                    .steps
                    .extend(steps.iter().map(|s| Step::Field(s.to_string())));
                let never_absent = field.name == "operation";
                return extend(base_val.guards, access, ty, never_absent);
            }
            Ty::Any => Ty::Any,
            Ty::Record(fields) => match fields.iter().find(|(name, _)| name == &field.name) {
                Some((_, ty)) => ty.clone(),
                None => {
                    let suggestion = crate::suggest::closest(
                        &field.name,
                        fields.iter().map(|(n, _)| n.as_str()),
                    )
                    .map(str::to_string);
                    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its fields are {}", names.join(", ")),
                    };
                    self.error(
                        Code::UnknownField,
                        field.span,
                        format!("`{}` is not a field of the record", field.name),
                    )
                    .help = Some(help);
                    return Val::error();
                }
            },
            other => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::UnknownField,
                    field.span,
                    format!("{described} has no fields"),
                )
                .help = Some(match other {
                    Ty::Map(_) => format!("maps are indexed: `[\"{}\"]`", field.name),
                    Ty::List(_) => "iterate lists with `for x in …` or `any x in …:`".into(),
                    _ => "remove the field access".into(),
                });
                return Val::error();
            }
        };
        let mut access = access;
        access.steps.push(Step::Field(field.name.clone()));
        extend(base_val.guards, access, ty, false)
    }

    pub(super) fn unknown_field(&mut self, ids: &[TypeId], field: &ast::Ident) {
        let mut names: Vec<&str> = Vec::new();
        for id in ids {
            names.extend(
                self.schema
                    .object(*id)
                    .fields
                    .iter()
                    .map(|f| f.name.as_str()),
            );
        }
        let suggestion =
            crate::suggest::closest(&field.name, names.iter().copied()).map(str::to_string);
        let type_names: Vec<&str> = ids
            .iter()
            .map(|id| crate::check::types::short_type_name(&self.schema.object(*id).name))
            .collect();
        let diagnostic = self.error(
            Code::UnknownField,
            field.span,
            format!(
                "`{}` is not a field of {}",
                field.name,
                type_names.join(" or ")
            ),
        );
        match suggestion {
            Some(s) => {
                diagnostic.help = Some(format!("did you mean `{s}`?"));
                diagnostic.edit = Some(crate::diagnostic::Edit {
                    span: field.span,
                    replacement: s,
                });
            }
            None => {
                let mut sorted = names;
                sorted.sort();
                sorted.dedup();
                let shown: Vec<&str> = sorted.into_iter().take(12).collect();
                diagnostic.help = Some(format!("fields here include {}", shown.join(", ")));
            }
        }
    }

    pub(super) fn pod_field(&mut self, field: &ast::Ident) -> Val {
        let Some(pod) = self.roots.pod else {
            let kinds = self.roots.non_pod_kinds.join(", ");
            self.error(
                Code::PodOutsideWorkloads,
                field.span,
                format!(
                    "`pod` is only defined for pod kinds, but this guardrail also matches {kinds}"
                ),
            )
            .help = Some(
                "match `workloads` (or only pod kinds), or read the object through `object`".into(),
            );
            return Val::error();
        };
        self.reads_pod = true;
        let root = |root: Root| Access {
            root,
            steps: Vec::new(),
        };
        match field.name.as_str() {
            "spec" => Val::path(root(Root::PodSpec), Ty::Object(vec![pod.spec]), false),
            "metadata" => Val::path(
                root(Root::PodMetadata),
                Ty::Object(vec![pod.metadata]),
                false,
            ),
            "all_containers" => Val::path(
                root(Root::AllContainers),
                Ty::List(Box::new(Ty::Object(vec![pod.container, pod.ephemeral]))),
                true,
            ),
            other => {
                let suggestion =
                    crate::suggest::closest(other, ["spec", "metadata", "all_containers"]);
                self.error(
                    Code::UnknownField,
                    field.span,
                    format!("`pod` has no field `{other}`"),
                )
                .help = Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`pod` has spec, metadata and all_containers; containers are `pod.spec.containers`".into(),
                });
                Val::error()
            }
        }
    }

    pub(super) fn param_field(&mut self, field: &ast::Ident) -> Val {
        match self.lookup(&field.name).cloned() {
            Some(Binding::Param(ty)) => Val::path(
                Access {
                    root: Root::Param(field.name.clone()),
                    steps: Vec::new(),
                },
                ty,
                true,
            ),
            _ => {
                let params: Vec<&str> = self
                    .scope
                    .iter()
                    .filter(|(_, b)| matches!(b, Binding::Param(_)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let suggestion = crate::suggest::closest(&field.name, params.iter().copied())
                    .map(str::to_string);
                let diagnostic = self.error(
                    Code::UnknownName,
                    field.span,
                    format!("no param named `{}`", field.name),
                );
                diagnostic.help = Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it: `param {}: string = \"…\"`", field.name),
                });
                Val::error()
            }
        }
    }

    pub(super) fn index(&mut self, base: &ast::Expr, index: &ast::Expr, span: Span) -> Val {
        let base_val = self.value(base);
        let index_val = self.value(index);
        if base_val.ty == Ty::Error || index_val.ty == Ty::Error {
            return Val::error();
        }
        let Some(access) = base_val.access.clone() else {
            self.error(
                Code::TypeMismatch,
                span,
                "only field paths can be indexed".into(),
            );
            return Val::error();
        };
        let mut key_guards = Vec::new();
        let (step, ty) = match (&base_val.ty, &index_val.constant) {
            (Ty::Map(values), Some(Literal::String(key))) => {
                (Step::Key(key.clone()), (**values).clone())
            }
            (Ty::Any, Some(Literal::String(key))) => (Step::Key(key.clone()), Ty::Any),
            (Ty::Map(_) | Ty::Any, None)
                if matches!(index_val.ty, Ty::Str | Ty::Any | Ty::IntOrString) =>
            {
                // A key known only at run time: its own guards (presence, type) come first.
                key_guards = index_val.guards.clone();
                if index_val.ty != Ty::Str {
                    key_guards.push(Expr::IsType {
                        value: Box::new(index_val.expr.clone()),
                        ty: ValueType::String,
                    });
                }
                let ty = match &base_val.ty {
                    Ty::Map(values) => (**values).clone(),
                    _ => Ty::Any,
                };
                (Step::Lookup(Box::new(index_val.expr.clone())), ty)
            }
            (Ty::List(items), Some(Literal::Int(n))) if *n >= 0 && *n <= u32::MAX as i64 => {
                (Step::Index(*n as u32), (**items).clone())
            }
            (Ty::Any, Some(Literal::Int(n))) if *n >= 0 && *n <= u32::MAX as i64 => {
                (Step::Index(*n as u32), Ty::Any)
            }
            (Ty::Map(_) | Ty::List(_) | Ty::Any, _) => {
                self.error(
                    Code::TypeMismatch,
                    index.span,
                    "an index must be a string (maps) or a non-negative integer literal (lists)"
                        .into(),
                )
                .help = Some("use a `let` bound to a literal, or iterate with `for`".into());
                return Val::error();
            }
            (other, _) => {
                let described = other.with_article(self.schema);
                self.error(
                    Code::TypeMismatch,
                    base.span,
                    format!("{described} cannot be indexed"),
                )
                .help = Some("index maps such as `metadata.labels[\"team\"]` and lists such as `containers[0]`".into());
                return Val::error();
            }
        };
        let mut access = access;
        access.steps.push(step);
        self.container_by_index(&ty, span);
        let mut guards = base_val.guards;
        guards.extend(key_guards);
        extend(guards, access, ty, false)
    }
}
