//! The command line as a user runs it: exit codes, output files, atomic writes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::{guardrailc, quickstart, text};

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walk(dir)
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

#[test]
fn builds_the_quickstart_for_every_environment_and_target() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    let output = guardrailc(&[
        "build",
        quickstart().to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let files = files_under(&out_dir);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for env in ["dev", "staging", "prod"] {
        for guardrail in [
            "no-latest-tag",
            "allowed-registries",
            "no-privileged",
            "no-host-ports",
            "memory-limits",
            "no-loadbalancer-outside-edge",
            "team-label-immutable",
        ] {
            for suffix in [
                "vap/{g}.policy.yaml",
                "vap/{g}.binding.yaml",
                "gatekeeper/{g}.template.yaml",
                "gatekeeper/{g}.constraint.yaml",
                "opa/{g}.rego",
            ] {
                let path = format!("{env}/{}", suffix.replace("{g}", guardrail));
                // team-label-immutable compares with `old`: `targets [vap, gatekeeper]`.
                let built = !(guardrail == "team-label-immutable" && suffix.starts_with("opa/"));
                assert_eq!(names.contains(&path.as_str()), built, "{path}");
            }
        }
        // team-label-immutable reads the namespace: older Gatekeeper needs it replicated.
        let sync = format!("{env}/gatekeeper/sync.yaml");
        assert!(names.contains(&sync.as_str()), "missing {sync}");
    }
    // 3 environments × (7 guardrails × 5 files, less team-label-immutable's opa file, +
    // sync.yaml), and the manifest
    assert_eq!(files.len(), 3 * (7 * 5 - 1 + 1) + 1);
    let binding =
        std::fs::read_to_string(out_dir.join("staging/vap/allowed-registries.binding.yaml"))
            .unwrap();
    assert!(
        binding.contains("- Deny"),
        "allowed-registries denies on staging:\n{binding}"
    );
    let binding =
        std::fs::read_to_string(out_dir.join("staging/vap/no-latest-tag.binding.yaml")).unwrap();
    assert!(
        binding.contains("- Warn"),
        "staging warns by default:\n{binding}"
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [&first, &second] {
        let output = guardrailc(&[
            "build",
            quickstart().to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(
        files_under(&first.path().join("o")),
        files_under(&second.path().join("o"))
    );
}

#[test]
fn a_rebuild_keeps_files_it_did_not_write_and_removes_its_stale_ones() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("a.guard"), "guardrail a {\n  title \"a\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no\"\n}\n").unwrap();
    std::fs::write(project.path().join("b.guard"), "guardrail b {\n  title \"b\"\n  match workloads\n  deny when pod.spec.hostIPC == true message \"no\"\n}\n").unwrap();
    let dir = project.path().to_str().unwrap();
    assert!(guardrailc(&["build", dir]).status.success());
    let out = project.path().join("out");
    std::fs::write(out.join("README.txt"), "mine").unwrap();
    std::fs::remove_file(project.path().join("b.guard")).unwrap();
    let output = guardrailc(&["build", dir]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(out.join("README.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("default/vap/a.policy.yaml").exists());
    assert!(
        !out.join("default/vap/b.policy.yaml").exists(),
        "b's files came from the previous build and are stale"
    );
}

#[test]
fn a_failed_build_leaves_the_output_untouched() {
    let project = tempfile::tempdir().unwrap();
    let source = project.path().join("a.guard");
    std::fs::write(&source, "guardrail a {\n  title \"a\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no\"\n}\n").unwrap();
    let dir = project.path().to_str().unwrap();
    assert!(guardrailc(&["build", dir]).status.success());
    let before = files_under(&project.path().join("out"));
    std::fs::write(&source, "guardrail a {\n  title \"a\"\n  match workloads\n  deny when pod.spec.hostPd == true message \"no\"\n}\n").unwrap();
    let output = guardrailc(&["build", dir]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(files_under(&project.path().join("out")), before);
}

#[test]
fn refuses_to_overwrite_a_file_it_did_not_write() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("a.guard"), "guardrail a {\n  title \"a\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no\"\n}\n").unwrap();
    let policy = project.path().join("out/default/vap/a.policy.yaml");
    std::fs::create_dir_all(policy.parent().unwrap()).unwrap();
    std::fs::write(&policy, "hand-written").unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("was not written by guardrailc"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), "hand-written");
}

#[test]
fn user_errors_exit_1_with_file_line_and_column() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("bad.guard"),
        "guardrail bad {\n  title \"t\"\n  match workloads\n  deny for c in pod.all_containers\n    when c.imagee == \"x\"\n    message \"m\"\n}\n",
    )
    .unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("error[G0301]"), "{text}");
    assert!(text.contains("bad.guard:5:12"), "{text}");
    assert!(text.contains("did you mean `image`?"), "{text}");
    assert!(
        !project.path().join("out").exists(),
        "nothing is written on errors"
    );

    let json = guardrailc(&[
        "build",
        project.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json on stdout");
    assert_eq!(report["success"], false);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "G0301");
    assert_eq!(diagnostic["location"]["file"], "bad.guard");
    assert_eq!(diagnostic["location"]["line"], 5);
    assert_eq!(diagnostic["location"]["column"], 12);
    assert_eq!(diagnostic["fix"]["replacement"], "image");
}

#[test]
fn a_directory_without_guardrails_is_an_error() {
    let project = tempfile::tempdir().unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("G0404"), "{}", stderr(&output));
    let missing = guardrailc(&["build", "/nonexistent/project"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("is not a directory"));
}

#[test]
fn explain_prints_codes_and_guardrails() {
    let output = guardrailc(&["explain", "G0301"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("G0301: a field does not exist"), "{text}");
    let output = guardrailc(&[
        "explain",
        "no-privileged",
        "--project",
        quickstart().to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Containers do not run privileged"), "{text}");
    assert!(text.contains("in prod: deny"), "{text}");
    assert!(text.contains("in dev: audit"), "{text}");
    let output = guardrailc(&["explain", "G9999"]);
    assert_eq!(output.status.code(), Some(1));
    let output = guardrailc(&[
        "explain",
        "no-privilegd",
        "--project",
        quickstart().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("did you mean `no-privileged`?"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn custom_resources_are_checked_against_their_declared_schema() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("guardrails.toml"),
        "[[crds]]\nkind = \"Widget\"\ngroup = \"example.com\"\nversion = \"v1\"\nresource = \"widgets\"\nschema = \"widget-crd.yaml\"\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("widget-crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size:\n                type: integer\n              colour:\n                type: string\n",
    )
    .unwrap();
    let guard = project.path().join("w.guard");
    std::fs::write(&guard, "guardrail small-widgets {\n  title \"w\"\n  match kinds [Widget]\n  deny when object.spec.size > 10 message \"too big\"\n}\n").unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let policy = std::fs::read_to_string(
        project
            .path()
            .join("out/default/vap/small-widgets.policy.yaml"),
    )
    .unwrap();
    assert!(
        policy.contains("example.com") && policy.contains("widgets"),
        "{policy}"
    );

    std::fs::write(&guard, "guardrail small-widgets {\n  title \"w\"\n  match kinds [Widget]\n  deny when object.spec.sise > 10 or object.spec.colour > 3 message \"too big\"\n}\n").unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("G0301") && text.contains("did you mean `size`?"),
        "{text}"
    );
    assert!(
        text.contains("G0303"),
        "comparing a string with an int is a type error: {text}"
    );
}

#[test]
fn init_starts_a_project_that_builds_and_tests_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    let output = guardrailc(&["init", project.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let test = guardrailc(&["test", project.to_str().unwrap()]);
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stdout)
    );
    std::fs::write(project.join("guardrails.toml"), "# mine\n").unwrap();
    let again = guardrailc(&["init", project.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(project.join("guardrails.toml")).unwrap(),
        "# mine\n"
    );

    let from_library = dir.path().join("tenancy");
    let output = guardrailc(&[
        "init",
        from_library.to_str().unwrap(),
        "--from",
        "multi-tenancy",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let test = guardrailc(&["test", from_library.to_str().unwrap()]);
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stdout)
    );
    let unknown = guardrailc(&[
        "init",
        dir.path().join("x").to_str().unwrap(),
        "--from",
        "multi-tenant",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("did you mean `multi-tenancy`?"));
}

#[test]
fn library_sets_are_usable_as_sources() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("guardrails.toml"),
        "sources = [\"*.guard\", \"@library/multi-tenancy\"]\ntargets = [\"vap\"]\n",
    )
    .unwrap();
    std::fs::write(project.path().join("own.guard"), "guardrail own {\n  title \"o\"\n  match workloads\n  deny when pod.spec.hostPID == true message \"no\"\n}\n").unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    for id in [
        "own",
        "workload-tenant-label",
        "cluster-admin-platform-only",
        "loadbalancer-namespaces",
    ] {
        assert!(
            project
                .path()
                .join(format!("out/default/vap/{id}.policy.yaml"))
                .exists(),
            "{id}"
        );
    }
    std::fs::write(
        project.path().join("guardrails.toml"),
        "sources = [\"@library/no-such-set\"]\n",
    )
    .unwrap();
    let output = guardrailc(&["build", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("names no library set"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn docs_of_the_library_catalog_every_set_with_passing_evidence() {
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let output = guardrailc(&["docs", library.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    for set in [
        "general/",
        "psp/",
        "multi-tenancy/",
        "pod-security/baseline/",
        "pod-security/restricted/",
    ] {
        assert!(
            text.contains(&format!("## {set}")),
            "the catalog has no entry of {set}"
        );
    }
    let (detective, rows): (Vec<&str>, Vec<&str>) = text
        .lines()
        .filter(|l| l.starts_with("| ["))
        .partition(|l| l.contains("(#multi-tenancydefault-deny-network-policy)"));
    assert!(rows.len() >= 60, "{} guardrails", rows.len());
    // The configured cross-object check has no fixtures; its entry says where it is tested.
    assert_eq!(detective.len(), 1, "{detective:?}");
    assert!(
        detective[0].contains("tested in its own suite"),
        "{}",
        detective[0]
    );
    for row in rows {
        assert!(
            row.contains(" 0 failed"),
            "every library guardrail's fixtures pass: {row}"
        );
        assert!(
            !row.contains("no fixtures"),
            "every library guardrail has fixtures: {row}"
        );
    }
}

/// Issue 4's bar: the whole library passes `guardrailc test` with property mode at 1,000
/// generated requests per guardrail and environment (engines agree, CEL never errors).
#[test]
fn the_library_passes_its_tests_with_a_thousand_generated_requests_per_guardrail() {
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let output = guardrailc(&[
        "test",
        library.to_str().unwrap(),
        "--fuzz",
        "1000",
        "--seed",
        "20261128",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.ends_with(" 0 failed"), "{last}");
    assert!(
        text.contains("property: 1000 generated requests per guardrail"),
        "{text}"
    );
}

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    let subcommands = [
        "build",
        "explain",
        "test",
        "check",
        "init",
        "plan",
        "exemptions",
        "docs",
        "fmt",
        "lsp",
        "completions",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let output = guardrailc(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = text(&output.stdout);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        assert!(script.contains("guardrailc"), "{shell}: {script}");
        for subcommand in subcommands {
            assert!(
                script.contains(subcommand),
                "{shell}: no `{subcommand}` in\n{script}"
            );
        }
        // Flags come from the same definition.
        assert!(script.contains("kube-version"), "{shell}: {script}");
    }
    let output = guardrailc(&["completions", "powershell-ish"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = guardrailc(&["completions"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// `explain GUARDRAIL` for every quickstart guardrail: scope (operations, namespaces, label
/// selectors), param values and enforcement per environment with the setting that decided
/// it, exemptions.
#[test]
fn explain_shows_scope_params_and_enforcement_per_environment() {
    let project = quickstart();
    let mut all = String::new();
    for id in [
        "allowed-registries",
        "memory-limits",
        "no-host-ports",
        "no-latest-tag",
        "no-loadbalancer-outside-edge",
        "no-privileged",
        "team-label-immutable",
    ] {
        let output = guardrailc(&["explain", id, "--project", project.to_str().unwrap()]);
        assert!(output.status.success(), "{id}: {}", stderr(&output));
        let text = text(&output.stdout).replace(project.to_str().unwrap(), "<quickstart>");
        all.push_str(&text);
        all.push('\n');
    }
    insta::assert_snapshot!("explain_quickstart", all);
}

/// The quickstart's catalog: every section lists the scope, the param values and the
/// enforcement per environment.
#[test]
fn docs_of_the_quickstart_show_scope_params_and_enforcement() {
    let project = quickstart();
    let output = guardrailc(&["docs", project.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("docs_quickstart", text(&output.stdout));
}
