//! Careless and hostile input, end to end: manifests that try to drive the terminal, inputs
//! that can be read only once or never end, fixture and schema paths that leave the
//! project, fixture files written in ways a line scan misses, `sources` patterns that match
//! nothing, CR line ends and byte order marks. Each case fails if the tool hangs: commands
//! run under a time bound.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::text;

/// Every command here finishes in well under this on a loaded machine; past it, it hangs.
const BOUND: Duration = Duration::from_secs(60);

const GUARD: &str = "guardrail no-latest-tag {
  title \"Images are pinned\"
  match workloads
  deny for c in pod.all_containers
    when c.image.ends_with(\":latest\")
    message \"container {c.name} uses {c.image}\"
}
";

/// A project with one guardrail (`no-latest-tag`, denying) and the given extra files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "guardrails/images.guard", GUARD);
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs `command` with `stdin` as its input, failing the test if it runs past [`BOUND`].
fn run_bounded(mut command: Command, stdin: &str) -> Output {
    let (mut child, mut input) = support::spawn_piped(&mut command);
    let stdin = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > BOUND {
            let _ = child.kill();
            panic!("the command ran past {BOUND:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    feeder.join().unwrap();
    child.wait_with_output().unwrap()
}

fn guardrailc(args: &[&str], stdin: &str) -> Output {
    let mut command = support::command();
    command.args(args);
    run_bounded(command, stdin)
}

fn all_output(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

/// `guardrailc build ROOT`.
fn build(root: &Path) -> Output {
    guardrailc(&["build", root.to_str().unwrap()], "")
}

/// `guardrailc build ROOT --out ROOT/out`, which must succeed: the output folder and what the
/// command printed.
fn build_into_out(root: &Path) -> (PathBuf, Output) {
    let out = root.join("out");
    let output = guardrailc(
        &[
            "build",
            root.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert!(output.status.success(), "{}", all_output(&output));
    (out, output)
}

/// `guardrailc test ROOT --fuzz 0`: the project's fixtures only.
fn test_fixtures(root: &Path) -> Output {
    guardrailc(&["test", root.to_str().unwrap(), "--fuzz", "0"], "")
}

/// The command failed (exit 1) and said `message` on stderr.
fn assert_refused(output: &Output, message: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", all_output(output));
    assert!(
        text(&output.stderr).contains(message),
        "{}",
        all_output(output)
    );
}

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
  - name: app
    image: nginx:latest
";

// --- check: terminal output ----------------------------------------------------------

#[test]
fn check_escapes_control_characters_from_manifests_in_its_human_report() {
    let dir = project(&[]);
    let root = dir.path().to_str().unwrap();
    // A container name that clears the screen and forges a line of its own, and a
    // namespace that reverses the text after it.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: \"shop\\u202e\"\nspec:\n  containers:\n  - name: \"app\\e[2J\\ndeny   default    no-latest-tag                  forged.yaml:1 Pod x/y: all clear\"\n    image: nginx:latest\n";
    let output = guardrailc(&["check", "--project", root, "-"], pod);
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let report = text(&output.stdout);
    assert!(
        !report.contains(|c: char| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{report:?}"
    );
    assert!(report.contains("app\\u{1b}[2J\\ndeny"), "{report}");
    assert!(report.contains("shop\\u{202e}"), "{report}");
    // Nothing forged starts a line of its own: the finding lines are the real ones. The
    // container name puts a line break in the message, which the API server does not show
    // (VAP gives its fallback), so Gatekeeper's and OPA's message and VAP's are two findings.
    let findings: Vec<&str> = report.lines().filter(|l| l.starts_with("deny")).collect();
    assert_eq!(findings.len(), 2, "{report}");
    assert!(
        findings
            .iter()
            .all(|l| l.contains("<stdin>:1 Pod shop\\u{202e}/web: ")),
        "{report}"
    );
}

#[test]
fn test_escapes_control_characters_from_fixtures_in_its_human_report() {
    let fixture = "guardrail: no-latest-tag\ncases:\n  - name: \"wrong \\e]0;title\\a expectation\\nFAIL forged\"\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, image: \"nginx:latest\"}]}}\n    expect: allow\n";
    let dir = project(&[("tests/images.yaml", fixture)]);
    let output = test_fixtures(dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let report = text(&output.stdout);
    assert!(
        !report.contains(|c: char| c.is_control() && c != '\n'),
        "{report:?}"
    );
    assert!(
        report.contains("wrong \\u{1b}]0;title\\u{7} expectation\\nFAIL forged"),
        "{report}"
    );
    assert!(
        !report.lines().any(|l| l.starts_with("FAIL forged")),
        "{report}"
    );
}

// --- check: inputs read once, devices refused ----------------------------------------

fn check_json(project: &Path, manifests: &[&str], stdin: &str) -> (Output, serde_json::Value) {
    let mut args = vec![
        "check",
        "--project",
        project.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(manifests);
    let output = guardrailc(&args, stdin);
    let report = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output, report)
}

#[test]
fn check_reads_dev_stdin_once() {
    let dir = project(&[]);
    let (output, report) = check_json(dir.path(), &["/dev/stdin"], POD);
    assert_eq!(report["objects"], 1, "{}", all_output(&output));
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(output.status.code(), Some(1), "the denial fails the gate");
}

#[test]
fn check_reads_a_process_substitution_once() {
    let dir = project(&[("pod.yaml", POD)]);
    let mut command = Command::new("bash");
    command.arg("-c").arg(format!(
        "{:?} check --project {:?} --format json <(cat {:?})",
        env!("CARGO_BIN_EXE_guardrailc"),
        dir.path(),
        dir.path().join("pod.yaml"),
    ));
    let output = run_bounded(command, "");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", all_output(&output)));
    assert_eq!(report["objects"], 1, "{report}");
    assert_eq!(output.status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn check_reads_a_named_fifo_once_without_hanging() {
    let dir = project(&[]);
    let fifo = dir.path().join("pods.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer_path = fifo.clone();
    // Writes once, as a pipe does; a second open would wait for a writer forever.
    let writer = std::thread::spawn(move || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .and_then(|mut f| f.write_all(POD.as_bytes()))
    });
    let (output, report) = check_json(dir.path(), &[fifo.to_str().unwrap()], "");
    writer.join().unwrap().unwrap();
    assert_eq!(report["objects"], 1, "{}", all_output(&output));
}

#[cfg(unix)]
#[test]
fn check_refuses_devices_and_directories() {
    let dir = project(&[]);
    for (input, what) in [("/dev/zero", "a device"), ("/dev/null", "a device")] {
        let (output, _) = check_json(dir.path(), &[input], "");
        assert_refused(
            &output,
            &format!("`{input}` is {what}, not a manifest file"),
        );
    }
    let folder = dir.path().join("guardrails");
    let (output, _) = check_json(dir.path(), &[folder.to_str().unwrap()], "");
    assert_refused(&output, "is a directory");
}

// --- check: manifests kubectl would reject --------------------------------------------

#[test]
fn check_rejects_a_key_given_twice_with_its_line() {
    let dir = project(&[]);
    // The second `image` would hide the first, pinned one from kubectl's view: it rejects.
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx:1.27\n    image: nginx:latest\n";
    let output = guardrailc(
        &["check", "--project", dir.path().to_str().unwrap(), "-"],
        manifest,
    );
    assert_refused(
        &output,
        "error: <stdin>: line 9: spec.containers[0]: duplicate key `image`",
    );
}

#[test]
fn check_reports_an_object_without_api_version_or_kind_as_an_error() {
    let dir = project(&[]);
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\nmetadata:\n  name: web\nspec:\n  containers: []\n---\nkind: Pod\nmetadata: {name: p}\n---\njust a string\n";
    let (output, report) = check_json(dir.path(), &["-"], manifest);
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("<stdin>:5: the object has no `apiVersion` and `kind`"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("<stdin>:10: the object has no `apiVersion`:"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("<stdin>:13: a manifest document must be a Kubernetes object"),
        "{errors:?}"
    );
    // Only the ConfigMap counts as checked.
    assert_eq!(report["objects"], 1);
}

// --- fixtures: discovery --------------------------------------------------------------

/// A fixture whose one case expects the wrong verdict: it fails when it runs.
fn failing_fixture(guardrail_key: &str) -> String {
    format!("{guardrail_key} no-latest-tag\ncases:\n  - name: expected to fail\n    object: {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{containers: [{{name: app, image: \"nginx:latest\"}}]}}}}\n    expect: allow\n")
}

#[test]
fn fixtures_are_found_however_their_guardrail_key_is_written() {
    let json = "{\n  \"guardrail\": \"no-latest-tag\",\n  \"cases\": [{\"name\": \"expected to fail\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"nginx:latest\"}]}}, \"expect\": \"allow\"}]\n}\n";
    for (file, fixture) in [
        ("tests/quoted.yaml", failing_fixture("\"guardrail\":")),
        ("tests/spaced.yml", failing_fixture("guardrail :")),
        ("tests/single.yaml", failing_fixture("'guardrail':")),
        ("tests/flow.yaml", "{guardrail: no-latest-tag, cases: [{name: expected to fail, object: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, image: \"nginx:latest\"}]}}, expect: allow}]}\n".to_string()),
        ("tests/case.json", json.to_string()),
    ] {
        let dir = project(&[(file, &fixture)]);
        let output = test_fixtures(dir.path());
        let report = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{file}: {}", all_output(&output));
        assert!(
            report.contains(&format!("FAIL case {file}")),
            "{file}: {report}"
        );
    }
}

#[test]
fn files_under_tests_that_are_not_fixtures_are_listed_or_rejected() {
    let fixture = "guardrail: no-latest-tag\ncases:\n  - name: a pinned pod\n    object: {file: objects/pinned.yaml}\n    expect: allow\n";
    let pinned = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: \"nginx:1.27\"}]\n";
    let dir = project(&[
        ("tests/images.yaml", fixture),
        ("tests/objects/pinned.yaml", pinned),
        ("tests/objects/unused.yaml", pinned),
        ("tests/notes.yaml", "owner: platform\n"),
    ]);
    let root = dir.path().to_str().unwrap();
    let output = test_fixtures(dir.path());
    assert!(output.status.success(), "{}", all_output(&output));
    let report = text(&output.stdout);
    let ignored: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("ignored:"))
        .collect();
    assert_eq!(
        ignored,
        [
            "ignored: tests/notes.yaml is not a fixture and no case reads it (no `guardrail` key and no Kubernetes object)",
            "ignored: tests/objects/unused.yaml is not a fixture and no case reads it (1 Kubernetes object, no fixture)",
        ],
        "{report}"
    );
    let output = guardrailc(&["test", root, "--fuzz", "0", "--format", "json"], "");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files: Vec<&str> = json["details"]["ignored"]
        .as_array()
        .unwrap_or_else(|| panic!("{json:#}"))
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["tests/notes.yaml", "tests/objects/unused.yaml"]);

    // A file with cases but no guardrail, and a file that does not parse, are errors.
    write(
        dir.path(),
        "tests/typo.yaml",
        &failing_fixture("guardrial:"),
    );
    write(dir.path(), "tests/broken.json", "{\"guardrail\": \n");
    let output = test_fixtures(dir.path());
    assert_refused(
        &output,
        "error: tests/typo.yaml:2: this file has `cases` but no `guardrail` key",
    );
    assert_refused(&output, "error: tests/broken.json:");
}

#[test]
fn a_fixture_with_a_key_given_twice_is_an_error_at_its_line() {
    let fixture = "guardrail: no-latest-tag\ncases:\n  - name: twice\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, image: \"nginx:latest\", image: \"nginx:1\"}]}}\n    expect: allow\n";
    let dir = project(&[("tests/images.yaml", fixture)]);
    let output = test_fixtures(dir.path());
    assert_refused(
        &output,
        "error: tests/images.yaml:4: cases[0].object.spec.containers[0]: duplicate key `image`",
    );
}

// --- fixtures and schemas: what a project may read ------------------------------------

fn fixture_reading(file: &str) -> String {
    format!("guardrail: no-latest-tag\ncases:\n  - name: reads a file\n    object: {{file: {file:?}}}\n    expect: allow\n")
}

#[test]
fn fixture_files_outside_the_project_are_refused_without_echoing_them() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.yaml", "password: hunter2\n");
    let secret = outside.path().join("secret.yaml");
    for written in [
        "/etc/passwd",
        secret.to_str().unwrap(),
        "../../../../../../../etc/passwd",
    ] {
        let dir = project(&[("tests/images.yaml", &fixture_reading(written))]);
        let output = test_fixtures(dir.path());
        assert_eq!(output.status.code(), Some(1), "{written}");
        let all = all_output(&output);
        assert!(
            all.contains(&format!("`{written}` is outside the project folder")),
            "{written}: {all}"
        );
        assert!(!all.contains("root:") && !all.contains("hunter2"), "{all}");
    }
}

#[cfg(unix)]
#[test]
fn fixture_and_schema_files_that_never_end_are_refused() {
    let dir = project(&[("tests/images.yaml", &fixture_reading("zero.yaml"))]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("tests/zero.yaml")).unwrap();
    // The link leads out of the project; the device is not read.
    let output = test_fixtures(dir.path());
    assert_refused(&output, "resolves to `/dev/zero`");

    // A FIFO inside the project is no file either: it would block.
    let dir = project(&[("tests/images.yaml", &fixture_reading("pods.yaml"))]);
    let made = Command::new("mkfifo")
        .arg(dir.path().join("tests/pods.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    let output = test_fixtures(dir.path());
    assert_refused(&output, "`tests/pods.yaml` is a FIFO, not a regular file");

    // A CRD schema: absolute paths are refused in guardrails.toml itself, links that lead
    // out of the project when they are read.
    let crd = |schema: &str| {
        format!("[[crds]]\nkind = \"Widget\"\ngroup = \"example.com\"\nversion = \"v1\"\nresource = \"widgets\"\nschema = {schema:?}\n")
    };
    let dir = project(&[("guardrails.toml", &crd("/dev/zero"))]);
    let output = build(dir.path());
    assert_refused(&output, "the schema path `/dev/zero` is an absolute path");
    let dir = project(&[("guardrails.toml", &crd("crds/widget.yaml"))]);
    std::fs::create_dir(dir.path().join("crds")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("crds/widget.yaml")).unwrap();
    let output = build(dir.path());
    assert_refused(&output, "`crds/widget.yaml` is outside the project folder");
}

// --- sources ---------------------------------------------------------------------------

#[test]
fn every_source_pattern_that_matches_nothing_is_warned_about() {
    let config = "sources = [\"guardrails/*.guard\", \"guardrail/*.gaurd\", \"missing.guard\"]\n";
    let dir = project(&[("guardrails.toml", config)]);
    let (_, output) = build_into_out(dir.path());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning[G0406]: `guardrail/*.gaurd` matches no `.guard` file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning[G0406]: `missing.guard` matches no `.guard` file"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("`guardrails/*.guard` matches no"),
        "{stderr}"
    );
    assert!(stderr.contains("guardrails.toml:1:"), "{stderr}");
}

#[test]
fn source_patterns_outside_the_project_are_errors() {
    for pattern in ["../x/*.guard", "/etc/passwd", "guardrails/../../*.guard"] {
        let config = format!("sources = [\"guardrails/*.guard\", {pattern:?}]\n");
        let dir = project(&[("guardrails.toml", &config)]);
        let output = build(dir.path());
        assert_eq!(output.status.code(), Some(1), "{pattern}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("error[G0401]: the source pattern `{pattern}`")),
            "{stderr}"
        );
        assert!(!dir.path().join("out").exists());
    }
}

#[cfg(unix)]
#[test]
fn symlinked_sources_are_followed_inside_the_project_and_refused_outside() {
    let dir = project(&[(
        "shared/more.guard",
        &GUARD.replace("no-latest-tag", "linked-rule"),
    )]);
    std::os::unix::fs::symlink(
        dir.path().join("shared/more.guard"),
        dir.path().join("guardrails/more.guard"),
    )
    .unwrap();
    write(
        dir.path(),
        "guardrails.toml",
        "sources = [\"guardrails/*.guard\"]\n",
    );
    let (out, _) = build_into_out(dir.path());
    assert!(out.join("default/vap/linked-rule.policy.yaml").is_file());

    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "stray.guard", GUARD);
    std::os::unix::fs::symlink(
        outside.path().join("stray.guard"),
        dir.path().join("guardrails/stray.guard"),
    )
    .unwrap();
    let output = build(dir.path());
    assert_refused(
        &output,
        "`guardrails/stray.guard` is outside the project folder",
    );
}

#[test]
fn the_language_server_warns_on_the_same_unmatched_patterns() {
    use guardrailc_lsp::workspace::Workspace;
    let mut workspace = Workspace::new(guardrailc_testkit::test_support::TODAY);
    workspace.set_root_prefix("file:///project/");
    let read = |path: &str| Err(format!("no file `{path}`"));
    let config = "sources = [\"guardrails/*.guard\", \"guardrail/*.gaurd\"]\n";
    workspace.set_config("file:///project/guardrails.toml", config.into(), &read);
    workspace.set_file("file:///project/guardrails/images.guard", GUARD.into());
    let diagnostics = workspace.diagnostics();
    let on_config = &diagnostics["file:///project/guardrails.toml"];
    let messages: Vec<&str> = on_config.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["`guardrail/*.gaurd` matches no `.guard` file"]);
    let at = on_config[0].span.range();
    assert_eq!(&config[at], "\"guardrail/*.gaurd\"");

    let outside = "sources = [\"../elsewhere/*.guard\"]\n";
    workspace.set_config("file:///project/guardrails.toml", outside.into(), &read);
    let diagnostics = workspace.diagnostics();
    let messages: Vec<&str> = diagnostics["file:///project/guardrails.toml"]
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["the source pattern `../elsewhere/*.guard` leaves the project folder with `..`"]
    );
}

// --- line ends and byte order marks ----------------------------------------------------

#[test]
fn carriage_returns_end_comments_and_lines_in_sources() {
    // The rule after the comment is live code: an editor shows it on a line of its own.
    let cr_only = format!("# images\r{}", GUARD.replace('\n', "\r"));
    for source in [
        cr_only,
        format!("# images\r\n{}", GUARD.replace('\n', "\r\n")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "images.guard", &source);
        let (out, output) = build_into_out(dir.path());
        assert!(
            out.join("default/vap/no-latest-tag.policy.yaml").is_file(),
            "{}",
            all_output(&output)
        );
    }
    // A diagnostic in a CR-only file names its line as an editor counts it.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "images.guard",
        &format!("# one\r# two\r{}\r$", GUARD.replace('\n', "\r")),
    );
    let output = build(dir.path());
    assert_refused(&output, "images.guard:11:1");
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_source_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "images.guard", &format!("\u{feff}{GUARD}"));
    let (_, output) = build_into_out(dir.path());
    assert!(!text(&output.stderr).contains("G0101"));
}
