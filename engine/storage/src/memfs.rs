//! An in-memory [`FileSystem`] for tests and fuzzing, with a crash model and injected faults.
//!
//! The model: every file has *live* bytes (what reads see) and *durable* bytes (what its last
//! sync saw); every directory has live entries and durable entries (as of its last
//! `sync_dir`). A crash image keeps, from the root down, only durable entries and durable
//! bytes — or, with [`MemFs::crash_image_torn`], a random mix of synced and unsynced sectors,
//! which is what a power cut can leave on a real disk. A new file whose directory was never
//! synced is gone after a crash, however often the file itself was synced.

use crate::Storage;
use crate::fs::{DirEntry, DirLock, FileBytes, FileSystem};
use crate::mem::{MemDir, MemFile};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::{Component, Path};
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

/// An in-memory tree of directories and files. Clones share the same tree.
#[derive(Debug, Clone)]
pub struct MemFs {
    pub(crate) inner: Arc<Mutex<Inner>>,
}

const ROOT: u64 = 0;

/// Bytes a torn crash treats as one unit: a disk sector.
const SECTOR_BYTES: usize = 512;

#[derive(Debug)]
pub(crate) struct Inner {
    nodes: HashMap<u64, Node>,
    next_id: u64,
    faults: VecDeque<Fault>,
    capacity_bytes: Option<u64>,
    /// Mutating operations left before every mutating operation fails.
    ops_left: Option<u64>,
    /// One operation (by its index among all mutating operations) that fails with this kind.
    failing_op: Option<(u64, io::ErrorKind)>,
    mutating_ops: u64,
    syncs: u64,
}

#[derive(Debug, Clone)]
enum Node {
    File(FileData),
    Dir(DirData),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
}

impl FileData {
    pub(crate) fn live_bytes(&self) -> &[u8] {
        &self.live
    }

    pub(crate) fn live_len(&self) -> usize {
        self.live.len()
    }
}

#[derive(Debug, Default, Clone)]
struct DirData {
    live: BTreeMap<String, u64>,
    durable: BTreeMap<String, u64>,
}

impl Default for MemFs {
    fn default() -> MemFs {
        MemFs::new()
    }
}

impl MemFs {
    pub fn new() -> MemFs {
        MemFs {
            inner: Arc::new(Mutex::new(Inner::new())),
        }
    }

    /// Arms a one-shot fault for the next write (or sync) of any file.
    pub fn inject(&self, fault: Fault) {
        self.inner.lock().faults.push_back(fault);
    }

    /// Limits the total size of all live files; a write past it stores what fits and fails
    /// with `StorageFull` (ENOSPC).
    pub fn set_capacity_bytes(&self, capacity_bytes: Option<u64>) {
        self.inner.lock().capacity_bytes = capacity_bytes;
    }

    /// After `ops` more mutating operations (create, write, truncate, sync, mkdir, remove,
    /// rename, sync_dir) every mutating operation fails, as if the machine had died there.
    /// With [`MemFs::crash_image`] this stops a procedure at each of its steps in turn.
    pub fn fail_after_ops(&self, ops: Option<u64>) {
        self.inner.lock().ops_left = ops;
    }

    /// Makes the mutating operation with index `op` (counted as [`MemFs::mutating_ops`]
    /// counts) fail with `kind` — `StorageFull` for ENOSPC, `Other` for EIO — and only it.
    pub fn fail_operation(&self, op: u64, kind: io::ErrorKind) {
        self.inner.lock().failing_op = Some((op, kind));
    }

    /// Mutating operations performed so far (including failed ones).
    pub fn mutating_ops(&self) -> u64 {
        self.inner.lock().mutating_ops
    }

    /// File and directory syncs that succeeded.
    pub fn syncs(&self) -> u64 {
        self.inner.lock().syncs
    }

    /// What a power cut leaves: durable entries from the root down, with each file's durable
    /// bytes. The image is independent of this one (handles open here do not write into it).
    pub fn crash_image(&self) -> MemFs {
        self.image(|_, f| f.durable.clone())
    }

    /// Like [`MemFs::crash_image`], but each unsynced sector of a file independently reached
    /// the disk or not, unsynced growth is cut at a random length, and sectors past the
    /// durable length that did not reach the disk read as zeros. `seed` makes it reproducible.
    pub fn crash_image_torn(&self, seed: u64) -> MemFs {
        let mut rng = seed | 1;
        self.image(move |id, f| {
            rng ^= id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            torn_bytes(f, &mut rng)
        })
    }

    /// The live bytes of a file, if it exists.
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let inner = self.inner.lock();
        let id = inner.lookup(path).ok()?;
        inner.file(id).ok().map(|f| f.live.clone())
    }

    /// Replaces a file's contents, live and durable, entry included (a test's "the disk now
    /// holds this"). The parent directory must exist.
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.lock();
        let (parent, name) = inner.parent_of(path)?;
        let data = FileData {
            live: bytes.to_vec(),
            durable: bytes.to_vec(),
        };
        let id = inner.add(Node::File(data));
        let dir = inner.dir_mut(parent)?;
        dir.live.insert(name.clone(), id);
        dir.durable.insert(name, id);
        Ok(())
    }

    /// Removes an entry from its directory, live and durable.
    pub fn delete_file(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        let (parent, name) = inner.parent_of(path)?;
        let dir = inner.dir_mut(parent)?;
        dir.live.remove(&name);
        dir.durable.remove(&name);
        Ok(())
    }

    /// Names of the files (not directories) in directory `path`, sorted.
    pub fn file_names(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self
            .list_dir(path)?
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Creates a new empty file; fails if it exists.
    pub(crate) fn create_file(&self, path: &Path) -> io::Result<MemFile> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let (parent, name) = inner.parent_of(path)?;
        if inner.dir(parent)?.live.contains_key(&name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{}: exists", path.display()),
            ));
        }
        let id = inner.add(Node::File(FileData::default()));
        inner.dir_mut(parent)?.live.insert(name, id);
        Ok(MemFile::new(self.inner.clone(), id))
    }

    /// Opens an existing file.
    pub(crate) fn open_file(&self, path: &Path) -> io::Result<MemFile> {
        let inner = self.inner.lock();
        let id = inner.lookup(path)?;
        inner.file(id)?;
        Ok(MemFile::new(self.inner.clone(), id))
    }

    fn image(&self, mut bytes: impl FnMut(u64, &FileData) -> Vec<u8>) -> MemFs {
        let inner = self.inner.lock();
        let mut out = Inner::new();
        // (source directory, its copy), depth first.
        let mut stack = vec![(ROOT, ROOT)];
        while let Some((from, to)) = stack.pop() {
            let Ok(dir) = inner.dir(from) else { continue };
            for (name, &id) in &dir.durable {
                let copy = match &inner.nodes[&id] {
                    Node::File(f) => {
                        let b = bytes(id, f);
                        Node::File(FileData {
                            live: b.clone(),
                            durable: b,
                        })
                    }
                    Node::Dir(_) => Node::Dir(DirData::default()),
                };
                let is_dir = matches!(copy, Node::Dir(_));
                let new_id = out.add(copy);
                if let Ok(d) = out.dir_mut(to) {
                    d.live.insert(name.clone(), new_id);
                    d.durable.insert(name.clone(), new_id);
                }
                if is_dir {
                    stack.push((id, new_id));
                }
            }
        }
        MemFs {
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

fn names(path: &Path) -> io::Result<Vec<&str>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => {
                out.push(s.to_str().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "path is not UTF-8")
                })?)
            }
            Component::ParentDir => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: `..` is not resolved here", path.display()),
                ));
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

impl Inner {
    fn new() -> Inner {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::Dir(DirData::default()));
        Inner {
            nodes,
            next_id: ROOT + 1,
            faults: VecDeque::new(),
            capacity_bytes: None,
            ops_left: None,
            failing_op: None,
            mutating_ops: 0,
            syncs: 0,
        }
    }

    fn add(&mut self, node: Node) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.nodes.insert(id, node);
        id
    }

    fn dir(&self, id: u64) -> io::Result<&DirData> {
        match self.nodes.get(&id) {
            Some(Node::Dir(d)) => Ok(d),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
        }
    }

    fn dir_mut(&mut self, id: u64) -> io::Result<&mut DirData> {
        match self.nodes.get_mut(&id) {
            Some(Node::Dir(d)) => Ok(d),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
        }
    }

    pub(crate) fn file(&self, id: u64) -> io::Result<&FileData> {
        match self.nodes.get(&id) {
            Some(Node::File(f)) => Ok(f),
            _ => Err(io::Error::new(io::ErrorKind::IsADirectory, "not a file")),
        }
    }

    fn file_mut(&mut self, id: u64) -> io::Result<&mut FileData> {
        match self.nodes.get_mut(&id) {
            Some(Node::File(f)) => Ok(f),
            _ => Err(io::Error::new(io::ErrorKind::IsADirectory, "not a file")),
        }
    }

    fn lookup(&self, path: &Path) -> io::Result<u64> {
        let mut at = ROOT;
        for name in names(path)? {
            at = *self
                .dir(at)
                .map_err(|_| not_found(path))?
                .live
                .get(name)
                .ok_or_else(|| not_found(path))?;
        }
        Ok(at)
    }

    /// The directory holding `path` and the last name of `path`.
    fn parent_of(&self, path: &Path) -> io::Result<(u64, String)> {
        let names = names(path)?;
        let Some((last, up)) = names.split_last() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name"));
        };
        let mut at = ROOT;
        for name in up {
            at = *self
                .dir(at)?
                .live
                .get(*name)
                .ok_or_else(|| not_found(path))?;
        }
        self.dir(at)?;
        Ok((at, (*last).to_owned()))
    }

    /// Counts a mutating operation and fails it if a fault or the "dead machine" says so.
    fn mutate(&mut self) -> io::Result<()> {
        let op = self.mutating_ops;
        self.mutating_ops += 1;
        if let Some((at, kind)) = self.failing_op
            && at == op
        {
            self.failing_op = None;
            return Err(io::Error::new(
                kind,
                format!("injected: operation {op} failed"),
            ));
        }
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

    /// Bytes of every file reachable from the root.
    fn live_bytes_total(&self) -> u64 {
        let mut total = 0;
        let mut stack = vec![ROOT];
        while let Some(id) = stack.pop() {
            match self.nodes.get(&id) {
                Some(Node::Dir(d)) => stack.extend(d.live.values().copied()),
                Some(Node::File(f)) => total += f.live.len() as u64,
                None => {}
            }
        }
        total
    }

    fn sync_fault(&mut self) -> io::Result<()> {
        self.mutate()?;
        if self.take_fault(|f| *f == Fault::SyncError).is_some() {
            return Err(io::Error::other("injected: sync failed"));
        }
        self.syncs += 1;
        Ok(())
    }

    pub(crate) fn write_at(&mut self, id: u64, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.mutate()?;
        let fault = self.take_fault(|f| matches!(f, Fault::WriteError | Fault::ShortWrite { .. }));
        let mut n = match fault {
            Some(Fault::WriteError) => return Err(io::Error::other("injected: write failed")),
            Some(Fault::ShortWrite { written_bytes }) => written_bytes.min(buf.len()),
            _ => buf.len(),
        };
        let start = usize::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
        let mut full = false;
        if let Some(cap) = self.capacity_bytes {
            let len = self.file(id)?.live.len() as u64;
            let grow = (start as u64 + n as u64).saturating_sub(len);
            let free = cap.saturating_sub(self.live_bytes_total());
            if grow > free {
                full = true;
                n -= (grow - free) as usize;
            }
        }
        let live = &mut self.file_mut(id)?.live;
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

    pub(crate) fn set_len(&mut self, id: u64, len: u64) -> io::Result<()> {
        self.mutate()?;
        let len = usize::try_from(len).map_err(|_| io::Error::other("length too large"))?;
        self.file_mut(id)?.live.resize(len, 0);
        Ok(())
    }

    pub(crate) fn sync_file(&mut self, id: u64) -> io::Result<()> {
        self.sync_fault()?;
        let f = self.file_mut(id)?;
        f.durable = f.live.clone();
        Ok(())
    }
}

impl FileSystem for MemFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        let mut at = ROOT;
        for name in names(path)? {
            if let Some(&id) = inner.dir(at)?.live.get(name) {
                inner.dir(id)?;
                at = id;
                continue;
            }
            inner.mutate()?;
            let id = inner.add(Node::Dir(DirData::default()));
            inner.dir_mut(at)?.live.insert(name.to_owned(), id);
            at = id;
        }
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let inner = self.inner.lock();
        let dir = inner.dir(inner.lookup(path)?)?;
        Ok(dir
            .live
            .iter()
            .map(|(name, id)| DirEntry {
                name: name.clone(),
                is_dir: matches!(inner.nodes.get(id), Some(Node::Dir(_))),
            })
            .collect())
    }

    fn is_dir(&self, path: &Path) -> bool {
        let inner = self.inner.lock();
        inner.lookup(path).is_ok_and(|id| inner.dir(id).is_ok())
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let existing = self.inner.lock().lookup(path).ok();
        let id = match existing {
            Some(id) => {
                self.inner.lock().set_len(id, 0)?;
                id
            }
            None => self.create_file(path)?.id(),
        };
        let mut inner = self.inner.lock();
        inner.write_at(id, 0, bytes)?;
        inner.sync_file(id)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let inner = self.inner.lock();
        Ok(inner.file(inner.lookup(path)?)?.live.clone())
    }

    fn map(&self, path: &Path) -> io::Result<FileBytes> {
        Ok(FileBytes::from(self.read(path)?))
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        let inner = self.inner.lock();
        Ok(inner.file(inner.lookup(path)?)?.live.len() as u64)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let (from_dir, from_name) = inner.parent_of(from)?;
        let (to_dir, to_name) = inner.parent_of(to)?;
        if let Some(&old) = inner.dir(to_dir)?.live.get(&to_name)
            && inner.dir(old).is_ok_and(|d| !d.live.is_empty())
        {
            return Err(io::Error::new(
                io::ErrorKind::DirectoryNotEmpty,
                format!("{}: directory not empty", to.display()),
            ));
        }
        let id = inner
            .dir_mut(from_dir)?
            .live
            .remove(&from_name)
            .ok_or_else(|| not_found(from))?;
        inner.dir_mut(to_dir)?.live.insert(to_name, id);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let id = inner.lookup(path)?;
        inner.file(id)?;
        let (parent, name) = inner.parent_of(path)?;
        inner.dir_mut(parent)?.live.remove(&name);
        Ok(())
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        inner.mutate()?;
        let id = inner.lookup(path)?;
        inner.dir(id)?;
        let (parent, name) = inner.parent_of(path)?;
        inner.dir_mut(parent)?.live.remove(&name);
        Ok(())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut inner = self.inner.lock();
        let id = inner.lookup(path)?;
        inner.dir(id)?;
        inner.sync_fault()?;
        let dir = inner.dir_mut(id)?;
        dir.durable = dir.live.clone();
        Ok(())
    }

    fn dir_storage(&self, path: &Path) -> io::Result<Arc<dyn Storage>> {
        self.create_dirs_synced(path)?;
        Ok(Arc::new(MemDir::new(self.clone(), path)))
    }

    fn try_lock(&self, _path: &Path) -> io::Result<Option<DirLock>> {
        Ok(Some(DirLock::in_memory()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_survives_a_crash_only_once_its_parent_is_synced() {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/db/blocks")).unwrap();
        fs.write_synced(Path::new("/db/blocks/a"), b"data").unwrap();
        // The file is synced, its directory entries are not.
        assert!(!fs.crash_image().is_dir(Path::new("/db")));
        fs.sync_dir(Path::new("/")).unwrap();
        assert!(!fs.crash_image().is_dir(Path::new("/db/blocks")));
        fs.sync_dir(Path::new("/db")).unwrap();
        assert!(fs.crash_image().read(Path::new("/db/blocks/a")).is_err());
        fs.sync_dir(Path::new("/db/blocks")).unwrap();
        let image = fs.crash_image();
        assert_eq!(image.read(Path::new("/db/blocks/a")).unwrap(), b"data");
        // A rename is durable once the directories holding both names are synced.
        fs.create_dir_all(Path::new("/db/tmp")).unwrap();
        fs.rename(Path::new("/db/tmp"), Path::new("/db/final"))
            .unwrap();
        assert!(!fs.crash_image().is_dir(Path::new("/db/final")));
        fs.sync_dir(Path::new("/db")).unwrap();
        assert!(fs.crash_image().is_dir(Path::new("/db/final")));
    }

    #[test]
    fn publish_dir_leaves_nothing_behind_when_a_step_fails() {
        let files: [(&str, &[u8]); 2] = [("one", b"1"), ("two", b"2")];
        let clean = MemFs::new();
        clean.create_dirs_synced(Path::new("/p")).unwrap();
        let before = clean.mutating_ops();
        clean
            .publish_dir(Path::new("/p/.tmp"), Path::new("/p/d"), &files)
            .unwrap();
        let steps = clean.mutating_ops() - before;
        for k in 0..steps {
            let fs = MemFs::new();
            fs.create_dirs_synced(Path::new("/p")).unwrap();
            fs.fail_operation(fs.mutating_ops() + k, io::ErrorKind::StorageFull);
            let (path, e) = fs
                .publish_dir(Path::new("/p/.tmp"), Path::new("/p/d"), &files)
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::StorageFull, "step {k}: {path:?}");
            assert!(fs.list_dir(Path::new("/p")).unwrap().is_empty(), "step {k}");
            fs.publish_dir(Path::new("/p/.tmp"), Path::new("/p/d"), &files)
                .unwrap();
            let image = fs.crash_image();
            assert_eq!(image.read(Path::new("/p/d/two")).unwrap(), b"2", "step {k}");
        }
    }

    #[test]
    fn a_failed_directory_creation_is_undone_and_retried_durably() {
        let fs = MemFs::new();
        fs.create_dirs_synced(Path::new("/db")).unwrap();
        // The sync after creating `/db/spans` fails: the directory goes again.
        fs.fail_operation(fs.mutating_ops() + 1, io::ErrorKind::Other);
        assert!(fs.create_dirs_synced(Path::new("/db/spans")).is_err());
        assert!(!fs.is_dir(Path::new("/db/spans")));
        fs.create_dirs_synced(Path::new("/db/spans")).unwrap();
        assert!(fs.crash_image().is_dir(Path::new("/db/spans")));
    }
}
