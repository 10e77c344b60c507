//! Random workloads through every guardrail of the library's pod-security, general and psp
//! projects, in every environment: the targets must agree and CEL must raise no error. This
//! stands in for `guardrailc test --fuzz` until property mode exists (docs/testing.md).
//!
//! Objects are schema-valid, as the API server would pass them: a restricted or a bare pod
//! with random security-relevant settings, as a Pod, a Deployment or a CronJob.

use guardrailc_testkit::test_support as engines;

use guardrailc_compiler::schema::Schema;
use guardrailc_testkit::SchemaCatalog;
use serde_json::{json, Value};
use std::path::Path;

/// Random objects per guardrail and environment; `LIBRARY_PROPERTY_OBJECTS` overrides it (the
/// library passed with 1000 on the development machine, in about two minutes of debug build).
const OBJECTS: usize = 300;

fn objects() -> usize {
    std::env::var("LIBRARY_PROPERTY_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(OBJECTS)
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const CAPABILITIES: &[&str] = &[
    "ALL",
    "NET_BIND_SERVICE",
    "CHOWN",
    "NET_RAW",
    "SYS_ADMIN",
    "all",
    "CAP_CHOWN",
];
const IMAGES: &[&str] = &[
    "registry.example.com/shop:1.4.2",
    "nginx",
    "nginx:latest",
    "registry.example.com:5000/app",
    "registry.example.com/tools/kubectl:1.31",
    "safeimages.com/nginx",
    "registry.example.com/shop@sha256:4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f",
];
const PROFILE_TYPES: &[&str] = &["RuntimeDefault", "Localhost", "Unconfined"];
const ANNOTATION_VALUES: &[&str] = &[
    "runtime/default",
    "localhost/k8s-web",
    "unconfined",
    "",
    "docker/default",
];
const SELINUX: &[&str] = &["container_t", "spc_t", "container_init_t", ""];
const SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.tcp_syncookies",
    "kernel.msgmax",
    "net.core.somaxconn",
];
const QUANTITIES: &[&str] = &["100m", "2", "4", "512Mi", "1Gi", "8Gi", "0"];
const IDS: &[i64] = &[0, 1, 1000, 1500, 65534];

fn profile(rng: &mut Rng) -> Value {
    let kind = *rng.pick(PROFILE_TYPES);
    if kind == "Localhost" && rng.chance(80) {
        json!({"type": kind, "localhostProfile": *rng.pick(&["k8s-web", "profile.json", "profile.log"])})
    } else {
        json!({"type": kind})
    }
}

fn security_context(rng: &mut Rng, restricted: bool) -> Value {
    let mut sc = if restricted {
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
    } else {
        json!({})
    };
    for _ in 0..rng.below(4) {
        match rng.below(12) {
            0 => sc["privileged"] = json!(rng.chance(50)),
            1 => sc["allowPrivilegeEscalation"] = json!(rng.chance(50)),
            2 => {
                let add: Vec<&str> = (0..rng.below(3)).map(|_| *rng.pick(CAPABILITIES)).collect();
                sc["capabilities"]["add"] = json!(add);
            }
            3 => {
                let drop: Vec<&str> = (0..rng.below(3)).map(|_| *rng.pick(CAPABILITIES)).collect();
                sc["capabilities"]["drop"] = json!(drop);
            }
            4 => sc["runAsNonRoot"] = json!(rng.chance(50)),
            5 => sc["runAsUser"] = json!(*rng.pick(IDS)),
            6 => sc["seccompProfile"] = profile(rng),
            7 => sc["appArmorProfile"] = profile(rng),
            8 => sc["seLinuxOptions"] = json!({"type": *rng.pick(SELINUX), "level": "s0:c1"}),
            9 => sc["procMount"] = json!(*rng.pick(&["Default", "Unmasked"])),
            10 => sc["readOnlyRootFilesystem"] = json!(rng.chance(50)),
            _ => sc["windowsOptions"] = json!({"hostProcess": rng.chance(30)}),
        }
    }
    sc
}

fn container(rng: &mut Rng, name: &str, restricted: bool) -> Value {
    let mut c = json!({"name": name, "image": *rng.pick(IMAGES), "securityContext": security_context(rng, restricted)});
    if rng.chance(30) {
        c["ports"] = json!([{"containerPort": 8080, "hostPort": *rng.pick(&[80, 8080, 9001])}]);
    }
    if rng.chance(30) {
        let mut probe = json!({"httpGet": {"port": 8080}});
        if rng.chance(40) {
            probe["httpGet"]["host"] = json!("10.0.0.1");
        }
        c[*rng.pick(&["livenessProbe", "readinessProbe", "startupProbe"])] = probe.clone();
        if rng.chance(50) {
            c["livenessProbe"] = json!({"tcpSocket": {"port": 8080}});
            c["readinessProbe"] = probe;
        }
    }
    if rng.chance(40) {
        c["resources"] = json!({
            "limits": {"cpu": *rng.pick(QUANTITIES), "memory": *rng.pick(QUANTITIES)},
            "requests": {"cpu": *rng.pick(QUANTITIES), "memory": *rng.pick(QUANTITIES)}
        });
    }
    if rng.chance(20) {
        c["volumeMounts"] =
            json!([{"name": "v0", "mountPath": "/data", "readOnly": rng.chance(50)}]);
    }
    c
}

fn volume(rng: &mut Rng, index: usize) -> Value {
    let name = format!("v{index}");
    match rng.below(6) {
        0 => json!({"name": name, "emptyDir": {}}),
        1 => {
            json!({"name": name, "hostPath": {"path": *rng.pick(&["/var/log", "/var/logs/x", "/", "/foo/bar"])}})
        }
        2 => json!({"name": name, "configMap": {"name": "c"}}),
        3 => json!({"name": name, "nfs": {"server": "nfs", "path": "/x"}}),
        4 => json!({"name": name, "projected": {"sources": []}}),
        _ => json!({"name": name}),
    }
}

fn pod(rng: &mut Rng) -> Value {
    let restricted = rng.chance(50);
    let mut spec = json!({"containers": [container(rng, "app", restricted)]});
    if restricted {
        spec["securityContext"] =
            json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    }
    if rng.chance(40) {
        spec["initContainers"] = json!([container(rng, "init", restricted)]);
    }
    if rng.chance(15) {
        spec["ephemeralContainers"] = json!([{"name": "debug", "image": *rng.pick(IMAGES), "securityContext": security_context(rng, restricted)}]);
    }
    for _ in 0..rng.below(4) {
        match rng.below(10) {
            0 => spec[*rng.pick(&["hostNetwork", "hostPID", "hostIPC"])] = json!(rng.chance(60)),
            1 => spec["hostUsers"] = json!(rng.chance(50)),
            2 => spec["os"] = json!({"name": *rng.pick(&["linux", "windows"])}),
            3 => spec["securityContext"]["seccompProfile"] = profile(rng),
            4 => spec["securityContext"]["appArmorProfile"] = profile(rng),
            5 => {
                spec["securityContext"]["sysctls"] =
                    json!([{"name": *rng.pick(SYSCTLS), "value": "1"}])
            }
            6 => spec["securityContext"]["fsGroup"] = json!(*rng.pick(IDS)),
            7 => spec["securityContext"]["supplementalGroups"] = json!([*rng.pick(IDS)]),
            8 => {
                spec["securityContext"]["seLinuxOptions"] =
                    json!({"type": *rng.pick(SELINUX), "user": *rng.pick(&["", "system_u"])})
            }
            _ => {
                let volumes: Vec<Value> = (0..1 + rng.below(2)).map(|i| volume(rng, i)).collect();
                spec["volumes"] = json!(volumes);
            }
        }
    }
    let mut annotations = serde_json::Map::new();
    for _ in 0..rng.below(3) {
        let key = match rng.below(4) {
            0 => "container.apparmor.security.beta.kubernetes.io/app".to_string(),
            1 => "container.apparmor.security.beta.kubernetes.io/init".to_string(),
            2 => "container.seccomp.security.alpha.kubernetes.io/app".to_string(),
            _ => "seccomp.security.alpha.kubernetes.io/pod".to_string(),
        };
        annotations.insert(key, json!(*rng.pick(ANNOTATION_VALUES)));
    }
    let mut labels = json!({"app": "web"});
    if rng.chance(50) {
        labels["owner"] = json!(*rng.pick(&["alice.example.com", "Alice"]));
    }
    let metadata = json!({"labels": labels, "annotations": annotations});
    match rng.below(5) {
        0 => json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": *rng.pick(&[1, 3, 50]), "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": metadata, "spec": spec}}
        }),
        1 => {
            spec["restartPolicy"] = json!("Never");
            json!({
                "apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"metadata": metadata, "spec": spec}}}}
            })
        }
        _ => {
            let mut metadata = metadata;
            metadata["name"] = json!("web");
            metadata["namespace"] = json!("shop");
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
        }
    }
}

/// A Service, an Ingress, a ClusterRoleBinding or a Namespace, for the guardrails that
/// match those kinds.
fn other_object(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => {
            let mut spec = json!({"type": *rng.pick(&["ClusterIP", "NodePort", "LoadBalancer"]), "ports": [{"port": 80}]});
            if rng.chance(50) {
                spec["externalIPs"] = json!([*rng.pick(&["203.0.113.10", "198.51.100.7"])]);
            }
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": spec})
        }
        1 => {
            let mut ingress = json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"rules": [{"host": "shop.example.com"}]}
            });
            if rng.chance(50) {
                ingress["metadata"]["annotations"] =
                    json!({"kubernetes.io/ingress.allow-http": *rng.pick(&["false", "true"])});
            }
            if rng.chance(50) {
                ingress["spec"]["tls"] = json!([{"hosts": ["shop.example.com"]}]);
            }
            ingress
        }
        2 => {
            let subjects: Vec<Value> = (0..1 + rng.below(2))
                .map(|_| json!({"kind": "Group", "name": *rng.pick(&["system:anonymous", "system:unauthenticated", "system:authenticated", "developers"])}))
                .collect();
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "b"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": *rng.pick(&["view", "public-info-viewer"])},
                "subjects": subjects
            })
        }
        _ => {
            let mut namespace =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
            if rng.chance(60) {
                namespace["metadata"]["labels"] =
                    json!({"owner": *rng.pick(&["alice.example.com", "Alice"])});
            }
            namespace
        }
    }
}

/// Guardrails that one verdict is all they can give in an environment: their defaults allow
/// everything (or nothing) until params configure them.
const ONE_SIDED: &[&str] = &[
    "general default allowed-repos",
    "general default container-resources",
    "general default replica-limits",
    "general default required-labels",
    "psp default psp-forbidden-sysctls",
    "psp default psp-users",
];

fn project(folder: &str) -> Vec<(String, engines::Compiled)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("library")
        .join(folder);
    let config = std::fs::read_to_string(dir.join("guardrails.toml")).unwrap();
    let mut sources: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "guard"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    sources.sort();
    let artifacts = engines::build(&sources, &config).unwrap_or_else(|e| panic!("{folder}: {e}"));
    let mut envs: Vec<String> = artifacts
        .iter()
        .filter_map(|a| a.path.split('/').next().map(str::to_string))
        .collect();
    envs.sort();
    envs.dedup();
    let mut compiled = Vec::new();
    for env in envs {
        for id in engines::guardrail_ids(&artifacts, &env) {
            compiled.push((
                format!("{folder} {env}"),
                engines::load(&artifacts, &env, &id).unwrap(),
            ));
        }
    }
    compiled
}

#[test]
fn random_workloads_agree_on_every_target_without_cel_errors() {
    let policies: Vec<(String, engines::Compiled)> = [
        "pod-security/baseline",
        "pod-security/restricted",
        "general",
        "psp",
    ]
    .iter()
    .flat_map(|folder| project(folder))
    .collect();
    let catalog = SchemaCatalog(Schema::builtin());
    let workers = 2;
    let total = objects();
    // Per policy: whether some object was denied and some allowed.
    let seen: Vec<std::sync::Mutex<(bool, bool)>> = policies
        .iter()
        .map(|_| std::sync::Mutex::new((false, false)))
        .collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let policies = &policies;
                let catalog = &catalog;
                let seen = &seen;
                scope.spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (worker as u64 + 1));
                    let mut failures = Vec::new();
                    for n in (worker..total).step_by(workers) {
                        let object = if rng.chance(80) {
                            pod(&mut rng)
                        } else {
                            other_object(&mut rng)
                        };
                        let case = engines::create(object.clone());
                        for ((where_, policy), seen) in policies.iter().zip(seen) {
                            let with_opa = policy
                                .vap
                                .evaluate_in_scope(&case, catalog)
                                .map(|(_, in_scope)| in_scope)
                                .unwrap_or(false);
                            let result = policy.evaluate(&case, with_opa).and_then(|verdicts| {
                                verdicts.agreement()?;
                                Ok(verdicts.vap.violated)
                            });
                            match result {
                                Ok(violated) if with_opa => {
                                    let mut seen =
                                        seen.lock().expect("no worker panics holding it");
                                    if violated {
                                        seen.0 = true
                                    } else {
                                        seen.1 = true
                                    }
                                }
                                Ok(_) => {}
                                Err(problem) => {
                                    failures.push(format!(
                                        "object {n} ({where_} {}): {problem}\n{object}",
                                        policy.id
                                    ));
                                }
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker finishes"))
            .collect()
    });
    // The objects must exercise both verdicts of every guardrail they are in scope of, or the
    // agreement above would prove little.
    let one_sided: Vec<String> = policies
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| {
            let (denied, allowed) = *seen.lock().expect("workers are done");
            denied != allowed || !denied
        })
        .map(|((where_, policy), _)| format!("{where_} {}", policy.id))
        .filter(|name| !ONE_SIDED.contains(&name.as_str()))
        .collect();
    assert!(
        one_sided.is_empty(),
        "the random objects never gave these guardrails both verdicts: {one_sided:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures, the first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
