//! `shared_data::shared_dir`: the one way tests find the data beside the repository. A test
//! binary of its own, because it changes the process environment.

use guardrailc_testkit::shared_data::{shared_dir, SHARED_DIR_VARIABLE};
use std::path::Path;

#[test]
fn the_shared_folder_is_beside_the_repository_unless_the_variable_names_one() {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    std::env::remove_var(SHARED_DIR_VARIABLE);
    assert_eq!(
        shared_dir().is_some(),
        beside.is_dir(),
        "without {SHARED_DIR_VARIABLE}, ../shared beside the repository"
    );

    let elsewhere = tempfile::tempdir().expect("a temporary folder");
    std::env::set_var(SHARED_DIR_VARIABLE, elsewhere.path());
    assert_eq!(shared_dir().as_deref(), Some(elsewhere.path()));

    std::env::set_var(SHARED_DIR_VARIABLE, elsewhere.path().join("missing"));
    assert_eq!(
        shared_dir(),
        None,
        "a folder that does not exist is no shared data"
    );

    // An empty value counts as unset.
    std::env::set_var(SHARED_DIR_VARIABLE, "");
    assert_eq!(shared_dir().is_some(), beside.is_dir());
    std::env::remove_var(SHARED_DIR_VARIABLE);
}
