//! Embeds the standard library (`library/`) in the binary: every `.guard`, `guardrails.toml`,
//! fixture and README file, so `@library/...` sources and `guardrailc init --from` work
//! without the repository at hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let library = root.join("library");
    println!("cargo:rerun-if-changed=library");
    let mut files = Vec::new();
    collect(&library, &library, &mut files);
    files.sort();
    let mut out = String::from("/// Every embedded library file: (path relative to library/, contents).\npub static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        writeln!(
            out,
            "    ({relative:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .expect("writing to a string cannot fail");
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("library_files.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // Build output and golden files are not part of a library set's sources.
            if name != "out" && name != "snapshots" && !name.starts_with('.') {
                println!("cargo:rerun-if-changed={}", path.display());
                collect(base, &path, out);
            }
        } else if name.ends_with(".guard")
            || name.ends_with(".toml")
            || name.ends_with(".yaml")
            || name.ends_with(".md")
        {
            let relative = path
                .strip_prefix(base)
                .expect("under the library")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, path));
        }
    }
}
