//! The testkit evaluates the artifacts the compiler emits, in process, as the real systems
//! would: ValidatingAdmissionPolicy with the `cel` crate, Gatekeeper and plain OPA Rego with
//! `regorus`. Every engine turns one [`AdmissionCase`] into an [`Outcome`], and
//! [`outcome::compare`] is the one comparison of two outcomes. See docs/evaluation.md.

pub mod agreement;
pub mod apiserver;
pub mod case;
pub mod compiled;
pub mod coverage;
pub mod files;
pub mod fixtures;
pub mod label_selector;
pub mod loader;
pub mod manifest_check;
pub mod manifests;
pub mod network_policy;
pub mod outcome;
pub mod panics;
pub mod property;
pub mod rego;
pub mod report;
pub mod reports;
pub mod request_shape;
pub mod runner;
pub mod shared_data;
pub mod snapshots;
pub mod test_support;
pub mod vap;

pub use case::{AdmissionCase, Operation, ResourceCatalog, ResourceInfo, SchemaCatalog, UserInfo};
pub use outcome::{compare, Difference, Outcome, Verdict};
pub use rego::gatekeeper::{GatekeeperPolicy, NamespaceSource};
pub use rego::opa::OpaPolicy;
pub use vap::VapPolicy;

/// A case the engines cannot evaluate (no object, an unknown kind, a namespace object the
/// match needs but the case lacks): a fixture mistake, not a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError(pub String);

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaseError {}
