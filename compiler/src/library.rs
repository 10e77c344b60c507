//! The standard library (`library/` in the repository), embedded at build time: Pod Security
//! Standards sets, the Gatekeeper library's templates as guardrails, and the other folders.
//! Each folder with a `guardrails.toml` is a project. docs/library.md describes the contents.

/// One file of the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LibraryFile {
    /// Path under `library/`, with `/`: `pod-security/restricted/apparmor.guard`.
    pub path: &'static str,
    pub text: &'static str,
}

static FILES: &[LibraryFile] = include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// Every file of the library, sorted by path.
pub fn files() -> &'static [LibraryFile] {
    FILES
}

/// The library's projects, the folders holding a `guardrails.toml`, sorted:
/// `general`, `pod-security/baseline`, `pod-security/restricted`, `psp` ….
pub fn projects() -> Vec<&'static str> {
    FILES
        .iter()
        .filter_map(|file| file.path.strip_suffix("/guardrails.toml"))
        .collect()
}

/// The files of one project, with paths relative to it (`apparmor.guard`,
/// `tests/apparmor.yaml`), or `None` for a name that is not a project.
pub fn project(name: &str) -> Option<Vec<LibraryFile>> {
    let name = name.trim_matches('/');
    if !projects().contains(&name) {
        return None;
    }
    let prefix = format!("{name}/");
    Some(
        FILES
            .iter()
            .filter_map(|file| {
                let path = file.path.strip_prefix(&prefix)?;
                // A nested project's files belong to it, not to its parent.
                let nested = projects()
                    .iter()
                    .any(|p| p.len() > name.len() && file.path.starts_with(&format!("{p}/")));
                (!nested).then_some(LibraryFile {
                    path,
                    text: file.text,
                })
            })
            .collect(),
    )
}

/// The `.guard` sources of a project, paths relative to it: what a build of
/// `@library/<name>` compiles.
pub fn project_sources(name: &str) -> Option<Vec<LibraryFile>> {
    Some(
        project(name)?
            .into_iter()
            .filter(|file| file.path.ends_with(".guard"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pod_security_sets_are_projects_with_their_sources() {
        let projects = projects();
        for name in [
            "general",
            "pod-security/baseline",
            "pod-security/restricted",
            "psp",
        ] {
            assert!(projects.contains(&name), "{name} in {projects:?}");
        }
        let restricted = project_sources("pod-security/restricted").expect("a project");
        assert!(restricted
            .iter()
            .any(|f| f.path == "restricted-seccomp.guard"));
        assert!(restricted
            .iter()
            .all(|f| f.text.contains("guardrail ") && !f.path.contains('/')));
        assert_eq!(
            project("pod-security"),
            None,
            "a folder of projects is not one"
        );
        let baseline = project("pod-security/baseline/").expect("trailing slash is fine");
        assert!(baseline.iter().any(|f| f.path == "guardrails.toml"));
        assert!(baseline.iter().any(|f| f.path == "tests/apparmor.yaml"));
    }
}
