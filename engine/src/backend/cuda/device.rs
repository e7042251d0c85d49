//! Finding CUDA devices and running jobs on one: the driver is loaded at run time
//! (cudarc's dynamic loading), so this code builds and runs on machines without CUDA and
//! reports why CUDA is unavailable instead of failing.

use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg,
    ValidAsZeroBits, sys,
};
use cudarc::nvrtc::Ptx;

use veribatch_kernels::cuda::Kernel;

use super::nvrtc;
use super::{CudaError, guarded};

/// A CUDA device as `veribatch info` and bench reports describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceDescription {
    pub ordinal: usize,
    pub name: String,
    /// (major, minor), e.g. (9, 0) for an H100.
    pub compute_capability: (i32, i32),
    pub memory_bytes: usize,
    /// The driver's CUDA version, e.g. "12.9".
    pub driver: String,
}

/// "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB, driver CUDA 12.9)".
impl std::fmt::Display for DeviceDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {} GiB, driver CUDA {})",
            self.name,
            self.arch(),
            self.memory_bytes >> 30,
            self.driver
        )
    }
}

impl DeviceDescription {
    /// The architecture NVRTC compiles for: `sm_90` for compute capability 9.0.
    pub fn arch(&self) -> String {
        format!(
            "sm_{}{}",
            self.compute_capability.0, self.compute_capability.1
        )
    }
}

/// Whether the CUDA driver library can be loaded (cudarc panics if it cannot).
fn driver_present() -> bool {
    // SAFETY: only tries to load the library.
    unsafe { sys::is_culib_present() }
}

/// The CUDA devices here, or why there are none; probed once per process.
pub fn devices() -> Result<Vec<DeviceDescription>, CudaError> {
    static DEVICES: OnceLock<Result<Vec<DeviceDescription>, CudaError>> = OnceLock::new();
    DEVICES.get_or_init(probe).clone()
}

fn probe() -> Result<Vec<DeviceDescription>, CudaError> {
    if !driver_present() {
        return Err(CudaError::NoDriver);
    }
    guarded(|| {
        cudarc::driver::result::init().map_err(driver)?;
        let mut version = 0;
        // SAFETY: the driver is loaded and initialised; `version` is a live integer.
        unsafe { sys::cuDriverGetVersion(&mut version) }
            .result()
            .map_err(driver)?;
        let version = format!("{}.{}", version / 1000, version % 1000 / 10);
        let count = CudaContext::device_count().map_err(driver)?;
        if count <= 0 {
            return Err(CudaError::NoDevice);
        }
        (0..count as usize)
            .map(|ordinal| {
                let ctx = CudaContext::new(ordinal).map_err(driver)?;
                Ok(DeviceDescription {
                    ordinal,
                    name: ctx.name().map_err(driver)?,
                    compute_capability: ctx.compute_capability().map_err(driver)?,
                    memory_bytes: ctx.total_mem().map_err(driver)?,
                    driver: version.clone(),
                })
            })
            .collect()
    })
}

fn driver(e: cudarc::driver::DriverError) -> CudaError {
    CudaError::Driver(e)
}

/// One device with the kernels compiled for it (a CUBIN for its exact architecture,
/// compiled once when the backend opens).
pub struct Cuda {
    description: DeviceDescription,
    stream: Arc<CudaStream>,
    /// Every kernel's function, in the order of [`Kernel::ALL`].
    functions: Vec<CudaFunction>,
    /// One job at a time: jobs share the stream and its buffers' lifetimes.
    lock: Mutex<()>,
}

impl std::fmt::Debug for Cuda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cuda")
            .field("device", &self.description)
            .finish()
    }
}

impl Cuda {
    /// Opens the first CUDA device with the kernels for it: precompiled ones from
    /// [`kernel_dir`](super::kernel_dir) if a folder is named (no NVRTC needed), else
    /// compiled by NVRTC (or taken from its cache).
    pub fn open() -> Result<Self, CudaError> {
        let description = devices()?.into_iter().next().ok_or(CudaError::NoDevice)?;
        let cubin = match super::kernel_dir() {
            Some(dir) => super::prebuilt::load(&dir, &description.arch())?,
            None => nvrtc::cached_cubin(&description.arch())?,
        };
        guarded(|| {
            let ctx = CudaContext::new(description.ordinal).map_err(driver)?;
            let module = ctx.load_module(Ptx::from_binary(cubin)).map_err(driver)?;
            let functions = Kernel::ALL
                .iter()
                .map(|kernel| module.load_function(kernel.name()).map_err(driver))
                .collect::<Result<_, _>>()?;
            Ok(Self {
                stream: ctx.default_stream(),
                description,
                functions,
                lock: Mutex::new(()),
            })
        })
    }

    pub fn description(&self) -> &DeviceDescription {
        &self.description
    }

    /// Runs one job: alone on the device, with cudarc's panics turned into errors.
    pub fn run<T>(&self, job: impl FnOnce(&Job) -> Result<T, CudaError>) -> Result<T, CudaError> {
        let _alone = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guarded(|| job(&Job { cuda: self }))
    }
}

/// The device calls of one job.
pub struct Job<'a> {
    cuda: &'a Cuda,
}

/// A kernel argument: a device buffer or a 32-bit count.
pub enum Arg<'a> {
    U8(&'a CudaSlice<u8>),
    U32s(&'a CudaSlice<u32>),
    U32(u32),
}

impl Job<'_> {
    pub fn upload<T: DeviceRepr>(&self, data: &[T]) -> Result<CudaSlice<T>, CudaError> {
        self.cuda.stream.clone_htod(data).map_err(driver)
    }

    pub fn zeros<T: DeviceRepr + ValidAsZeroBits>(
        &self,
        len: usize,
    ) -> Result<CudaSlice<T>, CudaError> {
        self.cuda.stream.alloc_zeros(len.max(1)).map_err(driver)
    }

    pub fn read<T: DeviceRepr>(&self, buffer: &CudaSlice<T>) -> Result<Vec<T>, CudaError> {
        self.cuda.stream.clone_dtoh(buffer).map_err(driver)
    }

    /// Launches `kernel` on `blocks` × `threads` with `args` in order.
    pub fn launch(
        &self,
        kernel: Kernel,
        blocks: u32,
        threads: u32,
        args: &[Arg],
    ) -> Result<(), CudaError> {
        let function = &self.cuda.functions[kernel.index()];
        let mut launch = self.cuda.stream.launch_builder(function);
        for arg in args {
            match arg {
                Arg::U8(buffer) => launch.arg(*buffer),
                Arg::U32s(buffer) => launch.arg(*buffer),
                Arg::U32(value) => launch.arg(value),
            };
        }
        let config = LaunchConfig {
            grid_dim: (blocks.max(1), 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: every kernel of kernels.cu takes exactly the arguments its host caller
        // in primitives.rs passes, in order, with buffers of the sizes it reads.
        unsafe { launch.launch(config) }.map_err(driver)?;
        Ok(())
    }

    /// Launches a one-thread-per-item kernel over `items` items.
    pub fn launch_items(
        &self,
        kernel: Kernel,
        items: usize,
        args: &[Arg],
    ) -> Result<(), CudaError> {
        const THREADS: u32 = 256;
        let blocks = u32::try_from(items.div_ceil(THREADS as usize))
            .map_err(|_| CudaError::TooManyItems(items))?;
        self.launch(kernel, blocks, THREADS, args)
    }
}
