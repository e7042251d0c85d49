// k_i·P_i for each i (the z_i scaling of Groth16 batches): one invocation per point,
// double-and-add over a run of the scalar's bits, from the top.
//
// A 255-bit scalar is done in several dispatches of at most 64 bits each, every one
// continuing from the accumulators the last one wrote, so no invocation runs hundreds
// of point operations in a row.
//
// in0: affine points; in1: scalars, params.a words each (little-endian u32); in2: the
// accumulators (projective) unless this is the first run; params.count: points;
// params.b: the run's top bit (exclusive); params.c: its bottom bit, | 1 << 31 on the
// first run (the accumulators start at the identity). out: projective accumulators.
@compute @workgroup_size(64)
fn scale_points(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = linear_index(gid, groups, 64u);
    if i >= params.count {
        return;
    }
    let p = load_affine(i);
    let bottom = i32(params.c & 0x7fffffffu);
    var acc = point_identity();
    if (params.c >> 31u) == 0u {
        acc = load_point_in2(i);
    }
    for (var bit = i32(params.b) - 1i; bit >= bottom; bit--) {
        acc = point_double(acc);
        let word = in1[i * params.a + u32(bit) / 32u];
        if ((word >> (u32(bit) % 32u)) & 1u) == 1u {
            acc = point_add(acc, p);
        }
    }
    store_point(i, acc);
}
