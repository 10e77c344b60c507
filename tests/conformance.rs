//! The conformance runner: the standard library against the reference test data in
//! ../shared/external (Kubernetes Pod Security Admission fixtures and Gatekeeper library
//! suites), on every target. Prints a table (suite, cases, agreement per target, agree,
//! disagree) and fails on any disagreement not in [`KNOWN_DEVIATIONS`].

mod conformance {
    pub use guardrailc_testkit::test_support as engines;
    pub mod gatekeeper;
    pub mod psa;

    use guardrailc_compiler::emit::Artifact;
    use std::path::{Path, PathBuf};

    /// The targets, in the order of the per-target columns.
    pub const TARGETS: [&str; 3] = ["vap", "gatekeeper", "opa"];

    /// Disagreements the runner accepts, as `(case name, one-line reason)`. Target: empty.
    pub const KNOWN_DEVIATIONS: &[(&str, &str)] = &[];

    pub fn repository() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The reference data (`external/` in the shared folder, `shared_data::shared_dir`), or
    /// `None` after saying that `what` was skipped.
    pub fn external(what: &str) -> Option<PathBuf> {
        guardrailc_testkit::shared_data::shared_path("external", what)
    }

    /// The `.guard` files and guardrails.toml of a library folder, built.
    pub fn build_library(folder: &Path) -> Vec<Artifact> {
        let config = std::fs::read_to_string(folder.join("guardrails.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
        let sources = library_sources(folder);
        engines::build(&sources, &config)
            .unwrap_or_else(|errors| panic!("{} does not build:\n{errors}", folder.display()))
    }

    /// A library folder built with `config` in place of its guardrails.toml.
    pub fn build_library_with(folder: &Path, config: &str) -> Result<Vec<Artifact>, String> {
        engines::build(&library_sources(folder), config)
    }

    /// `(file name, text)` of every `.guard` file in `folder`, sorted by name.
    pub fn library_sources(folder: &Path) -> Vec<(String, String)> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "guard"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(path).expect("a guard file"),
                )
            })
            .collect()
    }

    /// Every guardrail of a built library folder, compiled for its default environment.
    pub fn load_all(artifacts: &[Artifact]) -> Vec<engines::Compiled> {
        engines::guardrail_ids(artifacts, "default")
            .iter()
            .map(|id| engines::load(artifacts, "default", id).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    /// The results of one suite.
    #[derive(Default)]
    pub struct Tally {
        pub cases: usize,
        /// Per target: cases it was run on, and cases where its verdict was the expected one.
        pub per_target: [(usize, usize); TARGETS.len()],
        pub agree: usize,
        /// Cases that disagree, with what went wrong.
        pub failures: Vec<(String, String)>,
    }

    impl Tally {
        /// Records a case: per target `Some(verdict was right)`, `None` where the target does
        /// not apply; `problem` is an engine error or disagreement seen on the way.
        pub fn record(
            &mut self,
            case: &str,
            right: &[Option<bool>; TARGETS.len()],
            problem: Option<String>,
        ) {
            self.cases += 1;
            for (column, verdict) in self.per_target.iter_mut().zip(right) {
                if let Some(verdict) = verdict {
                    column.0 += 1;
                    column.1 += usize::from(*verdict);
                }
            }
            let wrong: Vec<&str> = TARGETS
                .iter()
                .zip(right)
                .filter(|(_, verdict)| **verdict == Some(false))
                .map(|(target, _)| *target)
                .collect();
            match (wrong.is_empty(), problem) {
                (true, None) => self.agree += 1,
                (_, problem) => {
                    let mut reason = Vec::new();
                    if !wrong.is_empty() {
                        reason.push(format!("wrong verdict on {}", wrong.join(", ")));
                    }
                    reason.extend(problem);
                    self.failures.push((case.to_string(), reason.join("; ")));
                }
            }
        }
    }

    /// The table (with a total row), and the failures not excused by a known deviation.
    pub fn report(suites: &[(String, Tally)]) -> Vec<String> {
        let mut total = Tally::default();
        for (_, tally) in suites {
            total.cases += tally.cases;
            total.agree += tally.agree;
            for (sum, column) in total.per_target.iter_mut().zip(&tally.per_target) {
                sum.0 += column.0;
                sum.1 += column.1;
            }
        }
        let unexpected = print_rows(suites);
        let disagree = suites.iter().map(|(_, t)| t.failures.len()).sum::<usize>();
        println!(
            "{:<48} {:>6} {:>9} {:>11} {:>9} {:>6} {:>9}",
            "total",
            total.cases,
            column(total.per_target[0]),
            column(total.per_target[1]),
            column(total.per_target[2]),
            total.agree,
            disagree
        );
        unexpected
    }

    fn column((run, right): (usize, usize)) -> String {
        if run == 0 {
            "-".to_string()
        } else {
            format!("{right}/{run}")
        }
    }

    fn print_rows(suites: &[(String, Tally)]) -> Vec<String> {
        println!(
            "{:<48} {:>6} {:>9} {:>11} {:>9} {:>6} {:>9}",
            "suite", "cases", "vap", "gatekeeper", "opa", "agree", "disagree"
        );
        let mut unexpected = Vec::new();
        for (name, tally) in suites {
            println!(
                "{:<48} {:>6} {:>9} {:>11} {:>9} {:>6} {:>9}",
                name,
                tally.cases,
                column(tally.per_target[0]),
                column(tally.per_target[1]),
                column(tally.per_target[2]),
                tally.agree,
                tally.failures.len()
            );
            for (case, reason) in &tally.failures {
                match KNOWN_DEVIATIONS.iter().find(|(known, _)| known == case) {
                    Some((_, why)) => println!("    known deviation {case}: {why}"),
                    None => unexpected.push(format!("{name}: {case}: {reason}")),
                }
            }
        }
        unexpected
    }
}

use conformance::{build_library, external, load_all, report, repository, Tally};
use conformance::{gatekeeper, psa};

/// Prints the table of `suites` and fails on any disagreement that is not a known deviation.
fn assert_no_unexpected_disagreement(suites: &[(String, Tally)]) {
    let unexpected = report(suites);
    assert!(
        unexpected.is_empty(),
        "disagreements:\n{}",
        unexpected.join("\n")
    );
}

#[test]
fn pod_security_sets_equal_pod_security_admission_on_every_target() {
    let Some(external) = external("the Pod Security Admission conformance run") else {
        return;
    };
    let psa_dir = external.join("psa");
    let mut suites = Vec::new();
    for level in ["baseline", "restricted"] {
        let folder = repository().join("library/pod-security").join(level);
        let set = load_all(&build_library(&folder));
        let fixtures = psa::fixtures(&psa_dir, level);
        let mut pods = Tally::default();
        let mut deployments = Tally::default();
        let mut cron_jobs = Tally::default();
        for fixture in &fixtures {
            psa::judge(
                &set,
                &fixture.name,
                fixture.pod.clone(),
                fixture.deny,
                &mut pods,
            );
            psa::judge(
                &set,
                &fixture.name,
                psa::as_deployment(&fixture.pod),
                fixture.deny,
                &mut deployments,
            );
            psa::judge(
                &set,
                &fixture.name,
                psa::as_cron_job(&fixture.pod),
                fixture.deny,
                &mut cron_jobs,
            );
        }
        suites.push((format!("psa {level} v1.37 (Pod)"), pods));
        suites.push((format!("psa {level} v1.37 (Deployment)"), deployments));
        suites.push((format!("psa {level} v1.37 (CronJob)"), cron_jobs));
    }
    let total: usize = suites.iter().step_by(3).map(|(_, t)| t.cases).sum();
    assert_eq!(total, 148, "every PSA v1.37 fixture is judged");
    assert_no_unexpected_disagreement(&suites);
}

#[test]
fn gatekeeper_library_suites_agree_on_every_target() {
    let Some(external) = external("the Gatekeeper library conformance run") else {
        return;
    };
    let suites = gatekeeper::run(&external.join("gatekeeper-library"));
    let total: usize = suites.iter().map(|(_, t)| t.cases).sum();
    assert_eq!(total, 172, "every Gatekeeper library case is judged");
    assert_no_unexpected_disagreement(&suites);
}

#[test]
fn message_scoped_assertions_that_name_what_was_flagged_are_checked() {
    let Some(external) = external("the Gatekeeper library's message-scoped assertions") else {
        return;
    };
    let cases = gatekeeper::cases(&external.join("gatekeeper-library"));
    let scoped: usize = cases.iter().map(|case| case.scoped.len()).sum();
    // allowedrepos 8, disallowanonymous 6, imagedigests 5; the seccomp and
    // read-only-root-filesystem assertions quote upstream sentences and are not hints.
    assert_eq!(scoped, 19);
}

#[test]
fn constraint_parameters_become_snake_case_params() {
    assert_eq!(
        gatekeeper::param_name("allowedCapabilities"),
        "allowed_capabilities"
    );
    assert_eq!(gatekeeper::param_name("allowedIPs"), "allowed_ips");
    assert_eq!(
        gatekeeper::param_name("allowedSELinuxOptions"),
        "allowed_selinux_options"
    );
    assert_eq!(gatekeeper::param_name("min"), "min");
}

#[test]
fn restricted_copies_of_baseline_checks_are_identical() {
    let library = repository().join("library/pod-security");
    let baseline = conformance::library_sources(&library.join("baseline"));
    let restricted = conformance::library_sources(&library.join("restricted"));
    let mut shared = 0;
    for (name, text) in &restricted {
        if let Some((_, original)) = baseline.iter().find(|(n, _)| n == name) {
            assert_eq!(
                text, original,
                "restricted/{name} differs from baseline/{name}"
            );
            shared += 1;
        }
    }
    assert_eq!(
        shared, 8,
        "the restricted level keeps eight baseline checks as they are"
    );
    for (name, _) in restricted
        .iter()
        .filter(|(n, _)| baseline.iter().any(|(b, _)| b == n))
    {
        let fixture = format!("tests/{}", name.replace(".guard", ".yaml"));
        let read =
            |level: &str| std::fs::read_to_string(library.join(level).join(&fixture)).unwrap();
        assert_eq!(
            read("restricted"),
            read("baseline"),
            "{fixture} differs between the levels"
        );
    }
}

#[test]
fn the_runner_notices_a_set_that_misses_checks() {
    // The baseline set judged against the restricted fixtures: the restricted-only checks
    // (privilege escalation, non-root, seccomp, capabilities, volume types) are missing, so
    // their fail fixtures must show up as disagreements, and the pass fixtures must not.
    let set = load_all(&build_library(
        &repository().join("library/pod-security/baseline"),
    ));
    let mut tally = Tally::default();
    let Some(external) = external("the restricted set's PSA fixtures") else {
        return;
    };
    for fixture in psa::fixtures(&external.join("psa"), "restricted") {
        psa::judge(&set, &fixture.name, fixture.pod, fixture.deny, &mut tally);
    }
    let missed: Vec<&str> = tally
        .failures
        .iter()
        .map(|(case, _)| case.as_str())
        .collect();
    for expected in [
        "restricted/fail/allowprivilegeescalation0.yaml",
        "restricted/fail/runasnonroot0.yaml",
        "restricted/fail/seccompprofile_restricted0.yaml",
        "restricted/fail/capabilities_restricted0.yaml",
        "restricted/fail/restrictedvolumes0.yaml",
        "restricted/fail/procmount_restricted0.yaml",
    ] {
        assert!(
            missed.contains(&expected),
            "{expected} not reported: {missed:?}"
        );
    }
    assert!(
        missed
            .iter()
            .all(|case| case.starts_with("restricted/fail/")),
        "a restricted pass fixture passes baseline too: {missed:?}"
    );
}
