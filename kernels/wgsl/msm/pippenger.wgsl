// Multi-scalar multiplication by Pippenger's bucket method with signed digits.
//
// The host cuts each scalar into W windows of c bits, recoded as signed digits in
// [-2^(c-1), 2^(c-1)], and sorts the (point, sign) pairs by (window, |digit|): a
// counting sort, linear in the number of points. The device does the elliptic-curve
// work in two kernels:
//
// 1. `bucket_sum`: one invocation per bucket adds its points (negated for a negative
//    digit). Bucket k of window w holds the points whose digit is ±(k + 1).
// 2. `window_reduce`: each window's B buckets are cut into S segments; one invocation
//    per segment forms Σ (k + 1)·bucket_k over its segment with the running-sum trick
//    (two additions per bucket), plus the segment's offset times its plain sum.
//
// The host adds the W·S segment results and combines the windows (c doublings each).

// in0: affine points; in1: entries, point index | sign << 31, sorted by bucket;
// in2: W·B + 1 offsets into the entries. params.count = W·B buckets. out: buckets.
@compute @workgroup_size(64)
fn bucket_sum(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let bucket = linear_index(gid, groups, 64u);
    if bucket >= params.count {
        return;
    }
    var acc = point_identity();
    for (var e = in2[bucket]; e < in2[bucket + 1u]; e++) {
        let entry = in1[e];
        var p = load_affine(entry & 0x7fffffffu);
        if (entry >> 31u) == 1u {
            p = point_neg(p);
        }
        acc = point_add(acc, p);
    }
    store_point(bucket, acc);
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
