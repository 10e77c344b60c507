//! The one diagnostic type shared by the command line, the language server and the tests.
//!
//! Messages follow one style: lowercase, no trailing period, user input in backticks, the fix
//! in `help`. Every [`Code`] has an entry in [`crate::codes`] that `guardrailc explain` prints.

use crate::codes::{Code, Severity};
use crate::span::Span;
use serde::Serialize;

/// A secondary location with its own short message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A machine-applicable replacement of `span` by `replacement`, offered as a quick fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is. Project-level diagnostics (config, environments) carry the span of
    /// the config entry when there is one.
    pub span: Span,
    /// Short text shown under the primary caret.
    pub label: Option<String>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub edit: Option<Edit>,
}

impl Diagnostic {
    /// A diagnostic with the severity its code has by default.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            label: None,
            labels: Vec::new(),
            help: None,
            edit: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_edit(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        self.edit = Some(Edit {
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True if any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
