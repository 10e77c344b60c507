//! The embedded library is exactly the `library/` folder: no file missing, none stale.

use std::path::Path;

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "out" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let relative: Vec<String> = path
                .strip_prefix(root)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(relative.join("/"));
        }
    }
}

#[test]
fn embedded_files_equal_the_library_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../library");
    let mut on_disk = Vec::new();
    walk(&root, &root, &mut on_disk);
    on_disk.sort();
    let embedded: Vec<&str> = guardrailc_compiler::library::files()
        .iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(embedded, on_disk);
    for file in guardrailc_compiler::library::files() {
        let text = std::fs::read_to_string(root.join(file.path)).unwrap();
        assert_eq!(
            file.text, text,
            "{} differs from the embedded copy",
            file.path
        );
    }
}
