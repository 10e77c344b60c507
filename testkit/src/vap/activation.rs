//! The names a VAP expression sees, bound as the API server binds them: `object`,
//! `oldObject`, `request`, `namespaceObject`, `params`, and `variables`. Each binding is
//! converted to a CEL value, and each variable evaluated, lazily and at most once per
//! request: most requests read only some of them.

use super::cost::{runtime_cost, PER_CALL_LIMIT};
use super::json_to_cel::cel_value_of;
use super::shared::to_static;
use super::OVER_COST;
use crate::case::{AdmissionCase, RequestFacts};
use cel::common::traits::Indexer;
use cel::common::types::{CelString, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Env, ExecutionError, Program, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// A `variables` entry of a policy, compiled once.
pub(crate) struct CompiledVariable {
    pub name: String,
    pub program: Program,
}

/// What an absent object binds as, as the API server binds it.
static NULL: serde_json::Value = serde_json::Value::Null;

pub(crate) struct Activation<'p> {
    env: Arc<Env>,
    /// The request the bindings come from: its objects are converted, and its request
    /// built from it and its facts, when an expression first reads them.
    case: &'p AdmissionCase,
    facts: &'p RequestFacts,
    object: OnceLock<Box<dyn Val>>,
    old_object: OnceLock<Box<dyn Val>>,
    request: OnceLock<Box<dyn Val>>,
    namespace_object: OnceLock<Box<dyn Val>>,
    params: OnceLock<Box<dyn Val>>,
    variables: &'p [CompiledVariable],
    /// One cell per variable, filled on first use; an error is kept like a value.
    evaluated: Vec<OnceLock<Result<Box<dyn Val>, ExecutionError>>>,
    /// Set while a variable is being evaluated, to refuse a variable that refers to itself.
    in_progress: Vec<AtomicBool>,
    /// When the run-time cost is counted: each variable's cost, walked before it is evaluated,
    /// so that a variable past the per-expression limit is stopped there, not run to its end.
    costs: Option<Vec<OnceLock<u64>>>,
}

impl<'p> Activation<'p> {
    pub fn new(
        env: Arc<Env>,
        case: &'p AdmissionCase,
        facts: &'p RequestFacts,
        variables: &'p [CompiledVariable],
    ) -> Self {
        Activation {
            env,
            case,
            facts,
            object: OnceLock::new(),
            old_object: OnceLock::new(),
            request: OnceLock::new(),
            namespace_object: OnceLock::new(),
            params: OnceLock::new(),
            variables,
            evaluated: variables.iter().map(|_| OnceLock::new()).collect(),
            in_progress: variables.iter().map(|_| AtomicBool::new(false)).collect(),
            costs: None,
        }
    }

    /// This activation, counting each variable's run-time cost before evaluating it: one past
    /// [`PER_CALL_LIMIT`] is not evaluated, and reads as the API server's cost error.
    pub fn counting_cost(mut self) -> Self {
        self.costs = Some(self.variables.iter().map(|_| OnceLock::new()).collect());
        self
    }

    /// The run-time cost of variable `index`, when it was counted (it has been read).
    pub fn variable_cost(&self, index: usize) -> Option<u64> {
        self.costs.as_ref()?.get(index)?.get().copied()
    }

    /// A context that resolves this request's bindings, for one evaluation.
    fn context(&self) -> Context<'_, '_> {
        let mut context = Context::with_env(Arc::clone(&self.env));
        context.set_variable_resolver(self);
        context
    }

    /// Evaluates one prepared program against this request.
    pub fn evaluate(&self, program: &Program) -> Result<Value, ExecutionError> {
        program.execute(&self.context())
    }

    /// What the API server would charge to evaluate `program` on this request
    /// ([`super::cost`]); variables it reads are evaluated, not charged.
    pub fn cost(&self, program: &Program) -> u64 {
        runtime_cost(program.expression(), &self.context())
    }

    /// Evaluates a variable's program, keeping the interpreter's own value: converting it
    /// to a `Value` and back would copy it twice, where shared lists and maps are not
    /// copied at all.
    fn evaluate_to_static(&self, program: &Program) -> Result<Box<dyn Val>, ExecutionError> {
        let context = self.context();
        let value = Value::resolve_val(program.expression(), &context)?;
        to_static(value.as_ref())
    }

    /// The value of variable `name`, evaluated on first use.
    pub fn variable(&self, name: &str) -> Result<&(dyn Val + 'static), ExecutionError> {
        let index = self
            .variables
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| ExecutionError::no_such_key(name))?;
        if self.evaluated[index].get().is_none() {
            if self.in_progress[index].swap(true, Ordering::SeqCst) {
                return Err(ExecutionError::function_error(
                    "variables",
                    format!("variable `{name}` refers to itself"),
                ));
            }
            let program = &self.variables[index].program;
            let cost = self.costs.as_ref().map(|costs| {
                let cost = self.cost(program);
                let _ = costs[index].set(cost);
                cost
            });
            let result = match cost {
                Some(cost) if cost > PER_CALL_LIMIT => Err(ExecutionError::function_error(
                    "variables",
                    OVER_COST.to_string(),
                )),
                _ => self.evaluate_to_static(program),
            };
            // Only this call can have set the cell: it was empty and no other evaluation of
            // this variable can be in progress.
            let _ = self.evaluated[index].set(result);
        }
        match self.evaluated[index]
            .get()
            .expect("the cell is filled above when it was empty")
        {
            Ok(value) => Ok(value.as_ref()),
            Err(error) => Err(error.clone()),
        }
    }
}

impl VariableResolver for Activation<'_> {
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        // The API server binds every object as its unstructured map, built-in kinds and
        // custom resources alike: properties under their own names (backend::cel::property_selector).
        let object =
            |json: &Option<serde_json::Value>| cel_value_of(json.as_ref().unwrap_or(&NULL));
        let plain = cel_value_of;
        let case = self.case;
        let bound = match name {
            "object" => self.object.get_or_init(|| object(&case.object)),
            "oldObject" => self.old_object.get_or_init(|| object(&case.old_object)),
            "request" => self
                .request
                .get_or_init(|| plain(&case.admission_request(self.facts))),
            "namespaceObject" => self
                .namespace_object
                .get_or_init(|| object(&case.namespace_object)),
            // paramKind is not supported: params are inlined by the compiler.
            "params" => self.params.get_or_init(|| plain(&serde_json::Value::Null)),
            "variables" => return Some(CowVal::owned(Variables { activation: self })),
            _ => return None,
        };
        Some(CowVal::Borrowed(bound.as_ref()))
    }
}

/// The `variables` value: each field is looked up, and evaluated, when selected.
#[derive(Debug)]
struct Variables<'a> {
    activation: &'a Activation<'a>,
}

impl std::fmt::Debug for Activation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activation")
            .field("variables", &self.variables.len())
            .finish_non_exhaustive()
    }
}

static VARIABLES_TYPE: Type = Type::new_unspecified_type("kubernetes.variables");

impl Val for Variables<'_> {
    fn get_type(&self) -> &Type {
        &VARIABLES_TYPE
    }

    fn cel_type() -> &'static Type {
        &VARIABLES_TYPE
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(Variables {
            activation: self.activation,
        })
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
}

impl Indexer for Variables<'_> {
    fn get<'b, 'v>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let name =
            index
                .downcast_ref::<CelString>()
                .ok_or_else(|| ExecutionError::UnexpectedType {
                    got: index.get_type().name().to_string(),
                    want: "string".to_string(),
                })?;
        Ok(CowVal::Borrowed(self.activation.variable(name.inner())?))
    }

    fn steal<'v>(self: Box<Self>, index: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(index).map(CowVal::into_owned)
    }
}
