// Single point operations, for the differential tests of the curve arithmetic.
//
// in0, in1: projective points; params.count: number of pairs; params.a: 0 for
// in0[i] + in1[i], 1 for 2·in0[i]. out: projective points.
@compute @workgroup_size(64)
fn point_ops(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = linear_index(gid, groups, 64u);
    if i >= params.count {
        return;
    }
    let p = load_point(i);
    var r: Point;
    if params.a == 0u {
        r = point_add(p, load_point_in1(i));
    } else {
        r = point_double(p);
    }
    store_point(i, r);
}
