//! The one walk over IR expressions. Every analysis of the IR (reads, cost, loop depth,
//! property-mode biasing) takes its children from [`Expr::for_each_child`] and writes only the
//! cases it cares about, so a new `Expr` variant is added to the walk in one place.

use super::{Access, Expr, Step};

impl Expr {
    /// Calls `visit` on each expression directly inside this one, in evaluation order: the
    /// operands, a loop's list before its body, and the run-time keys of an access's lookups.
    pub fn for_each_child<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        match self {
            Expr::Literal(_) => {}
            Expr::List(items) | Expr::And(items) | Expr::Or(items) => items.iter().for_each(visit),
            Expr::Value(access) | Expr::Present(access) | Expr::ValueOr { access, .. } => {
                access.for_each_key(visit)
            }
            Expr::IsType { value: inner, .. }
            | Expr::Not(inner)
            | Expr::Size(inner)
            | Expr::Keys(inner) => visit(inner),
            Expr::StringFn { subject, arg, .. } | Expr::StringTest { subject, arg, .. } => {
                visit(subject);
                visit(arg);
            }
            Expr::Compare { lhs, rhs, .. } => {
                visit(lhs);
                visit(rhs);
            }
            Expr::InList { item, list } => {
                visit(item);
                visit(list);
            }
            Expr::Quantified { list, body, .. } => {
                visit(list);
                visit(body);
            }
        }
    }

    /// Calls `visit` on this expression and every expression inside it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        self.for_each_child(|child| child.walk(visit));
    }

    /// The access this expression reads directly, if it is a path.
    pub fn access(&self) -> Option<&Access> {
        match self {
            Expr::Value(access) | Expr::Present(access) | Expr::ValueOr { access, .. } => {
                Some(access)
            }
            _ => None,
        }
    }
}

impl Access {
    /// Calls `visit` on the run-time key of each lookup step.
    pub fn for_each_key<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        for step in &self.steps {
            if let Step::Lookup(key) = step {
                visit(key);
            }
        }
    }
}

/// Calls `visit` on every access in `expr`.
pub fn each_access<'a>(expr: &'a Expr, visit: &mut impl FnMut(&'a Access)) {
    expr.walk(&mut |e| {
        if let Some(access) = e.access() {
            visit(access);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Literal, Quantifier, Root};

    fn path(root: Root, steps: Vec<Step>) -> Access {
        Access { root, steps }
    }

    #[test]
    fn the_walk_reaches_every_access_including_lookup_keys_and_loop_bodies() {
        let key = Expr::Value(path(Root::Var("k".into()), vec![]));
        let labels = path(
            Root::Object,
            vec![
                Step::Field("metadata".into()),
                Step::Field("labels".into()),
                Step::Lookup(Box::new(key)),
            ],
        );
        let expr = Expr::Quantified {
            quantifier: Quantifier::Any,
            var: "k".into(),
            list: Box::new(Expr::ValueOr {
                access: path(Root::Param("keys".into()), vec![]),
                fallback: Literal::List(vec![]),
            }),
            body: Box::new(Expr::Not(Box::new(Expr::Present(labels)))),
        };
        let mut roots = Vec::new();
        each_access(&expr, &mut |access| roots.push(access.root.clone()));
        assert_eq!(
            roots,
            vec![
                Root::Param("keys".into()),
                Root::Object,
                Root::Var("k".into())
            ]
        );
        let mut count = 0;
        expr.walk(&mut |_| count += 1);
        // the quantifier, its list, the `not`, the presence test and the lookup key
        assert_eq!(count, 5);
    }
}
