//! Throughput of the tester on the quickstart (docs/testing.md, "Numbers"):
//! - `fixtures/harness` runs every fixture case the way `guardrailc test` does (expectations,
//!   agreement); `fixtures/raw` evaluates the same requests on the engines directly. The
//!   harness overhead is their difference; the target is at most 25%.
//! - `property/GUARDRAIL` is property mode on one guardrail (prod), every target evaluated
//!   for every request; the target is 20,000 requests per second on one core.
//! - `engine/GUARDRAIL/TARGET` evaluates the same kind of generated requests (made before the
//!   timing) on one target alone, so each engine's share of property mode is measured;
//!   `engine/GUARDRAIL/generate` is the generation itself, and
//!   `engine/GUARDRAIL/generate+TARGET` property mode with that one target: each request
//!   generated, then evaluated.
//! - Before those, `check` streams a generated export of 100,000 objects (set
//!   `GUARDRAILC_BENCH_EXPORT_OBJECTS` to change it, 0 to skip) through every core once, and prints
//!   objects per second and the process's peak resident memory (`VmHWM`).

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BenchmarkId, Criterion, Throughput};
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::compiled::{load_compiled, names, CompiledGuardrail};
use guardrailc_testkit::fixtures::{is_fixture, parse_fixture, FixtureFile, ProjectFacts};
use guardrailc_testkit::manifest_check::{check_manifests, read_namespaces};
use guardrailc_testkit::property::{request_strategy, run_property, seeded_rng, PropertyConfig};
use guardrailc_testkit::runner::run_fixtures;
use guardrailc_testkit::{AdmissionCase, SchemaCatalog};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::{build_quickstart, quickstart};

/// The allocator the `guardrailc` binary uses, so the numbers are the shipped binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Requests per property-mode iteration.
const PROPERTY_OBJECTS: u32 = 2_000;
/// Batches of pre-generated requests the single-engine benchmarks take in turn.
const BATCHES: usize = 8;

/// Each iteration of a generating benchmark draws from the next seed: how long a request
/// takes varies with what is generated (one list in ten is long, and lists nest), and one
/// seed's 2,000 requests differ from another's by several percent, so a measurement over a
/// single seed would measure that seed.
#[derive(Default)]
struct Seeds(std::cell::Cell<u64>);

impl Seeds {
    fn next(&self) -> u64 {
        let seed = self.0.get();
        self.0.set(seed + 1);
        seed
    }
}

fn load_fixtures(compiled: &[CompiledGuardrail], catalog: &SchemaCatalog) -> Vec<FixtureFile> {
    let (guardrails, environments) = names(compiled);
    let facts = ProjectFacts {
        guardrails: &guardrails,
        environments: &environments,
        catalog,
    };
    let folder = quickstart().join("tests");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let read = |path: &str| std::fs::read_to_string(folder.join(path)).map_err(|e| e.to_string());
    paths
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            is_fixture(&text).then(|| parse_fixture(&name, &text, &facts, &read).unwrap())
        })
        .collect()
}

/// The requests `run_fixtures` evaluates, with the guardrail each runs on.
fn fixture_requests<'a>(
    fixtures: &'a [FixtureFile],
    compiled: &'a [CompiledGuardrail],
) -> Vec<(&'a CompiledGuardrail, &'a AdmissionCase)> {
    let mut requests = Vec::new();
    for file in fixtures {
        for case in &file.cases {
            for guardrail in compiled.iter().filter(|c| {
                c.policy.id == file.guardrail
                    && (case.envs.is_empty() || case.envs.contains(&c.policy.env))
            }) {
                requests.push((guardrail, &case.case));
            }
        }
    }
    requests
}

fn fixtures(criterion: &mut Criterion, compiled: &[CompiledGuardrail]) {
    let catalog = SchemaCatalog(Schema::builtin());
    let fixtures = load_fixtures(compiled, &catalog);
    let requests = fixture_requests(&fixtures, compiled);
    let mut group = criterion.benchmark_group("fixtures");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function("harness", |b| {
        b.iter(|| black_box(run_fixtures(&fixtures, compiled, &catalog)))
    });
    group.bench_function("raw", |b| {
        b.iter(|| {
            for (guardrail, case) in &requests {
                // The same engine calls the harness makes: OPA only where it is compared.
                let mut in_scope = false;
                if let Some(vap) = &guardrail.vap {
                    let evaluated = vap.evaluate_in_scope(case, &catalog).ok();
                    in_scope = evaluated.as_ref().is_some_and(|(_, scoped)| *scoped);
                    black_box(evaluated);
                }
                if let Some(gatekeeper) = &guardrail.gatekeeper {
                    black_box(gatekeeper.evaluate(case, &catalog).ok());
                }
                let reads = guardrail.policy.reads;
                let comparable =
                    in_scope && !(reads.old_object || reads.namespace || reads.request);
                if let Some(opa) = guardrail.opa.as_ref().filter(|_| comparable) {
                    black_box(opa.evaluate(case).ok());
                }
            }
        })
    });
    group.finish();
}

fn property(criterion: &mut Criterion, compiled: &[CompiledGuardrail]) {
    let catalog = SchemaCatalog(Schema::builtin());
    let mut group = criterion.benchmark_group("property");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(PROPERTY_OBJECTS)));
    for guardrail in compiled.iter().filter(|c| c.policy.env == "prod") {
        group.bench_with_input(
            BenchmarkId::from_parameter(&guardrail.policy.id),
            guardrail,
            |b, guardrail| {
                let seeds = Seeds::default();
                b.iter(|| {
                    let result = run_property(
                        guardrail,
                        Schema::builtin(),
                        &catalog,
                        PropertyConfig {
                            objects: PROPERTY_OBJECTS,
                            seed: seeds.next(),
                        },
                        &|| {},
                    );
                    assert!(result.passed(), "{:?}", result.failures);
                    black_box(result)
                })
            },
        );
    }
    group.finish();
}

/// A `kubectl get -A -o yaml`-shaped export: Namespaces first, then Pods, Deployments and
/// Services in turn, some violating.
fn write_export(path: &Path, objects: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "apiVersion: v1\nitems:").unwrap();
    for team in 0..10 {
        writeln!(
            out,
            "- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: ns{team}\n    labels:\n      team: t{team}"
        )
        .unwrap();
    }
    for i in 0..objects.saturating_sub(10) {
        let namespace = format!("ns{}", i % 10);
        let tag = if i % 7 == 0 { "latest" } else { "1.2.3" };
        match i % 3 {
            0 => writeln!(
                out,
                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    namespace: {namespace}\n  spec:\n    containers:\n    - name: app\n      image: registry.example.com/app:{tag}\n      resources:\n        limits:\n          memory: 1Gi"
            ),
            1 => writeln!(
                out,
                "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: d{i}\n    namespace: {namespace}\n    labels:\n      example.com/team: t\n  spec:\n    selector:\n      matchLabels:\n        app: d\n    template:\n      metadata:\n        labels:\n          app: d\n      spec:\n        containers:\n        - name: app\n          image: ghcr.io/example/app:{tag}\n          ports:\n          - containerPort: 80\n            hostPort: {}",
                if i % 11 == 0 { 80 } else { 0 }
            ),
            _ => writeln!(
                out,
                "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s{i}\n    namespace: {namespace}\n  spec:\n    type: {}",
                if i % 5 == 0 { "LoadBalancer" } else { "ClusterIP" }
            ),
        }
        .unwrap();
    }
    writeln!(out, "kind: List\nmetadata:\n  resourceVersion: \"\"").unwrap();
}

/// `VmHWM` (peak resident set) or `VmRSS` of this process, in kB.
fn memory_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn check_export_once(compiled: &[CompiledGuardrail]) {
    let objects: usize = std::env::var("GUARDRAILC_BENCH_EXPORT_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    if objects == 0 {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.yaml");
    write_export(&path, objects);
    let size = std::fs::metadata(&path).unwrap().len();
    let catalog = SchemaCatalog(Schema::builtin());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let before = memory_kb("VmRSS:");
    let started = Instant::now();
    let inputs = vec![("export.yaml".to_string(), path)];
    let namespaces = read_namespaces(&inputs).unwrap();
    // As `guardrailc check` does: each finding spooled to a temporary file as it comes.
    let mut spool = std::io::BufWriter::new(tempfile::tempfile().unwrap());
    let mut findings = 0usize;
    let run = check_manifests(
        &inputs,
        compiled,
        &namespaces,
        "team",
        &catalog,
        workers,
        &mut |finding| {
            findings += 1;
            serde_json::to_writer(&mut spool, &finding).map_err(|e| e.to_string())?;
            spool.write_all(b"\n").map_err(|e| e.to_string())
        },
    )
    .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        run.problems.is_empty(),
        "{:?}",
        &run.problems[..3.min(run.problems.len())]
    );
    println!(
        "check: {} objects ({} MB of YAML, {} namespaces) in {elapsed:.2} s on {workers} workers: {:.0} objects/s, {} findings; RSS before {} kB, peak RSS {} kB",
        run.objects,
        size / 1_000_000,
        namespaces.len(),
        run.objects as f64 / elapsed,
        findings,
        before.map_or("?".to_string(), |kb| kb.to_string()),
        memory_kb("VmHWM:").map_or("?".to_string(), |kb| kb.to_string()),
    );
}

/// One target's evaluation of a request, its outcome discarded.
type Evaluate<'a> = Box<dyn Fn(&AdmissionCase) + 'a>;

fn engines(criterion: &mut Criterion, compiled: &[CompiledGuardrail]) {
    let catalog = SchemaCatalog(Schema::builtin());
    let mut group = criterion.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(PROPERTY_OBJECTS)));
    for guardrail in compiled.iter().filter(|c| c.policy.env == "prod") {
        let id = &guardrail.policy.id;
        let strategy = request_strategy(&guardrail.policy, Schema::builtin())
            .expect("every quickstart guardrail matches a kind the schema knows");
        let one = |runner: &mut TestRunner| -> AdmissionCase {
            strategy
                .new_tree(runner)
                .expect("the request strategy never rejects")
                .current()
        };
        let generate = |runner: &mut TestRunner| -> Vec<AdmissionCase> {
            (0..PROPERTY_OBJECTS).map(|_| one(runner)).collect()
        };
        // The random stream property mode draws from, from the next seed.
        let seeds = Seeds::default();
        let runner = || TestRunner::new_with_rng(Config::default(), seeded_rng(seeds.next()));
        group.bench_function(format!("{id}/generate"), |b| {
            b.iter(|| black_box(generate(&mut runner())))
        });
        // Evaluated in turn, one batch per iteration.
        let batches: Vec<Vec<AdmissionCase>> =
            (0..BATCHES).map(|_| generate(&mut runner())).collect();
        let mut targets: Vec<(&str, Evaluate<'_>)> = Vec::new();
        if let Some(vap) = &guardrail.vap {
            targets.push((
                "vap",
                // As property mode runs it: the verdict and the run-time cost in one pass.
                Box::new(|request| {
                    black_box(vap.evaluate_counted(request, &catalog).ok());
                }),
            ));
            targets.push((
                // The verdict alone: what the cost count adds is the difference to `vap`.
                "vap-uncounted",
                Box::new(|request| {
                    black_box(vap.evaluate(request, &catalog).ok());
                }),
            ));
        }
        if let Some(gatekeeper) = &guardrail.gatekeeper {
            targets.push((
                "gatekeeper",
                Box::new(|request| {
                    black_box(gatekeeper.evaluate_on_vm(request, &catalog).ok());
                }),
            ));
        }
        if let Some(opa) = &guardrail.opa {
            targets.push((
                "opa",
                Box::new(|request| {
                    black_box(opa.evaluate_on_vm(request).ok());
                }),
            ));
        }
        for (target, evaluate) in &targets {
            group.bench_function(format!("{id}/{target}"), |b| {
                let mut turn = batches.iter().cycle();
                b.iter(|| {
                    let batch = turn.next().expect("a cycle of batches never ends");
                    batch.iter().for_each(evaluate)
                })
            });
            // Property mode as it would run with this one engine: each request generated,
            // then evaluated.
            group.bench_function(format!("{id}/generate+{target}"), |b| {
                b.iter(|| {
                    let mut runner = runner();
                    for _ in 0..PROPERTY_OBJECTS {
                        evaluate(&one(&mut runner));
                    }
                })
            });
        }
    }
    group.finish();
}

fn main() {
    let (policies, artifacts) = build_quickstart();
    let compiled = load_compiled(policies, &artifacts).expect("the engines load the quickstart");
    let mut criterion = Criterion::default().configure_from_args();
    // First, so that the peak memory is the check's and not the other benchmarks'.
    check_export_once(&compiled);
    fixtures(&mut criterion, &compiled);
    property(&mut criterion, &compiled);
    engines(&mut criterion, &compiled);
    criterion.final_summary();
}
