//! Compile every guardrail in examples/ and library/ for every environment and target.
//! Target: at least 2,000 guardrails per second on one core (the bench is single-threaded).
//! Throughput is reported per guardrail compiled for one environment, all targets emitted.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use guardrailc_compiler::config::{self, Config};
use guardrailc_compiler::project::{self, BuildInput, BuildOptions, SourceFile};
use guardrailc_compiler::render;
use guardrailc_compiler::schema::Schema;
use guardrailc_compiler::SourceId;
use std::path::{Path, PathBuf};

struct Project {
    name: String,
    sources: Vec<SourceFile>,
    config: Config,
}

fn projects() -> Vec<Project> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = Vec::new();
    for top in ["examples", "library"] {
        find(&root.join(top), &mut dirs);
    }
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let mut paths: Vec<PathBuf> = Vec::new();
            walk(&dir, &mut paths);
            paths.sort();
            let sources: Vec<SourceFile> = paths
                .iter()
                .map(|p| SourceFile {
                    name: p.strip_prefix(&dir).unwrap().to_string_lossy().into(),
                    text: std::fs::read_to_string(p).unwrap(),
                })
                .collect();
            let config_text =
                std::fs::read_to_string(dir.join("guardrails.toml")).unwrap_or_default();
            let config =
                config::parse(SourceId(sources.len() as u32), &config_text).expect("valid config");
            Project {
                name: dir.strip_prefix(&root).unwrap().to_string_lossy().into(),
                sources,
                config,
            }
        })
        .collect()
}

fn find(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut has_guard = false;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "out") {
            find(&path, out);
        } else if path.extension().is_some_and(|e| e == "guard") {
            has_guard = true;
        }
    }
    if has_guard && !out.iter().any(|d| dir.starts_with(d)) {
        out.push(dir.to_path_buf());
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "out") {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "guard") {
            out.push(path);
        }
    }
}

fn build(project: &Project) -> usize {
    let output = project::build(&BuildInput {
        sources: &project.sources,
        config: &project.config,
        config_source: SourceId(project.sources.len() as u32),
        schema: Schema::builtin(),
        today: guardrailc_compiler::testing::TODAY,
        options: &BuildOptions::default(),
    });
    assert!(
        !output.artifacts.is_empty(),
        "{} emits nothing",
        project.name
    );
    output.policies.len()
}

fn compile_everything(c: &mut Criterion) {
    let projects = projects();
    let policies: usize = projects.iter().map(build).sum();
    let mut group = c.benchmark_group("compile");
    group.throughput(Throughput::Elements(policies as u64));
    group.bench_function("examples and library, all targets", |b| {
        b.iter(|| projects.iter().map(build).sum::<usize>())
    });
    group.finish();
}

/// A source with `errors` unknown characters (one per line, or all on one line) and its
/// diagnostics, as a build reports them.
fn many_errors(errors: usize, one_line: bool) -> (String, Vec<guardrailc_compiler::Diagnostic>) {
    let text = if one_line {
        format!("{}\n", "$ ".repeat(errors))
    } else {
        "$\n".repeat(errors)
    };
    let parsed = guardrailc_compiler::syntax::parse(guardrailc_compiler::SourceId(0), &text);
    (text, parsed.diagnostics)
}

struct OneFile(String);

impl render::SourceFiles for OneFile {
    fn file(&self, _: guardrailc_compiler::SourceId) -> (&str, &str) {
        ("errors.guard", &self.0)
    }
    fn count(&self) -> usize {
        1
    }
}

/// Rendering grows linearly with the number of diagnostics (it was quadratic: 20,000 errors
/// took 10–14 s as JSON, and each snippet on one long line repeated the whole line).
fn render_diagnostics(c: &mut Criterion) {
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    for (errors, one_line) in [(20_000, false), (100_000, false), (20_000, true)] {
        let (text, diagnostics) = many_errors(errors, one_line);
        let files = OneFile(text);
        let shape = if one_line {
            "on one line"
        } else {
            "one per line"
        };
        group.throughput(Throughput::Elements(diagnostics.len() as u64));
        group.bench_function(format!("{errors} errors {shape}, json"), |b| {
            b.iter(|| render::json_diagnostics(&files, &diagnostics).len())
        });
        group.bench_function(format!("{errors} errors {shape}, human"), |b| {
            b.iter(|| render::human(&files, &diagnostics, false).len())
        });
    }
    group.finish();
}

criterion_group!(benches, compile_everything, render_diagnostics);
criterion_main!(benches);
