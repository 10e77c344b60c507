//! What the emitted policies do, evaluated by the testkit's engines on all three targets:
//! escaping of user strings, the absent-value semantics, and the quickstart's guardrails.

use guardrailc_compiler::emit::Artifact;
use guardrailc_compiler::project::{self, SourceFile};
use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::test_support::{self, create, Compiled};
use guardrailc_testkit::{AdmissionCase, Operation, SchemaCatalog, UserInfo};
use serde_json::{json, Value};

/// Builds `sources` with `config_text` as guardrails.toml, in memory; panics on errors.
fn compile(sources: &[(&str, &str)], config_text: &str) -> Vec<Artifact> {
    let sources: Vec<(String, String)> = sources
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    test_support::build(&sources, config_text).unwrap_or_else(|e| panic!("{e}"))
}

/// Guardrail `id` of environment `env` on every engine; panics when a target is missing.
fn load(artifacts: &[Artifact], env: &str, id: &str) -> Compiled {
    test_support::load(artifacts, env, id).unwrap_or_else(|e| panic!("{e}"))
}

const ESCAPING: &str = r#"
guardrail escaping {
  title "strings arrive in the policy exactly as written"
  match kinds [ConfigMap]
  param weird: list<string> = [
    "quote\" apostrophe' back\\slash",
    "new\nline\ttab",
    "braces \{x\} percent %d %v %%",
    "unicodé 😀 ünï",
    "package namespace in for if not every some contains import"
  ]
  deny when object.data["value"] in params.weird
    message "value {object.data["value"]} is \"forbidden\" 100% \{literal\} é😀 \\ '"
  deny when object.data["prefix"].starts_with("it's \"q\" \\ \{")
    message "prefix"
  deny when object.data["regex"].matches("^a\\.b\\\\c\"d\\{2\\}$")
    message "regex"
  deny when object.metadata.labels["app.kubernetes.io/name"] == "a-b.c_d"
    message "label"
}
"#;

fn config_map(data: Value, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns", "labels": labels}, "data": data})
}

#[test]
fn user_strings_are_compared_and_printed_exactly() {
    let artifacts = compile(&[("escaping.guard", ESCAPING)], "");
    let policy = load(&artifacts, "default", "escaping");
    let weird = [
        "quote\" apostrophe' back\\slash",
        "new\nline\ttab",
        "braces {x} percent %d %v %%",
        "unicodé 😀 ünï",
        "package namespace in for if not every some contains import",
    ];
    for value in weird {
        let case = create(config_map(json!({ "value": value }), json!({})));
        let message = format!("value {value} is \"forbidden\" 100% {{literal}} é😀 \\ '");
        if value.contains('\n') {
            // The API server does not show a message with a line break (it shows its
            // fallback); Gatekeeper shows it as written. Both deny.
            let catalog = SchemaCatalog(Schema::builtin());
            let vap = policy.vap.evaluate(&case, &catalog).unwrap();
            let gatekeeper = policy.gatekeeper.evaluate(&case, &catalog).unwrap();
            assert!(
                vap.violated && gatekeeper.violated,
                "{value:?} must be denied"
            );
            assert_eq!(gatekeeper.messages, vec![message]);
            assert_eq!(vap.messages.len(), 1);
            assert!(vap.messages[0].starts_with("failed expression: "));
        } else {
            let outcome = policy.check(&case, true);
            assert!(outcome.violated, "{value:?} must be denied");
            assert_eq!(outcome.messages, vec![message]);
        }
        for near in [
            format!("{value} "),
            value.replace('\\', "/"),
            value[1..].to_string(),
        ] {
            if weird.contains(&near.as_str()) {
                continue;
            }
            let outcome = policy.check(
                &create(config_map(json!({ "value": near }), json!({}))),
                true,
            );
            assert!(
                !outcome.violated,
                "{near:?} differs from every forbidden value"
            );
        }
    }
    let prefix = "it's \"q\" \\ {";
    let outcome = policy.check(
        &create(config_map(
            json!({"prefix": format!("{prefix}tail")}),
            json!({}),
        )),
        true,
    );
    assert_eq!(outcome.messages, vec!["prefix"]);
    let outcome = policy.check(
        &create(config_map(
            json!({"prefix": "it's \"q\" / {tail"}),
            json!({}),
        )),
        true,
    );
    assert!(!outcome.violated);

    let outcome = policy.check(
        &create(config_map(json!({"regex": "a.b\\c\"d{2}"}), json!({}))),
        true,
    );
    assert_eq!(
        outcome.messages,
        vec!["regex"],
        "the regex matches its literal text"
    );
    let outcome = policy.check(
        &create(config_map(json!({"regex": "aXb\\c\"d{2}"}), json!({}))),
        true,
    );
    assert!(
        !outcome.violated,
        "`\\.` is a literal dot, not any character"
    );

    let outcome = policy.check(
        &create(config_map(
            json!({}),
            json!({"app.kubernetes.io/name": "a-b.c_d"}),
        )),
        true,
    );
    assert_eq!(outcome.messages, vec!["label"]);
}

const ABSENT: &str = r#"
guardrail absent {
  title "absent values"
  match kinds [Pod]
  deny for c in pod.all_containers
    when c.securityContext.privileged == true
    message "privileged {c.name}"
  deny for c in pod.all_containers
    when not c.image.contains(":")
    message "unpinned {c.name} {c.image}"
  deny for c in pod.all_containers for p in c.ports
    when p.hostPort not in [8080]
    message "host port {p.hostPort} in {c.name}"
  deny for c in pod.all_containers
    when c.securityContext.runAsUser not in [1000]
    message "user {c.securityContext.runAsUser} in {c.name}"
  require that all c in pod.spec.initContainers: exists(c.resources.limits["memory"])
    message "init container without a memory limit"
}
"#;

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
}

#[test]
fn absent_values_follow_the_documented_semantics_on_every_target() {
    let artifacts = compile(&[("absent.guard", ABSENT)], "");
    let policy = load(&artifacts, "default", "absent");
    // No securityContext, no ports, no initContainers: only the unpinned image fires.
    let outcome = policy.check(
        &create(pod(
            json!({"containers": [{"name": "a", "image": "nginx"}]}),
        )),
        true,
    );
    assert_eq!(outcome.messages, vec!["unpinned a nginx"]);
    // No image at all: `image` is a plain Go string, so it reads as "" (Semantics, rule 4):
    // `not contains` is true and the message prints the empty image.
    let outcome = policy.check(&create(pod(json!({"containers": [{"name": "a"}]}))), true);
    assert_eq!(outcome.messages, vec!["unpinned a "]);
    // A port without hostPort, and one with.
    let outcome = policy.check(
        &create(pod(json!({"containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 9090}]}]}))),
        true,
    );
    // `hostPort` is a plain Go integer, so a port without one reads as 0 (rule 4), which is
    // not in the list; `runAsUser` is a pointer, so without it `not in` is false (rule 1).
    assert_eq!(
        outcome.messages,
        vec!["host port 0 in a", "host port 9090 in a"]
    );
    // A pointer set to zero is present: `runAsUser: 0` is not in the list.
    let outcome = policy.check(
        &create(pod(json!({"containers": [{"name": "a", "image": "x:1", "securityContext": {"runAsUser": 0}}]}))),
        true,
    );
    assert_eq!(outcome.messages, vec!["user 0 in a"]);
    // Two containers with the same violation: two messages, in every target.
    let outcome = policy.check(
        &create(pod(json!({"containers": [
            {"name": "a", "image": "x:1", "securityContext": {"privileged": true}},
            {"name": "b", "image": "x:1", "securityContext": {"privileged": true}}
        ], "initContainers": [{"name": "i", "image": "x:1", "resources": {"limits": {"memory": "1Gi"}}}]}))),
        true,
    );
    assert_eq!(outcome.messages, vec!["privileged a", "privileged b"]);
    // An init container without limits violates the `all`.
    let outcome = policy.check(
        &create(pod(
            json!({"containers": [], "initContainers": [{"name": "i", "image": "x:1"}]}),
        )),
        true,
    );
    assert_eq!(
        outcome.messages,
        vec!["init container without a memory limit"]
    );
    // No spec at all (a raw manifest): nothing fires and nothing errors.
    let outcome = policy.check(&create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}})), true);
    assert!(!outcome.violated);
}

fn quickstart() -> Vec<Artifact> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    let mut sources = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("guardrails"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let texts: Vec<(String, String)> = names
        .iter()
        .map(|p| {
            (
                format!("guardrails/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    for (name, text) in &texts {
        sources.push((name.as_str(), text.as_str()));
    }
    compile(
        &sources,
        &std::fs::read_to_string(dir.join("guardrails.toml")).unwrap(),
    )
}

fn deployment(namespace: &str, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"example.com/team": "shop"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}
    })
}

fn cron_job(containers: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": containers, "restartPolicy": "Never"}}}}}
    })
}

#[test]
fn quickstart_guardrails_decide_as_their_authors_meant() {
    let artifacts = quickstart();
    let pinned = json!([{"name": "app", "image": "registry.example.com/shop:1.2.3"}]);
    let latest = json!([{"name": "app", "image": "registry.example.com/shop:latest"}]);

    let tags = load(&artifacts, "prod", "no-latest-tag");
    assert!(
        !tags
            .check(&create(deployment("shop", pinned.clone())), true)
            .violated
    );
    let outcome = tags.check(&create(deployment("shop", latest.clone())), true);
    assert_eq!(
        outcome.messages,
        vec!["container app uses registry.example.com/shop:latest, which is not pinned (fix: pin the image to a version tag or a digest)"]
    );
    let outcome = tags.check(
        &create(cron_job(json!([{"name": "job", "image": "busybox"}]))),
        true,
    );
    assert!(outcome.violated, "a CronJob's pod template is checked too");
    assert!(
        !tags
            .check(&create(deployment("kube-system", latest.clone())), false)
            .violated,
        "kube-system is excluded"
    );

    let registries = load(&artifacts, "prod", "allowed-registries");
    assert!(
        !registries
            .check(&create(deployment("shop", pinned.clone())), true)
            .violated
    );
    let ghcr = json!([{"name": "app", "image": "ghcr.io/example/shop:1"}]);
    assert!(
        registries
            .check(&create(deployment("shop", ghcr.clone())), true)
            .violated,
        "prod narrows the registries"
    );
    let registries_dev = load(&artifacts, "dev", "allowed-registries");
    assert!(
        !registries_dev
            .check(&create(deployment("shop", ghcr)), true)
            .violated,
        "dev allows ghcr.io/example/"
    );

    let memory = load(&artifacts, "prod", "memory-limits");
    let limited = |amount: &str| json!([{"name": "app", "image": "x:1", "resources": {"limits": {"memory": amount}}}]);
    assert!(
        !memory
            .check(&create(deployment("shop", limited("4Gi"))), true)
            .violated,
        "4Gi is the maximum"
    );
    assert!(
        !memory
            .check(&create(deployment("shop", limited("4096Mi"))), true)
            .violated,
        "4096Mi equals 4Gi"
    );
    let outcome = memory.check(&create(deployment("shop", limited("4097Mi"))), true);
    assert_eq!(
        outcome.messages,
        vec!["container app asks for 4097Mi of memory, above the maximum"]
    );
    let outcome = memory.check(&create(deployment("shop", pinned.clone())), true);
    assert_eq!(
        outcome.messages,
        vec!["container app has no memory limit (fix: set resources.limits.memory)"]
    );

    let ports = load(&artifacts, "prod", "no-host-ports");
    let with_ports = json!([{"name": "app", "image": "x:1", "ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}]}]);
    assert_eq!(
        ports
            .check(&create(deployment("shop", with_ports)), true)
            .messages,
        vec!["container app binds host port 443"]
    );

    let privileged = load(&artifacts, "prod", "no-privileged");
    let priv_containers =
        json!([{"name": "exporter", "image": "x:1", "securityContext": {"privileged": true}}]);
    assert!(
        privileged
            .check(&create(deployment("shop", priv_containers.clone())), true)
            .violated
    );
    let mut exempt = deployment("monitoring", priv_containers);
    exempt["metadata"]["labels"]["app"] = json!("node-exporter");
    assert!(
        !privileged.check(&create(exempt), false).violated,
        "the node-exporter exemption holds until 2027-06-30"
    );
}

#[test]
fn update_rules_read_the_old_object_the_user_and_the_namespace() {
    let artifacts = quickstart();
    let policy = load(&artifacts, "prod", "team-label-immutable");
    let with_team = |team: &str| {
        let mut d = deployment("shop", json!([{"name": "app", "image": "x:1"}]));
        d["metadata"]["labels"]["example.com/team"] = json!(team);
        d
    };
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop", "example.com/team": "shop"}}});
    let update = |old: Value, new: Value, user: &str| AdmissionCase {
        operation: Operation::Update,
        object: Some(new),
        old_object: Some(old),
        namespace_object: Some(namespace.clone()),
        user: UserInfo {
            username: user.into(),
            groups: vec![],
        },
    };
    assert!(
        !policy
            .check(
                &update(with_team("shop"), with_team("shop"), "alice"),
                false
            )
            .violated
    );
    let outcome = policy.check(
        &update(with_team("shop"), with_team("books"), "alice"),
        false,
    );
    assert!(
        outcome
            .messages
            .contains(&"the team label may not change from shop".to_string()),
        "{:?}",
        outcome.messages
    );
    let outcome = policy.check(
        &update(
            with_team("shop"),
            with_team("books"),
            "system:serviceaccount:platform:migrator",
        ),
        false,
    );
    assert!(
        !outcome
            .messages
            .iter()
            .any(|m| m.starts_with("the team label may not change")),
        "the migrator may move teams"
    );
    assert_eq!(
        outcome.verdict,
        guardrailc_testkit::Verdict::Warn,
        "prod only warns for this guardrail"
    );
}

const IMAGE_EXEMPTION: &str = r#"
guardrail no-privileged {
  title "no privileged containers"
  match kinds [Pod]
  deny for c in pod.all_containers
    when c.securityContext.privileged == true
    message "container {c.name} is privileged"
  deny when pod.spec.hostPID == true
    message "host PID"
  exempt {
    namespaces ["tools"]
    images ["registry.example.com/debug:*", "busybox:1.36"]
    reason "debug sidecars are being phased out"
    expires 2027-01-31
  }
}
"#;

#[test]
fn image_exemptions_drop_only_the_violations_of_matching_containers() {
    let artifacts = compile(&[("exempt.guard", IMAGE_EXEMPTION)], "");
    let policy = load(&artifacts, "default", "no-privileged");
    let privileged = |name: &str, image: &str| json!({"name": name, "image": image, "securityContext": {"privileged": true}});
    let make = |namespace: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace}, "spec": {
            "hostPID": true,
            "containers": [privileged("app", "registry.example.com/app:1"), privileged("debug", "registry.example.com/debug:2")],
            "initContainers": [privileged("init", "busybox:1.36")]
        }})
    };
    let outcome = policy.check(&create(make("tools")), true);
    let mut messages = outcome.messages.clone();
    messages.sort();
    assert_eq!(
        messages,
        vec!["container app is privileged", "host PID"],
        "the debug and busybox containers are exempt in tools; the pod-level rule is not a container's"
    );
    let outcome = policy.check(&create(make("shop")), true);
    assert_eq!(
        outcome.messages.len(),
        4,
        "outside tools nothing is exempt: {:?}",
        outcome.messages
    );
}

/// The `.guard` sources of the project in `dir`, named relative to it (snapshots and
/// fixtures hold none).
fn project_sources(dir: &std::path::Path) -> Vec<SourceFile> {
    let mut sources: Vec<SourceFile> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|entry| entry.expect("the project is readable"))
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "guard"))
        .map(|entry| SourceFile {
            name: entry
                .path()
                .strip_prefix(dir)
                .expect("below the project")
                .display()
                .to_string(),
            text: std::fs::read_to_string(entry.path()).expect("a readable source"),
        })
        .collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    sources
}

/// Every namespace-aware guardrail of the library and the examples, on every fixture case
/// of it: Gatekeeper 3.22 and newer (the namespace in the review) and older Gatekeeper (the
/// namespace only among the Namespaces gatekeeper/sync.yaml replicates into data.inventory)
/// give the same outcome.
#[test]
fn gatekeeper_outcomes_do_not_depend_on_where_the_namespace_comes_from() {
    use guardrailc_testkit::compiled::load_compiled;
    use guardrailc_testkit::fixtures::{is_fixture, load_fixture, TESTS_DIR};
    use guardrailc_testkit::NamespaceSource::{Inventory, Review};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = SchemaCatalog(Schema::builtin());
    let mut guardrails_compared = Vec::new();
    let (mut violated, mut allowed) = (0, 0);
    for top in ["library", "examples"] {
        let mut projects: Vec<_> = std::fs::read_dir(root.join(top))
            .expect("the folder exists")
            .map(|entry| entry.expect("a readable folder").path())
            .filter(|path| path.join("guardrails.toml").exists())
            .collect();
        projects.sort();
        for dir in projects {
            let config = std::fs::read_to_string(dir.join("guardrails.toml")).unwrap();
            let output = project::build_text(&project_sources(&dir), &config, test_support::TODAY);
            let errors: Vec<_> = output.diagnostics.iter().filter(|d| d.is_error()).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
            let compiled = load_compiled(output.policies, &output.artifacts).unwrap();
            let Ok(entries) = std::fs::read_dir(dir.join(TESTS_DIR)) else {
                continue;
            };
            let mut fixtures: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            fixtures.sort();
            for path in fixtures.into_iter().filter(|p| p.is_file()) {
                let text = std::fs::read_to_string(&path).unwrap();
                if !is_fixture(&text) {
                    continue;
                }
                let shown = path.display().to_string();
                let fixture = load_fixture(&dir, &path, &shown, &text, &compiled, &catalog)
                    .unwrap_or_else(|e| panic!("{e}"));
                let readers = compiled
                    .iter()
                    .filter(|c| c.policy.id == fixture.guardrail && c.policy.reads.namespace);
                for guardrail in readers {
                    let gatekeeper = guardrail.gatekeeper.as_ref().expect("gatekeeper is built");
                    let env = &guardrail.policy.env;
                    for case in &fixture.cases {
                        if !case.envs.is_empty() && !case.envs.contains(env) {
                            continue;
                        }
                        let from = |source| {
                            gatekeeper
                                .evaluate_with_namespace_from(&case.case, &catalog, source)
                                .unwrap()
                        };
                        let (current, older) = (from(Review), from(Inventory));
                        assert_eq!(
                            current, older,
                            "{shown}:{} `{}` in {env}: 3.22 and older Gatekeeper differ",
                            case.line, case.name
                        );
                        if case.case.namespace_object.is_some() {
                            if current.violated {
                                violated += 1;
                            } else {
                                allowed += 1;
                            }
                        }
                    }
                    guardrails_compared.push(format!("{}/{}", env, guardrail.policy.id));
                }
            }
        }
    }
    guardrails_compared.sort();
    guardrails_compared.dedup();
    // The multi-tenancy library's two namespace-aware guardrails and the quickstart's one,
    // in each of its three environments.
    assert_eq!(
        guardrails_compared,
        [
            "default/loadbalancer-namespaces",
            "default/workload-tenant-label",
            "dev/team-label-immutable",
            "prod/team-label-immutable",
            "staging/team-label-immutable",
        ]
    );
    // Both readings are exercised on violations and on allowed requests.
    assert!(
        violated >= 10 && allowed >= 10,
        "{violated} violated, {allowed} allowed"
    );
}
