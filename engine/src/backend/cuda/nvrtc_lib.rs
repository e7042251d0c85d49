//! NVRTC, loaded by this crate: the CUDA 12 library (`libnvrtc.so.12`), else the CUDA 13
//! one (`libnvrtc.so.13`), else an unversioned `libnvrtc.so`, so that a machine with only
//! a newer toolkit works. (cudarc's loader knows the names of the CUDA version it was
//! built for and older ones only.) CUDA 12 comes first: its CUBINs load on CUDA 12 and
//! 13 drivers alike, and it still compiles for Volta, which CUDA 13 dropped. The few
//! functions used have had the same C signatures since CUDA 11.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;

use super::CudaError;

/// The library names tried, in order.
pub const CANDIDATES: [&str; 3] = ["libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so"];

type Status = c_int;
pub type Program = *mut c_void;

/// NVRTC's entry points.
pub struct Nvrtc {
    /// Which of [`CANDIDATES`] was loaded.
    pub name: &'static str,
    pub version: unsafe extern "C" fn(*mut c_int, *mut c_int) -> Status,
    pub create_program: unsafe extern "C" fn(
        *mut Program,
        *const c_char,
        *const c_char,
        c_int,
        *const *const c_char,
        *const *const c_char,
    ) -> Status,
    pub compile_program: unsafe extern "C" fn(Program, c_int, *const *const c_char) -> Status,
    pub log_size: unsafe extern "C" fn(Program, *mut usize) -> Status,
    pub log: unsafe extern "C" fn(Program, *mut c_char) -> Status,
    pub ptx_size: unsafe extern "C" fn(Program, *mut usize) -> Status,
    pub ptx: unsafe extern "C" fn(Program, *mut c_char) -> Status,
    pub cubin_size: unsafe extern "C" fn(Program, *mut usize) -> Status,
    pub cubin: unsafe extern "C" fn(Program, *mut c_char) -> Status,
    pub destroy_program: unsafe extern "C" fn(*mut Program) -> Status,
    error_string: unsafe extern "C" fn(Status) -> *const c_char,
    /// Kept loaded for the life of the process: the pointers above point into it.
    _library: libloading::Library,
}

impl Nvrtc {
    /// `Ok` for NVRTC_SUCCESS, else NVRTC's name for the error, after `call`.
    pub fn check(&self, call: &'static str, status: Status) -> Result<(), CudaError> {
        if status == 0 {
            return Ok(());
        }
        // SAFETY: nvrtcGetErrorString returns a static NUL-terminated string for any code.
        let text = unsafe { CStr::from_ptr((self.error_string)(status)) };
        Err(CudaError::Nvrtc {
            call,
            message: text.to_string_lossy().into_owned(),
        })
    }
}

/// NVRTC, loaded once; `None` if no candidate library loads or lacks a function.
pub fn get() -> Option<&'static Nvrtc> {
    static NVRTC: OnceLock<Option<Nvrtc>> = OnceLock::new();
    NVRTC.get_or_init(load).as_ref()
}

fn load() -> Option<Nvrtc> {
    CANDIDATES.into_iter().find_map(|name| {
        // SAFETY: loading NVRTC runs its initialisers, which have no preconditions.
        let library = unsafe { libloading::Library::new(name) }.ok()?;
        let loaded = resolve(name, library);
        if loaded.is_none() {
            tracing::warn!(name, "NVRTC lacks a function veribatch needs; skipped");
        }
        loaded
    })
}

fn resolve(name: &'static str, library: libloading::Library) -> Option<Nvrtc> {
    /// A function of `library` by its C name, as a plain function pointer.
    macro_rules! symbol {
        ($name:literal) => {
            // SAFETY: the symbol is NVRTC's function of that name, whose C signature is
            // the field's type; the library outlives the pointer (it is kept in Nvrtc).
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }.ok()?
        };
    }
    Some(Nvrtc {
        name,
        version: symbol!("nvrtcVersion"),
        create_program: symbol!("nvrtcCreateProgram"),
        compile_program: symbol!("nvrtcCompileProgram"),
        log_size: symbol!("nvrtcGetProgramLogSize"),
        log: symbol!("nvrtcGetProgramLog"),
        ptx_size: symbol!("nvrtcGetPTXSize"),
        ptx: symbol!("nvrtcGetPTX"),
        cubin_size: symbol!("nvrtcGetCUBINSize"),
        cubin: symbol!("nvrtcGetCUBIN"),
        destroy_program: symbol!("nvrtcDestroyProgram"),
        error_string: symbol!("nvrtcGetErrorString"),
        _library: library,
    })
}
