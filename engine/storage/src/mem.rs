//! The WAL's view of [`MemFs`]: [`MemDir`] is one directory of the tree as a flat
//! [`Storage`], [`MemStorage`] a tree of its own holding one such directory (the WAL's tests
//! and fuzz targets use it), and [`MemFile`] an open file in either.

use crate::dir::{Storage, StorageFile};
use crate::fs::FileSystem;
use crate::memfs::{Fault, Inner, MemFs};
use parking_lot::Mutex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One directory of a [`MemFs`] as the WAL's [`Storage`].
#[derive(Debug, Clone)]
pub struct MemDir {
    fs: MemFs,
    dir: PathBuf,
}

impl MemDir {
    pub fn new(fs: MemFs, dir: &Path) -> MemDir {
        MemDir {
            fs,
            dir: dir.to_owned(),
        }
    }
}

impl Storage for MemDir {
    fn list(&self) -> io::Result<Vec<String>> {
        self.fs.file_names(&self.dir)
    }

    fn create(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        Ok(Arc::new(self.fs.create_file(&self.dir.join(name))?))
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        Ok(Arc::new(self.fs.open_file(&self.dir.join(name))?))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.fs.remove_file(&self.dir.join(name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.fs.rename(&self.dir.join(from), &self.dir.join(to))
    }

    fn sync_dir(&self) -> io::Result<()> {
        self.fs.sync_dir(&self.dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from("mem:")
            .join(self.dir.strip_prefix("/").unwrap_or(&self.dir))
            .join(name)
    }
}

/// An in-memory directory with its own tree: the WAL's test storage. Clones share the files.
#[derive(Debug, Clone)]
pub struct MemStorage {
    dir: MemDir,
}

impl Default for MemStorage {
    fn default() -> MemStorage {
        MemStorage::new()
    }
}

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::over(MemFs::new())
    }

    fn over(fs: MemFs) -> MemStorage {
        MemStorage {
            dir: MemDir::new(fs, Path::new("/")),
        }
    }

    /// The tree this directory is the root of.
    pub fn fs(&self) -> &MemFs {
        &self.dir.fs
    }

    /// Arms a one-shot fault for the next write (or sync) of any file.
    pub fn inject(&self, fault: Fault) {
        self.fs().inject(fault);
    }

    /// See [`MemFs::set_capacity_bytes`].
    pub fn set_capacity_bytes(&self, capacity_bytes: Option<u64>) {
        self.fs().set_capacity_bytes(capacity_bytes);
    }

    /// See [`MemFs::fail_after_ops`].
    pub fn fail_after_ops(&self, ops: Option<u64>) {
        self.fs().fail_after_ops(ops);
    }

    /// Mutating operations performed so far (including failed ones).
    pub fn mutating_ops(&self) -> u64 {
        self.fs().mutating_ops()
    }

    /// File and directory syncs that succeeded.
    pub fn syncs(&self) -> u64 {
        self.fs().syncs()
    }

    /// What a power cut leaves (see [`MemFs::crash_image`]).
    pub fn crash_image(&self) -> MemStorage {
        MemStorage::over(self.fs().crash_image())
    }

    /// A torn power cut (see [`MemFs::crash_image_torn`]).
    pub fn crash_image_torn(&self, seed: u64) -> MemStorage {
        MemStorage::over(self.fs().crash_image_torn(seed))
    }

    /// The live bytes of a file (for tests that damage a log on purpose).
    pub fn read_file(&self, name: &str) -> Option<Vec<u8>> {
        self.fs().read_file(&self.dir.dir.join(name))
    }

    /// Replaces a file's contents, live and durable (a test's "the disk now holds this").
    pub fn write_file(&self, name: &str, bytes: &[u8]) {
        // The root always exists, so this cannot fail.
        let _ = self.fs().write_file(&self.dir.dir.join(name), bytes);
    }

    /// Removes a file from the live and durable directory.
    pub fn delete_file(&self, name: &str) {
        let _ = self.fs().delete_file(&self.dir.dir.join(name));
    }

    /// Names in the live directory, sorted.
    pub fn file_names(&self) -> Vec<String> {
        self.dir.list().unwrap_or_default()
    }
}

impl Storage for MemStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        self.dir.list()
    }
    fn create(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        self.dir.create(name)
    }
    fn open(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        self.dir.open(name)
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.dir.remove(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.dir.rename(from, to)
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.dir.sync_dir()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }
}

/// An open file of a [`MemFs`]; it stays readable and writable after its entry is removed.
#[derive(Debug)]
pub struct MemFile {
    inner: Arc<Mutex<Inner>>,
    id: u64,
}

impl MemFile {
    pub(crate) fn new(inner: Arc<Mutex<Inner>>, id: u64) -> MemFile {
        MemFile { inner, id }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

impl StorageFile for MemFile {
    fn len_bytes(&self) -> io::Result<u64> {
        Ok(self.inner.lock().file(self.id)?.live_len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let inner = self.inner.lock();
        let live = inner.file(self.id)?.live_bytes();
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= live.len() {
            return Ok(0);
        }
        let n = buf.len().min(live.len() - start);
        buf[..n].copy_from_slice(&live[start..start + n]);
        Ok(n)
    }

    fn write_all_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.inner.lock().write_at(self.id, offset, buf)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.lock().set_len(self.id, len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.inner.lock().sync_file(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_keeps_only_what_was_synced() {
        let mem = MemStorage::new();
        let a = mem.create("a").unwrap();
        a.write_all_at(0, b"synced").unwrap();
        a.sync_data().unwrap();
        // Not in the durable directory yet: a synced file without a synced entry is lost.
        assert!(mem.crash_image().file_names().is_empty());
        mem.sync_dir().unwrap();
        a.write_all_at(6, b" and not").unwrap();
        mem.rename("a", "b").unwrap();
        let image = mem.crash_image();
        assert_eq!(image.file_names(), ["a"]);
        assert_eq!(image.read_file("a").unwrap(), b"synced");
        assert_eq!(mem.read_file("b").unwrap(), b"synced and not");
    }

    #[test]
    fn faults_fire_once_and_capacity_cuts_writes_short() {
        let mem = MemStorage::new();
        let f = mem.create("f").unwrap();
        mem.inject(Fault::ShortWrite { written_bytes: 2 });
        assert!(f.write_all_at(0, b"abcdef").is_err());
        assert_eq!(mem.read_file("f").unwrap(), b"ab");
        f.write_all_at(0, b"abcdef").unwrap();
        mem.inject(Fault::SyncError);
        assert!(f.sync_data().is_err());
        f.sync_data().unwrap();
        mem.set_capacity_bytes(Some(8));
        let e = f.write_all_at(6, b"ghij").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(mem.read_file("f").unwrap(), b"abcdefgh");
        mem.fail_after_ops(Some(0));
        assert!(mem.sync_dir().is_err() && mem.remove("f").is_err());
    }

    #[test]
    fn torn_images_mix_sectors_and_zero_fill() {
        let mem = MemStorage::new();
        let f = mem.create("f").unwrap();
        mem.sync_dir().unwrap();
        f.write_all_at(0, &[1u8; 600]).unwrap();
        f.sync_data().unwrap();
        f.write_all_at(600, &[2u8; 4000]).unwrap();
        for seed in 0..50 {
            let b = mem.crash_image_torn(seed).read_file("f").unwrap();
            assert!((600..=4600).contains(&b.len()));
            assert!(b[..600].iter().all(|&x| x == 1));
            assert!(b[600..].iter().all(|&x| x == 0 || x == 2));
        }
    }
}
