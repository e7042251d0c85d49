//! The wgpu device: adapter choice, pipelines compiled once, pooled buffers, and jobs that
//! record dispatches and read results back.
//!
//! Every kernel shares one binding layout (see `kernels/wgsl/bindings.wgsl`): a uniform
//! block of four words, three read-only storage inputs and one read-write output. One job
//! runs at a time: the queue is serial anyway, and a lock keeps the error scopes of one
//! job (they are per thread) from catching another's errors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use veribatch_kernels::wgsl::{Entry, Module};
use wgpu::util::DeviceExt;

use super::super::offload::Compilations;

/// Invocations per workgroup of the one-item-per-invocation kernels.
pub const WORKGROUP: u32 = 64;

/// Free buffers kept for reuse, at most, and their total size at most: enough for the
/// buffers of a large job, without holding device memory no job needs any more.
const POOL_BUFFERS: usize = 32;
const POOL_BYTES: u64 = 1 << 29;

/// Why the device could not do the work.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no wgpu adapter found{}", if *gpu_only { " that is a GPU" } else { "" })]
    NoAdapter { gpu_only: bool },
    #[error("could not open the wgpu device: {0}")]
    Open(#[source] wgpu::RequestDeviceError),
    #[error("the wgpu device was lost ({reason:?}): {message}")]
    Lost {
        reason: wgpu::DeviceLostReason,
        message: String,
    },
    #[error("the wgpu device ran out of memory")]
    OutOfMemory,
    /// One item of the input does not fit in one binding of the adapter.
    #[error("an item of {bytes} bytes is larger than the adapter's binding of {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    /// wgpu refused a call of the job (a bug of veribatch's, or a limit of the adapter).
    #[error("wgpu validation: {0}")]
    Validation(String),
    #[error("wgpu internal error: {0}")]
    Internal(String),
    /// A call inside the job panicked in wgpu; the device is not used again.
    #[error("wgpu panicked: {0}")]
    Panicked(String),
    #[error("an earlier job panicked inside wgpu: the device is not used again")]
    Poisoned,
    #[error("waiting for the wgpu device: {0}")]
    Poll(#[source] wgpu::PollError),
    #[error("a readback buffer could not be mapped: {0}")]
    Map(#[source] wgpu::BufferAsyncError),
    #[error("a readback buffer was never mapped")]
    NeverMapped,
    #[error("a mapped readback buffer could not be read: {0}")]
    MapRange(#[source] wgpu::MapRangeError),
}

impl From<wgpu::Error> for GpuError {
    fn from(error: wgpu::Error) -> Self {
        match error {
            wgpu::Error::OutOfMemory { .. } => Self::OutOfMemory,
            wgpu::Error::Validation { description, .. } => Self::Validation(description),
            wgpu::Error::Internal { description, .. } => Self::Internal(description),
        }
    }
}

/// An adapter as `veribatch info` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterDescription {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// Whether it is a real GPU (not a software rasterizer such as lavapipe).
    pub is_gpu: bool,
}

/// "name (backend, device type)", as `info` and `selftest` name an adapter.
impl std::fmt::Display for AdapterDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.backend, self.device_type)
    }
}

impl AdapterDescription {
    fn new(info: &wgpu::AdapterInfo) -> Self {
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend).to_lowercase(),
            device_type: format!("{:?}", info.device_type),
            driver,
            is_gpu: is_gpu(info.device_type),
        }
    }
}

fn is_gpu(device_type: wgpu::DeviceType) -> bool {
    matches!(
        device_type,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    )
}

/// Preference among adapters: discrete GPUs first, software rasterizers last.
fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu finds on this machine, looked up once per process (drivers load
/// slowly, and GetInfo asks on every call).
pub fn adapters() -> Vec<AdapterDescription> {
    static ADAPTERS: std::sync::OnceLock<Vec<AdapterDescription>> = std::sync::OnceLock::new();
    ADAPTERS
        .get_or_init(|| {
            let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
            adapters
                .iter()
                .map(|a| AdapterDescription::new(&a.get_info()))
                .collect()
        })
        .clone()
}

/// Counts a compilation finished when dropped, so one that panics is counted too.
struct Finished<'a>(&'a AtomicU64);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// An open device with its pipelines and buffer pool.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: AdapterDescription,
    max_binding: u64,
    bind_layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(&'static str, Entry), wgpu::ComputePipeline>>,
    /// Pipeline compilations started and finished, for the watchdog.
    compiles_started: AtomicU64,
    compiles_finished: AtomicU64,
    pool: Mutex<Vec<wgpu::Buffer>>,
    placeholder: wgpu::Buffer,
    lost: Arc<Mutex<Option<(wgpu::DeviceLostReason, String)>>>,
    poisoned: AtomicBool,
    busy: Mutex<()>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.adapter)
            .finish()
    }
}

impl Gpu {
    /// Opens the best adapter; with `gpu_only`, software adapters do not count.
    pub fn open(gpu_only: bool) -> Result<Self, GpuError> {
        let instance = instance();
        let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        adapters.retain(|a| !gpu_only || is_gpu(a.get_info().device_type));
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let adapter = adapters
            .into_iter()
            .next()
            .ok_or(GpuError::NoAdapter { gpu_only })?;
        let info = adapter.get_info();
        // The adapter's own limits: the defaults cap workgroup memory and bindings lower
        // than most devices allow.
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("veribatch"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(GpuError::Open)?;

        let lost = Arc::new(Mutex::new(None));
        let lost_flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            tracing::error!(?reason, %message, "wgpu device lost");
            *lost_flag.lock().unwrap_or_else(PoisonError::into_inner) = Some((reason, message));
        });
        // Errors outside a job's scopes are logged, never a panic.
        device.on_uncaptured_error(Arc::new(|error| {
            tracing::error!(%error, "uncaptured wgpu error");
        }));

        let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let bind_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("veribatch kernels"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, true),
                storage(3, true),
                storage(4, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("veribatch kernels"),
            bind_group_layouts: &[Some(&bind_layout)],
            immediate_size: 0,
        });
        let placeholder = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("placeholder"),
            size: 256,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        tracing::info!(adapter = %info.name, backend = ?info.backend, "wgpu device open");
        Ok(Self {
            device,
            queue,
            adapter: AdapterDescription::new(&info),
            max_binding,
            bind_layout,
            pipeline_layout,
            modules: Mutex::default(),
            pipelines: Mutex::default(),
            compiles_started: AtomicU64::new(0),
            compiles_finished: AtomicU64::new(0),
            pool: Mutex::default(),
            placeholder,
            lost,
            poisoned: AtomicBool::new(false),
            busy: Mutex::new(()),
        })
    }

    pub fn adapter(&self) -> &AdapterDescription {
        &self.adapter
    }

    /// The most 32-bit words one buffer binding may hold: callers split larger inputs.
    pub fn max_binding_words(&self) -> usize {
        usize::try_from(self.max_binding / 4).unwrap_or(usize::MAX)
    }

    /// Runs `work` as one job: exclusive use of the device, errors of every call inside
    /// it collected and returned instead of panicking.
    pub fn run<T>(
        &self,
        work: impl FnOnce(&mut Job<'_>) -> Result<T, GpuError>,
    ) -> Result<T, GpuError> {
        let _busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_not_lost()?;
        if self.poisoned.load(Ordering::Relaxed) {
            return Err(GpuError::Poisoned);
        }
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut job = Job {
            gpu: self,
            encoder: self.new_encoder(),
            buffers: Vec::new(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut job)));
        drop(job);
        let validation = pollster::block_on(validation.pop());
        let out_of_memory = pollster::block_on(out_of_memory.pop());
        let result = match result {
            Ok(result) => result,
            Err(panic) => {
                self.poisoned.store(true, Ordering::Relaxed);
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                return Err(GpuError::Panicked(message));
            }
        };
        if let Some(error) = validation.or(out_of_memory) {
            return Err(error.into());
        }
        self.check_not_lost()?;
        result
    }

    /// An error if the device was lost (its callback says why), before a job or after
    /// one: a lost device's results cannot be trusted.
    fn check_not_lost(&self) -> Result<(), GpuError> {
        match self
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            Some((reason, message)) => Err(GpuError::Lost { reason, message }),
            None => Ok(()),
        }
    }

    fn new_encoder(&self) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
    }

    /// Compiles the pipeline of `entry` now, if it is not already.
    pub fn compile(&self, module: &Module, entry: Entry) {
        self.pipeline(module, entry);
    }

    /// Compiles every pipeline now (minutes on a software adapter with a cold shader
    /// cache), so that later calls are timed without compilation.
    pub fn compile_all(&self) {
        for module in veribatch_kernels::wgsl::MODULES {
            for &entry in module.entry_points {
                self.compile(&module, entry);
            }
        }
    }

    /// Pipeline compilations started and finished so far.
    pub fn compilations(&self) -> Compilations {
        Compilations {
            started: self.compiles_started.load(Ordering::Acquire),
            finished: self.compiles_finished.load(Ordering::Acquire),
        }
    }

    /// The pipeline of `entry` in `module`, compiled on first use.
    fn pipeline(&self, module: &Module, entry: Entry) -> wgpu::ComputePipeline {
        let mut pipelines = self
            .pipelines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pipelines
            .entry((module.name, entry))
            .or_insert_with(|| {
                self.compiles_started.fetch_add(1, Ordering::AcqRel);
                let _finished = Finished(&self.compiles_finished);
                let mut modules = self.modules.lock().unwrap_or_else(PoisonError::into_inner);
                let shader = modules.entry(module.name).or_insert_with(|| {
                    self.device
                        .create_shader_module(wgpu::ShaderModuleDescriptor {
                            label: Some(module.name),
                            source: wgpu::ShaderSource::Wgsl(module.source().into()),
                        })
                });
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry.name()),
                        layout: Some(&self.pipeline_layout),
                        module: shader,
                        entry_point: Some(entry.name()),
                        compilation_options: Default::default(),
                        cache: None,
                    })
            })
            .clone()
    }

    /// A storage buffer of at least `bytes` bytes, from the pool if one fits.
    fn buffer(&self, bytes: u64) -> wgpu::Buffer {
        let size = bytes
            .max(256)
            .next_power_of_two()
            .min(self.max_binding.max(256));
        let size = size.max(bytes.next_multiple_of(4));
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = pool.iter().position(|b| b.size() == size) {
            return pool.swap_remove(i);
        }
        drop(pool);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    fn recycle(&self, buffers: Vec<wgpu::Buffer>) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.extend(buffers);
        // Keep the smaller buffers: large ones are rarer and costly to hold.
        pool.sort_by_key(wgpu::Buffer::size);
        let mut total = 0;
        let keep = pool
            .iter()
            .take(POOL_BUFFERS)
            .take_while(|b| {
                total += b.size();
                total <= POOL_BYTES
            })
            .count();
        pool.truncate(keep);
    }
}

/// A buffer of the current job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buf(usize);

/// The inputs of a dispatch, bound to `in0`, `in1`, `in2`.
pub type Inputs = [Option<Buf>; 3];

/// Dispatches recorded on one device, and the buffers they use.
pub struct Job<'g> {
    gpu: &'g Gpu,
    encoder: wgpu::CommandEncoder,
    buffers: Vec<wgpu::Buffer>,
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        self.gpu.recycle(std::mem::take(&mut self.buffers));
    }
}

impl Job<'_> {
    /// A buffer holding `words`.
    pub fn upload(&mut self, words: &[u32]) -> Buf {
        let buffer = self.gpu.buffer((words.len() as u64) * 4);
        if !words.is_empty() {
            self.gpu.queue.write_buffer(&buffer, 0, as_bytes(words));
        }
        self.buffers.push(buffer);
        Buf(self.buffers.len() - 1)
    }

    /// A buffer of bytes (Merkle chunks), padded to whole words.
    pub fn upload_bytes(&mut self, bytes: &[u8]) -> Buf {
        let buffer = self.gpu.buffer(bytes.len() as u64);
        let whole = bytes.len() / 4 * 4;
        if whole > 0 {
            self.gpu.queue.write_buffer(&buffer, 0, &bytes[..whole]);
        }
        if whole < bytes.len() {
            let mut tail = [0u8; 4];
            tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
            self.gpu.queue.write_buffer(&buffer, whole as u64, &tail);
        }
        self.buffers.push(buffer);
        Buf(self.buffers.len() - 1)
    }

    /// A buffer for a kernel to write `words` into.
    pub fn output(&mut self, words: usize) -> Buf {
        let buffer = self.gpu.buffer((words as u64) * 4);
        self.buffers.push(buffer);
        Buf(self.buffers.len() - 1)
    }

    /// Records `entry` over `threads` invocations of `WORKGROUP`, laid out as a 2D grid
    /// when one dimension would exceed the device's limit.
    pub fn dispatch(
        &mut self,
        module: &Module,
        entry: Entry,
        params: [u32; 4],
        inputs: Inputs,
        output: Buf,
        threads: u32,
    ) {
        let groups = threads.div_ceil(WORKGROUP).max(1);
        let x = groups.min(u16::MAX as u32);
        let y = groups.div_ceil(x);
        self.dispatch_groups(module, entry, params, inputs, output, [x, y]);
    }

    /// Records `entry` over a grid of `groups` workgroups.
    pub fn dispatch_groups(
        &mut self,
        module: &Module,
        entry: Entry,
        params: [u32; 4],
        inputs: Inputs,
        output: Buf,
        groups: [u32; 2],
    ) {
        let pipeline = self.gpu.pipeline(module, entry);
        let uniform = self
            .gpu
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: as_bytes(&params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let input = |i: usize| match inputs[i] {
            Some(Buf(b)) => self.buffers[b].as_entire_binding(),
            None => self.gpu.placeholder.as_entire_binding(),
        };
        let bind_group = self
            .gpu
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &self.gpu.bind_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: input(0),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: input(1),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: input(2),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: self.buffers[output.0].as_entire_binding(),
                    },
                ],
            });
        let mut pass = self
            .encoder
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(entry.name()),
                timestamp_writes: None,
            });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], 1);
    }

    /// Runs everything recorded so far and reads the first `words` words of `buffer`.
    pub fn read(&mut self, buffer: Buf, words: usize) -> Result<Vec<u32>, GpuError> {
        let bytes = (words as u64 * 4).max(4);
        let staging = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = std::mem::replace(&mut self.encoder, self.gpu.new_encoder());
        encoder.copy_buffer_to_buffer(&self.buffers[buffer.0], 0, &staging, 0, bytes);
        self.gpu.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(GpuError::Poll)?;
        receiver
            .recv()
            .map_err(|_| GpuError::NeverMapped)?
            .map_err(GpuError::Map)?;
        let view = staging.get_mapped_range(..).map_err(GpuError::MapRange)?;
        let mut out = vec![0u32; words];
        for (word, chunk) in out.iter_mut().zip(view.chunks_exact(4)) {
            *word = u32::from_le_bytes(chunk.try_into().expect("four bytes"));
        }
        drop(view);
        staging.unmap();
        self.gpu.check_not_lost()?;
        Ok(out)
    }
}

fn as_bytes(words: &[u32]) -> &[u8] {
    bytemuck::cast_slice(words)
}
