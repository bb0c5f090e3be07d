//! Synced file writes: what every file the engine writes outside the WAL goes through.
//!
//! The protocol for a durable new file (`docs/format/block.md`, "Assumptions"): write it,
//! `fsync` it, rename it into place (or rename its directory), `fsync` the parent directory.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Creates (or truncates) `path`, writes `bytes` and fsyncs the file.
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes the creates, renames and removes in directory `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Replaces `dir/name` with `bytes` atomically: writes and fsyncs `dir/name.tmp`, renames it
/// over `dir/name`, fsyncs `dir`. A crash leaves the old file or the new one, never a mix.
pub fn replace_synced(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_synced_replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("strata-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        replace_synced(&dir, "cfg", b"one").unwrap();
        replace_synced(&dir, "cfg", b"two").unwrap();
        assert_eq!(std::fs::read(dir.join("cfg")).unwrap(), b"two");
        assert!(!dir.join("cfg.tmp").exists());
        assert!(write_synced(&dir.join("missing/x"), b"").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
