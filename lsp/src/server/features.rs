//! The requests on one document: each converts positions to offsets, asks a feature
//! module, and converts the answer back.

use super::convert::{command_arguments, key, offset, range, to_lsp_diagnostic};
use super::{guarded, Backend, SHOW_CEL, SHOW_REGO};
use crate::compiled::{self, Language};
use crate::completion::{self, CompletionKind};
use crate::document::Document;
use crate::fixtures;
use crate::hover;
use crate::names;
use crate::semantic_tokens;
use crate::symbols::{self, SymbolKind as OutlineKind};
use crate::workspace::Workspace;
use guardrailc_compiler::Span;
use std::str::FromStr;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

impl Backend {
    pub(super) async fn hover_request(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        Ok(self.with_syntax(
            &p.text_document.uri,
            "hover",
            |workspace, document, syntax| {
                let at = offset(document, p.position) as u32;
                let found = hover::hover(syntax, document.text(), workspace.schema(), at)?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: found.markdown,
                    }),
                    range: Some(range(document, found.span)),
                })
            },
        ))
    }

    pub(super) async fn completion_request(
        &self,
        params: CompletionParams,
    ) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        Ok(self.with_syntax(
            &p.text_document.uri,
            "completion",
            |workspace, document, syntax| {
                let at = offset(document, p.position);
                let items = completion::complete(syntax, document.text(), workspace.schema(), at)
                    .into_iter()
                    .map(|c| CompletionItem {
                        label: c.label,
                        kind: Some(match c.kind {
                            CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                            CompletionKind::Field => CompletionItemKind::FIELD,
                            CompletionKind::Method => CompletionItemKind::METHOD,
                            CompletionKind::Function => CompletionItemKind::FUNCTION,
                            CompletionKind::Kind => CompletionItemKind::CLASS,
                            CompletionKind::Variable => CompletionItemKind::VARIABLE,
                            CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
                            CompletionKind::Type => CompletionItemKind::TYPE_PARAMETER,
                        }),
                        detail: c.detail,
                        documentation: c.documentation.map(|value| {
                            Documentation::MarkupContent(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value,
                            })
                        }),
                        ..Default::default()
                    })
                    .collect();
                Some(CompletionResponse::Array(items))
            },
        ))
    }

    pub(super) async fn goto_definition_request(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let uri = p.text_document.uri.clone();
        if let Some(id) = self.fixture_guardrail_at(&uri, p.position) {
            let state = self.state();
            return Ok(guarded("definition", || {
                let (name, span) = fixtures::declaration(&state.workspace, &id)?;
                let document = state.workspace.document(&name)?;
                Some(GotoDefinitionResponse::Scalar(Location::new(
                    Uri::from_str(&name).ok()?,
                    range(document, span),
                )))
            }));
        }
        Ok(self.with_syntax(&uri, "definition", |_, document, syntax| {
            let at = offset(document, p.position) as u32;
            let target = names::definition_at(syntax.guardrail_at(at)?, at)?;
            Some(GotoDefinitionResponse::Scalar(Location::new(
                uri.clone(),
                range(document, target),
            )))
        }))
    }

    pub(super) async fn references_request(
        &self,
        params: ReferenceParams,
    ) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let uri = p.text_document.uri.clone();
        let include_declaration = params.context.include_declaration;
        let guardrail = self.fixture_guardrail_at(&uri, p.position).or_else(|| {
            self.with_syntax(&uri, "references", |_, document, syntax| {
                let at = offset(document, p.position) as u32;
                let guardrail = syntax.guardrail_at(at)?;
                let id = &guardrail.id;
                (id.span.start <= at && at <= id.span.end).then(|| id.name.clone())
            })
        });
        if let Some(id) = guardrail {
            let state = self.state();
            return Ok(guarded("references", || {
                Some(guardrail_references(
                    &state.workspace,
                    &id,
                    include_declaration,
                ))
            }));
        }
        Ok(self.with_syntax(&uri, "references", |_, document, syntax| {
            let at = offset(document, p.position) as u32;
            let (definition, uses) = names::references_at(syntax.guardrail_at(at)?, at)?;
            let spans = include_declaration
                .then_some(definition)
                .into_iter()
                .chain(uses);
            Some(
                spans
                    .map(|s| Location::new(uri.clone(), range(document, s)))
                    .collect(),
            )
        }))
    }

    pub(super) async fn document_symbol_request(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        Ok(self.with_syntax(
            &params.text_document.uri,
            "document symbols",
            |_, document, syntax| {
                #[allow(deprecated)] // `deprecated` is a required field of the struct
                fn convert(document: &Document, symbol: symbols::Symbol) -> DocumentSymbol {
                    DocumentSymbol {
                        name: symbol.name,
                        detail: None,
                        kind: match symbol.kind {
                            OutlineKind::Guardrail => SymbolKind::MODULE,
                            OutlineKind::Param => SymbolKind::PROPERTY,
                            OutlineKind::Let => SymbolKind::VARIABLE,
                            OutlineKind::Rule => SymbolKind::FUNCTION,
                            OutlineKind::Exemption => SymbolKind::OBJECT,
                        },
                        tags: None,
                        deprecated: None,
                        range: range(document, symbol.span),
                        selection_range: range(document, symbol.selection),
                        children: Some(
                            symbol
                                .children
                                .into_iter()
                                .map(|c| convert(document, c))
                                .collect(),
                        ),
                    }
                }
                let outline = symbols::symbols(syntax)
                    .into_iter()
                    .map(|s| convert(document, s))
                    .collect();
                Some(DocumentSymbolResponse::Nested(outline))
            },
        ))
    }

    pub(super) async fn formatting_request(
        &self,
        params: DocumentFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let state = self.state();
        let Some(document) = state
            .workspace
            .guard_document(&key(&params.text_document.uri))
        else {
            return Ok(None);
        };
        Ok(guarded("formatting", || {
            let formatted = guardrailc_compiler::format::format(document.text()).ok()?;
            if formatted == document.text() {
                return Some(Vec::new());
            }
            let whole = Span::new(guardrailc_compiler::SourceId(0), 0, document.text().len());
            Some(vec![TextEdit::new(range(document, whole), formatted)])
        }))
    }

    pub(super) async fn code_action_request(
        &self,
        params: CodeActionParams,
    ) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let name = key(&uri);
        let state = self.state();
        let Some(document) = state.workspace.document(&name) else {
            return Ok(None);
        };
        let wanted = params.range;
        Ok(guarded("code actions", || {
            let diagnostics = state
                .workspace
                .diagnostics()
                .remove(&name)
                .unwrap_or_default();
            let names = state.workspace.source_files();
            let actions = diagnostics
                .iter()
                .filter_map(|d| {
                    let edit = d.edit.as_ref()?;
                    let at = range(document, d.span);
                    let overlaps = at.start <= wanted.end && wanted.start <= at.end;
                    if !overlaps {
                        return None;
                    }
                    let title = if edit.replacement.is_empty() {
                        format!("remove `{}`", &document.text()[edit.span.range()])
                    } else {
                        format!("replace with `{}`", edit.replacement)
                    };
                    let changes = [(
                        uri.clone(),
                        vec![TextEdit::new(
                            range(document, edit.span),
                            edit.replacement.clone(),
                        )],
                    )];
                    Some(CodeActionOrCommand::CodeAction(CodeAction {
                        title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![to_lsp_diagnostic(
                            &state.workspace,
                            &names,
                            document,
                            d,
                        )]),
                        edit: Some(WorkspaceEdit {
                            changes: Some(changes.into_iter().collect()),
                            ..Default::default()
                        }),
                        is_preferred: Some(true),
                        ..Default::default()
                    }))
                })
                .collect();
            Some(actions)
        }))
    }

    pub(super) async fn code_lens_request(
        &self,
        params: CodeLensParams,
    ) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri.clone();
        Ok(
            self.with_syntax(&uri, "code lenses", |_, document, syntax| {
                let mut lenses = Vec::new();
                for guardrail in syntax
                    .file
                    .guardrails
                    .iter()
                    .filter(|g| !g.id.name.is_empty())
                {
                    let at = range(document, guardrail.id.span);
                    for (title, command) in [("Show CEL", SHOW_CEL), ("Show Rego", SHOW_REGO)] {
                        lenses.push(CodeLens {
                            range: at,
                            command: Some(Command::new(
                                title.to_string(),
                                command.to_string(),
                                Some(command_arguments(&uri, at.start)),
                            )),
                            data: None,
                        });
                    }
                }
                Some(lenses)
            }),
        )
    }

    pub(super) async fn execute_command_request(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<LSPAny>> {
        let language = match params.command.as_str() {
            SHOW_CEL => Language::Cel,
            SHOW_REGO => Language::Rego,
            other => return Err(Error::invalid_params(format!("unknown command `{other}`"))),
        };
        let (uri, position) = match params.arguments.as_slice() {
            [uri, position] => (
                uri.as_str().and_then(|u| Uri::from_str(u).ok()),
                serde_json::from_value::<Position>(position.clone()).ok(),
            ),
            _ => (None, None),
        };
        let (Some(uri), Some(position)) = (uri, position) else {
            return Err(Error::invalid_params(
                "expected the arguments [uri, position]",
            ));
        };
        let state = self.state();
        let name = key(&uri);
        let Some(document) = state.workspace.document(&name) else {
            return Err(Error::invalid_params(format!("`{name}` is not open")));
        };
        let at = offset(document, position) as u32;
        let result = guarded("compiled output", || {
            let id = compiled::guardrail_id_at(&state.workspace, &name, at)?;
            Some(compiled::compiled(&state.workspace, &id, language))
        });
        match result {
            Some(Ok(text)) => Ok(Some(LSPAny::String(text))),
            Some(Err(message)) => Err(Error::invalid_params(message)),
            None => Err(Error::invalid_params("no guardrail at this position")),
        }
    }

    pub(super) async fn semantic_tokens_full_request(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        Ok(self.with_syntax(
            &params.text_document.uri,
            "semantic tokens",
            |_, document, syntax| {
                let mut data = Vec::new();
                let (mut line, mut column) = (0u32, 0u32);
                for (span, role) in semantic_tokens::classify(syntax, document.text()) {
                    let (start_line, start_column) = document.position(span.start as usize);
                    let (end_line, end_column) = document.position(span.end as usize);
                    // A token spanning lines (a string with a line break) is marked on its first line.
                    let length = if end_line == start_line {
                        end_column - start_column
                    } else {
                        let line_end = document.text()[span.start as usize..]
                            .find('\n')
                            .map_or(span.end as usize, |i| span.start as usize + i);
                        document.position(line_end).1 - start_column
                    };
                    data.push(SemanticToken {
                        delta_line: start_line - line,
                        delta_start: if start_line == line {
                            start_column - column
                        } else {
                            start_column
                        },
                        length,
                        token_type: role.index(),
                        token_modifiers_bitset: 0,
                    });
                    line = start_line;
                    column = start_column;
                }
                Some(SemanticTokensResult::Tokens(SemanticTokens {
                    result_id: None,
                    data,
                }))
            },
        ))
    }
}

/// Where guardrail `id` is declared (when wanted) and every fixture file naming it.
fn guardrail_references(
    workspace: &Workspace,
    id: &str,
    include_declaration: bool,
) -> Vec<Location> {
    let declaration = fixtures::declaration(workspace, id).filter(|_| include_declaration);
    let mentions = fixtures::mentions(workspace, id)
        .into_iter()
        .map(|(name, at)| {
            let span = Span::new(guardrailc_compiler::SourceId(0), at.start, at.end);
            (name, span)
        });
    declaration
        .into_iter()
        .chain(mentions)
        .filter_map(|(name, span)| {
            let document = workspace.document(&name)?;
            Some(Location::new(
                Uri::from_str(&name).ok()?,
                range(document, span),
            ))
        })
        .collect()
}
