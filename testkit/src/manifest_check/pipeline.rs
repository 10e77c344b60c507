//! The manifests streamed line by line through a bounded queue to worker threads, each
//! object checked, and the findings delivered in the order of the inputs: memory stays
//! bounded whatever the size of the input or the number of findings. A worker's panic is
//! contained ([`crate::panics`]) and reported as an internal error for its object.

use super::finding::{report_order, Finding};
use super::namespaces::Namespaces;
use super::object::{check_object, ObjectCheck};
use crate::case::ResourceCatalog;
use crate::compiled::CompiledGuardrail;
use crate::manifests::{ObjectText, ObjectTexts};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufReader;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Object texts waiting for a worker; bounds memory whatever the input size.
const QUEUE: usize = 256;
/// How far the reader may run ahead of the object whose findings are delivered next:
/// results that arrive out of order wait for the earlier ones, and this bounds how many.
const WINDOW: usize = 2 * QUEUE;

/// What checking a set of manifest files found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckRun {
    /// Object texts read (a `List` document's items each count once).
    pub objects: usize,
    /// Every namespace an object was checked in, with the first place (file, line) of an
    /// object in it: the default-deny check also covers namespaces the manifests hold no
    /// Namespace object for.
    pub namespaces_seen: BTreeMap<String, (String, usize)>,
    /// Objects of kinds the catalog does not know.
    pub skipped: usize,
    /// Malformed objects and evaluation errors, with their place.
    pub problems: Vec<String>,
    /// Objects whose check failed inside guardrailc (a bug, not the input's fault).
    pub internal_errors: Vec<String>,
}

/// What a worker sends back for one object text, with the object's place.
enum Checked<'f> {
    Object(ObjectCheck, &'f str, usize),
    Malformed(String),
    /// Nothing in the text is a Kubernetes object: one error each, and no object counted.
    Rejected(Vec<String>),
    /// Checking the object panicked.
    Internal(String),
}

/// The first pass: the Namespace objects of every input (`(shown name, path)`). Texts that
/// cannot hold one are not parsed, and problems are left to the second pass to report.
pub fn read_namespaces(inputs: &[(String, PathBuf)]) -> Result<Namespaces, String> {
    let mut namespaces = Namespaces::default();
    for (shown, path) in inputs {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        for text in ObjectTexts::new(BufReader::new(file)).map_while(Result::ok) {
            if !Namespaces::may_hold_namespace(&text.text) {
                continue;
            }
            for object in text.parse().into_iter().flatten() {
                namespaces.add(&object, (shown, text.line));
            }
        }
    }
    Ok(namespaces)
}

/// The second pass: every object of `inputs`, streamed from the files line by line through
/// a bounded queue to `workers` threads that parse and check it. Each finding is handed to
/// `on_finding` as soon as the objects before it are done, in the order of the inputs and
/// of the objects in them (an object's own findings by environment, guardrail and
/// message), and is not kept: memory grows neither with the input nor with the findings.
/// The error is an unreadable input, or the first error `on_finding` returns.
pub fn check_manifests(
    inputs: &[(String, PathBuf)],
    compiled: &[CompiledGuardrail],
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &(dyn ResourceCatalog + Sync),
    workers: usize,
    on_finding: &mut dyn FnMut(Finding) -> Result<(), String>,
) -> Result<CheckRun, String> {
    let (texts_in, texts_out) = mpsc::sync_channel::<(usize, &str, ObjectText)>(QUEUE);
    let texts_out = Mutex::new(texts_out);
    let (results_in, results_out) = mpsc::channel::<(usize, Checked<'_>)>();
    // How many texts have been delivered, for the reader to wait on.
    let delivered = (Mutex::new(0usize), Condvar::new());
    let stopped = AtomicBool::new(false);
    let mut panicked = None;
    let mut run = CheckRun::default();
    let finished = std::thread::scope(|scope| -> Result<(), String> {
        for _ in 0..workers.max(1) {
            let results_in = results_in.clone();
            let texts_out = &texts_out;
            scope.spawn(move || loop {
                let next = texts_out
                    .lock()
                    .map_err(|_| ())
                    .and_then(|receiver| receiver.recv().map_err(|_| ()));
                let Ok((sequence, file, text)) = next else {
                    break;
                };
                // Every text must give a result, or the ones after it would wait forever.
                let checked = crate::panics::contain(|| {
                    crate::panics::injected_check_panic(&text.text);
                    check_text(compiled, file, &text, namespaces, group_by_label, catalog)
                })
                .unwrap_or_else(|_| {
                    Checked::Internal(format!("{file}:{}: checking this object failed", text.line))
                });
                if results_in.send((sequence, checked)).is_err() {
                    break;
                }
            });
        }
        drop(results_in);
        let (delivered, stopped) = (&delivered, &stopped);
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut sequence = 0;
            for (shown, path) in inputs {
                let file =
                    std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
                for text in ObjectTexts::new(BufReader::new(file)) {
                    let text = text.map_err(|e| format!("{shown}: {e}"))?;
                    // Wait until the results of the texts read WINDOW before are delivered.
                    let (count, changed) = delivered;
                    let mut count = count.lock().map_err(|_| "a worker panicked")?;
                    while sequence >= *count + WINDOW && !stopped.load(Ordering::SeqCst) {
                        count = changed.wait(count).map_err(|_| "a worker panicked")?;
                    }
                    drop(count);
                    if stopped.load(Ordering::SeqCst)
                        || texts_in.send((sequence, shown.as_str(), text)).is_err()
                    {
                        return Ok(());
                    }
                    sequence += 1;
                }
            }
            Ok(())
        });
        // Results wait here until every earlier one has arrived.
        let mut waiting: BTreeMap<usize, Checked<'_>> = BTreeMap::new();
        let mut next = 0;
        let mut failed = None;
        for (sequence, checked) in results_out {
            waiting.insert(sequence, checked);
            while let Some(checked) = waiting.remove(&next) {
                next += 1;
                if failed.is_none() && panicked.is_none() {
                    // A panic of `on_finding` is raised again once the threads are done:
                    // here it would leave the reader waiting.
                    match std::panic::catch_unwind(AssertUnwindSafe(|| {
                        deliver(&mut run, checked, on_finding)
                    })) {
                        Ok(delivered) => failed = delivered.err(),
                        Err(panic) => panicked = Some(panic),
                    }
                    if failed.is_some() || panicked.is_some() {
                        stopped.store(true, Ordering::SeqCst);
                    }
                }
            }
            let (count, changed) = delivered;
            if let Ok(mut count) = count.lock() {
                *count = next;
            }
            changed.notify_all();
        }
        // No worker is left: a reader still waiting must not wait for them.
        stopped.store(true, Ordering::SeqCst);
        delivered.1.notify_all();
        reader
            .join()
            .map_err(|_| "the manifest reader panicked".to_string())??;
        failed.map_or(Ok(()), Err)
    });
    if let Some(panic) = panicked {
        std::panic::resume_unwind(panic);
    }
    finished?;
    Ok(run)
}

/// Parses one object text (a `List` holds several objects) and checks each object in it.
fn check_text<'f>(
    compiled: &[CompiledGuardrail],
    file: &'f str,
    text: &ObjectText,
    namespaces: &Namespaces,
    group_by_label: &str,
    catalog: &(dyn ResourceCatalog + Sync),
) -> Checked<'f> {
    let values = match text.parse() {
        Ok(values) => values,
        Err(error) => return Checked::Malformed(format!("{file}: {error}")),
    };
    let mut merged = ObjectCheck::default();
    let mut rejected = 0;
    let count = values.len();
    for value in values {
        if let Err(problem) = kubernetes_object(&value) {
            merged
                .errors
                .push(format!("{file}:{}: {problem}", text.line));
            rejected += 1;
            continue;
        }
        let check = check_object(
            compiled,
            value,
            (file, text.line),
            namespaces,
            group_by_label,
            catalog,
        );
        merged.findings.extend(check.findings);
        merged.skipped |= check.skipped;
        merged.errors.extend(check.errors);
        merged.namespaces.extend(check.namespaces);
    }
    if count > 0 && rejected == count {
        return Checked::Rejected(merged.errors);
    }
    // Every finding of the text has its place: this orders them by environment, guardrail
    // and message.
    merged
        .findings
        .sort_by(|a, b| report_order(a).cmp(&report_order(b)));
    Checked::Object(merged, file, text.line)
}

/// Whether `value` can be a Kubernetes object: a map with a string `apiVersion` and `kind`.
/// Anything else would be counted as an unknown kind and pass unchecked.
fn kubernetes_object(value: &Value) -> Result<(), String> {
    let Some(fields) = value.as_object() else {
        return Err(format!(
            "a manifest document must be a Kubernetes object (a map), not `{}`",
            short(value)
        ));
    };
    let missing: Vec<&str> = ["apiVersion", "kind"]
        .into_iter()
        .filter(|key| !fields.get(*key).is_some_and(Value::is_string))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the object has no {}: every Kubernetes object names its `apiVersion` and `kind`, so this one cannot be checked",
        missing
            .iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    ))
}

/// A value in an error message: its JSON, cut after 60 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Adds what checking one object text found to `run`, its findings to `on_finding`.
fn deliver(
    run: &mut CheckRun,
    checked: Checked<'_>,
    on_finding: &mut dyn FnMut(Finding) -> Result<(), String>,
) -> Result<(), String> {
    match checked {
        Checked::Object(check, file, line) => {
            for namespace in check.namespaces {
                // The first place an object of the namespace was read.
                run.namespaces_seen
                    .entry(namespace)
                    .or_insert((file.to_string(), line));
            }
            run.objects += 1;
            run.skipped += usize::from(check.skipped);
            run.problems.extend(check.errors);
            for finding in check.findings {
                on_finding(finding)?;
            }
        }
        Checked::Malformed(error) => run.problems.push(error),
        Checked::Rejected(errors) => run.problems.extend(errors),
        Checked::Internal(error) => run.internal_errors.push(error),
    }
    Ok(())
}
