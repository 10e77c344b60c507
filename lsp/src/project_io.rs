//! The language server's disk IO: finding the project folder, reading its files into the
//! workspace (the `.guard` files the shared loader finds, through the same [`DiskFiles`]
//! `guardrailc build` reads), re-reading a file the client says changed, and the fixture
//! files under `tests/`. Paths and texts only: no LSP types.

use guardrailc_testkit::files::{
    inside_project, read_regular, MAX_CONFIG_BYTES, MAX_FIXTURE_BYTES, MAX_SOURCE_BYTES,
};
use guardrailc_testkit::fixtures::{is_fixture, TESTS_DIR};
use guardrailc_testkit::loader::{DiskFiles, FileKind, ProjectConfig, ProjectFiles, CONFIG_FILE};
use std::path::{Path, PathBuf};

/// The nearest folder at or above `start` holding guardrails.toml.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// The path of guardrails.toml of the project at `root`.
pub fn config_path(root: &Path) -> PathBuf {
    root.join(CONFIG_FILE)
}

/// guardrails.toml of the project at `root`, when there is a readable one.
pub fn read_config(root: &Path) -> Option<String> {
    DiskFiles::new(root)
        .read(CONFIG_FILE, FileKind::Config)
        .ok()
        .flatten()
}

/// The `.guard` files of the project at `root` with their text: those the loader considers
/// (outside the folders it skips), as `guardrailc build` finds them. A file that cannot be
/// read as a source (a link leading out of the project, a FIFO, too large) is left out; the
/// build reports it.
pub fn guard_files(root: &Path, config: &ProjectConfig) -> Vec<(PathBuf, String)> {
    let disk = DiskFiles::new(root);
    let Ok(paths) = config.guard_files(&disk) else {
        return Vec::new();
    };
    paths
        .into_iter()
        .filter_map(|path| {
            let text = disk.read(&path, FileKind::Source).ok().flatten()?;
            Some((root.join(path), text))
        })
        .collect()
}

/// The text of a project file the client says changed on disk: a regular file of bounded
/// size (by its kind); `None` when it is gone or cannot be read.
pub fn read_changed(path: &Path) -> Option<String> {
    let limit = match path.extension().and_then(|e| e.to_str()) {
        Some("guard") => MAX_SOURCE_BYTES,
        Some("toml") => MAX_CONFIG_BYTES,
        _ => MAX_FIXTURE_BYTES,
    };
    read_regular(path, &path.display().to_string(), limit, "project files").ok()
}

/// Reads the schema files guardrails.toml names, relative to the project folder.
pub fn schema_reader(root: &Path) -> impl Fn(&str) -> Result<String, String> {
    let disk = DiskFiles::new(root);
    move |path: &str| match disk.read(path, FileKind::Schema)? {
        Some(text) => Ok(text),
        None => Err(format!("cannot read `{path}`: no such file")),
    }
}

/// The fixture files under `<root>/tests/` (YAML files with a top-level `guardrail:` key)
/// with their text, as `guardrailc test` finds them.
pub fn fixture_files_under(root: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root.join(TESTS_DIR)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(path);
            } else if is_yaml(&path) && readable_inside(root, &path) {
                // Regular files only (a FIFO would block) and of a bounded size.
                if let Ok(text) = read_regular(&path, "", MAX_FIXTURE_BYTES, "fixture files") {
                    if is_fixture(&text) {
                        found.push((path, text));
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// Whether `path` is a regular file inside `root` once symbolic links are resolved.
fn readable_inside(root: &Path, path: &Path) -> bool {
    inside_project(root, path, "").is_ok_and(|resolved| resolved.is_file())
}

/// Whether `path` is where `guardrailc test` of the project at `root` looks for fixtures:
/// a YAML file under `<root>/tests/`.
pub fn in_tests_folder(root: &Path, path: &Path) -> bool {
    path.starts_with(root.join(TESTS_DIR)) && is_yaml(path)
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}
