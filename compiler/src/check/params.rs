//! Params: their declared types, their defaults, and how a value is read as its type.

use super::*;

pub(super) fn check_param(param: &ast::Param, checker: &mut Checker) -> Option<CheckedParam> {
    let ty = parse_param_type(&param.ty, checker.diagnostics)?;
    let default = match &param.default {
        Some(expr) => {
            let val = checker.value(expr);
            match literal_of_type(&val, &ty) {
                Some(literal) => Some(literal),
                None => {
                    if val.ty != Ty::Error {
                        checker.diagnostics.push(
                            Diagnostic::new(
                                Code::ParamTypeMismatch,
                                expr.span,
                                format!(
                                    "the default of `{}` is not a {}",
                                    param.name.name,
                                    describe_param_type(&ty)
                                ),
                            )
                            .with_help("write a literal of the declared type"),
                        );
                    }
                    None
                }
            }
        }
        // A record says which of its fields are given; with none given it is a value too.
        None if matches!(ty, ParamType::Record(_)) => Some(Literal::Record(Default::default())),
        None => None,
    };
    Some(CheckedParam {
        name: param.name.name.clone(),
        ty,
        default,
        span: param.span,
    })
}

pub(super) fn parse_param_type(
    ty: &ast::TypeExpr,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ParamType> {
    let arity = |n: usize, diagnostics: &mut Vec<Diagnostic>| {
        if ty.args.len() != n {
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownType,
                    ty.span,
                    format!("`{}` takes {n} type argument(s)", ty.name.name),
                )
                .with_help("write list<string> or map<string, string>"),
            );
            return false;
        }
        true
    };
    let scalar = |name: &str| match name {
        "string" => Some(ParamType::String),
        "int" => Some(ParamType::Int),
        "bool" => Some(ParamType::Bool),
        "quantity" => Some(ParamType::Quantity),
        _ => None,
    };
    if !ty.fields.is_empty()
        || (ty.name.name == "record" && ty.name.span.end - ty.name.span.start == 1)
    {
        return parse_record_type(ty, diagnostics);
    }
    match ty.name.name.as_str() {
        "list" => {
            if !arity(1, diagnostics) {
                return None;
            }
            Some(ParamType::List(Box::new(parse_param_type(
                &ty.args[0],
                diagnostics,
            )?)))
        }
        "map" => {
            if !arity(2, diagnostics) {
                return None;
            }
            if ty.args[0].name.name != "string" {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownType,
                        ty.args[0].span,
                        "map keys are strings".to_string(),
                    )
                    .with_help("write map<string, T>"),
                );
                return None;
            }
            Some(ParamType::Map(Box::new(parse_param_type(
                &ty.args[1],
                diagnostics,
            )?)))
        }
        name => match scalar(name) {
            Some(t) if arity(0, diagnostics) => Some(t),
            Some(_) => None,
            None => {
                let options = ["string", "int", "bool", "quantity", "list", "map"];
                let suggestion = crate::suggest::closest(name, options);
                let mut d = Diagnostic::new(
                    Code::UnknownType,
                    ty.name.span,
                    format!("unknown type `{name}`"),
                )
                .with_help("types are string, int, bool, quantity, list<T>, map<string, T> and records {name: T, …}");
                if let Some(s) = suggestion {
                    d = d.with_edit(ty.name.span, s);
                }
                diagnostics.push(d);
                None
            }
        },
    }
}

/// `{name: T, …}`: at least one field, each named once.
pub(super) fn parse_record_type(
    ty: &ast::TypeExpr,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ParamType> {
    if ty.fields.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::UnknownType,
                ty.span,
                "a record type needs at least one field".to_string(),
            )
            .with_help("write `{min: int, max: int}`"),
        );
        return None;
    }
    let mut fields: Vec<(String, ParamType)> = Vec::new();
    let mut valid = true;
    for field in &ty.fields {
        if fields.iter().any(|(name, _)| name == &field.name.name) {
            diagnostics.push(Diagnostic::new(
                Code::DuplicateName,
                field.name.span,
                format!("the record has two fields named `{}`", field.name.name),
            ));
            valid = false;
            continue;
        }
        match parse_param_type(&field.ty, diagnostics) {
            Some(field_ty) => fields.push((field.name.name.clone(), field_ty)),
            None => valid = false,
        }
    }
    valid.then_some(ParamType::Record(fields))
}

pub fn describe_param_type(ty: &ParamType) -> String {
    match ty {
        ParamType::String => "string".into(),
        ParamType::Int => "int".into(),
        ParamType::Bool => "bool".into(),
        ParamType::Quantity => "quantity".into(),
        ParamType::List(inner) => format!("list<{}>", describe_param_type(inner)),
        ParamType::Map(inner) => format!("map<string, {}>", describe_param_type(inner)),
        ParamType::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, ty)| format!("{name}: {}", describe_param_type(ty)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

pub(super) fn param_ty(ty: &ParamType) -> Ty {
    match ty {
        ParamType::String => Ty::Str,
        ParamType::Int => Ty::Int,
        ParamType::Bool => Ty::Bool,
        ParamType::Quantity => Ty::Quantity,
        ParamType::List(inner) => Ty::List(Box::new(param_ty(inner))),
        ParamType::Map(inner) => Ty::Map(Box::new(param_ty(inner))),
        ParamType::Record(fields) => Ty::Record(
            fields
                .iter()
                .map(|(name, ty)| (name.clone(), param_ty(ty)))
                .collect(),
        ),
    }
}

/// The literal as a value of `ty`, if it is one (an int or string literal may stand for a
/// quantity).
pub fn literal_of_type_value(literal: &Literal, ty: &ParamType) -> Option<Literal> {
    match (ty, literal) {
        (ParamType::String, Literal::String(_))
        | (ParamType::Int, Literal::Int(_))
        | (ParamType::Bool, Literal::Bool(_))
        | (ParamType::Quantity, Literal::Quantity(_)) => Some(literal.clone()),
        (ParamType::Quantity, Literal::Int(n)) => Some(Literal::Quantity(n.to_string())),
        (ParamType::Quantity, Literal::String(s)) if crate::quantity::parse(s).is_some() => {
            Some(Literal::Quantity(s.clone()))
        }
        (ParamType::List(inner), Literal::List(items)) => Some(Literal::List(
            items
                .iter()
                .map(|item| literal_of_type_value(item, inner))
                .collect::<Option<Vec<_>>>()?,
        )),
        (ParamType::Map(inner), Literal::Map(entries)) => Some(Literal::Map(
            entries
                .iter()
                .map(|(k, v)| Some((k.clone(), literal_of_type_value(v, inner)?)))
                .collect::<Option<_>>()?,
        )),
        (ParamType::Record(fields), Literal::Map(entries) | Literal::Record(entries)) => {
            let typed = entries
                .iter()
                .map(|(key, value)| {
                    let (_, field_ty) = fields.iter().find(|(name, _)| name == key)?;
                    Some((key.clone(), literal_of_type_value(value, field_ty)?))
                })
                .collect::<Option<_>>()?;
            Some(Literal::Record(typed))
        }
        _ => None,
    }
}

pub(super) fn literal_of_type(val: &Val, ty: &ParamType) -> Option<Literal> {
    literal_of_type_value(val.constant.as_ref()?, ty)
}
