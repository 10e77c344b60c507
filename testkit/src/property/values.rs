//! proptest strategies for values of a schema type, generating only what a guardrail reads
//! ([`PathTree`]) and biased toward the values that decide its comparisons. Every strategy is
//! built from proptest's own combinators, so a failing object shrinks: optional fields toward
//! absent, lists toward empty, picks toward the first (simplest) value of their pool.

use super::reads::{Literals, PathTree};
use guardrailc_compiler::schema::{FieldType, Schema};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Items of a long list: past what fixtures usually hold, still cheap to evaluate. One list
/// in ten is long: nested lists multiply, and a pod with long container and port lists
/// costs the engines tens of times an ordinary one.
pub const LONG_LIST: usize = 12;
/// Most items of a short list.
pub const SHORT_LIST: usize = 3;
/// Length of the long generated string: past the 63-character limit of names and labels.
const LONG_STRING: usize = 300;
/// How often an optional field the guardrail reads is present.
const PRESENT_WEIGHT: f64 = 0.75;

/// The values generated leaves are drawn from, first the simplest (shrinking goes there).
#[derive(Clone, Debug)]
pub struct Pools {
    pub strings: Arc<Vec<String>>,
    pub ints: Arc<Vec<i64>>,
    pub quantities: Arc<Vec<String>>,
    /// Items of a long list: [`LONG_LIST`], or fewer where the guardrail's loops would make
    /// requests with lists that long cost more than the API server allows.
    pub long_list: usize,
}

impl Pools {
    /// Boundary values, plus each literal of the guardrail and its neighbours: for strings the
    /// literal with text before and after it (so `starts_with`, `ends_with` and `contains`
    /// go both ways), for integers the literal ± 1.
    pub fn new(literals: &Literals) -> Pools {
        let mut strings: Vec<String> = vec![
            String::new(),
            "a".into(),
            "x:1.0".into(),
            "ünïcødé-日本-🚀".into(),
            " ".into(),
            "x".repeat(LONG_STRING),
        ];
        for literal in &literals.strings {
            strings.push(literal.clone());
            strings.push(format!("{literal}x"));
            strings.push(format!("x{literal}"));
        }
        let mut ints: Vec<i64> = vec![0, 1, -1, 80, 65535, 65536, i64::from(i32::MAX)];
        for literal in &literals.ints {
            ints.extend([
                *literal,
                literal.saturating_sub(1),
                literal.saturating_add(1),
            ]);
        }
        let mut quantities: Vec<String> = [
            "0", "1", "500m", "1n", "1Mi", "1G", "1Gi", "1e3", "0.5Gi", "4096Mi", "1Ei",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        quantities.extend(literals.quantities.iter().cloned());
        for pool in [&mut strings, &mut quantities] {
            dedup_keeping_order(pool);
        }
        dedup_keeping_order(&mut ints);
        Pools {
            strings: Arc::new(strings),
            ints: Arc::new(ints),
            quantities: Arc::new(quantities),
            long_list: LONG_LIST,
        }
    }

    /// The same pools, with long lists of `items` items.
    pub fn with_long_list(self, items: usize) -> Pools {
        Pools {
            long_list: items,
            ..self
        }
    }

    fn string(&self) -> BoxedStrategy<Value> {
        select(self.strings.to_vec()).prop_map(Value::from).boxed()
    }

    fn int(&self) -> BoxedStrategy<Value> {
        select(self.ints.to_vec()).prop_map(Value::from).boxed()
    }
}

fn dedup_keeping_order<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    *items = kept;
}

/// Values of type `ty` with the paths of `tree` filled in.
pub fn value_of(
    schema: &Schema,
    ty: &FieldType,
    tree: &PathTree,
    pools: &Pools,
) -> BoxedStrategy<Value> {
    match ty {
        FieldType::String { enum_values, .. } if !enum_values.is_empty() => {
            select(enum_values.clone()).prop_map(Value::from).boxed()
        }
        FieldType::String { .. } => pools.string(),
        FieldType::Int => pools.int(),
        FieldType::Number => select(vec![0.0, 0.5, -1.5, 1e10])
            .prop_map(Value::from)
            .boxed(),
        FieldType::Bool => any::<bool>().prop_map(Value::from).boxed(),
        FieldType::Quantity => {
            // A quantity field also takes a plain number.
            prop_oneof![
                4 => select(pools.quantities.to_vec()).prop_map(Value::from),
                1 => select(vec![0i64, 1, 4096]).prop_map(Value::from),
            ]
            .boxed()
        }
        FieldType::IntOrString => prop_oneof![pools.int(), pools.string()].boxed(),
        FieldType::Array { items, max_items } => {
            let item = value_of(
                schema,
                items,
                tree.each().unwrap_or(&PathTree::default()),
                pools,
            );
            let cap = max_items.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
            let short = prop::collection::vec(item.clone(), 0..=SHORT_LIST.min(cap));
            let long_list = pools.long_list.min(cap);
            let long = prop::collection::vec(item, long_list..=long_list);
            prop_oneof![9 => short, 1 => long]
                .prop_map(Value::Array)
                .boxed()
        }
        FieldType::Map { values } => {
            let keyed = tree
                .children
                .iter()
                .filter_map(|(step, subtree)| match step {
                    super::reads::PathStep::Name(key) => {
                        Some((key.clone(), value_of(schema, values, subtree, pools), false))
                    }
                    super::reads::PathStep::Each => None,
                });
            let mut fields: Vec<(String, BoxedStrategy<Value>, bool)> = keyed.collect();
            // A key nobody reads, so that maps are not only the keys the guardrail asks for.
            fields.push((
                "other.example.com/key".into(),
                value_of(schema, values, &PathTree::default(), pools),
                false,
            ));
            object_of(fields)
        }
        FieldType::Object(id) => {
            let object = schema.object(*id);
            let fields: Vec<(String, BoxedStrategy<Value>, bool)> = tree
                .children
                .iter()
                .filter_map(|(step, subtree)| {
                    let super::reads::PathStep::Name(name) = step else {
                        return None;
                    };
                    let field_type = schema.field_type(*id, name)?;
                    let required = object.fields.iter().any(|f| &f.name == name && f.required);
                    Some((
                        name.clone(),
                        value_of(schema, field_type, subtree, pools),
                        required,
                    ))
                })
                .collect();
            object_of(fields)
        }
        FieldType::Any => any_value(tree, pools),
    }
}

/// Objects with these fields, each absent or present (required ones always present).
fn object_of(fields: Vec<(String, BoxedStrategy<Value>, bool)>) -> BoxedStrategy<Value> {
    let names: Vec<String> = fields.iter().map(|(name, _, _)| name.clone()).collect();
    let values: Vec<BoxedStrategy<Option<Value>>> = fields
        .into_iter()
        .map(|(_, value, required)| {
            if required {
                value.prop_map(Some).boxed()
            } else {
                Optional {
                    present: PRESENT_WEIGHT,
                    value,
                }
                .boxed()
            }
        })
        .collect();
    values
        .prop_map(move |values| {
            let mut object = Map::new();
            for (name, value) in names.iter().zip(values) {
                if let Some(value) = value {
                    object.insert(name.clone(), value);
                }
            }
            Value::Object(object)
        })
        .boxed()
}

/// A value where the schema has no type: the API server keeps whatever was sent, so wrong
/// types and nulls are fair, and objects carrying the read paths.
fn any_value(tree: &PathTree, pools: &Pools) -> BoxedStrategy<Value> {
    let scalars = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        pools.int(),
        pools.string(),
        Just(Value::Array(Vec::new())),
        Just(Value::Object(Map::new())),
    ];
    if tree.children.is_empty() {
        return scalars.boxed();
    }
    let item = tree.each().map(|subtree| any_value(subtree, pools));
    let fields: Vec<(String, BoxedStrategy<Value>, bool)> = tree
        .children
        .iter()
        .filter_map(|(step, subtree)| match step {
            super::reads::PathStep::Name(name) => {
                Some((name.clone(), any_value(subtree, pools), false))
            }
            super::reads::PathStep::Each => None,
        })
        .collect();
    let mut shapes = vec![scalars.boxed(), object_of(fields)];
    if let Some(item) = item {
        shapes.push(
            prop::collection::vec(item, 0..=3)
                .prop_map(Value::Array)
                .boxed(),
        );
    }
    proptest::strategy::Union::new(shapes).boxed()
}

/// A value present with probability `present`, else `None`, as `proptest::option::weighted`
/// generates it, without its union: a union keeps, for each arm it did not pick, a copy of
/// the test runner to generate that arm with when shrinking, and every optional field of
/// every request paid for one (a sixth of the time spent generating). A present value
/// shrinks to `None` first, then as its own strategy shrinks (the union shrank within the
/// value first): dropping a field the failure does not need is the larger step.
#[derive(Debug, Clone)]
struct Optional<S> {
    present: f64,
    value: S,
}

impl<S: Strategy> Strategy for Optional<S> {
    type Tree = OptionalTree<S::Tree>;
    type Value = Option<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let present = proptest::bool::weighted(self.present)
            .new_tree(runner)?
            .current();
        Ok(OptionalTree {
            value: if present {
                Some(self.value.new_tree(runner)?)
            } else {
                None
            },
            absent: false,
            tried_absent: false,
            shrinking_value: false,
        })
    }
}

/// The value tree of [`Optional`].
struct OptionalTree<T> {
    /// The generated value; `None` when it was generated absent.
    value: Option<T>,
    /// Whether the present value is shrunk away.
    absent: bool,
    /// Whether shrinking to absent was tried and had to be undone.
    tried_absent: bool,
    /// Whether the value's own tree has been simplified: only then may it be complicated.
    shrinking_value: bool,
}

impl<T: ValueTree> ValueTree for OptionalTree<T> {
    type Value = Option<T::Value>;

    fn current(&self) -> Self::Value {
        match &self.value {
            Some(value) if !self.absent => Some(value.current()),
            _ => None,
        }
    }

    fn simplify(&mut self) -> bool {
        match &mut self.value {
            None => false,
            Some(_) if self.absent => false,
            Some(_) if !self.tried_absent => {
                self.absent = true;
                true
            }
            Some(value) => {
                self.shrinking_value = true;
                value.simplify()
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match &mut self.value {
            // Absent was one step too far: the value comes back, and shrinks on its own.
            Some(_) if self.absent && !self.tried_absent => {
                self.absent = false;
                self.tried_absent = true;
                true
            }
            Some(value) if !self.absent && self.shrinking_value => value.complicate(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestError};

    /// Runs `fails` over optional integers and returns the minimal failing value.
    fn minimal(fails: impl Fn(Option<u32>) -> bool) -> Option<u32> {
        let strategy = Optional {
            present: 0.75,
            value: 0u32..1000,
        };
        let mut runner = TestRunner::new_with_rng(
            Config {
                failure_persistence: None,
                ..Config::default()
            },
            super::super::seeded_rng(3),
        );
        match runner.run(&strategy, |value| {
            if fails(value) {
                Err(TestCaseError::fail("fails"))
            } else {
                Ok(())
            }
        }) {
            Err(TestError::Fail(_, value)) => value,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn a_present_value_shrinks_to_absent_first_then_within_itself() {
        let strategy = Optional {
            present: 0.75,
            value: 10u32..1000,
        };
        let mut runner = TestRunner::deterministic();
        let mut tree = std::iter::repeat_with(|| strategy.new_tree(&mut runner).unwrap())
            .find(|tree| tree.current().is_some())
            .expect("three in four trees are present");
        let generated = tree.current().unwrap();
        // Nothing to undo yet.
        assert!(!tree.complicate());
        assert!(tree.simplify());
        assert_eq!(tree.current(), None);
        // Absent is as simple as it gets, until that is undone.
        assert!(!tree.simplify());
        assert!(tree.complicate());
        assert_eq!(tree.current(), Some(generated));
        // Undone once: the value's own tree has not moved, so there is nothing more to undo.
        assert!(!tree.complicate());
        assert!(tree.simplify());
        let shrunk = tree.current().expect("present from now on");
        assert!(shrunk < generated, "{shrunk} < {generated}");
    }

    #[test]
    fn a_failure_that_does_not_need_the_value_shrinks_to_absent() {
        assert_eq!(minimal(|_| true), None);
    }

    #[test]
    fn a_value_that_must_be_present_shrinks_within_itself() {
        assert_eq!(minimal(|value| value.is_some_and(|v| v >= 17)), Some(17));
    }

    #[test]
    fn absent_is_generated_at_about_its_weight() {
        let strategy = Optional {
            present: 0.75,
            value: Just(1u8),
        };
        let mut runner = TestRunner::deterministic();
        let present = (0..4000)
            .filter(|_| strategy.new_tree(&mut runner).unwrap().current().is_some())
            .count();
        assert!((2800..3200).contains(&present), "{present} of 4000 present");
    }
}
