//! The host side of each CUDA primitive: what goes up, which kernels run, what comes
//! back. Points cross in blst's own memory layout: the kernels' Fp is blst's (six 64-bit
//! limbs, Montgomery form with R = 2^384), so affine inputs are copied as they are, and
//! projective results (X : Y : Z) become blst's Jacobian (X·Z, Y·Z², Z).

use crate::curves::bls12_381::{G1, G1Affine, G2};
use blst::blst_fp;
use veribatch_kernels::cuda::{Kernel, SUM_THREADS};

use super::CudaError;
use super::device::{Arg, Cuda, Job};
use crate::backend::Scalars;
use crate::backend::binary_tree::{Node, TreeHash};
use crate::backend::gpu::{
    self,
    msm_plan::{BucketPlan, window_bits},
    recombine_windows,
};
use crate::backend::log_tree::{Hash, PackedLeaves};

/// A curve as the CUDA kernels see it: coordinate size and kernels. The host
/// arithmetic is the shared [`gpu::Curve`].
pub trait Curve: gpu::Curve {
    const SUM_AFFINE: Kernel;
    const SUM_PROJECTIVE: Kernel;
    const BUCKET_SUM: Kernel;
    const WINDOW_SEGMENT: Kernel;
    /// Bytes of one coordinate.
    const FIELD_BYTES: usize = Self::DEGREE * FP_BYTES;

    /// The blst point of the kernels' projective bytes.
    fn point_from_bytes(bytes: &[u8]) -> Self::Point {
        gpu::projective_point::<Self>(|i| fp(&bytes[i * FP_BYTES..(i + 1) * FP_BYTES]))
    }
}

/// Bytes of one Fp element: blst's six 64-bit limbs.
const FP_BYTES: usize = 48;

fn fp(bytes: &[u8]) -> blst_fp {
    let mut x = blst_fp::default();
    for (limb, b) in x.l.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(b.try_into().expect("eight bytes"));
    }
    x
}

impl Curve for G1 {
    const SUM_AFFINE: Kernel = Kernel::G1SumAffine;
    const SUM_PROJECTIVE: Kernel = Kernel::G1SumProjective;
    const BUCKET_SUM: Kernel = Kernel::G1BucketSum;
    const WINDOW_SEGMENT: Kernel = Kernel::G1WindowSegment;
}

impl Curve for G2 {
    const SUM_AFFINE: Kernel = Kernel::G2SumAffine;
    const SUM_PROJECTIVE: Kernel = Kernel::G2SumProjective;
    const BUCKET_SUM: Kernel = Kernel::G2BucketSum;
    const WINDOW_SEGMENT: Kernel = Kernel::G2WindowSegment;
}

fn point_bytes<C: Curve>() -> usize {
    3 * C::FIELD_BYTES
}

/// The bytes of blst affine points, as the kernels read them.
fn affine_bytes<C: Curve>(points: &[C::Affine]) -> &[u8] {
    // SAFETY: blst's affine points are #[repr(C)] arrays of u64 limbs with no padding,
    // so any such value is also valid bytes.
    unsafe {
        std::slice::from_raw_parts(points.as_ptr().cast::<u8>(), std::mem::size_of_val(points))
    }
}

fn points_from<C: Curve>(bytes: &[u8]) -> Vec<C::Point> {
    bytes
        .chunks_exact(point_bytes::<C>())
        .map(C::point_from_bytes)
        .collect()
}

fn count(n: usize) -> Result<u32, CudaError> {
    u32::try_from(n).map_err(|_| CudaError::TooManyItems(n))
}

/// Blocks of the first pass of a sum, at most: enough to fill a large GPU, few enough
/// for one block to sum their results in the second pass.
const SUM_BLOCKS: usize = 1024;

/// Σ points.
pub fn sum<C: Curve>(cuda: &Cuda, points: &[C::Affine]) -> Result<C::Point, CudaError> {
    if points.is_empty() {
        return Ok(C::Point::default());
    }
    cuda.run(|job| {
        let input = job.upload(affine_bytes::<C>(points))?;
        let total = device_sum::<C>(job, &input, points.len(), C::SUM_AFFINE)?;
        Ok(points_from::<C>(&job.read(&total)?)[0])
    })
}

/// Sums `n` device points (affine or projective, as `kernel` reads them) into one
/// projective point on the device.
fn device_sum<C: Curve>(
    job: &Job,
    input: &cudarc::driver::CudaSlice<u8>,
    n: usize,
    kernel: Kernel,
) -> Result<cudarc::driver::CudaSlice<u8>, CudaError> {
    let blocks = n.div_ceil(SUM_THREADS as usize).clamp(1, SUM_BLOCKS);
    let partial = job.zeros::<u8>(blocks * point_bytes::<C>())?;
    job.launch(
        kernel,
        blocks as u32,
        SUM_THREADS,
        &[Arg::U8(input), Arg::U32(count(n)?), Arg::U8(&partial)],
    )?;
    if blocks == 1 {
        return Ok(partial);
    }
    let total = job.zeros::<u8>(point_bytes::<C>())?;
    job.launch(
        C::SUM_PROJECTIVE,
        1,
        SUM_THREADS,
        &[Arg::U8(&partial), Arg::U32(blocks as u32), Arg::U8(&total)],
    )?;
    Ok(total)
}

/// Widest MSM window: 2^15 buckets per window.
const MAX_WINDOW: u32 = 16;

/// Buckets one thread of `window_segment` reduces, at least.
const SEGMENT: u32 = 32;

/// Points of one device MSM at most: the bucket plan's u32 entries keep the sign in bit
/// 31 and its counts must stay below 2^32 (here at most 2^26 · 17 windows).
const MSM_POINTS: usize = 1 << 26;

/// Σ scalars[i]·points[i]: Pippenger with signed digits, in parts of at most
/// MSM_POINTS points.
pub fn msm<C: Curve>(
    cuda: &Cuda,
    points: &[C::Affine],
    scalars: &Scalars,
) -> Result<C::Point, CudaError> {
    let mut total = C::Point::default();
    for start in (0..points.len()).step_by(MSM_POINTS) {
        let end = (start + MSM_POINTS).min(points.len());
        total = C::add(
            &total,
            &msm_part::<C>(cuda, &points[start..end], scalars, start)?,
        );
    }
    Ok(total)
}

/// Σ scalars[first + i]·points[i]. The host sorts the points into buckets (msm_plan);
/// the device sums each bucket (one thread per bucket) and reduces each window's
/// buckets in segments; the host adds the segments and combines windows.
fn msm_part<C: Curve>(
    cuda: &Cuda,
    points: &[C::Affine],
    scalars: &Scalars,
    first: usize,
) -> Result<C::Point, CudaError> {
    let n = points.len();
    let window = window_bits(n, MAX_WINDOW);
    let windows = (scalars.bits() as u32 + 1).div_ceil(window);
    let plan = BucketPlan::new(scalars, first..first + n, window, windows);
    if plan.entries.is_empty() {
        // Every scalar is zero (and CUDA cannot allocate an empty buffer).
        return Ok(C::Point::default());
    }
    let per_window = plan.buckets_per_window();
    let segments = (per_window / SEGMENT).clamp(1, 256);
    let bucket_count = (windows * per_window) as usize;
    let reduced = cuda.run(|job| {
        let input = job.upload(affine_bytes::<C>(points))?;
        let entries = job.upload(&plan.entries)?;
        let offsets = job.upload(&plan.offsets)?;
        let buckets = job.zeros::<u8>(bucket_count * point_bytes::<C>())?;
        job.launch_items(
            C::BUCKET_SUM,
            bucket_count,
            &[
                Arg::U8(&input),
                Arg::U32s(&entries),
                Arg::U32s(&offsets),
                Arg::U32(count(bucket_count)?),
                Arg::U8(&buckets),
            ],
        )?;
        let items = (windows * segments) as usize;
        let out = job.zeros::<u8>(items * point_bytes::<C>())?;
        job.launch_items(
            C::WINDOW_SEGMENT,
            items,
            &[
                Arg::U8(&buckets),
                Arg::U32(per_window),
                Arg::U32(segments),
                Arg::U32(count(items)?),
                Arg::U8(&out),
            ],
        )?;
        job.read(&out)
    })?;
    let reduced = points_from::<C>(&reduced);
    Ok(recombine_windows::<C>(&reduced, segments as usize, window))
}

/// scalars[i]·points[i] for each i, one thread per point.
pub fn scale(cuda: &Cuda, points: &[G1Affine], scalars: &Scalars) -> Result<Vec<G1>, CudaError> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let bytes = cuda.run(|job| {
        let input = job.upload(affine_bytes::<G1>(points))?;
        let scalar_bytes = job.upload(scalars.as_bytes())?;
        let out = job.zeros::<u8>(points.len() * point_bytes::<G1>())?;
        job.launch_items(
            Kernel::G1Scale,
            points.len(),
            &[
                Arg::U8(&input),
                Arg::U8(&scalar_bytes),
                Arg::U32(scalars.width() as u32),
                Arg::U32(count(points.len())?),
                Arg::U8(&out),
            ],
        )?;
        job.read(&out)
    })?;
    Ok(points_from::<G1>(&bytes))
}

/// `hash` (SHA-256 or SM3) of each 64-byte block.
pub fn hash_blocks(
    cuda: &Cuda,
    hash: TreeHash,
    blocks: &[u8],
    digests: &mut [u8],
) -> Result<(), CudaError> {
    let kernel = match hash {
        TreeHash::Sha256 => Kernel::Sha256Blocks,
        TreeHash::Sm3 => Kernel::Sm3Blocks,
    };
    let n = blocks.len() / 64;
    if n == 0 {
        return Ok(());
    }
    let out = cuda.run(|job| {
        let input = job.upload(blocks)?;
        let output = job.zeros::<u8>(32 * n)?;
        job.launch_items(
            kernel,
            n,
            &[Arg::U8(&input), Arg::U8(&output), Arg::U32(count(n)?)],
        )?;
        job.read(&output)
    })?;
    digests.copy_from_slice(&out[..digests.len()]);
    Ok(())
}

/// Leaf data one launch of `log_leaves` takes at most: its offsets are 32-bit.
const LOG_LEAF_BYTES_PER_LAUNCH: usize = 1 << 31;

/// RFC 9162 leaf hashes of `leaves`, a launch per 2 GiB of data.
pub fn log_leaf_hashes(cuda: &Cuda, leaves: &PackedLeaves) -> Result<Vec<Hash>, CudaError> {
    let runs = leaves
        .device_runs(LOG_LEAF_BYTES_PER_LAUNCH, usize::MAX)
        .map_err(CudaError::LeafTooLarge)?;
    let mut hashes = Vec::with_capacity(leaves.len());
    for run in runs {
        let n = run.ends.len();
        let out = cuda.run(|job| {
            // A launch needs a buffer even for leaves of no bytes.
            let input = if run.data.is_empty() {
                job.zeros::<u8>(1)?
            } else {
                job.upload(run.data)?
            };
            let ends = job.upload(&run.ends)?;
            let output = job.zeros::<u8>(32 * n)?;
            job.launch_items(
                Kernel::LogLeaves,
                n,
                &[
                    Arg::U8(&input),
                    Arg::U32s(&ends),
                    Arg::U8(&output),
                    Arg::U32(count(n)?),
                ],
            )?;
            job.read(&output)
        })?;
        hashes.extend(
            out.chunks_exact(32)
                .map(|h| <Hash>::try_from(h).expect("32 bytes")),
        );
    }
    Ok(hashes)
}

/// The RFC 9162 root of the perfect subtree over `leaf_hashes` (a power of two of them),
/// every level built in device memory; only the root comes back.
pub fn log_subtree_root(cuda: &Cuda, leaf_hashes: &[Hash]) -> Result<Hash, CudaError> {
    let mut n = leaf_hashes.len();
    if n == 1 {
        return Ok(leaf_hashes[0]);
    }
    cuda.run(|job| {
        let mut level = job.upload(leaf_hashes.as_flattened())?;
        while n > 1 {
            n /= 2;
            let next = job.zeros::<u8>(32 * n)?;
            job.launch_items(
                Kernel::LogLevel,
                n,
                &[Arg::U8(&level), Arg::U8(&next), Arg::U32(count(n)?)],
            )?;
            level = next;
        }
        let root = job.read(&level)?;
        Ok(root[..32].try_into().expect("32 bytes"))
    })
}

/// The root of `chunks` padded with zero chunks to 2^depth leaves, nodes made by `hash`,
/// every level built in device memory; only the root comes back.
pub fn merkle_root(
    cuda: &Cuda,
    hash: TreeHash,
    chunks: &[u8],
    depth: u32,
) -> Result<Node, CudaError> {
    let kernel = match hash {
        TreeHash::Sha256 => Kernel::MerkleLevel,
        TreeHash::Sm3 => Kernel::Sm3MerkleLevel,
    };
    let mut n = chunks.len() / 32;
    if n == 0 {
        return Ok(hash.zero(depth));
    }
    cuda.run(|job| {
        let mut level = job.upload(chunks)?;
        for height in 0..depth {
            let parents = n.div_ceil(2);
            let next = job.zeros::<u8>(32 * parents)?;
            let zero = job.upload(&hash.zero(height))?;
            job.launch_items(
                kernel,
                parents,
                &[
                    Arg::U8(&level),
                    Arg::U8(&next),
                    Arg::U32(count(n)?),
                    Arg::U8(&zero),
                ],
            )?;
            level = next;
            n = parents;
        }
        let root = job.read(&level)?;
        Ok(root[..32].try_into().expect("32 bytes"))
    })
}
