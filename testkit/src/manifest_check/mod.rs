//! Detective mode: a project's compiled guardrails evaluated on existing manifests, each
//! object as if it were being created, on every target the project builds (the admission
//! targets apply their match; plain OPA joins where it is comparable, as in fixtures).
//! Namespaced objects are checked in their Namespace from the same manifests when there is
//! one, so namespace selectors and rules see its labels.
//!
//! * [`pipeline`](check_manifests): the manifests streamed to worker threads, findings
//!   delivered in order;
//! * [`namespaces`](Namespaces): the Namespace objects, and the cross-object default-deny
//!   check;
//! * [`object`](check_object): one object on every guardrail;
//! * [`finding`](Finding): what is found, and findings grouped by namespace and owner.
//!
//! Reports (JSON, SARIF, HTML, text) are rendered in [`crate::report`].

mod finding;
mod namespaces;
mod object;
mod pipeline;

pub use finding::{json_groups, report_order, Finding, Group, Groups};
pub use namespaces::Namespaces;
pub use object::{check_object, ObjectCheck};
pub use pipeline::{check_manifests, read_namespaces, CheckRun};

#[cfg(test)]
pub(crate) use finding::tests::finding as finding_for_tests;
