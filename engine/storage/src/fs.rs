//! The tree seam: every file the engine keeps outside the WAL — blocks, span partitions,
//! configuration, the lock — is created, read, renamed and removed through [`FileSystem`], and
//! the WAL gets its flat [`Storage`] from [`FileSystem::dir_storage`]. [`RealFs`] is the real
//! file system; [`crate::MemFs`] keeps a tree in memory with crash images and faults.
//!
//! The protocol for a durable new file or directory (`docs/format/block.md`, "Assumptions"):
//! write it, fsync it, rename it into place, fsync the parent directory.

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dir::{FsStorage, Storage};
use crate::mmap::{Mmap, map_file};

/// An I/O result whose error names the path it was about.
pub type PathResult<T> = Result<T, (PathBuf, io::Error)>;

/// A name in a directory, and whether it is a directory itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
}

/// The bytes of an immutable file: a read-only map of a real file, or bytes in memory.
pub enum FileBytes {
    Mapped(Mmap),
    Shared(Arc<[u8]>),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Shared(b) => b,
        }
    }
}

/// Kind and size only: the bytes can be gigabytes.
impl fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileBytes::Mapped(m) => write!(f, "Mapped({} bytes)", m.len()),
            FileBytes::Shared(b) => write!(f, "Shared({} bytes)", b.len()),
        }
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> FileBytes {
        FileBytes::Shared(bytes.into())
    }
}

/// Held while a database is open; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    _file: Option<File>,
}

/// A tree of directories and files. Paths are whatever the caller joined; implementations
/// do not resolve `..` or symlinks.
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// Creates `path` and its missing parents (not durable until each parent is synced).
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// The entries of directory `path`, in no promised order.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>>;
    fn is_dir(&self, path: &Path) -> bool;
    /// Creates or truncates `path`, writes `bytes`, fsyncs the file (not its directory entry).
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The bytes of a file that is never modified once written (blocks, partitions).
    fn map(&self, path: &Path) -> io::Result<FileBytes>;
    fn file_len(&self, path: &Path) -> io::Result<u64>;
    /// Renames a file or directory, replacing a file (or an empty directory) at `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes the creates, renames and removes in directory `path` durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// The flat directory `path` (created if missing) as the WAL's [`Storage`].
    fn dir_storage(&self, path: &Path) -> io::Result<Arc<dyn Storage>>;
    /// Takes the exclusive lock `path` (a `LOCK` file); `None` when another holder has it.
    fn try_lock(&self, path: &Path) -> io::Result<Option<DirLock>>;

    /// Bytes of the files in directory `path` and in the directories right below it (the
    /// layouts of a WAL, a block, a partition); 0 when `path` does not exist.
    fn dir_bytes(&self, path: &Path) -> io::Result<u64> {
        let Ok(entries) = self.list_dir(path) else {
            return Ok(0);
        };
        let mut total = 0;
        for e in entries {
            let at = path.join(&e.name);
            if !e.is_dir {
                total += self.file_len(&at)?;
                continue;
            }
            for f in self.list_dir(&at)?.iter().filter(|f| !f.is_dir) {
                total += self.file_len(&at.join(&f.name))?;
            }
        }
        Ok(total)
    }

    /// Publishes a directory of immutable files: creates `tmp` (removing a leftover of an
    /// earlier attempt), writes and fsyncs `files` in order, fsyncs `tmp`, renames it to
    /// `dir` and fsyncs the parent of `dir`. A crash leaves `tmp` or the whole `dir`; an error
    /// removes whatever this call made, so a retry never finds half of it. The error names
    /// the path it was about.
    fn publish_dir(&self, tmp: &Path, dir: &Path, files: &[(&str, &[u8])]) -> PathResult<()> {
        let at = |path: &Path| {
            let path = path.to_owned();
            move |e| (path, e)
        };
        let parent = dir.parent().unwrap_or(Path::new("."));
        let steps = || -> PathResult<()> {
            if self.is_dir(tmp) {
                self.remove_dir_all(tmp).map_err(at(tmp))?;
            }
            self.create_dir_all(tmp).map_err(at(tmp))?;
            for (name, bytes) in files {
                let path = tmp.join(name);
                self.write_synced(&path, bytes).map_err(at(&path))?;
            }
            self.sync_dir(tmp).map_err(at(tmp))?;
            self.rename(tmp, dir).map_err(at(dir))?;
            self.sync_dir(parent).map_err(at(parent))
        };
        steps().inspect_err(|_| {
            // Best effort: the next successful sync of `parent` makes the removal durable.
            for path in [tmp, dir] {
                if self.is_dir(path) {
                    let _ = self.remove_dir_all(path);
                }
            }
        })
    }

    /// Creates `path` and its missing parents, and makes each new directory's entry durable
    /// (fsyncs the directory holding it): a database directory created by the first open
    /// must not vanish in a power cut with the data acknowledged in it. The directory
    /// holding `path` is synced even when `path` existed (an earlier call may have failed
    /// before its sync); on an error the directories this call made are removed again, so a
    /// retry creates and syncs them anew.
    fn create_dirs_synced(&self, path: &Path) -> io::Result<()> {
        let parent_of = |dir: &Path| match dir.parent() {
            Some(up) if up.as_os_str().is_empty() => Some(PathBuf::from(".")),
            up => up.map(Path::to_owned),
        };
        let mut missing = Vec::new();
        let mut at = path;
        while !self.is_dir(at) {
            missing.push(at);
            match at.parent() {
                Some(up) if !up.as_os_str().is_empty() => at = up,
                _ => break,
            }
        }
        let steps = || -> io::Result<()> {
            self.create_dir_all(path)?;
            for dir in missing.iter().rev() {
                if let Some(up) = parent_of(dir) {
                    self.sync_dir(&up)?;
                }
            }
            match (missing.first(), parent_of(path)) {
                (None, Some(up)) => self.sync_dir(&up),
                _ => Ok(()),
            }
        };
        steps().inspect_err(|_| {
            if let Some(top) = missing.last() {
                let _ = self.remove_dir_all(top);
            }
        })
    }
}

/// A shared handle to a [`FileSystem`], comparable by identity (so options holding it stay
/// `Eq`). The default is the real file system.
#[derive(Clone, Debug)]
pub struct Fs(Arc<dyn FileSystem>);

impl Fs {
    pub fn new(fs: impl FileSystem + 'static) -> Fs {
        Fs(Arc::new(fs))
    }

    /// Replaces `dir/name` with `bytes` atomically: writes and fsyncs `dir/name.tmp`, renames
    /// it over `dir/name`, fsyncs `dir`. A crash leaves the old file or the new one.
    pub fn replace_synced(&self, dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = dir.join(format!("{name}.tmp"));
        self.write_synced(&tmp, bytes)?;
        self.rename(&tmp, &dir.join(name))?;
        self.sync_dir(dir)
    }
}

impl Default for Fs {
    fn default() -> Fs {
        Fs::new(RealFs)
    }
}

impl Deref for Fs {
    type Target = dyn FileSystem;
    fn deref(&self) -> &(dyn FileSystem + 'static) {
        &*self.0
    }
}

impl PartialEq for Fs {
    fn eq(&self, other: &Fs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Fs {}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl FileSystem for RealFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not a name Strata wrote
            };
            out.push(DirEntry {
                name,
                is_dir: entry.file_type()?.is_dir(),
            });
        }
        Ok(out)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut f = File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn map(&self, path: &Path) -> io::Result<FileBytes> {
        Ok(FileBytes::Mapped(map_file(&File::open(path)?)?))
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        Ok(fs::metadata(path)?.len())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir_all(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        // On Unix a directory's entries are made durable by fsync on the directory itself.
        File::open(path)?.sync_all()
    }

    fn dir_storage(&self, path: &Path) -> io::Result<Arc<dyn Storage>> {
        self.create_dirs_synced(path)?;
        Ok(Arc::new(FsStorage::new(path)?))
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<DirLock>> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DirLock { _file: Some(file) })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

impl DirLock {
    /// A lock that guards nothing (in-memory file systems have one user).
    pub fn in_memory() -> DirLock {
        DirLock { _file: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_synced_replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("strata-fs-{}", std::process::id()));
        let fs = Fs::default();
        fs.create_dir_all(&dir).unwrap();
        fs.replace_synced(&dir, "cfg", b"one").unwrap();
        fs.replace_synced(&dir, "cfg", b"two").unwrap();
        assert_eq!(fs.read(&dir.join("cfg")).unwrap(), b"two");
        assert_eq!(&*fs.map(&dir.join("cfg")).unwrap(), b"two");
        let names: Vec<_> = fs
            .list_dir(&dir)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["cfg"]);
        assert!(fs.write_synced(&dir.join("missing/x"), b"").is_err());
        let lock = fs.try_lock(&dir.join("LOCK")).unwrap();
        assert!(lock.is_some());
        fs.remove_dir_all(&dir).unwrap();
    }
}
