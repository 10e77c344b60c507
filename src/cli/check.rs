//! `guardrailc check`: a project's guardrails on existing manifests (detective mode, a CI
//! gate for application teams). A first pass keeps the Namespace objects (names and labels
//! only); then objects stream from the files through a bounded channel to one worker per
//! core, so a 100,000-object export is never held in memory at once; the findings come back
//! in the report's order and are spooled to a temporary file, so they are not held either.
//! Standard input and pipes (`<(…)`, `/dev/stdin`, named FIFOs) are spooled to a temporary
//! file so that they can be read twice; directories and devices are refused.

use crate::cli::{workspace, CliError, EXIT_USER};
use guardrailc_compiler::config::{DEFAULT_DENY_CHECK, DEFAULT_ENVIRONMENT};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::emit::Target;
use guardrailc_compiler::project::BuildOptions;
use guardrailc_compiler::render;
use guardrailc_compiler::render::count;
use guardrailc_testkit::compiled::load_compiled;
use guardrailc_testkit::manifest_check::{
    check_manifests, json_groups, read_namespaces, report_order, CheckRun, Finding, Groups,
};
use guardrailc_testkit::report::json_stream::write_pretty_streaming;
use guardrailc_testkit::report::sarif::SarifRules;
use guardrailc_testkit::report::text::{human_finding, printable};
use guardrailc_testkit::{SchemaCatalog, Verdict};
use std::io::{BufRead, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
    /// A self-contained page: summary bars by namespace and owner, then every finding.
    Html,
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
    /// Group findings by this label of the object (or of its namespace), besides by namespace
    #[arg(long, value_name = "KEY", default_value = "team")]
    pub group_by_label: String,
}

pub fn run(args: CheckArgs) -> Result<ExitCode, CliError> {
    let (workspace, mut diagnostics) = workspace::load(&args.project)?;
    let mut built = None;
    if !has_errors(&diagnostics) {
        let output = workspace.build(&BuildOptions {
            environments: (!args.envs.is_empty()).then(|| args.envs.clone()),
            targets: None,
            kube_version: None,
        })?;
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
    // Kept alive until the end: standard input spooled for the two passes.
    let mut spooled = Vec::new();
    let mut inputs: Vec<(String, PathBuf)> = Vec::new();
    for name in &args.manifests {
        if name == "-" {
            let spool = spool("standard input", &mut std::io::stdin().lock())?;
            inputs.push(("<stdin>".to_string(), spool.path().to_path_buf()));
            spooled.push(spool);
            continue;
        }
        let path = PathBuf::from(name);
        let kind = InputKind::of(&path)
            .map_err(|e| CliError::User(format!("cannot read `{name}`: {e}")))?;
        match kind {
            InputKind::File => inputs.push((name.clone(), path)),
            InputKind::Stream => {
                // A pipe (`<(…)`, `/dev/stdin`, a named FIFO) can be read only once.
                let mut stream = std::fs::File::open(&path)
                    .map_err(|e| CliError::User(format!("cannot read `{name}`: {e}")))?;
                let spool = spool(&format!("`{name}`"), &mut stream)?;
                inputs.push((name.clone(), spool.path().to_path_buf()));
                spooled.push(spool);
            }
            InputKind::Refused(what) => {
                return Err(CliError::User(format!(
                    "`{name}` is {what}, not a manifest file\nhelp: give YAML files, or `-` to read standard input"
                )))
            }
        }
    }
    // Findings come in the order of the inputs, and the report lists them by file name; a
    // file given twice is checked once.
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    inputs.dedup_by(|a, b| a.0 == b.0);
    let namespaces = read_namespaces(&inputs).map_err(CliError::User)?;
    let group_by_label = args.group_by_label.as_str();

    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut findings = Findings::new()?;
    let checked = check_manifests(
        &inputs,
        &compiled,
        &namespaces,
        &args.group_by_label,
        &catalog,
        workers,
        &mut |finding| findings.add(finding),
    );
    if let Some(error) = findings.spool_error.take() {
        return Err(CliError::Internal(format!(
            "cannot write the findings to a temporary file: {error}"
        )));
    }
    let CheckRun {
        objects,
        namespaces_seen,
        skipped,
        problems,
        internal_errors,
    } = checked.map_err(CliError::User)?;
    // Namespaces the default-deny check could not decide on, and the label it selects by.
    let mut unknown_namespaces: Vec<String> = Vec::new();
    let mut unknown_label = String::new();
    // The cross-object check's findings, known once every object is read: few (one per
    // namespace and environment at most), so they are kept and merged into the stream.
    let mut cross_object = Vec::new();
    if let Some(check) = &workspace.config.default_deny_network_policy {
        unknown_namespaces = namespaces.default_deny_unknown(check, &namespaces_seen);
        unknown_label = check.namespace_label.clone().unwrap_or_default();
        // The environments checked: those guardrails.toml declares (a project may have no
        // guardrail compiled in one), else those the guardrails were built for, else the
        // default one; `--env` narrows them.
        let mut envs: Vec<String> = workspace
            .config
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect();
        for guardrail in &compiled {
            if !envs.contains(&guardrail.policy.env) {
                envs.push(guardrail.policy.env.clone());
            }
        }
        if envs.is_empty() {
            envs.push(DEFAULT_ENVIRONMENT.to_string());
        }
        envs.retain(|env| args.envs.is_empty() || args.envs.contains(env));
        cross_object =
            namespaces.default_deny_findings(check, &envs, group_by_label, &namespaces_seen);
        cross_object.sort_by(|a, b| report_order(a).cmp(&report_order(b)));
        for finding in &cross_object {
            findings.count(finding);
        }
    }
    let default_deny_found = !cross_object.is_empty();
    let (total, denied) = (findings.total, findings.denied);
    let by_namespace = std::mem::take(&mut findings.by_namespace).into_sorted();
    let by_label = std::mem::take(&mut findings.by_label).into_sorted();
    let mut report = findings.replay(cross_object)?;
    // The admission targets of the build: a finding missing one of them is a disagreement
    // worth showing.
    let mut admission_targets: Vec<Target> = compiled
        .iter()
        .flat_map(|c| c.targets())
        .filter(|t| *t != Target::Opa)
        .collect();
    admission_targets.sort_by_key(|t| t.as_str());
    admission_targets.dedup();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let write_error = |e: std::io::Error| CliError::Internal(format!("cannot write: {e}"));
    match args.format {
        CheckFormat::Human => {
            for finding in &mut report {
                let finding = finding.map_err(CliError::Internal)?;
                writeln!(stdout, "{}", human_finding(&finding, &admission_targets))
                    .map_err(write_error)?;
            }
            if total > 0 {
                for (title, groups, none) in [
                    ("namespace", &by_namespace, "(cluster-scoped)"),
                    (group_by_label, &by_label, "(no label)"),
                ] {
                    writeln!(stdout, "findings by {}:", printable(title)).map_err(write_error)?;
                    for (key, group) in groups {
                        writeln!(
                            stdout,
                            "  {:<30} {}, {} denied",
                            printable(key.as_deref().unwrap_or(none)),
                            count(group.findings, "finding"),
                            group.denied
                        )
                        .map_err(write_error)?;
                    }
                }
            }
            if !unknown_namespaces.is_empty() {
                writeln!(
                    stdout,
                    "{DEFAULT_DENY_CHECK}: not checked in {} the input holds no Namespace object for, so their `{unknown_label}` label is unknown: {}",
                    count(unknown_namespaces.len(), "namespace"),
                    printable(&unknown_namespaces.join(", "))
                )
                .map_err(write_error)?;
            }
            writeln!(
                stdout,
                "checked {} ({skipped} of kinds no guardrail knows): {}, {denied} denied",
                count(objects, "object"),
                count(total, "finding")
            )
            .map_err(write_error)?;
        }
        CheckFormat::Json => {
            let document = serde_json::json!({
                "objects": objects,
                "skipped": skipped,
                "namespaces": namespaces.len(),
                "groups": {
                    "namespace": json_groups(&by_namespace, "namespace"),
                    "label": {
                        "key": group_by_label,
                        "groups": json_groups(&by_label, "value"),
                    },
                },
                "findings": [],
                // Namespaces a `namespace_label` default-deny check could not decide on.
                "unchecked_namespaces": unknown_namespaces,
                "errors": problems,
            });
            let mut items = report.map(|finding| {
                finding.and_then(|f| serde_json::to_value(f).map_err(|e| e.to_string()))
            });
            write_pretty_streaming(&mut stdout, &document, "/findings", &mut items)
                .map_err(CliError::Internal)?;
            writeln!(stdout).map_err(write_error)?;
        }
        CheckFormat::Sarif => {
            let rules = SarifRules::new(&compiled, default_deny_found);
            let mut items = report.map(|finding| finding.map(|f| rules.result(&f)));
            write_pretty_streaming(&mut stdout, &rules.report(), "/runs/0/results", &mut items)
                .map_err(CliError::Internal)?;
            writeln!(stdout).map_err(write_error)?;
        }
        CheckFormat::Html => {
            // The page lists every finding, so it is built whole.
            let findings: Vec<Finding> = report
                .collect::<Result<_, _>>()
                .map_err(CliError::Internal)?;
            let mut envs: Vec<&str> = Vec::new();
            for finding in &findings {
                if !envs.contains(&finding.env.as_str()) {
                    envs.push(&finding.env);
                }
            }
            let title = format!(
                "Impact of the guardrails on {objects} objects ({})",
                envs.join(", ")
            );
            let page = guardrailc_testkit::report::html::impact::impact_page(
                &guardrailc_testkit::report::html::impact::ImpactReport {
                    title: &title,
                    objects,
                    findings: &findings,
                    by_namespace: &by_namespace,
                    label_key: group_by_label,
                    by_label: &by_label,
                },
            );
            write!(stdout, "{page}").map_err(write_error)?;
        }
    }
    stdout.flush().map_err(write_error)?;
    drop(stdout);
    drop(spooled);
    for problem in &problems {
        eprintln!("error: {}", printable(problem));
    }
    if !internal_errors.is_empty() {
        return Err(CliError::Internal(internal_errors.join("\n")));
    }
    Ok(if denied > 0 || !problems.is_empty() {
        ExitCode::from(EXIT_USER)
    } else {
        ExitCode::SUCCESS
    })
}

/// The findings of a run, counted as they come and spooled, one JSON line each, to a
/// temporary file in the order they come (the report's), instead of held in memory: an
/// export with hundreds of thousands of findings is reported in bounded memory.
struct Findings {
    spool: std::io::BufWriter<std::fs::File>,
    /// The first error writing the spool; the run stops at it.
    spool_error: Option<std::io::Error>,
    total: usize,
    denied: usize,
    by_namespace: Groups,
    by_label: Groups,
}

impl Findings {
    fn new() -> Result<Findings, CliError> {
        let file = tempfile::tempfile()
            .map_err(|e| CliError::Internal(format!("cannot create a temporary file: {e}")))?;
        Ok(Findings {
            spool: std::io::BufWriter::new(file),
            spool_error: None,
            total: 0,
            denied: 0,
            by_namespace: Groups::default(),
            by_label: Groups::default(),
        })
    }

    /// Counts a finding of the stream and spools it.
    fn add(&mut self, finding: Finding) -> Result<(), String> {
        self.count(&finding);
        let written = serde_json::to_writer(&mut self.spool, &finding)
            .map_err(std::io::Error::from)
            .and_then(|()| self.spool.write_all(b"\n"));
        written.map_err(|error| {
            let message = error.to_string();
            self.spool_error = Some(error);
            message
        })
    }

    fn count(&mut self, finding: &Finding) {
        self.total += 1;
        self.denied += usize::from(finding.verdict == Verdict::Deny);
        self.by_namespace
            .add(finding.namespace.as_deref(), finding.verdict);
        self.by_label.add(finding.owner.as_deref(), finding.verdict);
    }

    /// Every finding in the report's order: the spooled stream with `cross_object` (in
    /// the same order) merged in.
    fn replay(
        self,
        cross_object: Vec<Finding>,
    ) -> Result<impl Iterator<Item = Result<Finding, String>>, CliError> {
        let internal =
            |e: std::io::Error| CliError::Internal(format!("cannot read back the findings: {e}"));
        let mut file = self
            .spool
            .into_inner()
            .map_err(|e| internal(e.into_error()))?;
        file.seek(std::io::SeekFrom::Start(0)).map_err(internal)?;
        let spooled = std::io::BufReader::new(file).lines().map(|line| {
            let line = line.map_err(|e| format!("cannot read back the findings: {e}"))?;
            serde_json::from_str::<Finding>(&line)
                .map_err(|e| format!("a spooled finding does not read back ({e}): {line}"))
        });
        let mut spooled = spooled.peekable();
        let mut cross_object = cross_object.into_iter().peekable();
        Ok(std::iter::from_fn(move || {
            let cross_first = match (spooled.peek(), cross_object.peek()) {
                (Some(Ok(stream)), Some(cross)) => report_order(cross) < report_order(stream),
                (None, Some(_)) => true,
                _ => false,
            };
            if cross_first {
                cross_object.next().map(Ok)
            } else {
                spooled.next()
            }
        }))
    }
}

/// How a manifest path given on the command line is read.
enum InputKind {
    /// A regular file: read twice in place (the Namespace pass, then the check).
    File,
    /// A pipe (a FIFO), which gives its content once: spooled to a temporary file first.
    Stream,
    /// A directory, a socket or a device (`/dev/zero` never ends): refused, with what it is.
    Refused(&'static str),
}

impl InputKind {
    fn of(path: &std::path::Path) -> std::io::Result<InputKind> {
        // Follows symbolic links: `/dev/stdin` is one, to whatever standard input is.
        let kind = std::fs::metadata(path)?.file_type();
        Ok(if kind.is_file() {
            InputKind::File
        } else if kind.is_dir() {
            InputKind::Refused("a directory")
        } else if is_fifo(&kind) {
            InputKind::Stream
        } else if is_socket(&kind) {
            InputKind::Refused("a socket")
        } else {
            InputKind::Refused("a device")
        })
    }
}

#[cfg(unix)]
fn is_fifo(kind: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(kind)
}

#[cfg(unix)]
fn is_socket(kind: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_socket(kind)
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

#[cfg(not(unix))]
fn is_socket(_: &std::fs::FileType) -> bool {
    false
}

/// Copies a stream that can be read only once (`what`: standard input, a pipe) to a
/// temporary file, which lives as long as the handle.
fn spool(what: &str, stream: &mut dyn std::io::Read) -> Result<tempfile::NamedTempFile, CliError> {
    let mut spool = tempfile::NamedTempFile::new()
        .map_err(|e| CliError::Internal(format!("cannot create a temporary file: {e}")))?;
    std::io::copy(stream, &mut spool)
        .map_err(|e| CliError::User(format!("cannot read {what}: {e}")))?;
    Ok(spool)
}
