//! The directory seam: every byte the WAL reads or writes goes through [`Storage`] (one directory) and
//! [`StorageFile`] (one file in it). [`FsStorage`] is the real filesystem; [`MemStorage`] keeps
//! files in memory and can fail writes, cut them short, run out of space, fail syncs, and
//! "crash" (forget everything that was not synced).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A flat directory of files.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Names of the files in the directory (no order promised).
    fn list(&self) -> io::Result<Vec<String>>;
    /// Creates a new, empty file for reading and writing; fails if it exists.
    fn create(&self, name: &str) -> io::Result<Arc<dyn StorageFile>>;
    /// Opens an existing file for reading and writing.
    fn open(&self, name: &str) -> io::Result<Arc<dyn StorageFile>>;
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Replaces `to` with `from` atomically.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Makes creates, removes and renames so far durable.
    fn sync_dir(&self) -> io::Result<()>;
    /// A path for error messages.
    fn path(&self, name: &str) -> PathBuf;
}

/// One open file. Methods take `&self` so a writer and a background syncer can share it.
pub trait StorageFile: Send + Sync + fmt::Debug {
    fn len_bytes(&self) -> io::Result<u64>;
    /// Reads up to `buf.len()` bytes at `offset`; 0 means end of file.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes all of `buf` at `offset` or fails; after a failure a prefix may have been written.
    fn write_all_at(&self, offset: u64, buf: &[u8]) -> io::Result<()>;
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Makes the file's data (and the size needed to read it) durable: `fdatasync`.
    fn sync_data(&self) -> io::Result<()>;
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub fn read_full_at(file: &dyn StorageFile, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(offset + done as u64, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// A directory on the real filesystem.
#[derive(Debug, Clone)]
pub struct FsStorage {
    dir: PathBuf,
}

impl FsStorage {
    /// Uses `dir`, creating it (and its parents) if needed.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<FsStorage> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(FsStorage { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Storage for FsStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn create(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.dir.join(name))?;
        Ok(Arc::new(FsFile(file)))
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.dir.join(name))?;
        Ok(Arc::new(FsFile(file)))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        fs::remove_file(self.dir.join(name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.dir.join(from), self.dir.join(to))
    }

    fn sync_dir(&self) -> io::Result<()> {
        // On Unix a directory's entries are made durable by fsync on the directory itself.
        #[cfg(unix)]
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[derive(Debug)]
struct FsFile(File);

impl StorageFile for FsFile {
    fn len_bytes(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        return std::os::unix::fs::FileExt::read_at(&self.0, buf, offset);
        #[cfg(windows)]
        return std::os::windows::fs::FileExt::seek_read(&self.0, buf, offset);
    }

    fn write_all_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        #[cfg(unix)]
        return std::os::unix::fs::FileExt::write_all_at(&self.0, buf, offset);
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let at = offset + done as u64;
                match std::os::windows::fs::FileExt::seek_write(&self.0, &buf[done..], at) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}
