//! Reading the files a project names, carefully: only regular files (a FIFO would block, a
//! device such as `/dev/zero` never ends), at most a documented size per kind of file, and,
//! for paths written in the project's own files (a fixture's `file:`, a CRD's `schema`),
//! only inside the project folder once symbolic links are resolved. docs/security.md lists
//! the limits.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest `.guard` source file.
pub const MAX_SOURCE_BYTES: u64 = 8 << 20;
/// The largest guardrails.toml.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The largest fixture file, and the largest file a case refers to with `file:`.
pub const MAX_FIXTURE_BYTES: u64 = 16 << 20;
/// The largest CRD schema file (a whole CRD manifest may hold many versions).
pub const MAX_SCHEMA_BYTES: u64 = 32 << 20;

/// The text of the regular file at `path` (named `shown` in errors), refused when it is
/// something else (a directory, a FIFO, a device), larger than `limit` bytes, or not UTF-8.
/// `what` names the kind of file in the size error ("fixture files").
pub fn read_regular(path: &Path, shown: &str, limit: u64, what: &str) -> Result<String, String> {
    // Before opening: opening a FIFO waits for a writer.
    let kind = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?
        .file_type();
    if !kind.is_file() {
        return Err(format!(
            "`{shown}` is {}, not a regular file",
            describe_type(&kind)
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "`{shown}` is larger than {}, the limit for {what}",
            size(limit)
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("`{shown}` is not UTF-8 text"))
}

/// `path` resolved (symbolic links and `..` included) when it lies inside the folder
/// `root`; else an error naming both. `written` is the path as the user wrote it.
pub fn inside_project(root: &Path, path: &Path, written: &str) -> Result<PathBuf, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot read the project folder `{}`: {e}", root.display()))?;
    let resolved = path
        .canonicalize()
        .map_err(|e| format!("cannot read `{written}`: {e}"))?;
    if !resolved.starts_with(&root) {
        return Err(format!(
            "`{written}` is outside the project folder (it resolves to `{}`)\nhelp: a project reads only files inside its folder `{}`; copy the file there",
            resolved.display(),
            root.display()
        ));
    }
    Ok(resolved)
}

/// The text of the file at `path`, which must be a regular file inside `root` and at most
/// `limit` bytes (see [`read_regular`] and [`inside_project`]).
pub fn read_in_project(
    root: &Path,
    path: &Path,
    written: &str,
    limit: u64,
    what: &str,
) -> Result<String, String> {
    let resolved = inside_project(root, path, written)?;
    read_regular(&resolved, written, limit, what)
}

fn describe_type(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// `16 MiB`.
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes & ((1 << 20) - 1) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_outside_the_folder_larger_than_the_limit_or_not_regular_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("ok.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        let read = |written: &str, limit| {
            read_in_project(&root, &root.join(written), written, limit, "test files")
        };
        assert_eq!(read("ok.yaml", 100).unwrap(), "a: 1\n");
        let outside = read("../secret", 100).unwrap_err();
        assert!(
            outside.contains("`../secret` is outside the project"),
            "{outside}"
        );
        let large = read("ok.yaml", 4).unwrap_err();
        assert_eq!(
            large,
            "`ok.yaml` is larger than 4 bytes, the limit for test files"
        );
        let folder = read(".", 100).unwrap_err();
        assert!(
            folder.contains("is a directory, not a regular file"),
            "{folder}"
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
            assert!(read("link", 100)
                .unwrap_err()
                .contains("outside the project"));
            let device = read_regular(Path::new("/dev/zero"), "/dev/zero", 100, "x").unwrap_err();
            assert_eq!(device, "`/dev/zero` is a device, not a regular file");
        }
    }
}
