//! The on-disk cache of compiled CUBINs, trusted the way ssh trusts `~/.ssh`.
//!
//! A CUBIN is code the GPU runs on every verification: whoever can write the cache can
//! plant a kernel whose MSM returns the identity, which makes every BLS batch hold. So the
//! cache is used only while nobody else can write it:
//! - the folder is created owner-only (0700); a folder that another user owns or that
//!   group or others may write is refused, and so is a folder above it that group or
//!   others may write without the sticky bit (they could swap the folder), or that
//!   belongs to neither root nor this user;
//! - each CUBIN is written owner-only (0600) by rename, with its SHA-256 in a file beside
//!   it; a CUBIN that another user owns, that others may write, or that does not match its
//!   recorded digest is not loaded (it is compiled again and replaced).
//!
//! The digest catches torn and corrupted files; the permissions keep other users out. A
//! process running as this user can always replace both, as it can replace the binary.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Why a cache folder is not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheRefused {
    #[error("cannot create or read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} belongs to user {owner}, not to this user ({uid})")]
    Owner { path: PathBuf, owner: u32, uid: u32 },
    #[error("{path} can be written by other users (mode {mode:o})")]
    Writable { path: PathBuf, mode: u32 },
    #[error("{path} is a symbolic link")]
    Link { path: PathBuf },
    #[cfg_attr(unix, allow(dead_code))]
    #[error("the CUBIN cache needs Unix permissions, which this platform lacks")]
    Unsupported,
}

/// Whether `path` (a folder or file of kernels compiled ahead of time) is as installed
/// by this user or root: owned by one of them, writable by no one else, not a symbolic
/// link, and below no folder others could use to swap it.
pub fn installed(path: &Path) -> Result<(), CacheRefused> {
    checks::installed(path)
}

/// A cache folder that passed the checks.
pub struct CubinCache {
    dir: PathBuf,
}

impl CubinCache {
    /// The cache in `dir`, created owner-only if missing, or why it cannot be trusted.
    pub fn open(dir: PathBuf) -> Result<Self, CacheRefused> {
        checks::create_private_dir(&dir)?;
        checks::trusted_dir(&dir)?;
        Ok(Self { dir })
    }

    fn paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let cubin = self.dir.join(name);
        let digest = self.dir.join(format!("{name}.sha256"));
        (cubin, digest)
    }

    /// The CUBIN stored as `name`, if it is private to this user and matches its digest.
    pub fn load(&self, name: &str) -> Option<Vec<u8>> {
        let (cubin_path, digest_path) = self.paths(name);
        if !cubin_path.exists() {
            return None;
        }
        let loaded = checks::trusted_file(&cubin_path)
            .and_then(|()| checks::trusted_file(&digest_path))
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let cubin = std::fs::read(&cubin_path).map_err(|e| e.to_string())?;
                let recorded = std::fs::read_to_string(&digest_path).map_err(|e| e.to_string())?;
                if recorded.trim() == hex::encode(Sha256::digest(&cubin)) {
                    Ok(cubin)
                } else {
                    Err("its SHA-256 differs from the one recorded beside it".into())
                }
            });
        match loaded {
            Ok(cubin) => Some(cubin),
            Err(reason) => {
                tracing::warn!(path = %cubin_path.display(), %reason, "cached CUDA kernels refused; compiling them again");
                None
            }
        }
    }

    /// Stores `cubin` as `name` (owner-only, by rename), its digest first.
    pub fn store(&self, name: &str, cubin: &[u8]) -> io::Result<()> {
        let (cubin_path, digest_path) = self.paths(name);
        let digest = hex::encode(Sha256::digest(cubin));
        checks::write_private(&digest_path, digest.as_bytes())?;
        checks::write_private(&cubin_path, cubin)
    }
}

#[cfg(unix)]
mod checks {
    use std::fs::{DirBuilder, OpenOptions};
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};

    use super::*;

    const OTHERS_WRITE: u32 = 0o022;
    const STICKY: u32 = 0o1000;

    fn uid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    fn metadata(path: &Path) -> Result<std::fs::Metadata, CacheRefused> {
        std::fs::metadata(path).map_err(|source| CacheRefused::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn create_private_dir(dir: &Path) -> Result<(), CacheRefused> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| CacheRefused::Io {
                path: dir.to_path_buf(),
                source,
            })
    }

    /// Owned by this user and writable by nobody else, with no folder above it that
    /// others could use to swap it.
    pub fn trusted_dir(dir: &Path) -> Result<(), CacheRefused> {
        trusted_file(dir)?;
        no_swap_above(dir)
    }

    /// No folder above `path` belongs to another user (root aside) or may be written
    /// by others without the sticky bit: none could be used to swap `path`.
    fn no_swap_above(path: &Path) -> Result<(), CacheRefused> {
        let canonical = std::fs::canonicalize(path).map_err(|source| CacheRefused::Io {
            path: path.to_path_buf(),
            source,
        })?;
        for ancestor in canonical.ancestors().skip(1) {
            let meta = metadata(ancestor)?;
            owned_by_user_or_root(ancestor, &meta)?;
            let mode = meta.mode();
            if mode & OTHERS_WRITE != 0 && mode & STICKY == 0 {
                return Err(CacheRefused::Writable {
                    path: ancestor.to_path_buf(),
                    mode: mode & 0o7777,
                });
            }
        }
        Ok(())
    }

    fn owned_by_user_or_root(path: &Path, meta: &std::fs::Metadata) -> Result<(), CacheRefused> {
        let owner = meta.uid();
        if owner != 0 && owner != uid() {
            return Err(CacheRefused::Owner {
                path: path.to_path_buf(),
                owner,
                uid: uid(),
            });
        }
        Ok(())
    }

    /// Owned by this user or by root, writable by no other user, and not a symbolic
    /// link; for a folder, no folder above it that others could use to swap it. (Kernels
    /// compiled ahead of time are often installed by root and run by a service user.)
    pub fn installed(path: &Path) -> Result<(), CacheRefused> {
        let link = std::fs::symlink_metadata(path).map_err(|source| CacheRefused::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if link.file_type().is_symlink() {
            return Err(CacheRefused::Link {
                path: path.to_path_buf(),
            });
        }
        owned_by_user_or_root(path, &link)?;
        if link.mode() & OTHERS_WRITE != 0 {
            return Err(CacheRefused::Writable {
                path: path.to_path_buf(),
                mode: link.mode() & 0o7777,
            });
        }
        no_swap_above(path)
    }

    /// Owned by this user and writable by nobody else.
    pub fn trusted_file(path: &Path) -> Result<(), CacheRefused> {
        let meta = metadata(path)?;
        if meta.uid() != uid() {
            return Err(CacheRefused::Owner {
                path: path.to_path_buf(),
                owner: meta.uid(),
                uid: uid(),
            });
        }
        if meta.mode() & OTHERS_WRITE != 0 {
            return Err(CacheRefused::Writable {
                path: path.to_path_buf(),
                mode: meta.mode() & 0o7777,
            });
        }
        Ok(())
    }

    /// Writes `bytes` to `path` whole: to a fresh owner-only file, then renamed over it.
    pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
        // A name no other writer uses (process, thread and a random tag), created new.
        let mut tag = [0u8; 8];
        let _ = getrandom::fill(&mut tag);
        let partial = path.with_extension(format!(
            "{}.{}.partial",
            std::process::id(),
            hex::encode(tag)
        ));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&partial, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }
}

#[cfg(not(unix))]
mod checks {
    use super::*;

    pub fn create_private_dir(_: &Path) -> Result<(), CacheRefused> {
        Err(CacheRefused::Unsupported)
    }

    pub fn trusted_dir(_: &Path) -> Result<(), CacheRefused> {
        Err(CacheRefused::Unsupported)
    }

    pub fn installed(_: &Path) -> Result<(), CacheRefused> {
        Err(CacheRefused::Unsupported)
    }

    pub fn trusted_file(_: &Path) -> Result<(), CacheRefused> {
        Err(CacheRefused::Unsupported)
    }

    pub fn write_private(_: &Path, _: &[u8]) -> io::Result<()> {
        Err(io::Error::other("no Unix permissions"))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("veribatch-cubins-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_new_cache_is_owner_only_and_round_trips_with_its_digest() {
        let dir = scratch("round-trip").join("nested/cache");
        let cache = CubinCache::open(dir.clone()).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        cache.store("k.cubin", b"\x7fELF kernels").unwrap();
        assert_eq!(
            std::fs::metadata(dir.join("k.cubin")).unwrap().mode() & 0o777,
            0o600
        );
        let digest = std::fs::read_to_string(dir.join("k.cubin.sha256")).unwrap();
        assert_eq!(digest, hex::encode(Sha256::digest(b"\x7fELF kernels")));
        assert_eq!(
            cache.load("k.cubin").as_deref(),
            Some(&b"\x7fELF kernels"[..])
        );
        assert_eq!(cache.load("absent.cubin"), None);
        let _ = std::fs::remove_dir_all(scratch("round-trip"));
    }

    #[test]
    fn a_planted_or_torn_cubin_is_not_loaded() {
        let dir = scratch("planted");
        let cache = CubinCache::open(dir.clone()).unwrap();
        cache.store("k.cubin", b"\x7fELF real").unwrap();
        // Replaced without its digest (a plant, or a torn write): refused.
        std::fs::write(dir.join("k.cubin"), b"\x7fELF identity MSM").unwrap();
        assert_eq!(cache.load("k.cubin"), None);
        // No digest at all: refused.
        cache.store("k.cubin", b"\x7fELF real").unwrap();
        std::fs::remove_file(dir.join("k.cubin.sha256")).unwrap();
        assert_eq!(cache.load("k.cubin"), None);
        // Writable by others: refused even with the right digest.
        cache.store("k.cubin", b"\x7fELF real").unwrap();
        chmod(&dir.join("k.cubin"), 0o666);
        assert_eq!(cache.load("k.cubin"), None);
        chmod(&dir.join("k.cubin"), 0o600);
        assert!(cache.load("k.cubin").is_some());
        // Owned by another user (only root can make one here).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(dir.join("k.cubin"), Some(12345), None).unwrap();
            assert_eq!(cache.load("k.cubin"), None);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn folders_others_can_write_are_refused() {
        let dir = scratch("shared");
        CubinCache::open(dir.clone()).unwrap();
        chmod(&dir, 0o777);
        assert!(matches!(
            CubinCache::open(dir.clone()),
            Err(CacheRefused::Writable { .. })
        ));
        // A private folder inside one others may write (without the sticky bit).
        let inner = dir.join("cache");
        assert!(matches!(
            CubinCache::open(inner.clone()),
            Err(CacheRefused::Writable { path, .. }) if path.ends_with(dir.file_name().unwrap())
        ));
        // With the sticky bit (as /tmp has), nobody else can swap the folder.
        chmod(&dir, 0o1777);
        assert!(CubinCache::open(inner).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
