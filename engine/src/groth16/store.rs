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
}

/// A name no other writer uses: replicas sharing the directory may all be process 1 (in
/// their containers), so the name is random.
fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    format!(".{prefix}-{}.tmp", hex::encode(bytes))
}

impl KeyStore {
    /// The store in `dir`, created if missing; fails if it cannot be written.
    pub fn open(dir: &Path) -> Result<Self, KeyStoreError> {
        let io = |source| KeyStoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let probe = dir.join(unique("probe"));
        std::fs::write(&probe, b"").map_err(io)?;
        std::fs::remove_file(&probe).map_err(io)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, id: &KeyId) -> PathBuf {
        self.dir.join(format!("{}.key", hex::encode(id)))
    }

    /// Writes `key` (atomically). A file already there is left as it is if it holds
    /// the key, and replaced if it does not (a file damaged on disk is repaired).
    pub fn save(&self, key: &PreparedKey) -> Result<(), KeyStoreError> {
        let path = self.path(key.id());
        let bytes = key.key().canonical_bytes();
        // The key's own bytes there already: nothing to do (a plain file of the right
        // length is compared, so a link or a huge file is never read).
        let held = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
            && std::fs::read(&path).is_ok_and(|held| held == bytes);
        if held {
            return Ok(());
        }
        let temporary = self.dir.join(unique(&hex::encode(key.id())));
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(&bytes)?;
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

    /// The key with id `id`, if the store has it, validated again. The file must be a
    /// plain file (not a link) no larger than a key of `max_ic_points` IC points, so
    /// that the directory cannot make the server read without bound.
    pub fn load(
        &self,
        id: &KeyId,
        degenerate: DegenerateKeys,
        max_ic_points: usize,
    ) -> Result<Option<PreparedKey>, KeyStoreError> {
        let path = self.path(id);
        let corrupt = |reason: String| KeyStoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let io = |source| KeyStoreError::Io {
            path: path.clone(),
            source,
        };
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io(source)),
        };
        // α, β, γ, δ compressed, the IC count, then the IC points.
        let largest = 48 + 3 * 96 + 8 + 48 * max_ic_points as u64;
        if !metadata.is_file() {
            return Err(corrupt("not a plain file".into()));
        }
        if metadata.len() > largest {
            return Err(corrupt(format!(
                "{} bytes; a key of at most {max_ic_points} IC points is at most {largest}",
                metadata.len()
            )));
        }
        let bytes = std::fs::read(&path).map_err(io)?;
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
                .parse_key(crate::selftest::inputs::GROTH16_KEY)
                .unwrap(),
        )
    }

    #[test]
    fn a_saved_key_loads_back_by_its_id_and_nothing_else_does() {
        let dir = scratch("roundtrip");
        let store = KeyStore::open(&dir).unwrap();
        let key = key();
        let load = |id| store.load(id, DegenerateKeys::Refuse, 16);
        assert!(load(key.id()).unwrap().is_none());
        store.save(&key).unwrap();
        store.save(&key).unwrap(); // again: left as it is
        let loaded = load(key.id()).unwrap().unwrap();
        assert_eq!(loaded.key(), key.key());
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");

        // A file whose content is another key (or garbage) is refused, not trusted.
        let other = [7u8; 32];
        std::fs::copy(store.path(key.id()), store.path(&other)).unwrap();
        let error = load(&other).unwrap_err();
        assert!(error.to_string().contains("it holds the key"), "{error}");
        std::fs::write(store.path(&other), b"not a key").unwrap();
        assert!(matches!(load(&other), Err(KeyStoreError::Corrupt { .. })));
        // Larger than any key within the limit, or a link: refused before it is read.
        std::fs::write(store.path(&other), vec![0u8; 4096]).unwrap();
        let error = load(&other).unwrap_err();
        assert!(error.to_string().contains("4096 bytes"), "{error}");
        std::fs::remove_file(store.path(&other)).unwrap();
        std::os::unix::fs::symlink(store.path(key.id()), store.path(&other)).unwrap();
        let error = load(&other).unwrap_err();
        assert!(error.to_string().contains("not a plain file"), "{error}");

        // A damaged file is repaired by the next save of its key.
        std::fs::write(store.path(key.id()), b"damaged").unwrap();
        assert!(load(key.id()).is_err());
        store.save(&key).unwrap();
        assert!(load(key.id()).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
