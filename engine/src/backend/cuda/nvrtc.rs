//! Compiling the CUDA kernels at run time with NVRTC: PTX for a named architecture
//! (`veribatch kernels compile --target cuda`), or a CUBIN for the exact device the
//! backend opens, so that no PTX is left for the driver to JIT (a PTX newer than the
//! driver would be refused).

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::cubin_cache::CubinCache;
use super::nvrtc_lib::{self, Nvrtc};
use super::{CudaError, guarded};

/// What NVRTC is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Ptx,
    Cubin,
}

/// Whether NVRTC can be loaded ([`nvrtc_lib::CANDIDATES`]).
pub fn present() -> bool {
    nvrtc_lib::get().is_some()
}

/// The NVRTC library loaded (one of [`nvrtc_lib::CANDIDATES`]), if any.
pub fn library_name() -> Option<&'static str> {
    nvrtc_lib::get().map(|lib| lib.name)
}

fn library() -> Result<&'static Nvrtc, CudaError> {
    nvrtc_lib::get().ok_or(CudaError::NoNvrtc)
}

/// NVRTC's version, e.g. "12.9".
pub fn version() -> Result<String, CudaError> {
    let lib = library()?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the pointers are to live integers.
    let status = unsafe { (lib.version)(&mut major, &mut minor) };
    lib.check("nvrtcVersion", status)?;
    Ok(format!("{major}.{minor}"))
}

/// Compiles every kernel of `kernels/cuda` for `arch` (`sm_80`, `sm_90`, …).
pub fn compile(arch: &str, output: Output) -> Result<Vec<u8>, CudaError> {
    guarded(|| compile_unguarded(arch, output))
}

fn compile_unguarded(arch: &str, output: Output) -> Result<Vec<u8>, CudaError> {
    let lib = library()?;
    if !is_arch(arch) {
        return Err(CudaError::NotAnArchitecture(arch.to_string()));
    }
    let source = veribatch_kernels::cuda::translation_unit()?;
    let source = CString::new(source).map_err(|_| CudaError::NulInSource)?;
    let program = Program::create(lib, &source)?;
    let options = [
        CString::new(format!("--gpu-architecture={arch}")).expect("no NUL"),
        c"--std=c++17".to_owned(),
    ];
    let pointers: Vec<*const c_char> = options.iter().map(|o| o.as_ptr()).collect();
    // SAFETY: `program` is alive; `pointers` holds as many live C strings as it says.
    let status =
        unsafe { (lib.compile_program)(program.raw, pointers.len() as i32, pointers.as_ptr()) };
    if lib.check("nvrtcCompileProgram", status).is_err() {
        return Err(CudaError::Compile {
            arch: arch.to_string(),
            log: program.log(),
        });
    }
    match output {
        Output::Ptx => {
            let ptx = program.read("nvrtcGetPTX", lib.ptx_size, lib.ptx)?;
            // NVRTC counts the terminating NUL.
            Ok(ptx.split(|&b| b == 0).next().unwrap_or(&[]).to_vec())
        }
        Output::Cubin => program.read("nvrtcGetCUBIN", lib.cubin_size, lib.cubin),
    }
}

/// The CUBIN for `arch`, from the on-disk cache when this exact source was compiled
/// for it before by this NVRTC (NVRTC takes seconds), else compiled and cached. The
/// cache is `$VERIBATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/veribatch`, else
/// `~/.cache/veribatch`, used only while no other user can write it ([`CubinCache`]); a
/// cache that cannot be trusted, read or written is skipped with a warning.
pub fn cached_cubin(arch: &str) -> Result<Vec<u8>, CudaError> {
    cached_cubin_in(cache_dir(), arch)
}

fn cached_cubin_in(dir: Option<PathBuf>, arch: &str) -> Result<Vec<u8>, CudaError> {
    let source = veribatch_kernels::cuda::translation_unit()?;
    let key = Sha256::digest(format!("{arch}\n{}\n{source}", version()?));
    let name = format!("{arch}-{}.cubin", hex::encode(&key[..16]));
    let cache = dir.and_then(|dir| {
        CubinCache::open(dir)
            .map_err(|reason| tracing::warn!(%reason, "CUDA kernel cache not used"))
            .ok()
    });
    if let Some(cubin) = cache.as_ref().and_then(|c| c.load(&name)) {
        return Ok(cubin);
    }
    let cubin = compile(arch, Output::Cubin)?;
    if let Some(cache) = cache
        && let Err(error) = cache.store(&name, &cubin)
    {
        tracing::warn!(%name, %error, "CUDA kernels not cached");
    }
    Ok(cubin)
}

fn cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("VERIBATCH_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("veribatch")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/veribatch")))
}

/// `sm_` and two or three digits.
fn is_arch(arch: &str) -> bool {
    arch.strip_prefix("sm_").is_some_and(|digits| {
        (2..=3).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// An NVRTC program, destroyed on drop.
struct Program {
    lib: &'static Nvrtc,
    raw: nvrtc_lib::Program,
}

/// NVRTC's size-then-contents getter pair for one output.
type Getter<T> = unsafe extern "C" fn(nvrtc_lib::Program, *mut T) -> i32;

impl Program {
    fn create(lib: &'static Nvrtc, source: &CStr) -> Result<Self, CudaError> {
        let mut raw = std::ptr::null_mut();
        // SAFETY: `raw` receives the program; the strings are live and NUL-terminated;
        // no headers are passed.
        let status = unsafe {
            (lib.create_program)(
                &mut raw,
                source.as_ptr(),
                c"veribatch.cu".as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        lib.check("nvrtcCreateProgram", status)?;
        Ok(Self { lib, raw })
    }

    /// One of the program's outputs (its log, PTX or CUBIN), through NVRTC's size and
    /// contents functions for it.
    fn read(
        &self,
        what: &'static str,
        size_of: Getter<usize>,
        contents: Getter<c_char>,
    ) -> Result<Vec<u8>, CudaError> {
        let mut size = 0usize;
        // SAFETY: the program is alive; `size` is a live integer.
        let status = unsafe { size_of(self.raw, &mut size) };
        self.lib.check(what, status)?;
        let mut bytes = vec![0u8; size];
        // SAFETY: `bytes` has the `size` bytes NVRTC writes.
        let status = unsafe { contents(self.raw, bytes.as_mut_ptr().cast()) };
        self.lib.check(what, status)?;
        Ok(bytes)
    }

    fn log(&self) -> String {
        match self.read("nvrtcGetProgramLog", self.lib.log_size, self.lib.log) {
            Ok(log) => {
                String::from_utf8_lossy(log.split(|&b| b == 0).next().unwrap_or(&[])).into_owned()
            }
            Err(e) => format!("(no log: {e})"),
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: created by nvrtcCreateProgram and destroyed only here.
        let _ = unsafe { (self.lib.destroy_program)(&mut self.raw) };
    }
}

/// One kernel of a PTX module as `veribatch kernels compile --target cuda` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtxEntry {
    pub name: String,
    /// Bytes of PTX from its `.entry` line to its closing brace.
    pub bytes: usize,
}

/// The kernels of a PTX module and the size of each.
pub fn ptx_entries(ptx: &str) -> Vec<PtxEntry> {
    let mut entries = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut offset = 0;
    for line in ptx.split_inclusive('\n') {
        if let Some(at) = line.find(".entry ") {
            let name = line[at + 7..]
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_string();
            current = Some((name, offset));
        }
        offset += line.len();
        if line.trim_end() == "}"
            && let Some((name, start)) = current.take()
        {
            entries.push(PtxEntry {
                name,
                bytes: offset - start,
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_are_checked_before_nvrtc_runs() {
        assert!(is_arch("sm_80") && is_arch("sm_90") && is_arch("sm_100"));
        assert!(!is_arch("sm80") && !is_arch("compute_80") && !is_arch("sm_8x"));
    }

    #[test]
    fn ptx_entries_are_found_with_their_sizes() {
        let ptx = ".version 8.8\n.target sm_80\n\n.visible .entry sha256_blocks(\n.param .u64 a\n)\n{\nret;\n}\n\n.visible .entry g1_scale(\n)\n{\n}\n";
        let entries = ptx_entries(ptx);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["sha256_blocks", "g1_scale"]);
        assert_eq!(
            entries[0].bytes,
            ".visible .entry sha256_blocks(\n.param .u64 a\n)\n{\nret;\n}\n".len()
        );
    }

    /// Whether NVRTC can be loaded; says SKIPPED if not, and fails if it is required
    /// (VERIBATCH_REQUIRE_NVRTC, set under CI).
    fn nvrtc_here() -> bool {
        if !present() {
            eprintln!("SKIPPED: no NVRTC on the library path");
            assert!(
                std::env::var_os("VERIBATCH_REQUIRE_NVRTC").is_none(),
                "NVRTC required"
            );
        }
        present()
    }

    /// Runs where NVRTC is installed (ci/test.sh installs the pip wheel): the CUBIN the
    /// backend loads compiles and holds every kernel. (PTX for sm_80 and sm_90 is checked
    /// through `veribatch kernels compile --target cuda` in tests/cli.rs.)
    #[test]
    fn the_kernels_compile_to_a_cubin_where_nvrtc_is_present() {
        if !nvrtc_here() {
            return;
        }
        let cubin = compile("sm_90", Output::Cubin).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&cubin[..4], b"\x7fELF", "a CUBIN is an ELF image");
        for kernel in veribatch_kernels::cuda::Kernel::ALL {
            let kernel = kernel.name();
            let symbol = format!("{kernel}\0");
            assert!(
                cubin.windows(symbol.len()).any(|w| w == symbol.as_bytes()),
                "{kernel} missing from the CUBIN"
            );
        }
        assert!(matches!(
            compile("sm_9", Output::Ptx),
            Err(CudaError::NotAnArchitecture(_))
        ));
    }

    /// The second open of a device reads the CUBIN from the cache instead of compiling.
    #[test]
    fn cubins_are_cached_on_disk_where_nvrtc_is_present() {
        if !nvrtc_here() {
            return;
        }
        let dir =
            std::env::temp_dir().join(format!("veribatch-cubin-cache-{}", std::process::id()));
        let first = cached_cubin_in(Some(dir.clone()), "sm_80").unwrap_or_else(|e| panic!("{e}"));
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 2, "the CUBIN and its digest: {files:?}");
        let cubin = files
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == "cubin"));
        let cubin = cubin.expect("a .cubin file");
        let cached = |dir: &PathBuf| cached_cubin_in(Some(dir.clone()), "sm_80").unwrap();
        assert_eq!(cached(&dir), first, "the second call reads the cache");
        // A planted file under the same name does not match its recorded digest: it is
        // compiled over, never loaded.
        std::fs::write(cubin, b"\x7fELF planted").unwrap();
        assert_eq!(cached(&dir), first);
        assert_eq!(
            std::fs::read(cubin).unwrap(),
            first,
            "the plant was replaced"
        );
        assert!(first.starts_with(b"\x7fELF"), "a CUBIN is an ELF image");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
