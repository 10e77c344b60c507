pub fn emit_vap(
    _policy: &crate::ir::Policy,
    _kube: crate::kube::KubeVersion,
) -> (Vec<super::Artifact>, Vec<crate::Diagnostic>) {
    (Vec::new(), Vec::new())
}
