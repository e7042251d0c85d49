// k_i·P_i for each i (the z_i scaling of Groth16 batches): one invocation per point,
// double-and-add from the scalar's top bit.
//
// in0: affine points; in1: scalars, params.a words each (little-endian u32);
// params.count: number of points; params.b: bits per scalar. out: projective points.
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
    var acc = point_identity();
    for (var bit = i32(params.b) - 1i; bit >= 0i; bit--) {
        acc = point_double(acc);
        let word = in1[i * params.a + u32(bit) / 32u];
        if ((word >> (u32(bit) % 32u)) & 1u) == 1u {
            acc = point_add(acc, p);
        }
    }
    store_point(i, acc);
}
