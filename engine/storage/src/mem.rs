//! An in-memory [`Storage`] for tests and fuzzing, with a crash model and injected faults.
//!
//! The model: every file has *live* bytes (what reads see) and *durable* bytes (what a sync last
//! saw); the directory has live entries and durable entries (as of the last `sync_dir`). A crash
//! image keeps only the durable directory and durable bytes — or, with
//! [`MemStorage::crash_image_torn`], a random mix of synced and unsynced sectors, which is what
//! a power cut can leave on a real disk.

use crate::dir::{Storage, StorageFile};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// A one-shot failure, consumed by the next operation it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next write fails and writes nothing.
    WriteError,
    /// The next write stores its first `written_bytes` bytes, then fails.
    ShortWrite { written_bytes: usize },
    /// The next file or directory sync fails (and makes nothing durable).
    SyncError,
}

/// In-memory directory. Clones share the same files.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    files: HashMap<u64, FileData>,
    next_id: u64,
    live_dir: BTreeMap<String, u64>,
    durable_dir: BTreeMap<String, u64>,
    faults: VecDeque<Fault>,
    capacity_bytes: Option<u64>,
    /// Mutating operations left before every mutating operation fails.
    ops_left: Option<u64>,
    mutating_ops: u64,
    syncs: u64,
}

#[derive(Debug, Default, Clone)]
struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Debug)]
struct MemFile {
    inner: Arc<Mutex<Inner>>,
    id: u64,
}

/// Bytes a torn crash treats as one unit: a disk sector.
const SECTOR_BYTES: usize = 512;

impl MemStorage {
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Arms a one-shot fault for the next write (or sync) of any file.
    pub fn inject(&self, fault: Fault) {
        self.inner.lock().faults.push_back(fault);
    }

    /// Limits the total size of all files; a write past it stores what fits and fails with
    /// `StorageFull` (ENOSPC).
    pub fn set_capacity_bytes(&self, capacity_bytes: Option<u64>) {
        self.inner.lock().capacity_bytes = capacity_bytes;
    }

    /// After `ops` more mutating operations (write, set_len, sync, create, remove, rename,
    /// sync_dir) every mutating operation fails, as if the machine had died there. With
    /// [`MemStorage::crash_image`] this stops a procedure at each of its steps in turn.
    pub fn fail_after_ops(&self, ops: Option<u64>) {
        self.inner.lock().ops_left = ops;
    }

    /// Mutating operations performed so far (including failed ones).
    pub fn mutating_ops(&self) -> u64 {
        self.inner.lock().mutating_ops
    }

    /// File and directory syncs that succeeded.
    pub fn syncs(&self) -> u64 {
        self.inner.lock().syncs
    }

    /// What a power cut leaves: the durable directory with each file's durable bytes. The
    /// image is independent of this storage (handles still open here do not write into it).
    pub fn crash_image(&self) -> MemStorage {
        self.image(|_, f| f.durable.clone())
    }

    /// Like [`MemStorage::crash_image`], but each unsynced sector independently reached the
    /// disk or not, unsynced growth is cut at a random length, and sectors past the durable
    /// length that did not reach the disk read as zeros. `seed` makes it reproducible.
    pub fn crash_image_torn(&self, seed: u64) -> MemStorage {
        let mut rng = seed | 1;
        self.image(move |id, f| {
            rng ^= id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            torn_bytes(f, &mut rng)
        })
    }

    /// The live bytes of a file (for tests that damage a log on purpose).
    pub fn read_file(&self, name: &str) -> Option<Vec<u8>> {
        let inner = self.inner.lock();
        let id = inner.live_dir.get(name)?;
        Some(inner.files[id].live.clone())
    }

    /// Replaces a file's contents, live and durable (a test's "the disk now holds this").
    pub fn write_file(&self, name: &str, bytes: &[u8]) {
        let mut inner = self.inner.lock();
        let id = match inner.live_dir.get(name) {
            Some(&id) => id,
            None => {
                let id = inner.next_id;
                inner.next_id += 1;
                inner.live_dir.insert(name.to_owned(), id);
                id
            }
        };
        inner.durable_dir.insert(name.to_owned(), id);
        inner.files.insert(
            id,
            FileData {
                live: bytes.to_vec(),
                durable: bytes.to_vec(),
            },
        );
    }

    /// Removes a file from the live and durable directory.
    pub fn delete_file(&self, name: &str) {
        let mut inner = self.inner.lock();
        inner.live_dir.remove(name);
        inner.durable_dir.remove(name);
    }

    /// Names in the live directory, sorted.
    pub fn file_names(&self) -> Vec<String> {
        self.inner.lock().live_dir.keys().cloned().collect()
    }

    fn image(&self, mut bytes: impl FnMut(u64, &FileData) -> Vec<u8>) -> MemStorage {
        let inner = self.inner.lock();
        let mut out = Inner::default();
        for (name, id) in &inner.durable_dir {
            let data = bytes(*id, &inner.files[id]);
            let new_id = out.next_id;
            out.next_id += 1;
            out.files.insert(
                new_id,
                FileData {
                    live: data.clone(),
                    durable: data,
                },
            );
            out.live_dir.insert(name.clone(), new_id);
            out.durable_dir.insert(name.clone(), new_id);
        }
        MemStorage {
            inner: Arc::new(Mutex::new(out)),
        }
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn torn_bytes(f: &FileData, rng: &mut u64) -> Vec<u8> {
    let (lo, hi) = if f.live.len() < f.durable.len() {
        (f.live.len(), f.durable.len())
    } else {
        (f.durable.len(), f.live.len())
    };
    let len = lo + (xorshift(rng) % (hi - lo + 1) as u64) as usize;
    let mut out = vec![0u8; len];
    for start in (0..len).step_by(SECTOR_BYTES) {
        let end = (start + SECTOR_BYTES).min(len);
        let take_live = xorshift(rng) & 1 == 0;
        let src = if take_live { &f.live } else { &f.durable };
        for (i, b) in out[start..end].iter_mut().enumerate() {
            // A sector nobody wrote (or that the disk never got) reads as zeros.
            *b = src.get(start + i).copied().unwrap_or(0);
        }
    }
    out
}

impl Inner {
    /// Counts a mutating operation and fails it if the machine has "died".
    fn mutate(&mut self) -> io::Result<()> {
        self.mutating_ops += 1;
        match &mut self.ops_left {
            Some(0) => Err(io::Error::other("injected: storage stopped")),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn take_fault(&mut self, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let at = self.faults.iter().position(pred)?;
        self.faults.remove(at)
    }

    fn live_bytes_total(&self) -> u64 {
        self.live_dir
            .values()
            .map(|id| self.files[id].live.len() as u64)
            .sum()
    }

    fn sync_fault(&mut self) -> io::Result<()> {
        self.mutate()?;
        if self.take_fault(|f| *f == Fault::SyncError).is_some() {
            return Err(io::Error::other("injected: sync failed"));
        }
        self.syncs += 1;
        Ok(())
    }
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

impl Storage for MemStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.file_names())
    }

    fn create(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        if inner.live_dir.contains_key(name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{name} exists"),
            ));
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.files.insert(id, FileData::default());
        inner.live_dir.insert(name.to_owned(), id);
        Ok(Arc::new(MemFile {
            inner: self.inner.clone(),
            id,
        }))
    }

    fn open(&self, name: &str) -> io::Result<Arc<dyn StorageFile>> {
        let inner = self.inner.lock();
        let id = *inner.live_dir.get(name).ok_or_else(|| not_found(name))?;
        Ok(Arc::new(MemFile {
            inner: self.inner.clone(),
            id,
        }))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        inner.live_dir.remove(name).ok_or_else(|| not_found(name))?;
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let id = inner.live_dir.remove(from).ok_or_else(|| not_found(from))?;
        inner.live_dir.insert(to.to_owned(), id);
        Ok(())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.sync_fault()?;
        inner.durable_dir = inner.live_dir.clone();
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from("mem:").join(name)
    }
}

impl StorageFile for MemFile {
    fn len_bytes(&self) -> io::Result<u64> {
        Ok(self.inner.lock().files[&self.id].live.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let inner = self.inner.lock();
        let live = &inner.files[&self.id].live;
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
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let fault = inner.take_fault(|f| matches!(f, Fault::WriteError | Fault::ShortWrite { .. }));
        let mut n = match fault {
            Some(Fault::WriteError) => return Err(io::Error::other("injected: write failed")),
            Some(Fault::ShortWrite { written_bytes }) => written_bytes.min(buf.len()),
            _ => buf.len(),
        };
        let start = usize::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
        let mut full = false;
        if let Some(cap) = inner.capacity_bytes {
            let len = inner.files[&self.id].live.len() as u64;
            let grow = (start as u64 + n as u64).saturating_sub(len);
            let free = cap.saturating_sub(inner.live_bytes_total());
            if grow > free {
                full = true;
                n -= (grow - free) as usize;
            }
        }
        let live = &mut inner.files.get_mut(&self.id).expect("open file").live;
        if live.len() < start + n {
            live.resize(start + n, 0);
        }
        live[start..start + n].copy_from_slice(&buf[..n]);
        if full {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected: no space left on device",
            ));
        }
        if n < buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "injected: short write",
            ));
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let len = usize::try_from(len).map_err(|_| io::Error::other("length too large"))?;
        inner
            .files
            .get_mut(&self.id)
            .expect("open file")
            .live
            .resize(len, 0);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.sync_fault()?;
        let f = inner.files.get_mut(&self.id).expect("open file");
        f.durable = f.live.clone();
        Ok(())
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
