//! Checks of a checked guardrail against the values one environment gives its params, which
//! lowering cannot make before the environment is known.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Access, Expr, Literal, Root};

/// A regex that comes from a param is checked once its value is known: every `matches` whose
/// pattern is a string param, anywhere in a rule.
pub fn check_param_regexes(
    rules: &[ir::Rule],
    params: &[ir::ParamValue],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for rule in rules {
        rule.condition.walk(&mut |expr| {
            let Expr::StringTest {
                op: ir::StringOp::Matches,
                arg,
                ..
            } = expr
            else {
                return;
            };
            let Expr::Value(Access {
                root: Root::Param(name),
                steps,
            }) = arg.as_ref()
            else {
                return;
            };
            let value = params.iter().find(|p| &p.name == name).map(|p| &p.value);
            if let (true, Some(Literal::String(pattern))) = (steps.is_empty(), value) {
                if regex_syntax::Parser::new().parse(pattern).is_err() {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::InvalidRegex,
                            rule.span,
                            format!("param `{name}` holds `{pattern}`, which is not a valid regular expression"),
                        )
                        .with_help("regexes use RE2 syntax"),
                    );
                }
            }
        });
    }
}
