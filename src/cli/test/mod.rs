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

mod records;
mod report;

use records::*;
use report::*;

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
