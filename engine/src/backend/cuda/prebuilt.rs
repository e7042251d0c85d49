//! CUDA kernels compiled ahead of time (`veribatch kernels compile --target cuda --out
//! DIR`): one CUBIN per architecture and a manifest, so that a GPU machine runs the
//! kernels with no NVRTC present (`--cuda-kernels DIR`, `VERIBATCH_CUDA_KERNELS`).
//!
//! A CUBIN is code every verification trusts (one whose MSM returns the identity would
//! make every BLS batch hold), so a folder is used only as installed: the folder, the
//! manifest and each CUBIN owned by this user or root, writable by no one else, no
//! symbolic links, no folder above them others could use to swap them (the checks of
//! the NVRTC cache, [`super::cubin_cache`]). Within such a folder the manifest names the
//! SHA-256 of the translation unit and of each CUBIN: a folder compiled from other
//! sources (other kernels than the ones tested) or a damaged file is refused. The
//! checksums catch damage and mix-ups; the ownership checks keep others from planting.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CudaError;
use super::nvrtc::{self, Output};

/// The manifest's file name inside a kernel folder.
pub const MANIFEST: &str = "manifest.json";
const SCHEMA: &str = "veribatch-cuda-kernels/1";

/// What a kernel folder holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    /// SHA-256 of the CUDA translation unit the CUBINs were compiled from.
    pub source_sha256: String,
    /// The NVRTC that compiled them, e.g. "12.9".
    pub nvrtc_version: String,
    pub kernels: Vec<Entry>,
}

/// One architecture's CUBIN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `sm_80`, `sm_90`, …
    pub arch: String,
    /// The file's name inside the folder.
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Why a kernel folder cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrebuiltError {
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{path}: not a kernel manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(
        "{dir}: compiled from other CUDA sources (source SHA-256 {found}, this binary's is {expected}): compile them again with this binary"
    )]
    OtherSources {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{dir}: no CUBIN for {arch} (the folder has: {available})")]
    NoArch {
        dir: PathBuf,
        arch: String,
        available: String,
    },
    #[error("{path}: SHA-256 {found} is not the manifest's {expected}: the file was changed")]
    Checksum {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{0:?} is not a file name inside the folder")]
    BadName(String),
    #[error("not used: {0}")]
    Untrusted(String),
}

/// [`super::cubin_cache::installed`], as a refusal.
fn installed(path: &Path) -> Result<(), PrebuiltError> {
    super::cubin_cache::installed(path).map_err(|e| PrebuiltError::Untrusted(e.to_string()))
}

/// SHA-256 of the CUDA translation unit this binary compiles and launches.
pub fn source_sha256() -> Result<String, CudaError> {
    let source = veribatch_kernels::cuda::translation_unit()?;
    Ok(hex::encode(Sha256::digest(source.as_bytes())))
}

/// Compiles a CUBIN for each of `archs` into `dir` (created if missing), then writes the
/// manifest (an old one is removed first): a folder with a manifest is complete. Each file is written under a
/// temporary name and renamed.
pub fn compile_into(dir: &Path, archs: &[String]) -> Result<Manifest, CompileIntoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: io::Error| {
            CompileIntoError::Io(PrebuiltError::Io {
                path,
                reason: e.to_string(),
            })
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // An old manifest would vouch for a half-replaced folder if this fails midway.
    match std::fs::remove_file(dir.join(MANIFEST)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io(dir)(e)),
        _ => {}
    }
    let mut kernels = Vec::new();
    for arch in archs {
        let cubin = nvrtc::compile(arch, Output::Cubin).map_err(CompileIntoError::Compile)?;
        let file = format!("{arch}.cubin");
        write_atomically(&dir.join(&file), &cubin).map_err(io(&dir.join(&file)))?;
        kernels.push(Entry {
            arch: arch.clone(),
            file,
            sha256: hex::encode(Sha256::digest(&cubin)),
            bytes: cubin.len() as u64,
        });
    }
    let manifest = Manifest {
        schema: SCHEMA.to_string(),
        source_sha256: source_sha256().map_err(CompileIntoError::Compile)?,
        nvrtc_version: nvrtc::version().map_err(CompileIntoError::Compile)?,
        kernels,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let path = dir.join(MANIFEST);
    write_atomically(&path, &json).map_err(io(&path))?;
    Ok(manifest)
}

/// Why [`compile_into`] failed: NVRTC, or the folder.
#[derive(Debug, thiserror::Error)]
pub enum CompileIntoError {
    #[error(transparent)]
    Compile(CudaError),
    #[error(transparent)]
    Io(PrebuiltError),
}

/// Reads and checks `dir`'s manifest: its schema and that it was compiled from this
/// binary's sources.
pub fn manifest(dir: &Path) -> Result<Manifest, PrebuiltError> {
    let path = dir.join(MANIFEST);
    installed(dir)?;
    installed(&path)?;
    let bytes = std::fs::read(&path).map_err(|e| PrebuiltError::Io {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| PrebuiltError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if manifest.schema != SCHEMA {
        return Err(PrebuiltError::Manifest {
            path,
            reason: format!("schema {:?}, expected {SCHEMA:?}", manifest.schema),
        });
    }
    let expected = source_sha256().map_err(|e| PrebuiltError::Manifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if manifest.source_sha256 != expected {
        return Err(PrebuiltError::OtherSources {
            dir: dir.to_path_buf(),
            found: manifest.source_sha256,
            expected,
        });
    }
    Ok(manifest)
}

/// The entry a device of `arch` runs: its own architecture, else the newest of the same
/// major version not newer than it (a CUBIN runs on later minor versions of its major
/// one: sm_80's on sm_86 and sm_89, never sm_80's on sm_90).
pub fn entry_for<'m>(manifest: &'m Manifest, arch: &str) -> Option<&'m Entry> {
    let (major, minor) = arch_version(arch)?;
    manifest
        .kernels
        .iter()
        .filter_map(|e| Some((e, arch_version(&e.arch)?)))
        .filter(|(_, (ma, mi))| *ma == major && *mi <= minor)
        .max_by_key(|(_, version)| *version)
        .map(|(e, _)| e)
}

/// `sm_86` → (8, 6); `sm_100` → (10, 0).
fn arch_version(arch: &str) -> Option<(u32, u32)> {
    let digits = arch.strip_prefix("sm_")?;
    if !(2..=3).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The CUBIN for a device of `arch` from `dir`, checked against the manifest.
pub fn load(dir: &Path, arch: &str) -> Result<Vec<u8>, PrebuiltError> {
    let manifest = manifest(dir)?;
    let entry = entry_for(&manifest, arch).ok_or_else(|| PrebuiltError::NoArch {
        dir: dir.to_path_buf(),
        arch: arch.to_string(),
        available: Archs(&manifest).to_string(),
    })?;
    let plain_name = Path::new(&entry.file)
        .file_name()
        .is_some_and(|name| name == entry.file.as_str());
    if !plain_name {
        return Err(PrebuiltError::BadName(entry.file.clone()));
    }
    let path = dir.join(&entry.file);
    installed(&path)?;
    let cubin = std::fs::read(&path).map_err(|e| PrebuiltError::Io {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let found = hex::encode(Sha256::digest(&cubin));
    if found != entry.sha256 {
        return Err(PrebuiltError::Checksum {
            path,
            found,
            expected: entry.sha256.clone(),
        });
    }
    Ok(cubin)
}

/// The folder `VERIBATCH_CUDA_KERNELS` names, if any.
pub fn dir_from_env() -> Option<PathBuf> {
    std::env::var_os("VERIBATCH_CUDA_KERNELS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A manifest's architectures, for messages.
struct Archs<'m>(&'m Manifest);

impl fmt::Display for Archs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let archs: Vec<&str> = self.0.kernels.iter().map(|e| e.arch.as_str()).collect();
        if archs.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&archs.join(", "))
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_of(archs: &[&str]) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            source_sha256: source_sha256().unwrap(),
            nvrtc_version: "12.9".into(),
            kernels: archs
                .iter()
                .map(|a| Entry {
                    arch: a.to_string(),
                    file: format!("{a}.cubin"),
                    sha256: String::new(),
                    bytes: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_device_runs_its_own_arch_or_an_older_minor_of_its_major() {
        let m = manifest_of(&["sm_80", "sm_86", "sm_90"]);
        let pick = |arch| entry_for(&m, arch).map(|e| e.arch.as_str());
        assert_eq!(pick("sm_80"), Some("sm_80"));
        assert_eq!(pick("sm_89"), Some("sm_86"));
        assert_eq!(pick("sm_90"), Some("sm_90"));
        assert_eq!(pick("sm_75"), None);
        assert_eq!(pick("sm_100"), None);
        assert_eq!(pick("gfx90a"), None);
    }

    /// A folder written by hand (as `compile_into` writes one, without NVRTC): it loads,
    /// and a changed CUBIN, a manifest of other sources and a missing arch are refused.
    #[test]
    fn a_tampered_folder_is_refused_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("veribatch-prebuilt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cubin = b"\x7fELF not really a cubin".to_vec();
        let mut m = manifest_of(&["sm_90"]);
        m.kernels[0].sha256 = hex::encode(Sha256::digest(&cubin));
        std::fs::write(dir.join("sm_90.cubin"), &cubin).unwrap();
        let write = |m: &Manifest| {
            std::fs::write(dir.join(MANIFEST), serde_json::to_vec(m).unwrap()).unwrap()
        };
        write(&m);
        assert_eq!(load(&dir, "sm_90").unwrap(), cubin);

        assert!(matches!(
            load(&dir, "sm_80"),
            Err(PrebuiltError::NoArch { .. })
        ));

        let mut changed = cubin.clone();
        changed[5] ^= 1;
        std::fs::write(dir.join("sm_90.cubin"), &changed).unwrap();
        let error = load(&dir, "sm_90").unwrap_err();
        assert!(matches!(error, PrebuiltError::Checksum { .. }), "{error}");
        assert!(error.to_string().contains("was changed"));

        let mut other = m.clone();
        other.source_sha256 = "00".repeat(32);
        write(&other);
        assert!(matches!(
            load(&dir, "sm_90"),
            Err(PrebuiltError::OtherSources { .. })
        ));

        let mut escaping = m.clone();
        escaping.kernels[0].file = "../sm_90.cubin".into();
        write(&escaping);
        assert!(matches!(
            load(&dir, "sm_90"),
            Err(PrebuiltError::BadName(_))
        ));

        std::fs::write(dir.join(MANIFEST), b"{").unwrap();
        assert!(matches!(
            load(&dir, "sm_90"),
            Err(PrebuiltError::Manifest { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
