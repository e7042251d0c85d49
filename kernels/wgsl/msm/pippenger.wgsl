// Multi-scalar multiplication by Pippenger's bucket method with signed digits.
//
// The host cuts each scalar into W windows of c bits, recoded as signed digits in
// [-2^(c-1), 2^(c-1)], and sorts the (point, sign) pairs by (window, |digit|): a
// counting sort, linear in the number of points. The device does the elliptic-curve
// work in two kernels:
//
// 1. `bucket_sum` and `segment_sum`: each bucket's points added (negated for a negative
//    digit), in bounded chunks. Bucket k of window w holds the points whose digit is ±(k + 1).
// 2. `window_reduce`: each window's B buckets are cut into S segments; one invocation
//    per segment forms Σ (k + 1)·bucket_k over its segment with the running-sum trick
//    (two additions per bucket), plus the segment's offset times its plain sum.
//
// The host adds the W·S segment results and combines the windows (c doublings each).

// Buckets are summed in chunks of at most a few dozen points: scalars are often skewed
// (small public inputs, the carry-only top window of 64-bit scalars), and one invocation
// walking a bucket of thousands of points would serialize the whole dispatch. The host
// cuts every bucket's entries into items; `bucket_sum` sums each item, and `segment_sum`
// sums the items of each bucket (again in chunks, as many rounds as needed) until every
// bucket is one point.

// in0: affine points; in1: entries, point index | sign << 31, sorted by bucket;
// in2: item bounds, (first, end) entry pairs; params.count: items. out: one projective
// point per item.
@compute @workgroup_size(64)
fn bucket_sum(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let item = linear_index(gid, groups, 64u);
    if item >= params.count {
        return;
    }
    var acc = point_identity();
    for (var e = in2[2u * item]; e < in2[2u * item + 1u]; e++) {
        let entry = in1[e];
        var p = load_affine(entry & 0x7fffffffu);
        if (entry >> 31u) == 1u {
            p = point_neg(p);
        }
        acc = point_add(acc, p);
    }
    store_point(item, acc);
}

// in0: projective points; in2: item bounds, (first, end) point pairs; params.count: items.
// out: the sum of each item's points.
@compute @workgroup_size(64)
fn segment_sum(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let item = linear_index(gid, groups, 64u);
    if item >= params.count {
        return;
    }
    var acc = point_identity();
    for (var i = in2[2u * item]; i < in2[2u * item + 1u]; i++) {
        acc = point_add(acc, load_point(i));
    }
    store_point(item, acc);
}

// in0: W·B projective buckets; params.count = W·S segments, params.a = B buckets per
// window, params.b = S segments per window, params.c = bits of a bucket index (c - 1).
// out: W·S projective points, Σ (k + 1)·bucket_k over each segment.
@compute @workgroup_size(64)
fn window_reduce(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let segment = linear_index(gid, groups, 64u);
    if segment >= params.count {
        return;
    }
    let length = params.a / params.b;
    let window = segment / params.b;
    let first = (segment % params.b) * length;
    // running = Σ bucket_k over k >= j, acc = Σ running: Σ (k - first + 1)·bucket_k.
    var running = point_identity();
    var acc = point_identity();
    for (var j = length; j > 0u; j--) {
        running = point_add(running, load_point(window * params.a + first + j - 1u));
        acc = point_add(acc, running);
    }
    // Buckets before this segment shift every weight by `first`.
    if first > 0u {
        acc = point_add(acc, point_mul_small(running, first, params.c));
    }
    store_point(segment, acc);
}
