//! Registered keys kept on disk (`--groth16-key-store DIR`), so that a restarted replica,
//! or another replica sharing the directory, verifies a key id without the key being
//! registered again.
//!
//! A key is written as `KEYID.key` (its id in hex) holding its canonical encoding
//! (arkworks compressed), to a temporary file that is synced and then renamed into place,
//! so a reader never sees half a key. A key read back is validated again and must have
//! the id its name says: the directory is trusted no more than a caller.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{DegenerateKeys, KeyFormat, KeyId, PreparedKey};

/// Why the store could not keep or give back a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid key: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// A directory of keys by id.
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    /// Names the temporary files of concurrent writes apart.
    writes: AtomicU64,
}

impl KeyStore {
    /// The store in `dir`, created if missing; fails if it cannot be written.
    pub fn open(dir: &Path) -> Result<Self, KeyStoreError> {
        let io = |source| KeyStoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(io)?;
        std::fs::remove_file(&probe).map_err(io)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            writes: AtomicU64::new(0),
        })
    }

    fn path(&self, id: &KeyId) -> PathBuf {
        self.dir.join(format!("{}.key", hex::encode(id)))
    }

    /// Writes `key` (atomically; a key already there is left as it is).
    pub fn save(&self, key: &PreparedKey) -> Result<(), KeyStoreError> {
        let path = self.path(key.id());
        if path.exists() {
            return Ok(());
        }
        let n = self.writes.fetch_add(1, Ordering::Relaxed);
        let temporary = self.dir.join(format!(
            ".{}.{}-{n}.tmp",
            hex::encode(key.id()),
            std::process::id()
        ));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&key.key().canonical_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            // The rename is durable once the directory is synced.
            std::fs::File::open(&self.dir)?.sync_all()
        })();
        written.map_err(|source| {
            let _ = std::fs::remove_file(&temporary);
            KeyStoreError::Io {
                path: path.clone(),
                source,
            }
        })
    }

    /// The key with id `id`, if the store has it, validated again.
    pub fn load(
        &self,
        id: &KeyId,
        degenerate: DegenerateKeys,
    ) -> Result<Option<PreparedKey>, KeyStoreError> {
        let path = self.path(id);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(KeyStoreError::Io { path, source }),
        };
        let corrupt = |reason: String| KeyStoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let key = KeyFormat::Arkworks
            .parse_key_with(&bytes, degenerate)
            .map_err(|e| corrupt(e.to_string()))?;
        let key = PreparedKey::new(key);
        if key.id() != id {
            return Err(corrupt(format!(
                "it holds the key {}",
                hex::encode(key.id())
            )));
        }
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("veribatch-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn key() -> PreparedKey {
        PreparedKey::new(
            KeyFormat::SnarkjsJson
                .parse_key(crate::workload::GROTH16_KEY)
                .unwrap(),
        )
    }

    #[test]
    fn a_saved_key_loads_back_by_its_id_and_nothing_else_does() {
        let dir = scratch("roundtrip");
        let store = KeyStore::open(&dir).unwrap();
        let key = key();
        assert!(
            store
                .load(key.id(), DegenerateKeys::Refuse)
                .unwrap()
                .is_none()
        );
        store.save(&key).unwrap();
        store.save(&key).unwrap(); // again: left as it is
        let loaded = store
            .load(key.id(), DegenerateKeys::Refuse)
            .unwrap()
            .unwrap();
        assert_eq!(loaded.key(), key.key());
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");

        // A file whose content is another key (or garbage) is refused, not trusted.
        let other = [7u8; 32];
        std::fs::copy(store.path(key.id()), store.path(&other)).unwrap();
        let error = store.load(&other, DegenerateKeys::Refuse).unwrap_err();
        assert!(error.to_string().contains("it holds the key"), "{error}");
        std::fs::write(store.path(&other), b"not a key").unwrap();
        assert!(matches!(
            store.load(&other, DegenerateKeys::Refuse),
            Err(KeyStoreError::Corrupt { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
