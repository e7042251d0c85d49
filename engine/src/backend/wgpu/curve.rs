//! Point sums, multi-scalar multiplication and scaling on the device, for G1 and G2.

use veribatch_kernels::wgsl::Entry;

use super::convert::Curve;
use super::device::{Gpu, GpuError, Job};
use crate::backend::Scalars;
use crate::backend::gpu::msm_plan::{BucketPlan, bits_at, window_bits};
use crate::backend::gpu::recombine_windows;

/// Workgroups of the first pass of a sum, at most: enough to fill a large GPU, few
/// enough that one workgroup sums their results in the second pass.
const SUM_GROUPS: u32 = 1024;

/// Buckets summed by one invocation of `window_reduce`.
const SEGMENT: u32 = 16;

/// Points one invocation of `bucket_sum` or `segment_sum` adds, at most: bounds the
/// longest invocation whatever the scalars' distribution.
const CHUNK: u32 = 32;

/// (first, end) pairs cutting each group of `bounds` (group g is bounds[g]..bounds[g+1])
/// into chunks of at most CHUNK; an empty group gets one empty item. Also returns the
/// number of items of each group.
fn chunk_items(bounds: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut items = Vec::new();
    let mut per_group = Vec::with_capacity(bounds.len().saturating_sub(1));
    for pair in bounds.windows(2) {
        let (first, end) = (pair[0], pair[1]);
        let mut start = first;
        let mut count = 0;
        loop {
            let stop = (start + CHUNK).min(end);
            items.extend([start, stop]);
            count += 1;
            start = stop;
            if start >= end {
                break;
            }
        }
        per_group.push(count);
    }
    (items, per_group)
}

/// Scalar bits one dispatch of `scale_points` walks, at most: 64 doublings and up to 64
/// additions per invocation.
const SCALE_BITS_PER_RUN: u32 = 64;

/// Widest MSM window: 2^12 buckets per window keeps the bucket buffer of a large G2 MSM
/// far below the 128 MiB binding limit.
const MAX_WINDOW: u32 = 13;

fn words_per_affine<C: Curve>() -> usize {
    2 * C::FIELD_WORDS
}

fn words_per_point<C: Curve>() -> usize {
    3 * C::FIELD_WORDS
}

/// Points per job so every buffer of it fits one binding.
fn points_per_job<C: Curve>(gpu: &Gpu, words_per_item: usize) -> usize {
    (gpu.max_binding_words() / words_per_item.max(words_per_point::<C>())).max(1)
}

fn affine_words<C: Curve>(points: &[C::Affine]) -> Vec<u32> {
    let mut words = Vec::with_capacity(points.len() * words_per_affine::<C>());
    for p in points {
        C::push_affine(p, &mut words);
    }
    words
}

/// Σ points.
pub fn sum<C: Curve>(gpu: &Gpu, points: &[C::Affine]) -> Result<C::Point, GpuError> {
    let mut total = C::Point::default();
    for chunk in points.chunks(points_per_job::<C>(gpu, words_per_affine::<C>())) {
        let partial = gpu.run(|job| sum_job::<C>(job, chunk))?;
        total = C::add(&total, &partial);
    }
    Ok(total)
}

fn sum_job<C: Curve>(job: &mut Job<'_>, points: &[C::Affine]) -> Result<C::Point, GpuError> {
    if points.is_empty() {
        return Ok(C::Point::default());
    }
    let module = C::MODULE;
    let count = points.len() as u32;
    let groups = count.div_ceil(C::SUM_WORKGROUP).min(SUM_GROUPS);
    let input = job.upload(&affine_words::<C>(points));
    let partials = job.output(groups as usize * words_per_point::<C>());
    job.dispatch_groups(
        &module,
        Entry::SumPoints,
        [count, 0, 0, 0],
        [Some(input), None, None],
        partials,
        [groups, 1],
    );
    let result = if groups > 1 {
        let total = job.output(words_per_point::<C>());
        job.dispatch_groups(
            &module,
            Entry::SumPoints,
            [groups, 1, 0, 0],
            [Some(partials), None, None],
            total,
            [1, 1],
        );
        total
    } else {
        partials
    };
    Ok(C::point_from_words(
        &job.read(result, words_per_point::<C>())?,
    ))
}

/// Σ scalars[i]·points[i].
pub fn msm<C: Curve>(
    gpu: &Gpu,
    points: &[C::Affine],
    scalars: &Scalars,
) -> Result<C::Point, GpuError> {
    let n = points.len();
    let window = window_bits(n, MAX_WINDOW);
    let windows = (scalars.bits() as u32 + 1).div_ceil(window);
    let mut total = C::Point::default();
    let per_job = points_per_job::<C>(gpu, words_per_affine::<C>().max(windows as usize));
    for start in (0..n).step_by(per_job.max(1)) {
        let end = (start + per_job).min(n);
        let plan = BucketPlan::new(scalars, start..end, window, windows);
        let partial = gpu.run(|job| msm_job::<C>(job, &points[start..end], &plan))?;
        total = C::add(&total, &partial);
    }
    Ok(total)
}

fn msm_job<C: Curve>(
    job: &mut Job<'_>,
    points: &[C::Affine],
    plan: &BucketPlan,
) -> Result<C::Point, GpuError> {
    let module = C::MODULE;
    let buckets = plan.buckets_per_window();
    let segment = SEGMENT.min(buckets);
    let segments = buckets / segment;
    let input = job.upload(&affine_words::<C>(points));
    let entries = job.upload(&plan.entries);
    // Bucket sums in chunks, then the chunks of each bucket summed, until one point each.
    let (items, mut per_bucket) = chunk_items(&plan.offsets);
    let count = (items.len() / 2) as u32;
    let bounds = job.upload(&items);
    let mut bucket_sums = job.output(count as usize * words_per_point::<C>());
    job.dispatch(
        &module,
        Entry::BucketSum,
        [count, 0, 0, 0],
        [Some(input), Some(entries), Some(bounds)],
        bucket_sums,
        count,
    );
    while per_bucket.iter().any(|&n| n > 1) {
        let mut starts = Vec::with_capacity(per_bucket.len() + 1);
        starts.push(0u32);
        for n in &per_bucket {
            starts.push(starts.last().expect("one") + n);
        }
        let (items, next) = chunk_items(&starts);
        let count = (items.len() / 2) as u32;
        let bounds = job.upload(&items);
        let sums = job.output(count as usize * words_per_point::<C>());
        job.dispatch(
            &module,
            Entry::SegmentSum,
            [count, 0, 0, 0],
            [Some(bucket_sums), None, Some(bounds)],
            sums,
            count,
        );
        bucket_sums = sums;
        per_bucket = next;
    }
    let reduced = job.output((plan.windows * segments) as usize * words_per_point::<C>());
    job.dispatch(
        &module,
        Entry::WindowReduce,
        [plan.windows * segments, buckets, segments, plan.window - 1],
        [Some(bucket_sums), None, None],
        reduced,
        plan.windows * segments,
    );
    let words = job.read(
        reduced,
        (plan.windows * segments) as usize * words_per_point::<C>(),
    )?;
    let partials: Vec<C::Point> = words
        .chunks_exact(words_per_point::<C>())
        .map(C::point_from_words)
        .collect();
    Ok(recombine_windows::<C>(
        &partials,
        segments as usize,
        plan.window,
    ))
}

/// scalars[i]·points[i] for each i.
pub fn scale<C: Curve>(
    gpu: &Gpu,
    points: &[C::Affine],
    scalars: &Scalars,
) -> Result<Vec<C::Point>, GpuError> {
    let words_per_scalar = scalars.bits().div_ceil(32);
    let mut out = Vec::with_capacity(points.len());
    let per_job = points_per_job::<C>(gpu, words_per_affine::<C>());
    for start in (0..points.len()).step_by(per_job.max(1)) {
        let end = (start + per_job).min(points.len());
        let mut scalar_words = Vec::with_capacity((end - start) * words_per_scalar);
        for i in start..end {
            let bytes = scalars.get(i);
            for w in 0..words_per_scalar {
                scalar_words.push(bits_at(bytes, 32 * w, 32.min(scalars.bits() - 32 * w)));
            }
        }
        let chunk = &points[start..end];
        let words = gpu.run(|job| {
            let count = chunk.len() as u32;
            let input = job.upload(&affine_words::<C>(chunk));
            let scalar_buffer = job.upload(&scalar_words);
            // Runs of at most SCALE_BITS_PER_RUN bits from the top, each continuing
            // from the accumulators of the one before.
            let mut accumulators = None;
            let mut top = scalars.bits() as u32;
            while top > 0 {
                let bottom = top.saturating_sub(SCALE_BITS_PER_RUN);
                let first = if accumulators.is_none() { 1 << 31 } else { 0 };
                let output = job.output(chunk.len() * words_per_point::<C>());
                job.dispatch(
                    &C::MODULE,
                    Entry::ScalePoints,
                    [count, words_per_scalar as u32, top, bottom | first],
                    [Some(input), Some(scalar_buffer), accumulators],
                    output,
                    count,
                );
                accumulators = Some(output);
                top = bottom;
            }
            let result = accumulators.expect("scalars have at least one bit");
            job.read(result, chunk.len() * words_per_point::<C>())
        })?;
        out.extend(
            words
                .chunks_exact(words_per_point::<C>())
                .map(C::point_from_words),
        );
    }
    Ok(out)
}
