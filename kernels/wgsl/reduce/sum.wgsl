// Sum of many points by tree reduction in workgroup memory.
//
// params.count: number of input points; params.a: 0 if in0 holds affine points,
// 1 if projective. Each workgroup writes one projective partial sum to `out` at its
// index. Invocations first add a strided run of points (consecutive invocations read
// consecutive points), then halve the workgroup's partial sums log2(SUM_WORKGROUP)
// times. The host runs it again on the partial sums until one point is left.

var<workgroup> partial_sums: array<Point, SUM_WORKGROUP>;

@compute @workgroup_size(SUM_WORKGROUP)
fn sum_points(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let stride = groups.x * SUM_WORKGROUP;
    var acc = point_identity();
    for (var i = wid.x * SUM_WORKGROUP + lid.x; i < params.count; i += stride) {
        if params.a == 0u {
            acc = point_add(acc, load_affine(i));
        } else {
            acc = point_add(acc, load_point(i));
        }
    }
    partial_sums[lid.x] = acc;
    workgroupBarrier();
    for (var half = SUM_WORKGROUP / 2u; half > 0u; half /= 2u) {
        if lid.x < half {
            partial_sums[lid.x] = point_add(partial_sums[lid.x], partial_sums[lid.x + half]);
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        store_point(wid.x, partial_sums[0]);
    }
}
