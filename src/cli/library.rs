//! The standard library embedded at build time (see build.rs): sets such as
//! `pod-security/restricted` or `multi-tenancy`, each a project folder.

include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// The files of one set (or of every set under a folder), with paths relative to it.
pub fn files_of(set: &str) -> Vec<(&'static str, &'static str)> {
    let set = set.trim_matches('/');
    let prefix = format!("{set}/");
    FILES
        .iter()
        .filter_map(|(path, text)| path.strip_prefix(&prefix).map(|rest| (rest, *text)))
        .collect()
}

/// The sets: folders holding a guardrails.toml.
pub fn sets() -> Vec<&'static str> {
    let mut sets: Vec<&str> = FILES
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/guardrails.toml"))
        .collect();
    sets.sort();
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multi_tenancy_set_is_embedded() {
        assert!(sets().contains(&"multi-tenancy"), "{:?}", sets());
        let files = files_of("multi-tenancy");
        assert!(files.iter().any(|(p, _)| *p == "guardrails.toml"));
        assert!(files
            .iter()
            .any(|(p, t)| p.ends_with(".guard") && t.contains("guardrail workload-tenant-label")));
        assert!(files_of("no-such-set").is_empty());
    }
}
