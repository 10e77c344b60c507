//! The CEL or Rego that the guardrail under the cursor compiles to, built from the editor's
//! buffers exactly as `guardrailc build` would.

use crate::syntax_index::FileSyntax;
use crate::workspace::Workspace;
use guardrailc_compiler::emit::Target;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// The ValidatingAdmissionPolicy, whose validations are CEL.
    Cel,
    /// The plain OPA package (the same Rego the Gatekeeper template embeds).
    Rego,
}

impl Language {
    fn target(self) -> Target {
        match self {
            Language::Cel => Target::Vap,
            Language::Rego => Target::Opa,
        }
    }
}

/// The guardrail id at `offset` of file `name`; `None` outside the project's sources, whose
/// guardrails are not built.
pub fn guardrail_id_at(workspace: &Workspace, name: &str, offset: u32) -> Option<String> {
    if !workspace.source_names().iter().any(|source| source == name) {
        return None;
    }
    let document = workspace.guard_document(name)?;
    let syntax = FileSyntax::parse(document.text());
    let guardrail = syntax.guardrail_at(offset)?;
    (!guardrail.id.name.is_empty()).then(|| guardrail.id.name.clone())
}

/// Every artifact of guardrail `id` in `language`, one per environment, each under a comment
/// naming its path; or the build's errors when it fails.
pub fn compiled(workspace: &Workspace, id: &str, language: Language) -> Result<String, String> {
    let output = workspace.build();
    let errors: Vec<String> = output
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "the project does not build:\n{}",
            errors.join("\n")
        ));
    }
    let sections: Vec<String> = output
        .artifacts
        .iter()
        .filter(|a| a.guardrail == id && a.target == language.target())
        .map(|a| format!("# {}\n{}", a.path, a.contents))
        .collect();
    if sections.is_empty() {
        return Err(format!(
            "guardrail `{id}` has no {} output (is the target enabled in guardrails.toml?)",
            match language {
                Language::Cel => "CEL",
                Language::Rego => "Rego",
            }
        ));
    }
    Ok(sections.join("\n"))
}
