//! What a guardrail reads, found by walking its IR: the object and namespace paths its rules,
//! messages, exemptions and selectors look at (for one matched kind, since the pod view sits
//! at a different place in each), and the literals it compares with. The generators spend
//! their effort on exactly these.

use guardrailc_compiler::ir::{self, Access, Expr, Literal, Root, Step, TemplatePart};
use std::collections::BTreeMap;

/// One step of a path in a generated object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    /// An object field or a map key.
    Name(String),
    /// Every item of a list (an index step reads some item, so it counts as every item).
    Each,
}

/// The paths read below one point of an object, as a tree of steps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathTree {
    pub children: BTreeMap<PathStep, PathTree>,
}

impl PathTree {
    fn insert(&mut self, path: &[PathStep]) {
        let mut node = self;
        for step in path {
            node = node.children.entry(step.clone()).or_default();
        }
    }

    /// The subtree below a field or key, if anything there is read.
    pub fn name(&self, name: &str) -> Option<&PathTree> {
        self.children.get(&PathStep::Name(name.to_string()))
    }

    pub fn each(&self) -> Option<&PathTree> {
        self.children.get(&PathStep::Each)
    }
}

/// What a guardrail reads of requests for one matched kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Paths of the object (and the old object: the same kind).
    pub object: PathTree,
    /// Paths of the request's Namespace object.
    pub namespace: PathTree,
}

/// The literals of a guardrail, which generated values are built around so that comparisons
/// go both ways.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Literals {
    pub strings: Vec<String>,
    pub ints: Vec<i64>,
    pub quantities: Vec<String>,
}

/// Where a path starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Object,
    Namespace,
}

type Located = (Base, Vec<PathStep>);

struct Walker<'p> {
    pod: Option<&'p ir::PodLocation>,
    /// Loop variables in scope, innermost last, with the paths of the items they stand for.
    vars: Vec<(String, Vec<Located>)>,
    reads: Reads,
}

/// The paths `policy` reads on objects of `kind`.
pub fn reads_for_kind(policy: &ir::Policy, kind: &str) -> Reads {
    let pod = policy.pod.as_ref().and_then(|view| {
        view.locations
            .iter()
            .find(|l| l.kinds.iter().any(|k| k == kind))
    });
    let mut walker = Walker {
        pod,
        vars: Vec::new(),
        reads: Reads::default(),
    };
    for rule in &policy.rules {
        let scope = walker.vars.len();
        for generator in &rule.generators {
            walker.walk(&generator.list);
            let items = walker.items_of(&generator.list);
            walker.vars.push((generator.var.clone(), items));
        }
        walker.walk(&rule.condition);
        for part in &rule.message.parts {
            if let TemplatePart::Value(expr) = part {
                walker.walk(expr);
            }
        }
        walker.vars.truncate(scope);
    }
    for exemption in &policy.exemptions {
        walker.walk(&exemption.condition);
    }
    let labels = |selector: &ir::LabelSelector| -> Vec<String> {
        selector
            .match_labels
            .iter()
            .map(|(key, _)| key.clone())
            .chain(selector.match_expressions.iter().map(|r| r.key.clone()))
            .collect()
    };
    for (base, selector) in [
        (Base::Object, &policy.matcher.object_selector),
        (Base::Namespace, &policy.matcher.namespace_selector),
    ] {
        for key in labels(selector) {
            walker.record(&(base, names(&["metadata", "labels", &key])));
        }
    }
    walker.reads
}

fn names(steps: &[&str]) -> Vec<PathStep> {
    steps
        .iter()
        .map(|name| PathStep::Name(name.to_string()))
        .collect()
}

impl Walker<'_> {
    fn record(&mut self, (base, path): &Located) {
        match base {
            Base::Object => self.reads.object.insert(path),
            Base::Namespace => self.reads.namespace.insert(path),
        }
    }

    /// The object paths an access reads (none for params and the request).
    fn resolve(&self, access: &Access) -> Vec<Located> {
        let spec = |field: Option<&str>| -> Vec<Located> {
            let Some(pod) = self.pod else {
                return Vec::new();
            };
            let mut path: Vec<PathStep> = pod
                .spec_path
                .iter()
                .map(|s| PathStep::Name(s.clone()))
                .collect();
            path.extend(field.map(|f| PathStep::Name(f.to_string())));
            vec![(Base::Object, path)]
        };
        let starts: Vec<Located> = match &access.root {
            Root::Object | Root::OldObject => vec![(Base::Object, Vec::new())],
            Root::Namespace => vec![(Base::Namespace, Vec::new())],
            Root::Request | Root::Param(_) => Vec::new(),
            Root::PodSpec => spec(None),
            Root::PodMetadata => match self.pod {
                Some(pod) => vec![(
                    Base::Object,
                    pod.metadata_path
                        .iter()
                        .map(|s| PathStep::Name(s.clone()))
                        .collect(),
                )],
                None => Vec::new(),
            },
            Root::AllContainers => ["containers", "initContainers", "ephemeralContainers"]
                .into_iter()
                .flat_map(|field| spec(Some(field)))
                .collect(),
            Root::Var(name) => self
                .vars
                .iter()
                .rev()
                .find(|(var, _)| var == name)
                .map(|(_, items)| items.clone())
                .unwrap_or_default(),
        };
        // All containers is a list of the three lists' items.
        let starts: Vec<Located> = if access.root == Root::AllContainers {
            starts
                .into_iter()
                .map(|(base, mut path)| {
                    path.push(PathStep::Each);
                    (base, path)
                })
                .collect()
        } else {
            starts
        };
        // A key computed at run time could be any key: the path ends at its map.
        let steps: Vec<PathStep> = access
            .steps
            .iter()
            .map_while(|step| match step {
                Step::Field(name) | Step::Key(name) => Some(PathStep::Name(name.clone())),
                Step::Index(_) => Some(PathStep::Each),
                Step::Lookup(_) => None,
            })
            .collect();
        starts
            .into_iter()
            .map(|(base, mut path)| {
                path.extend(steps.iter().cloned());
                (base, path)
            })
            .collect()
    }

    /// The paths of the items of a list expression.
    fn items_of(&self, list: &Expr) -> Vec<Located> {
        let access = match list {
            Expr::Value(access) | Expr::ValueOr { access, .. } => access,
            _ => return Vec::new(),
        };
        let mut items = self.resolve(access);
        // `AllContainers` already resolves to the items.
        if access.root != Root::AllContainers || !access.steps.is_empty() {
            for (_, path) in &mut items {
                path.push(PathStep::Each);
            }
        }
        items
    }

    fn walk(&mut self, expr: &Expr) {
        match expr {
            Expr::Quantified {
                var, list, body, ..
            } => {
                self.walk(list);
                let items = self.items_of(list);
                self.vars.push((var.clone(), items));
                self.walk(body);
                self.vars.pop();
            }
            other => {
                if let Some(access) = other.access() {
                    for located in self.resolve(access) {
                        self.record(&located);
                    }
                }
                other.for_each_child(|child| self.walk(child));
            }
        }
    }
}

/// Every string, integer and quantity literal of `policy`: in its rules, params, exemptions
/// and match (namespaces, selector values), sorted and once each.
pub fn literals(policy: &ir::Policy) -> Literals {
    let mut found = Literals::default();
    let mut exprs: Vec<&Expr> = Vec::new();
    for rule in &policy.rules {
        exprs.extend(rule.generators.iter().map(|g| &g.list));
        exprs.push(&rule.condition);
        for part in &rule.message.parts {
            if let TemplatePart::Value(expr) = part {
                exprs.push(expr);
            }
        }
    }
    exprs.extend(policy.exemptions.iter().map(|e| &e.condition));
    for expr in exprs {
        collect_expr(expr, &mut found);
    }
    for param in &policy.params {
        collect_literal(&param.value, &mut found);
    }
    let matcher = &policy.matcher;
    found.strings.extend(
        matcher
            .namespaces
            .iter()
            .cloned()
            .chain(matcher.excluded_namespaces.clone()),
    );
    for selector in [&matcher.object_selector, &matcher.namespace_selector] {
        found
            .strings
            .extend(selector.match_labels.iter().map(|(_, v)| v.clone()));
        for requirement in &selector.match_expressions {
            found.strings.extend(requirement.values.iter().cloned());
        }
    }
    found.strings.sort();
    found.strings.dedup();
    found.ints.sort();
    found.ints.dedup();
    found.quantities.sort();
    found.quantities.dedup();
    found
}

fn collect_literal(literal: &Literal, into: &mut Literals) {
    match literal {
        Literal::Bool(_) => {}
        Literal::Int(i) => into.ints.push(*i),
        Literal::String(s) => into.strings.push(s.clone()),
        Literal::Quantity(q) => into.quantities.push(q.clone()),
        Literal::List(items) => items.iter().for_each(|item| collect_literal(item, into)),
        Literal::Map(entries) | Literal::Record(entries) => {
            for (key, value) in entries {
                into.strings.push(key.clone());
                collect_literal(value, into);
            }
        }
    }
}

fn collect_expr(expr: &Expr, into: &mut Literals) {
    if let Expr::Literal(literal) = expr {
        collect_literal(literal, into);
    }
    if let Some(access) = expr.access() {
        collect_keys(access, into);
    }
    expr.for_each_child(|child| collect_expr(child, into));
}

/// Map keys read by an access are values too: a label key compared elsewhere. (Keys computed
/// at run time are expressions, collected by the walk.)
fn collect_keys(access: &Access, into: &mut Literals) {
    for step in &access.steps {
        if let Step::Key(key) = step {
            into.strings.push(key.clone());
        }
    }
}
