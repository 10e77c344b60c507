//! One record per thing `guardrailc test` checks: fixture cases, property runs, golden
//! files, exemptions.

use super::*;

/// Where a project keeps the golden copies of its compiled output.
pub(super) const SNAPSHOTS_DIR: &str = "snapshots";

/// One test per exemption: it passes while the exemption is in force and fails once its
/// expiry date has passed, so an expired exemption is renewed or removed, not forgotten.
pub(super) fn exemption_records(
    workspace: &workspace::Workspace,
) -> Result<Vec<TestRecord>, CliError> {
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

pub(super) fn property_record(result: &PropertyResult) -> TestRecord {
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

pub(super) fn case_record(result: &CaseResult) -> TestRecord {
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
pub(super) fn snapshot_records(
    args: &TestArgs,
    artifacts: &[Artifact],
) -> Result<Vec<TestRecord>, CliError> {
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
pub(super) fn read_golden(folder: &Path) -> Result<BTreeMap<String, String>, CliError> {
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
