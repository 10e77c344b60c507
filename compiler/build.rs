//! Embeds the standard library (`../library`) in the compiler: writes `library_files.rs`, a
//! table of every file under it (guardrail sources, guardrails.toml, fixtures, snapshots) as
//! `include_str!`, so `guardrailc_compiler::library` serves it without touching the disk.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../library");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if root.is_dir() {
        collect(&root, &root, &mut files);
    }
    files.sort();
    let mut table = String::from("&[\n");
    for (relative, absolute) in &files {
        table.push_str(&format!(
            "    LibraryFile {{ path: {relative:?}, text: include_str!({absolute:?}) }},\n"
        ));
    }
    table.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("library_files.rs"), table).expect("OUT_DIR is writable");
}

/// Every file under `dir` as (path relative to `root` with `/`, absolute path); directories are
/// watched so that a new file rebuilds the table.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).expect("the library folder is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name
            .as_deref()
            .is_some_and(|n| n.starts_with('.') || n == "out")
        {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path
                .strip_prefix(root)
                .expect("under the root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let absolute = path
                .canonicalize()
                .expect("an existing file")
                .to_string_lossy()
                .into_owned();
            files.push((relative, absolute));
        }
    }
}
