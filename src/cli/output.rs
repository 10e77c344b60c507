//! Writing build output safely.
//!
//! The new output is assembled in full in a staging directory beside `out` and swapped in with
//! one rename, so `out` holds either the whole previous output or the whole new one, never a
//! mix; the staging directory is removed on every path out of [`write`]. Entries guardrailc did
//! not write are carried into the new output as hard links (the same files, untouched).
//! guardrailc's own files are known from the manifest, which records a hash of each: only a
//! file listed there under a plain relative path, and still holding what was written, is
//! replaced or removed. The rules are in docs/security.md, "What guardrailc writes".

use crate::cli::CliError;
use guardrailc_compiler::emit::Artifact;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::Permissions;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

/// Lists, in the output directory, the files the last build wrote and a hash of each. Only
/// those may be replaced or removed by the next build.
pub const MANIFEST: &str = ".guardrailc-manifest";

/// The first line of every manifest.
const MANIFEST_HEADER: &str =
    "# Written by guardrailc: the files of its last build here, as HASH PATH. Do not edit.";

/// The most a manifest may hold; a bigger one is not ours and is ignored.
const MANIFEST_LIMIT: u64 = 64 << 20;

/// Writes `artifacts` under `out`, replacing the previous build's files. Refuses, before
/// writing anything, an `out` that exists and is not a directory (a file, a symlink, a FIFO, a
/// device), a read-only `out`, and artifacts that would replace a file guardrailc did not write.
/// Warnings (a manifest entry ignored, a file of ours edited since) go to standard error.
pub fn write(out: &Path, artifacts: &[Artifact], edits: Edits) -> Result<(), CliError> {
    for artifact in artifacts {
        if !is_plain_relative(&artifact.path) || artifact.path == MANIFEST {
            return Err(CliError::Internal(format!(
                "an emitted file has the path `{}`, which is not a plain relative path",
                artifact.path.escape_debug()
            )));
        }
    }
    let place = Place::resolve(out)?;
    let previous = match &place.existing {
        Some(_) => Some(Previous::read(&place.path, edits)?),
        None => None,
    };
    if let Some(previous) = &previous {
        check_conflicts(out, previous, artifacts)?;
    }

    let staging = Staging::create(&place)?;
    let io = |what: &str, path: &Path, e: std::io::Error| {
        CliError::User(format!("cannot {what} `{}`: {e}", path.display()))
    };
    let mut manifest = format!("{MANIFEST_HEADER}\n");
    for artifact in artifacts {
        // Errors name the file in `out`, where the user will look for it.
        let shown = out.join(&artifact.path);
        let path = staging.path.join(&artifact.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| io("create", shown.parent().unwrap_or(out), e))?;
        }
        std::fs::write(&path, &artifact.contents).map_err(|e| io("write", &shown, e))?;
        manifest.push_str(&format!(
            "{:016x} {}\n",
            content_hash(artifact.contents.as_bytes()),
            artifact.path
        ));
    }
    std::fs::write(staging.path.join(MANIFEST), &manifest)
        .map_err(|e| io("write", &out.join(MANIFEST), e))?;
    if let Some(previous) = &previous {
        previous.carry_over(&place.path, &staging.path, out)?;
    }
    if let Some(permissions) = &place.existing {
        std::fs::set_permissions(&staging.path, permissions.clone())
            .map_err(|e| io("set the permissions of", &staging.path, e))?;
    }
    staging.swap_into(&place, out)
}

/// Where the output goes: `out` made absolute, with its parent (where the staging directory is
/// made) and its permissions when it already exists.
struct Place {
    path: PathBuf,
    parent: PathBuf,
    name: String,
    existing: Option<Permissions>,
}

impl Place {
    fn resolve(out: &Path) -> Result<Place, CliError> {
        // Without a trailing `/` or `/.`, which would make the system follow a final symlink.
        let normalised: PathBuf = out.components().collect();
        let out = normalised.as_path();
        let existing = match std::fs::symlink_metadata(out) {
            Ok(meta) if meta.file_type().is_dir() => {
                if meta.permissions().readonly() {
                    return Err(CliError::User(format!(
                        "the output directory `{}` is read-only; make it writable or choose another --out",
                        out.display()
                    )));
                }
                Some(meta.permissions())
            }
            Ok(meta) => {
                return Err(CliError::User(format!(
                    "`{}` exists and is {}, not a directory; guardrailc writes only into a directory or a path that does not exist yet: choose another --out",
                    out.display(),
                    describe(&meta.file_type())
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(CliError::User(format!(
                    "cannot inspect `{}`: {e}",
                    out.display()
                )))
            }
        };
        let cannot =
            |e: std::io::Error| CliError::User(format!("cannot resolve `{}`: {e}", out.display()));
        let path = match existing {
            // Not a symlink (checked above), so this only resolves `.`, `..` and the parents.
            Some(_) => std::fs::canonicalize(out).map_err(cannot)?,
            None => {
                let name = out.file_name().ok_or_else(|| {
                    CliError::User(format!(
                        "`{}` does not name a directory to create; choose another --out",
                        out.display()
                    ))
                })?;
                let parent = out
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                std::fs::create_dir_all(parent).map_err(|e| {
                    CliError::User(format!("cannot create `{}`: {e}", parent.display()))
                })?;
                std::fs::canonicalize(parent).map_err(cannot)?.join(name)
            }
        };
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(CliError::User(format!(
                "`{}` cannot be replaced; choose a directory below it as --out",
                out.display()
            )));
        };
        Ok(Place {
            parent: parent.to_path_buf(),
            name: name.to_string_lossy().into_owned(),
            path: path.clone(),
            existing,
        })
    }
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a file"
    } else {
        "not a directory"
    }
}

/// What a file the manifest lists but whose content changed since is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edits {
    /// Someone else's now: kept, and a build that would replace it stops (`build`'s output).
    Kept,
    /// Still ours: replaced (`test --update`, whose golden files exist to be rewritten, an
    /// edited one included).
    Replaced,
}

/// One entry under an existing `out` (symlinks not followed).
enum Entry {
    Dir(Permissions),
    /// A regular file the manifest lists whose content still has the recorded hash.
    Ours,
    /// Anything else: kept as it is. `edited` when the manifest lists it but it changed.
    Foreign {
        edited: bool,
    },
}

/// What an existing `out` holds, by path relative to it.
struct Previous {
    entries: BTreeMap<PathBuf, Entry>,
}

impl Previous {
    fn read(out: &Path, edits: Edits) -> Result<Previous, CliError> {
        let listed = read_manifest(out);
        let mut entries = BTreeMap::new();
        for entry in walkdir::WalkDir::new(out).min_depth(1) {
            let entry = entry
                .map_err(|e| CliError::User(format!("cannot list `{}`: {e}", out.display())))?;
            let relative = entry
                .path()
                .strip_prefix(out)
                .unwrap_or(entry.path())
                .to_path_buf();
            let file_type = entry.file_type();
            if relative == Path::new(MANIFEST) {
                if file_type.is_file() {
                    continue;
                }
                return Err(CliError::User(format!(
                    "`{}` is not a regular file; guardrailc keeps its manifest there: move it away",
                    entry.path().display()
                )));
            }
            let kind = if file_type.is_dir() {
                let meta = entry.metadata().map_err(|e| {
                    CliError::User(format!("cannot inspect `{}`: {e}", entry.path().display()))
                })?;
                Entry::Dir(meta.permissions())
            } else {
                match relative.to_str().and_then(|p| listed.get(p)) {
                    None => Entry::Foreign { edited: false },
                    Some(recorded) => {
                        let unchanged = file_type.is_file()
                            && (edits == Edits::Replaced
                                || match recorded {
                                    // A manifest from before hashes were recorded.
                                    None => true,
                                    Some(hash) => std::fs::read(entry.path())
                                        .is_ok_and(|bytes| content_hash(&bytes) == *hash),
                                });
                        if unchanged {
                            Entry::Ours
                        } else {
                            eprintln!(
                                "warning: `{}` changed since guardrailc wrote it; it is left as it is",
                                entry.path().display()
                            );
                            Entry::Foreign { edited: true }
                        }
                    }
                }
            };
            entries.insert(relative, kind);
        }
        Ok(Previous { entries })
    }

    /// Links every entry that is not ours into `staging`, and recreates the directories that
    /// hold such entries or are empty, with their permissions. Directories that held only our
    /// files are not carried over: their files are gone or rewritten.
    fn carry_over(&self, out: &Path, staging: &Path, shown: &Path) -> Result<(), CliError> {
        let mut kept_dirs: BTreeSet<&Path> = BTreeSet::new();
        let mut non_empty: BTreeSet<&Path> = BTreeSet::new();
        for (path, entry) in &self.entries {
            non_empty.extend(path.parent());
            if let Entry::Foreign { .. } = entry {
                kept_dirs.extend(path.ancestors().skip(1));
            }
        }
        for (path, entry) in &self.entries {
            let target = staging.join(path);
            match entry {
                Entry::Dir(_)
                    if kept_dirs.contains(path.as_path())
                        || !non_empty.contains(path.as_path()) =>
                {
                    std::fs::create_dir_all(&target).map_err(|e| {
                        CliError::User(format!("cannot create `{}`: {e}", target.display()))
                    })?;
                }
                Entry::Dir(_) | Entry::Ours => {}
                Entry::Foreign { .. } => {
                    if let Some(dir) = target.parent() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            CliError::User(format!("cannot create `{}`: {e}", dir.display()))
                        })?;
                    }
                    std::fs::hard_link(out.join(path), &target).map_err(|e| {
                        CliError::User(format!(
                            "cannot keep `{}`, which guardrailc did not write, in the new output: {e}; move it out of the output directory",
                            shown.join(path).display()
                        ))
                    })?;
                }
            }
        }
        for (path, entry) in self.entries.iter().rev() {
            if let Entry::Dir(permissions) = entry {
                let target = staging.join(path);
                if target.is_dir() {
                    std::fs::set_permissions(&target, permissions.clone()).map_err(|e| {
                        CliError::User(format!(
                            "cannot set the permissions of `{}`: {e}",
                            target.display()
                        ))
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Refuses artifacts that would replace something guardrailc did not write, or that need a
/// directory where something else is.
fn check_conflicts(
    out: &Path,
    previous: &Previous,
    artifacts: &[Artifact],
) -> Result<(), CliError> {
    for artifact in artifacts {
        let relative = Path::new(&artifact.path);
        for ancestor in relative.ancestors().skip(1) {
            if matches!(
                previous.entries.get(ancestor),
                Some(Entry::Ours | Entry::Foreign { .. })
            ) {
                return Err(CliError::User(format!(
                    "`{}` is not a directory, but guardrailc writes `{}` in it; move it away or choose another --out",
                    out.join(ancestor).display(),
                    artifact.path
                )));
            }
        }
        let target = out.join(relative);
        match previous.entries.get(relative) {
            None | Some(Entry::Ours) => {}
            Some(Entry::Dir(_)) => {
                return Err(CliError::User(format!(
                    "`{}` is a directory, but guardrailc writes a file there; move it away or choose another --out",
                    target.display()
                )))
            }
            Some(Entry::Foreign { edited: false }) => {
                return Err(CliError::User(format!(
                    "`{}` exists and was not written by guardrailc; move it away or choose another --out",
                    target.display()
                )))
            }
            Some(Entry::Foreign { edited: true }) => {
                return Err(CliError::User(format!(
                    "`{}` was changed since guardrailc wrote it; save your changes elsewhere and delete it, or choose another --out",
                    target.display()
                )))
            }
        }
    }
    Ok(())
}

/// The entries of `out`'s manifest whose paths are plain relative paths, with their hashes
/// (`None` for a manifest written before hashes were recorded). Anything else is ignored
/// with a warning: the manifest is never trusted to name a path outside `out`.
fn read_manifest(out: &Path) -> BTreeMap<String, Option<u64>> {
    let path = out.join(MANIFEST);
    let mut listed = BTreeMap::new();
    let not_ours = || {
        eprintln!(
            "warning: `{}` is not a manifest guardrailc wrote (too large, or not text); no file in `{}` counts as written by guardrailc",
            path.display(),
            out.display()
        );
    };
    let text = match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() && meta.len() > MANIFEST_LIMIT => {
            not_ours();
            return listed;
        }
        Ok(meta) if meta.is_file() => match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            _ => {
                not_ours();
                return listed;
            }
        },
        _ => return listed,
    };
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hash, entry) = match line.split_once(' ') {
            Some((hash, entry)) if hash.len() == 16 => match u64::from_str_radix(hash, 16) {
                Ok(hash) => (Some(hash), entry),
                Err(_) => (None, line),
            },
            _ => (None, line),
        };
        if is_plain_relative(entry) {
            listed.insert(entry.to_string(), hash);
        } else {
            eprintln!(
                "warning: `{}` line {}: `{}` is not a path inside the output directory; ignored",
                path.display(),
                number + 1,
                entry.escape_debug()
            );
        }
    }
    listed
}

/// `/`-separated, relative, and made only of plain names: no `.`, `..`, empty or absolute
/// component, no backslash or control character.
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(|c: char| c == '\\' || c.is_control())
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The hash the manifest records: 64-bit FNV-1a, to notice a file edited since it was written
/// (not a defence against a hostile manifest: that is the path rule above).
fn content_hash(bytes: &[u8]) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// The directory the new output is assembled in, beside `out`; removed when dropped, so no
/// error path leaves it behind.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn create(place: &Place) -> Result<Staging, CliError> {
        let prefix = format!(".{}.guardrailc-", place.name);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        // As `mkdir` would: the umask decides, not tempfile's private 0700.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
        let dir = builder.tempdir_in(&place.parent).map_err(|e| {
            CliError::User(format!(
                "cannot create a directory in `{}`: {e}",
                place.parent.display()
            ))
        })?;
        Ok(Staging { path: dir.keep() })
    }

    /// Puts the staged output at `place`: one rename when nothing is there; an atomic exchange
    /// when the system offers one; else two renames, undone if the second fails.
    fn swap_into(self, place: &Place, shown: &Path) -> Result<(), CliError> {
        let failed = |e: std::io::Error| {
            CliError::User(format!(
                "cannot move the new output into `{}`: {e}",
                shown.display()
            ))
        };
        if place.existing.is_none() {
            return std::fs::rename(&self.path, &place.path).map_err(failed);
        }
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            match renameat_with(CWD, &self.path, CWD, &place.path, RenameFlags::EXCHANGE) {
                // The previous output is now at the staging path, removed on drop.
                Ok(()) => return Ok(()),
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
                Err(e) => return Err(failed(e.into())),
            }
        }
        let aside = Staging {
            path: self.path.with_file_name(format!(
                "{}-previous",
                self.path.file_name().unwrap_or_default().to_string_lossy()
            )),
        };
        std::fs::rename(&place.path, &aside.path).map_err(failed)?;
        if let Err(e) = std::fs::rename(&self.path, &place.path) {
            if let Err(restore) = std::fs::rename(&aside.path, &place.path) {
                let kept = aside.path.clone();
                // The previous output is only there now: it must survive.
                std::mem::forget(aside);
                return Err(CliError::User(format!(
                    "cannot move the new output into `{}`: {e}; the previous output is at `{}` ({restore})",
                    shown.display(),
                    kept.display()
                )));
            }
            return Err(failed(e));
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

/// Removes a tree guardrailc owns (a staging directory, a replaced output), making its
/// directories writable first: a read-only directory carried over must not block the removal.
fn remove_tree(path: &Path) {
    if std::fs::symlink_metadata(path).is_err() {
        return;
    }
    if std::fs::remove_dir_all(path).is_ok() {
        return;
    }
    for entry in walkdir::WalkDir::new(path).into_iter().flatten() {
        if entry.file_type().is_dir() {
            if let Ok(meta) = entry.metadata() {
                let mut permissions = meta.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                permissions.set_readonly(false);
                let _ = std::fs::set_permissions(entry.path(), permissions);
            }
        }
    }
    if let Err(e) = std::fs::remove_dir_all(path) {
        eprintln!(
            "warning: cannot remove guardrailc's temporary directory `{}`: {e}",
            path.display()
        );
    }
}
