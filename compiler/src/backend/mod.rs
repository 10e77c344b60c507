//! Printers from the IR to policy languages. A backend renders; it does not analyse.

pub mod cel;
pub mod rego;
pub mod rego_lint;
