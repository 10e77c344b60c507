//! `guardrailc test`: fixture cases on every target, agreement, snapshots, property runs
//! and coverage, reported for people (colour, progress), as JSON, and as JUnit XML.

use crate::cli::{output, workspace, CliError, Format, EXIT_INTERNAL, EXIT_USER};
use anstyle::{AnsiColor, Style};
use guardrailc_compiler::diagnostic::has_errors;
use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::project::BuildOptions;
use guardrailc_compiler::{render, Code};
use guardrailc_testkit::compiled::{load_compiled, CompiledGuardrail};
use guardrailc_testkit::coverage;
use guardrailc_testkit::files::{read_in_project, MAX_FIXTURE_BYTES};
use guardrailc_testkit::fixtures::{classify, load_fixture, FixtureFile, TestsFile, TESTS_DIR};
use guardrailc_testkit::property::{self, run_property, PropertyConfig, PropertyResult};
use guardrailc_testkit::report::junit::junit_report;
use guardrailc_testkit::report::text::printable;
use guardrailc_testkit::reports::{self, TestKind, TestRecord};
use guardrailc_testkit::runner::{count_runs, run_selected, CaseResult};
use guardrailc_testkit::snapshots::compare_snapshots;
use guardrailc_testkit::SchemaCatalog;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Where a project keeps the golden copies of its compiled output.
const SNAPSHOTS_DIR: &str = "snapshots";

#[derive(Clone, clap::Args)]
pub struct TestArgs {
    /// Project directory (holding guardrails.toml or .guard files)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Test only these environments (repeatable; default: all)
    #[arg(long = "env", value_name = "ENV")]
    pub envs: Vec<String>,
    /// Report format on standard output
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Rewrite the golden files in `snapshots/` from the compiled output
    #[arg(long)]
    pub update: bool,
    /// Fail unless at least this percentage of guardrails has both a passing allowed and a
    /// passing denied case
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
    /// Generated requests per guardrail and environment in property mode (0: no property run)
    #[arg(long, value_name = "N", default_value_t = property::DEFAULT_OBJECTS)]
    pub fuzz: u32,
    /// Seed of the property run's random stream (default: a fresh one, printed in the report)
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

/// How one project's run ended: its exit code and its pass and fail counts.
struct ProjectRun {
    code: ExitCode,
    passed: usize,
    failed: usize,
}

pub fn run(args: TestArgs) -> Result<ExitCode, CliError> {
    let projects = workspace::projects_under(&args.dir);
    if projects.len() == 1 {
        return run_project(args).map(|run| run.code);
    }
    // A folder of projects (such as library/): run each, then close with the totals.
    let (mut passed, mut failed, mut worst) = (0, 0, ExitCode::SUCCESS);
    for project in projects {
        println!("== {}", project.display());
        let run = run_project(TestArgs {
            dir: project,
            ..args.clone()
        })?;
        passed += run.passed;
        failed += run.failed;
        if run.code != ExitCode::SUCCESS {
            worst = run.code;
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(worst)
}

fn run_project(args: TestArgs) -> Result<ProjectRun, CliError> {
    let finish = |code: ExitCode| ProjectRun {
        code,
        passed: 0,
        failed: 0,
    };
    if args.update && !args.envs.is_empty() {
        return Err(CliError::User(
            "`--update` rewrites the golden files of every environment; drop `--env`".into(),
        ));
    }
    let started = Instant::now();
    let (workspace, mut diagnostics) = workspace::load(&args.dir)?;
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut output = None;
    if !has_errors(&diagnostics) {
        // Every environment is built so that fixtures naming any of them load; `--env`
        // selects which ones run.
        let built = workspace.build(&BuildOptions::default())?;
        diagnostics.extend(built.diagnostics);
        output = Some((built.policies, built.artifacts));
    }
    if has_errors(&diagnostics) {
        eprint!("{}", render::human(&workspace, &diagnostics, color));
        eprintln!("build failed: {}", render::summary(&diagnostics));
        let internal = diagnostics.iter().any(|d| d.code == Code::Internal);
        return Ok(finish(ExitCode::from(if internal {
            EXIT_INTERNAL
        } else {
            EXIT_USER
        })));
    }
    let (policies, artifacts) = output.expect("the build ran: there were no errors before it");
    let compiled = load_compiled(policies, &artifacts)
        .map_err(|e| CliError::Internal(format!("an engine refused an emitted artifact: {e}")))?;
    let catalog = SchemaCatalog(&workspace.schema);
    for env in &args.envs {
        if !compiled.iter().any(|c| &c.policy.env == env) {
            let mut known: Vec<&str> = compiled.iter().map(|c| c.policy.env.as_str()).collect();
            known.dedup();
            return Err(CliError::User(format!(
                "the project has no environment `{env}`\nhelp: environments: {}",
                known.join(", ")
            )));
        }
    }
    let selected =
        |c: &CompiledGuardrail| args.envs.is_empty() || args.envs.contains(&c.policy.env);

    let (fixtures, ignored) = match discover_fixtures(&args.dir, &compiled, &catalog)? {
        Ok(found) => found,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {}", printable(error));
            }
            eprintln!("{} malformed fixture file(s)", errors.len());
            return Ok(finish(ExitCode::from(EXIT_USER)));
        }
    };

    let property_runs = if args.fuzz > 0 {
        compiled.iter().filter(|c| selected(c)).count()
    } else {
        0
    };
    let progress = Progress::new(
        count_runs(&fixtures, &compiled, &selected) + property_runs * args.fuzz as usize,
        color,
    );
    progress.stage("cases");
    let cases = run_selected(&fixtures, &compiled, &catalog, &selected, &mut || {
        progress.advance()
    });

    let seed = args.seed.unwrap_or_else(fresh_seed);
    let mut properties = Vec::new();
    if args.fuzz > 0 {
        progress.stage("generated requests");
        for guardrail in compiled.iter().filter(|c| selected(c)) {
            properties.push(run_property(
                guardrail,
                &workspace.schema,
                &catalog,
                PropertyConfig {
                    objects: args.fuzz,
                    seed,
                },
                &|| progress.advance(),
            ));
        }
    }
    progress.finish();

    let mut records: Vec<TestRecord> = cases.iter().map(case_record).collect();
    records.extend(properties.iter().map(property_record));
    records.extend(snapshot_records(&args, &artifacts)?);
    records.extend(exemption_records(&workspace)?);
    let coverage = coverage::coverage(&compiled, &cases);
    let rego_lines = coverage::rego_line_coverage(&fixtures, &compiled, &catalog, &selected);
    let percent = coverage::covered_percent(&coverage);
    if let Some(minimum) = args.min_coverage {
        records.push(TestRecord {
            kind: TestKind::Coverage,
            name: format!("at least {minimum}% of guardrails have allowed and denied cases"),
            guardrail: None,
            env: None,
            file: None,
            line: None,
            failures: if percent + 1e-9 >= minimum {
                Vec::new()
            } else {
                vec![format!(
                    "{percent:.1}% of guardrails have both an allowed and a denied case, below {minimum}%"
                )]
            },
        });
    }

    let found = Findings {
        ignored: &ignored,
        coverage: &coverage,
        rego_lines: &rego_lines,
        percent,
        properties: &properties,
        fuzz: args.fuzz,
        seed,
    };
    match args.format {
        Format::Human => {
            found.print_human();
            print_human(&records, color, started.elapsed())
        }
        Format::Json => {
            let report = reports::json_report(&records, found.json_details());
            println!(
                "{}",
                serde_json::to_string_pretty(&report)
                    .map_err(|e| CliError::Internal(e.to_string()))?
            );
        }
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit_report(&records))
            .map_err(|e| CliError::User(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let (passed, failed) = reports::counts(&records);
    Ok(ProjectRun {
        code: if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_USER)
        },
        passed,
        failed,
    })
}

/// One test per exemption: it passes while the exemption is in force and fails once its
/// expiry date has passed, so an expired exemption is renewed or removed, not forgotten.
fn exemption_records(workspace: &workspace::Workspace) -> Result<Vec<TestRecord>, CliError> {
    let list = guardrailc_compiler::exemptions::list(&workspace.sources, workspace::today()?);
    Ok(list
        .into_iter()
        .map(|e| TestRecord {
            kind: TestKind::Exemption,
            name: format!("exemption of {} ({})", e.guardrail, e.targets),
            guardrail: Some(e.guardrail.clone()),
            env: None,
            file: Some(e.file.clone()),
            line: Some(e.line),
            failures: match e.days_left {
                Some(days) if days < 0 => vec![format!(
                    "the exemption expired on {} ({} days ago): renew it with a new date and reason, or delete it",
                    e.expires, -days
                )],
                _ => Vec::new(),
            },
        })
        .collect())
}

/// Reads every fixture file under `<dir>/tests/`: the outer error is IO, the inner one the
/// list of malformed files.
pub(crate) fn load_fixtures(
    dir: &Path,
    compiled: &[CompiledGuardrail],
    catalog: &SchemaCatalog,
) -> Result<Result<Vec<FixtureFile>, Vec<String>>, CliError> {
    Ok(discover_fixtures(dir, compiled, catalog)?.map(|(fixtures, _)| fixtures))
}

/// A file under `tests/` that is not a fixture, nor read by one: its name and what it holds.
type Ignored = (String, String);

/// The fixture files and the ignored files under `tests/`, or the malformed files.
type Discovered = Result<(Vec<FixtureFile>, Vec<Ignored>), Vec<String>>;

/// Parses every YAML and JSON file under `<dir>/tests/` (a symbolic link to a file is
/// followed when the file is inside the project, and is an error otherwise; links to
/// folders are not followed): the fixture files, loaded, and the other files no case reads, with
/// what they hold, for the report to list. A file that cannot be read or parsed, or that
/// has `cases` but no `guardrail`, is malformed: nothing there is skipped silently.
fn discover_fixtures(
    dir: &Path,
    compiled: &[CompiledGuardrail],
    catalog: &SchemaCatalog,
) -> Result<Discovered, CliError> {
    let tests = dir.join(TESTS_DIR);
    if !tests.is_dir() {
        return Ok(Ok((Vec::new(), Vec::new())));
    }
    let mut fixtures = Vec::new();
    let mut others = Vec::new();
    let mut errors = Vec::new();
    for entry in walkdir::WalkDir::new(&tests).sort_by_file_name() {
        let entry =
            entry.map_err(|e| CliError::User(format!("cannot list `{}`: {e}", tests.display())))?;
        let path = entry.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        );
        if entry.file_type().is_dir() || !is_yaml {
            continue;
        }
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = match read_in_project(dir, path, &shown, MAX_FIXTURE_BYTES, "fixture files") {
            Ok(text) => text,
            Err(error) => {
                errors.push(format!("{shown}: {error}"));
                continue;
            }
        };
        match classify(&shown, &text) {
            TestsFile::Fixture => match load_fixture(dir, path, &shown, &text, compiled, catalog) {
                Ok(fixture) => fixtures.push(fixture),
                Err(error) => errors.push(error.to_string()),
            },
            TestsFile::Other(holds) => others.push((shown, path.to_path_buf(), holds)),
            TestsFile::Malformed(error) => errors.push(error.to_string()),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let referenced: Vec<&PathBuf> = fixtures.iter().flat_map(|f| &f.referenced).collect();
    let ignored = others
        .into_iter()
        .filter(|(_, path, _)| {
            path.canonicalize()
                .map_or(true, |path| !referenced.contains(&&path))
        })
        .map(|(shown, _, holds)| (shown, holds))
        .collect();
    Ok(Ok((fixtures, ignored)))
}

/// A seed for a run that was given none: the clock's nanoseconds, enough to vary runs.
fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

fn property_record(result: &PropertyResult) -> TestRecord {
    TestRecord {
        kind: TestKind::Property,
        name: if result.largest_cost > 0 {
            format!(
                "{} generated requests (VAP run-time cost at most {} of {})",
                result.evaluated,
                result.largest_cost,
                guardrailc_testkit::vap::cost::PER_CALL_LIMIT
            )
        } else {
            format!("{} generated requests", result.evaluated)
        },
        guardrail: Some(result.guardrail.clone()),
        env: Some(result.env.clone()),
        file: None,
        line: None,
        failures: result.failures.clone(),
    }
}

fn case_record(result: &CaseResult) -> TestRecord {
    TestRecord {
        kind: TestKind::Case,
        name: result.name.clone(),
        guardrail: Some(result.guardrail.clone()),
        env: Some(result.env.clone()),
        file: Some(result.file.clone()),
        line: Some(result.line),
        failures: result.failures.clone(),
    }
}

/// Compares the compiled output with `snapshots/`, or rewrites it with `--update`. A
/// project without a `snapshots/` folder has no snapshot tests.
fn snapshot_records(args: &TestArgs, artifacts: &[Artifact]) -> Result<Vec<TestRecord>, CliError> {
    let folder = args.dir.join(SNAPSHOTS_DIR);
    if args.update {
        output::write(&folder, artifacts, output::Edits::Replaced)?;
        eprintln!(
            "updated {} golden files in {}",
            artifacts.len(),
            folder.display()
        );
        return Ok(Vec::new());
    }
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let in_selected_env = |path: &str| {
        args.envs.is_empty()
            || args
                .envs
                .iter()
                .any(|env| path.starts_with(&format!("{env}/")))
    };
    let mut golden = read_golden(&folder)?;
    golden.retain(|path, _| in_selected_env(path));
    let artifacts: Vec<Artifact> = artifacts
        .iter()
        .filter(|a| in_selected_env(&a.path))
        .cloned()
        .collect();
    Ok(compare_snapshots(&artifacts, &golden)
        .into_iter()
        .map(|result| TestRecord {
            kind: TestKind::Snapshot,
            name: result.path.clone(),
            guardrail: None,
            env: result.path.split('/').next().map(str::to_string),
            file: Some(format!("{SNAPSHOTS_DIR}/{}", result.path)),
            line: None,
            failures: result.problem.iter().map(|p| p.to_string()).collect(),
        })
        .collect())
}

/// The golden files under `folder`, by `/`-separated relative path (the build manifest
/// excluded).
fn read_golden(folder: &Path) -> Result<BTreeMap<String, String>, CliError> {
    let mut golden = BTreeMap::new();
    if !folder.is_dir() {
        return Ok(golden);
    }
    for entry in walkdir::WalkDir::new(folder) {
        let entry = entry
            .map_err(|e| CliError::User(format!("cannot list `{}`: {e}", folder.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(folder)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if relative == output::MANIFEST {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| {
            CliError::User(format!("cannot read `{}`: {e}", entry.path().display()))
        })?;
        golden.insert(relative, text);
    }
    Ok(golden)
}

fn print_human(records: &[TestRecord], color: bool, elapsed: Duration) {
    let paint = |style: Style, text: &str| {
        if color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    };
    let fail = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let pass = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    let mut stdout = std::io::stdout().lock();
    for record in records.iter().filter(|r| !r.passed()) {
        let place = match (&record.file, record.line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            _ => String::new(),
        };
        let scope = match (&record.guardrail, &record.env) {
            (Some(g), Some(e)) => format!(" {g} [{e}]"),
            (None, Some(e)) => format!(" [{e}]"),
            _ => String::new(),
        };
        // Names, places and failures come from fixtures and objects: escaped, they cannot
        // drive the terminal or forge report lines.
        let _ = writeln!(
            stdout,
            "{} {} {}{} {}",
            paint(fail, "FAIL"),
            record.kind.as_str(),
            printable(&place),
            printable(&scope),
            printable(&record.name)
        );
        for failure in &record.failures {
            for line in failure.lines() {
                let _ = writeln!(stdout, "    {}", printable(line));
            }
        }
    }
    let mut kinds: Vec<TestKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<TestRecord> = records.iter().filter(|r| r.kind == kind).cloned().collect();
        let (passed, failed) = reports::counts(&of_kind);
        let mark = if failed == 0 {
            paint(pass, "ok")
        } else {
            paint(fail, "FAILED")
        };
        let _ = writeln!(
            stdout,
            "{mark} {}: {passed} passed, {failed} failed",
            kind.as_str()
        );
    }
    let _ = writeln!(stdout, "finished in {:.2}s", elapsed.as_secs_f64());
    let _ = writeln!(stdout, "{}", reports::summary_line(records));
}

/// A progress bar on standard error (indicatif), drawn only on a terminal and only once a
/// run has taken more than a second (short runs stay quiet). One step is a case run or a
/// generated request.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    terminal: bool,
    shown: Cell<bool>,
}

impl Progress {
    fn new(total: usize, terminal: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg} ({eta})") {
            bar.set_style(style.progress_chars("#>-"));
        }
        Progress {
            bar,
            started: Instant::now(),
            terminal,
            shown: Cell::new(false),
        }
    }

    /// What the steps are now: `cases`, then `generated requests`.
    fn stage(&self, what: &'static str) {
        self.bar.set_message(what);
    }

    fn advance(&self) {
        self.bar.inc(1);
        if self.terminal && !self.shown.get() && self.started.elapsed() >= Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.set(true);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What a run found besides its records: files ignored, coverage, property runs. Printed
/// before the records in the human report, and as `details` in the JSON one.
struct Findings<'a> {
    ignored: &'a [(String, String)],
    coverage: &'a [coverage::GuardrailCoverage],
    rego_lines: &'a [coverage::RegoCoverage],
    percent: f64,
    properties: &'a [PropertyResult],
    fuzz: u32,
    seed: u64,
}

impl Findings<'_> {
    /// Reached and total Gatekeeper Rego lines over every guardrail and environment.
    fn rego_reached(&self) -> (usize, usize) {
        self.rego_lines.iter().fold((0, 0), |(reached, total), c| {
            (reached + c.lines.reached.len(), total + c.lines.lines())
        })
    }

    fn print_human(&self) {
        for (file, holds) in self.ignored {
            println!(
                "ignored: {} is not a fixture and no case reads it ({})",
                printable(file),
                printable(holds)
            );
        }
        for uncovered in self.coverage.iter().filter(|c| !c.is_covered()) {
            let missing = match (uncovered.allowed, uncovered.denied) {
                (0, 0) => "no passing case",
                (0, _) => "no allowed case",
                _ => "no denied case",
            };
            println!(
                "coverage: guardrail `{}` has {missing}",
                uncovered.guardrail
            );
        }
        for guardrail in self.coverage {
            for rule in guardrail.unfired_rules() {
                println!(
                    "coverage: rule {} (line {}) of `{}` fired in no case",
                    rule.index, rule.line, guardrail.guardrail
                );
            }
        }
        println!(
            "coverage: {:.0}% of guardrails have both an allowed and a denied case",
            self.percent
        );
        // One line per guardrail: the environments usually share the template's lines.
        let mut unreached: Vec<(&str, Vec<u32>, Vec<&str>)> = Vec::new();
        for c in self
            .rego_lines
            .iter()
            .filter(|c| !c.lines.not_reached.is_empty())
        {
            let lines: Vec<u32> = c.lines.not_reached.iter().copied().collect();
            match unreached
                .iter_mut()
                .find(|(g, l, _)| *g == c.guardrail && *l == lines)
            {
                Some((_, _, envs)) => envs.push(&c.env),
                None => unreached.push((&c.guardrail, lines, vec![&c.env])),
            }
        }
        for (guardrail, lines, envs) in unreached {
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            println!(
                "coverage: Gatekeeper Rego lines of `{guardrail}` no case reached: {} ({})",
                lines.join(", "),
                envs.join(", ")
            );
        }
        let (rego_reached, rego_total) = self.rego_reached();
        if rego_total > 0 {
            println!(
                "coverage: the fixtures reach {rego_reached} of {rego_total} Gatekeeper Rego lines ({:.0}%)",
                100.0 * rego_reached as f64 / rego_total as f64
            );
        }
        if self.fuzz > 0 {
            println!(
                "property: {} generated requests per guardrail and environment, seed {}",
                self.fuzz, self.seed
            );
        }
    }

    fn json_details(&self) -> serde_json::Value {
        serde_json::json!({
            // Files under tests/ that are not fixtures and that no case reads.
            "ignored": self.ignored.iter().map(|(file, holds)| serde_json::json!({
                "file": file,
                "holds": holds,
            })).collect::<Vec<_>>(),
            "property": {
                "objects": self.fuzz,
                "seed": self.seed,
                "runs": self.properties.iter().map(|p| serde_json::json!({
                    "guardrail": p.guardrail,
                    "env": p.env,
                    "evaluated": p.evaluated,
                    "violating": p.violating,
                    "largest_cost": p.largest_cost,
                })).collect::<Vec<_>>(),
            },
            "coverage": {
                "percent": self.percent,
                "guardrails": self.coverage.iter().map(|c| serde_json::json!({
                    "guardrail": c.guardrail,
                    "allowed": c.allowed,
                    "denied": c.denied,
                    "covered": c.is_covered(),
                    "rules": c.rules.iter().map(|r| serde_json::json!({
                        "rule": r.index,
                        "line": r.line,
                        "fired": r.fired,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "rego": self.rego_lines.iter().map(|c| serde_json::json!({
                    "guardrail": c.guardrail,
                    "env": c.env,
                    "reached": c.lines.reached.len(),
                    "lines": c.lines.lines(),
                    "not_reached": c.lines.not_reached,
                })).collect::<Vec<_>>(),
            }
        })
    }
}
