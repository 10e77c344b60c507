//! What guardrailc writes, and what it never touches: the output directory, its manifest,
//! the snapshot folder, files rewritten by `fmt`; headers no path can break out of; emitted
//! names that collide; output past what the engines and the API server take; exit codes of
//! usage errors. docs/security.md, "What guardrailc writes".

mod support;

use serde::Deserialize;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use support::{command, guardrailc, text};

const GUARD_A: &str = "guardrail a {\n  title \"a\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no host PID\"\n}\n";
const GUARD_B: &str = "guardrail b {\n  title \"b\"\n  match workloads\n  deny when pod.spec.hostIPC == true message \"no host IPC\"\n}\n";

fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// A project of `files` (name, text) in a fresh directory.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

fn build(dir: &Path, out: &Path) -> Output {
    guardrailc(&[
        "build",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Every entry under `dir` (symlinks not followed), with the bytes of regular files.
fn tree(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut entries: Vec<(PathBuf, Option<Vec<u8>>)> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|entry| {
            let entry = entry.unwrap();
            let relative = entry.path().strip_prefix(dir).unwrap().to_path_buf();
            let bytes = entry
                .file_type()
                .is_file()
                .then(|| std::fs::read(entry.path()).unwrap());
            (relative, bytes)
        })
        .collect();
    entries.sort();
    entries
}

/// The names in `dir` that look like guardrailc's temporaries.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".guardrailc-"))
        .collect()
}

#[test]
fn an_out_that_is_a_file_fifo_or_symlink_is_refused_and_left_as_it_is() {
    let source = project(&[("a.guard", GUARD_A)]);
    let place = tempfile::tempdir().unwrap();
    let file = place.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    let fifo = place.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let dir = place.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let to_dir = place.path().join("to-dir");
    std::os::unix::fs::symlink(&dir, &to_dir).unwrap();
    // With a trailing slash the system would follow the link.
    let to_dir_slash = PathBuf::from(format!("{}/", to_dir.display()));
    let to_file = place.path().join("to-file");
    std::os::unix::fs::symlink(&file, &to_file).unwrap();
    let dangling = place.path().join("dangling");
    std::os::unix::fs::symlink(place.path().join("nowhere"), &dangling).unwrap();

    let mut refused = vec![&file, &fifo, &to_dir, &to_dir_slash, &to_file, &dangling];
    // A character device like /dev/null, where the system lets us make one (root, CAP_MKNOD).
    let device = place.path().join("null");
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if made {
        refused.push(&device);
    }
    let before: Vec<(PathBuf, std::fs::Metadata)> = refused
        .iter()
        .map(|p| (p.to_path_buf(), std::fs::symlink_metadata(p).unwrap()))
        .collect();
    for (out, meta) in &before {
        let output = build(source.path(), out);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("not a directory"),
            "{}: {}",
            out.display(),
            stderr(&output)
        );
        let after = std::fs::symlink_metadata(out).unwrap();
        assert_eq!(
            (after.ino(), after.file_type()),
            (meta.ino(), meta.file_type()),
            "{} was replaced",
            out.display()
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert_eq!(std::fs::read_link(&to_dir).unwrap(), dir);
    assert_eq!(
        tree(&dir),
        vec![(PathBuf::from("keep.txt"), Some(b"mine".to_vec()))]
    );
    assert!(!place.path().join("nowhere").exists());
    assert_eq!(temporaries(place.path()), Vec::<String>::new());
}

#[test]
fn a_planted_manifest_cannot_delete_files_outside_the_output() {
    let source = project(&[("a.guard", GUARD_A)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());
    let victim = place.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let absolute = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(absolute.path(), "precious").unwrap();
    let mut manifest = std::fs::read_to_string(out.join(".guardrailc-manifest")).unwrap();
    manifest.push_str(&format!(
        "../victim\n{}\ndefault/../../victim\n./../victim\n",
        absolute.path().display()
    ));
    std::fs::write(out.join(".guardrailc-manifest"), manifest).unwrap();
    // A file of the user's makes the build keep the directory and go by the manifest.
    std::fs::write(out.join("README.txt"), "mine").unwrap();

    let output = build(source.path(), &out);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        std::fs::read_to_string(absolute.path()).unwrap(),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("README.txt")).unwrap(),
        "mine"
    );
    assert!(
        stderr(&output).contains("`../victim` is not a path inside the output directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_planted_snapshot_manifest_cannot_delete_files_outside_the_snapshots() {
    let source = project(&[("a.guard", GUARD_A)]);
    let dir = source.path();
    let update = || {
        command()
            .args(["test", dir.to_str().unwrap(), "--update", "--fuzz", "0"])
            .output()
            .unwrap()
    };
    let first = update();
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(dir.join("victim.txt"), "precious").unwrap();
    let manifest = dir.join("snapshots/.guardrailc-manifest");
    let planted = std::fs::read_to_string(&manifest).unwrap() + "../victim.txt\n../a.guard\n";
    std::fs::write(&manifest, planted).unwrap();
    std::fs::write(dir.join("snapshots/notes.md"), "mine").unwrap();
    let second = update();
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        std::fs::read_to_string(dir.join("victim.txt")).unwrap(),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.guard")).unwrap(),
        GUARD_A
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("snapshots/notes.md")).unwrap(),
        "mine"
    );
}

#[test]
fn a_file_of_the_build_edited_since_is_kept_with_a_warning_or_refused() {
    let source = project(&[("a.guard", GUARD_A), ("b.guard", GUARD_B)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());

    // b's files are stale once b is gone; the one edited by hand is kept.
    let edited_b = out.join("default/vap/b.policy.yaml");
    std::fs::write(&edited_b, "my notes").unwrap();
    std::fs::remove_file(source.path().join("b.guard")).unwrap();
    let output = build(source.path(), &out);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&edited_b).unwrap(), "my notes");
    assert!(!out.join("default/vap/b.binding.yaml").exists());
    assert!(
        stderr(&output).contains("changed since guardrailc wrote it"),
        "{}",
        stderr(&output)
    );

    // A's file is still produced: replacing the edit would lose it.
    let edited_a = out.join("default/vap/a.policy.yaml");
    std::fs::write(&edited_a, "my edit").unwrap();
    let before = tree(&out);
    let output = build(source.path(), &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("was changed since guardrailc wrote it"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tree(&out), before);
}

#[test]
fn a_failed_write_leaves_the_previous_output_and_no_temporaries() {
    let source = project(&[("a.guard", GUARD_A), ("b.guard", GUARD_B)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());
    std::fs::write(out.join("README.txt"), "mine").unwrap();
    std::fs::write(
        source.path().join("a.guard"),
        GUARD_A.replace("no host PID", "host PID is not allowed"),
    )
    .unwrap();
    let before = tree(&out);
    // Files of at most 1 KiB (2 blocks of 512 bytes): every policy is bigger.
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -f 2 && exec \"$0\" build \"$1\" --out \"$2\"",
            env!("CARGO_BIN_EXE_guardrailc"),
        ])
        .arg(source.path())
        .arg(&out)
        .env(
            "GUARDRAILC_TODAY",
            guardrailc_testkit::test_support::TODAY_ISO,
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tree(&out), before);
    assert_eq!(temporaries(place.path()), Vec::<String>::new());
}

#[test]
fn a_conflict_found_midway_leaves_the_output_whole_and_no_temporaries() {
    let config = "[environments.a]\n[environments.z]\n";
    let source = project(&[("guardrails.toml", config), ("a.guard", GUARD_A)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());
    // The user replaces environment z's folder with a file of their own, and the guardrail
    // changes: environment a comes first and must not be rewritten when z cannot be.
    std::fs::remove_dir_all(out.join("z")).unwrap();
    std::fs::write(out.join("z"), "mine").unwrap();
    std::fs::write(
        source.path().join("a.guard"),
        GUARD_A.replace("no host PID", "host PID is not allowed"),
    )
    .unwrap();
    let before = tree(&out);
    let output = build(source.path(), &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a directory"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tree(&out), before);
    assert_eq!(temporaries(place.path()), Vec::<String>::new());
}

#[test]
fn a_read_only_output_directory_is_refused_and_left_as_it_is() {
    let source = project(&[("a.guard", GUARD_A)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    let inode = std::fs::metadata(&out).unwrap().ino();
    let before = tree(&out);
    let output = build(source.path(), &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    assert_eq!(std::fs::metadata(&out).unwrap().ino(), inode);
    assert_eq!(tree(&out), before);
    assert_eq!(temporaries(place.path()), Vec::<String>::new());
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_rebuild_keeps_foreign_entries_as_they_are_and_their_permissions() {
    let source = project(&[("a.guard", GUARD_A), ("b.guard", GUARD_B)]);
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    assert!(build(source.path(), &out).status.success());
    std::fs::write(out.join("default/vap/notes.md"), "mine").unwrap();
    let notes_inode = std::fs::metadata(out.join("default/vap/notes.md"))
        .unwrap()
        .ino();
    std::os::unix::fs::symlink("../elsewhere", out.join("link")).unwrap();
    std::fs::create_dir(out.join("empty")).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::remove_file(source.path().join("b.guard")).unwrap();

    let output = build(source.path(), &out);
    assert!(output.status.success(), "{}", stderr(&output));
    let notes = std::fs::metadata(out.join("default/vap/notes.md")).unwrap();
    assert_eq!(notes.ino(), notes_inode, "the user's file is the same file");
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("../elsewhere")
    );
    assert!(out.join("empty").is_dir());
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o750
    );
    assert!(out.join("default/vap/a.policy.yaml").is_file());
    assert!(!out.join("default/vap/b.policy.yaml").exists());
    assert!(!out.join("default/opa").join("b.rego").exists());
    assert_eq!(temporaries(place.path()), Vec::<String>::new());
}

#[test]
fn a_build_killed_at_any_moment_leaves_the_old_or_the_new_output() {
    // Enough guardrails that writing takes a while, and a file of the user's so that the
    // output directory is not simply ours to swap.
    let guardrail = |i: usize, message: &str| {
        (
            format!("g{i}.guard"),
            format!(
                "guardrail g{i} {{\n  title \"g\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"{message} {i}\"\n}}\n"
            ),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let write_sources = |message: &str| {
        for i in 0..150 {
            let (name, text) = guardrail(i, message);
            std::fs::write(dir.path().join(name), text).unwrap();
        }
    };
    let place = tempfile::tempdir().unwrap();
    let out = place.path().join("out");
    write_sources("old");
    assert!(build(dir.path(), &out).status.success());
    let mine = out.join("README.txt");
    std::fs::write(&mine, "mine").unwrap();
    let old = tree(&out);
    write_sources("new");
    let started = std::time::Instant::now();
    assert!(build(dir.path(), &place.path().join("reference"))
        .status
        .success());
    let duration = started.elapsed();
    let mut new = tree(&place.path().join("reference"));
    new.push((PathBuf::from("README.txt"), Some(b"mine".to_vec())));
    new.sort();
    std::fs::remove_dir_all(place.path().join("reference")).unwrap();

    for step in 1..=8u32 {
        let mut child = command()
            .args(["build", dir.path().to_str().unwrap(), "--out"])
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(duration * step / 8);
        let _ = child.kill();
        child.wait().unwrap();
        let now = tree(&out);
        assert!(
            now == old || now == new,
            "after a kill at {step}/8 of a build the output is neither the old nor the new one"
        );
        // Back to the old output for the next round.
        if now == new {
            write_sources("old");
            assert!(build(dir.path(), &out).status.success());
            write_sources("new");
        }
    }
}

#[test]
fn fmt_leaves_the_file_intact_when_the_write_fails() {
    let body: String = (0..200)
        .map(|i| format!("deny   when pod.spec.hostPID   ==   true message \"rule {i}\"\n"))
        .collect();
    let source = format!("guardrail big {{\ntitle \"t\"\nmatch workloads\n{body}}}\n");
    let dir = project(&[("big.guard", &source)]);
    let file = dir.path().join("big.guard");
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -f 4 && exec \"$0\" fmt \"$1\"",
            env!("CARGO_BIN_EXE_guardrailc"),
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), source);
    assert_eq!(
        tree(dir.path()),
        vec![(PathBuf::from("big.guard"), Some(source.into_bytes()))],
        "no temporary file is left"
    );
}

#[test]
fn fmt_keeps_permissions_and_symlinks() {
    let messy = "guardrail a {\ntitle   \"a\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no host PID\"\n}\n";
    let dir = project(&[("real/a.guard", messy), ("plain/a.guard", messy)]);
    let plain = dir.path().join("plain/a.guard");
    assert!(guardrailc(&["fmt", plain.to_str().unwrap()])
        .status
        .success());
    let formatted = std::fs::read_to_string(&plain).unwrap();
    assert_ne!(formatted, messy);
    let real = dir.path().join("real/a.guard");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("a.guard");
    std::os::unix::fs::symlink("real/a.guard", &link).unwrap();
    let output = guardrailc(&["fmt", link.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("real/a.guard")
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), formatted);
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn a_source_path_cannot_add_objects_or_lines_to_the_output() {
    let name = "a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: injected\n#\u{2028}import data.x\r.guard";
    let dir = project(&[(name, GUARD_A)]);
    let out = tempfile::tempdir().unwrap();
    let output = build(dir.path(), &out.path().join("out"));
    assert!(output.status.success(), "{}", stderr(&output));
    let files = tree(&out.path().join("out"));
    let mut yaml_files = 0;
    for (path, bytes) in &files {
        let (Some(bytes), Some(ext)) = (bytes, path.extension()) else {
            continue;
        };
        let contents = String::from_utf8(bytes.clone()).unwrap();
        let header: Vec<&str> = contents.lines().take(2).collect();
        assert!(
            header.iter().all(|line| line.starts_with("# ")),
            "{}: {header:?}",
            path.display()
        );
        if ext == "yaml" {
            yaml_files += 1;
            let documents: Vec<serde_json::Value> = yaml_serde::Deserializer::from_str(&contents)
                .map(|document| serde_json::Value::deserialize(document).unwrap())
                .collect();
            assert_eq!(documents.len(), 1, "{}", path.display());
            assert_ne!(documents[0]["kind"], "ConfigMap");
        } else {
            let lines: Vec<&str> = contents.lines().collect();
            assert_eq!(lines[2], "", "{}", path.display());
            assert!(lines[3].starts_with("package "), "{}", path.display());
            assert!(!contents.contains("\nimport data.x"));
            assert!(!contents.contains('\r') && !contents.contains('\u{2028}'));
        }
    }
    assert_eq!(yaml_files, 4);
}

#[test]
fn distinct_ids_with_one_emitted_name_are_an_error_naming_both() {
    let guard = |id: &str| {
        format!("guardrail {id} {{\n  title \"t\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no\"\n}}\n")
    };
    let (one, two, three) = (guard("ab-c"), guard("a-bc"), guard("abc"));
    let dir = project(&[
        ("one.guard", &one),
        ("two.guard", &two),
        ("three.guard", &three),
    ]);
    let out = dir.path().join("out");
    let output = build(dir.path(), &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("guardrails `a-bc` and `ab-c` both emit the ConstraintTemplate `abc`"),
        "{text}"
    );
    assert!(
        text.contains("guardrails `a-bc` and `abc` both emit the ConstraintTemplate `abc`"),
        "{text}"
    );
    assert!(!out.exists());
    // Without the Gatekeeper target nothing collides.
    let vap = guardrailc(&[
        "build",
        dir.path().to_str().unwrap(),
        "--target",
        "vap,opa",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(vap.status.success(), "{}", stderr(&vap));
}

/// A project with one guardrail nesting `depth` loops in the form `form` (`for` clauses or
/// nested `any`), and a fixture the guardrail denies.
fn nested_loops(form: &str, depth: usize) -> tempfile::TempDir {
    let rule = if form == "for" {
        let loops: Vec<String> = (0..depth)
            .map(|i| format!("for c{i} in object.spec.containers"))
            .collect();
        format!(
            "deny {} when c{}.name == \"x\" message \"m\"",
            loops.join(" "),
            depth - 1
        )
    } else {
        let mut expr = format!("c{}.name == \"x\"", depth - 1);
        for i in (0..depth).rev() {
            expr = format!("(any c{i} in object.spec.containers: {expr})");
        }
        format!("deny when {expr} message \"m\"")
    };
    project(&[
        ("g.guard", &format!("guardrail g {{\n  title \"t\"\n  match kinds [Pod]\n  {rule}\n}}\n")),
        ("tests/g.yaml", "guardrail: g\ncases:\n  - name: one container named x\n    object: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: n}, spec: {containers: [{name: x, image: i}]}}\n    expect: deny\n"),
    ])
}

#[test]
fn loops_nested_up_to_the_limit_build_and_pass_their_tests_deeper_ones_do_not_build() {
    for form in ["for", "any"] {
        let at_limit = nested_loops(form, 16);
        let output = command()
            .args(["test", at_limit.path().to_str().unwrap(), "--fuzz", "0"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{form} ×16: {}{}",
            text(&output.stdout),
            stderr(&output)
        );
        let past = nested_loops(form, 17);
        let output = build(past.path(), &past.path().join("out"));
        assert_eq!(output.status.code(), Some(1), "{form} ×17");
        assert!(
            stderr(&output).contains("error[G0505]: this rule nests 17 loops; at most 16"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn objects_over_the_etcd_limit_and_rego_the_testkit_cannot_load_do_not_build() {
    // A param default of 30,000 registries: the Constraint holding it is over 1.5 MiB.
    let registries: Vec<String> = (0..30_000)
        .map(|i| format!("\"registry-{i:05}.example.com/platform-team/some-project/\""))
        .collect();
    let big = format!(
        "guardrail big {{\n  title \"t\"\n  match workloads\n  param allowed: list<string> = [{}]\n  deny for c in pod.all_containers when not (any r in params.allowed: c.image.starts_with(r)) message \"no\"\n}}\n",
        registries.join(", ")
    );
    let dir = project(&[("big.guard", &big)]);
    let output = build(dir.path(), &dir.path().join("out"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[G0506]: `default/gatekeeper/big.constraint.yaml` would be"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("out").exists());

    // A message longer than the line the testkit's Rego engine reads.
    let long = GUARD_A.replace("no host PID", &"m".repeat(1100));
    let dir = project(&[("a.guard", &long)]);
    let output = build(dir.path(), &dir.path().join("out"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("error[G0506]: the Rego module of `default/opa/a.rego` has a line of"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn usage_errors_exit_1_and_help_and_version_exit_0() {
    for args in [
        vec!["build", "--no-such-flag"],
        vec!["build", "--target", "kyverno"],
        vec!["build", "--kube-version", "banana"],
        vec!["no-such-command"],
        vec![],
    ] {
        let output = guardrailc(&args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).is_empty(), "{args:?}");
    }
    for args in [vec!["--help"], vec!["--version"], vec!["build", "--help"]] {
        let output = guardrailc(&args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
}
