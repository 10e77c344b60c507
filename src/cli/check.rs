//! `guardrailc check`: a project's guardrails on existing manifests (detective mode, a CI
//! gate for application teams). Objects stream from the files through a bounded channel to
//! one worker per core, so a 100,000-object export is never held in memory at once.

use crate::cli::{workspace, CliError, EXIT_USER};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::project::{self, BuildInput, BuildOptions};
use guardrailc_compiler::render;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::manifest_check::{check_object, json_finding, sarif_report, Finding};
use guardrailc_testkit::manifests::{ObjectText, ObjectTexts};
use guardrailc_testkit::{SchemaCatalog, Verdict};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Manifest files (multi-document YAML, `kind: List`, `kubectl get -A -o yaml`); `-` reads standard input
    #[arg(required = true, value_name = "MANIFESTS")]
    pub manifests: Vec<String>,
    /// Project directory (holding guardrails.toml or .guard files)
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Check only these environments (repeatable; default: all)
    #[arg(long = "env", value_name = "ENV")]
    pub envs: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: CheckFormat,
}

/// Objects waiting for a worker; bounds memory whatever the input size.
const QUEUE: usize = 256;

/// What the workers send back.
enum Checked {
    Object {
        findings: Vec<Finding>,
        skipped: bool,
        errors: Vec<String>,
    },
    Malformed(String),
}

pub fn run(args: CheckArgs) -> Result<ExitCode, CliError> {
    let (workspace, mut diagnostics) = workspace::load(&args.project)?;
    let mut built = None;
    if !has_errors(&diagnostics) {
        let output = project::build(&BuildInput {
            sources: &workspace.sources,
            config: &workspace.config,
            config_source: workspace.config_source(),
            schema: &workspace.schema,
            today: workspace::today()?,
            options: &BuildOptions {
                environments: (!args.envs.is_empty()).then(|| args.envs.clone()),
                targets: Some(vec![guardrailc_compiler::emit::Target::Vap]),
                kube_version: None,
            },
        });
        diagnostics.extend(output.diagnostics);
        built = Some((output.policies, output.artifacts));
    }
    if has_errors(&diagnostics) {
        let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
        eprint!("{}", render::human(&workspace, &diagnostics, color));
        eprintln!("build failed: {}", render::summary(&diagnostics));
        return Ok(ExitCode::from(EXIT_USER));
    }
    let (policies, artifacts) = built.expect("the build ran: there were no errors before it");
    let compiled = load_compiled(policies, &artifacts)
        .map_err(|e| CliError::Internal(format!("an engine refused an emitted artifact: {e}")))?;
    let catalog = SchemaCatalog(&workspace.schema);

    let (texts_in, texts_out) = mpsc::sync_channel::<(String, ObjectText)>(QUEUE);
    let texts_out = std::sync::Mutex::new(texts_out);
    let (results_in, results_out) = mpsc::channel::<Checked>();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut objects = 0usize;
    let mut skipped = 0usize;
    let mut findings = Vec::new();
    let mut problems = Vec::new();
    std::thread::scope(|scope| -> Result<(), CliError> {
        for _ in 0..workers {
            let results_in = results_in.clone();
            let (texts_out, compiled, catalog) = (&texts_out, &compiled, &catalog);
            scope.spawn(move || loop {
                let next = texts_out
                    .lock()
                    .map_err(|_| ())
                    .and_then(|receiver| receiver.recv().map_err(|_| ()));
                let Ok((file, text)) = next else { break };
                let checked = match text.parse() {
                    Ok(values) => {
                        let mut found = Vec::new();
                        let mut any_skipped = false;
                        let mut errors = Vec::new();
                        for value in values {
                            let check = check_object(compiled, value, &file, text.line, catalog);
                            found.extend(check.findings);
                            any_skipped |= check.skipped;
                            errors.extend(check.errors);
                        }
                        Checked::Object {
                            findings: found,
                            skipped: any_skipped,
                            errors,
                        }
                    }
                    Err(error) => Checked::Malformed(format!("{file}: {error}")),
                };
                if results_in.send(checked).is_err() {
                    break;
                }
            });
        }
        drop(results_in);
        let reader = scope.spawn(move || -> Result<(), CliError> {
            for name in &args.manifests {
                let input: Box<dyn BufRead> = if name == "-" {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    let file = std::fs::File::open(name)
                        .map_err(|e| CliError::User(format!("cannot read `{name}`: {e}")))?;
                    Box::new(BufReader::new(file))
                };
                let shown = if name == "-" {
                    "<stdin>"
                } else {
                    name.as_str()
                };
                for text in ObjectTexts::new(input) {
                    let text = text.map_err(|e| CliError::User(format!("{shown}: {e}")))?;
                    if texts_in.send((shown.to_string(), text)).is_err() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        for checked in results_out {
            match checked {
                Checked::Object {
                    findings: found,
                    skipped: was_skipped,
                    errors,
                } => {
                    objects += 1;
                    skipped += usize::from(was_skipped);
                    findings.extend(found);
                    problems.extend(errors);
                }
                Checked::Malformed(error) => problems.push(error),
            }
        }
        reader
            .join()
            .map_err(|_| CliError::Internal("the manifest reader panicked".into()))?
    })?;
    findings.sort_by(|a, b| {
        (&a.file, a.line, &a.env, &a.guardrail, &a.message).cmp(&(
            &b.file,
            b.line,
            &b.env,
            &b.guardrail,
            &b.message,
        ))
    });

    let mut stdout = std::io::stdout().lock();
    let write_error = |e: std::io::Error| CliError::Internal(format!("cannot write: {e}"));
    match args.format {
        CheckFormat::Human => {
            for finding in &findings {
                writeln!(
                    stdout,
                    "{:<6} {:<10} {:<30} {}:{} {}: {}",
                    finding.verdict.as_str(),
                    finding.env,
                    finding.guardrail,
                    finding.file,
                    finding.line,
                    finding.object,
                    finding.message
                )
                .map_err(write_error)?;
            }
            let denied = findings
                .iter()
                .filter(|f| f.verdict == Verdict::Deny)
                .count();
            writeln!(
                stdout,
                "checked {objects} objects ({skipped} of kinds no guardrail knows): {} findings, {denied} denied",
                findings.len()
            )
            .map_err(write_error)?;
        }
        CheckFormat::Json => {
            let report = serde_json::json!({
                "objects": objects,
                "skipped": skipped,
                "findings": findings.iter().map(json_finding).collect::<Vec<_>>(),
                "errors": problems,
            });
            writeln!(stdout, "{report:#}").map_err(write_error)?;
        }
        CheckFormat::Sarif => {
            writeln!(stdout, "{:#}", sarif_report(&findings, &compiled)).map_err(write_error)?;
        }
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    let denied = findings.iter().any(|f| f.verdict == Verdict::Deny);
    Ok(if denied || !problems.is_empty() {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    })
}
