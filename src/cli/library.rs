//! The standard library embedded at build time (see build.rs): sets such as
//! `pod-security/restricted` or `multi-tenancy`, each a project folder.

use guardrailc_testkit::loader::Library;

include!(concat!(env!("OUT_DIR"), "/library_files.rs"));

/// The embedded library, as the project loader and `guardrailc init` read it.
pub const EMBEDDED: Library = Library::new(FILES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multi_tenancy_set_is_embedded() {
        assert!(
            EMBEDDED.sets().contains(&"multi-tenancy"),
            "{:?}",
            EMBEDDED.sets()
        );
        let files = EMBEDDED.files_of("multi-tenancy");
        assert!(files.iter().any(|(p, _)| *p == "guardrails.toml"));
        assert!(files
            .iter()
            .any(|(p, t)| p.ends_with(".guard") && t.contains("guardrail workload-tenant-label")));
        assert!(EMBEDDED.files_of("no-such-set").is_empty());
    }
}
