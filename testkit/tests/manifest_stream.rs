//! `check_manifests` hands findings over in the report's order as the workers finish,
//! however many workers there are and however far the reader has to wait for them, and it
//! stops (without hanging) when the receiver fails or panics.

mod support;

use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::compiled::{load_compiled, CompiledGuardrail};
use guardrailc_testkit::manifest_check::{check_manifests, read_namespaces, CheckRun, Finding};
use guardrailc_testkit::SchemaCatalog;
use std::path::PathBuf;
use support::build_quickstart;

/// More objects than the reader may run ahead of the findings delivered (512), so the
/// reader waits; every third Pod violates two guardrails in each environment, on two
/// containers whose names sort the other way round.
fn export(dir: &std::path::Path) -> Vec<(String, PathBuf)> {
    let pods: Vec<String> = (0..1500)
        .map(|i| {
            let tag = if i % 3 == 0 { ":latest" } else { ":1.0" };
            let privileged = i % 3 == 0;
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: shop\nspec:\n  containers:\n  - name: zeta\n    image: nginx{tag}\n    securityContext:\n      privileged: {privileged}\n  - name: alpha\n    image: redis{tag}\n"
            )
        })
        .collect();
    let path = dir.join("export.yaml");
    std::fs::write(&path, pods.join("---\n")).unwrap();
    vec![("export.yaml".to_string(), path)]
}

fn compiled() -> Vec<CompiledGuardrail> {
    let (policies, artifacts) = build_quickstart();
    load_compiled(policies, &artifacts).unwrap()
}

fn run(
    compiled: &[CompiledGuardrail],
    inputs: &[(String, PathBuf)],
    workers: usize,
    on_finding: &mut dyn FnMut(Finding) -> Result<(), String>,
) -> Result<CheckRun, String> {
    let namespaces = read_namespaces(inputs).unwrap();
    let catalog = SchemaCatalog(Schema::builtin());
    check_manifests(
        inputs,
        compiled,
        &namespaces,
        "team",
        &catalog,
        workers,
        on_finding,
    )
}

/// Runs `test` on its own thread and fails if it has not returned within a minute: a run
/// that hangs must fail the test, not stall the suite.
fn within_a_minute<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(test)));
    });
    match receiver.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("check_manifests hung"),
    }
}

fn order(f: &Finding) -> (usize, &str, &str, &str) {
    (f.line, &f.env, &f.guardrail, &f.message)
}

#[test]
fn findings_arrive_in_report_order_with_any_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = export(dir.path());
    let compiled = compiled();
    let mut by_workers = Vec::new();
    for workers in [1, 2, 8] {
        let mut findings = Vec::new();
        let checked = run(&compiled, &inputs, workers, &mut |f| {
            findings.push(f);
            Ok(())
        })
        .unwrap();
        assert_eq!(checked.objects, 1500);
        assert!(checked.problems.is_empty() && checked.internal_errors.is_empty());
        assert!(
            findings.windows(2).all(|w| order(&w[0]) <= order(&w[1])),
            "{workers} workers: out of order"
        );
        by_workers.push(findings);
    }
    assert!(by_workers[0].len() > 3000, "{}", by_workers[0].len());
    assert!(by_workers.iter().all(|f| *f == by_workers[0]));
}

#[test]
fn a_failing_receiver_stops_the_run_with_its_error() {
    let (error, received) = within_a_minute(|| {
        let dir = tempfile::tempdir().unwrap();
        let inputs = export(dir.path());
        let mut received = 0;
        let error = run(&compiled(), &inputs, 2, &mut |_| {
            received += 1;
            if received == 10 {
                Err("the disk is full".to_string())
            } else {
                Ok(())
            }
        })
        .err();
        (error, received)
    });
    assert_eq!(error.as_deref(), Some("the disk is full"));
    assert_eq!(received, 10, "nothing is handed over after the error");
}

#[test]
fn a_panicking_receiver_panics_the_caller_instead_of_hanging() {
    let outcome = within_a_minute(|| {
        let dir = tempfile::tempdir().unwrap();
        let inputs = export(dir.path());
        let compiled = compiled();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&compiled, &inputs, 2, &mut |_| panic!("the receiver broke"))
        }))
        .map(|_| ())
    });
    let panic = outcome.expect_err("the receiver's panic reaches the caller");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the receiver broke"));
}
