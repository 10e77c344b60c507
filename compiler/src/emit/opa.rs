pub fn emit_opa(_policy: &crate::ir::Policy) -> (Vec<super::Artifact>, Vec<crate::Diagnostic>) {
    (Vec::new(), Vec::new())
}
