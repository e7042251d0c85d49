// Single field operations, for the differential tests of Fp and Fp2.
//
// in0, in1: operands (twelve words per Fp, 24 per Fp2); params.count: number of
// operations; params.a: 0 mul, 1 add, 2 sub, 3 square, 4 inverse, 5 negation.
// out: results in the same form.

fn fp_op(op: u32, a: Fp, b: Fp) -> Fp {
    switch op {
        case 0u: { return fp_mul(a, b); }
        case 1u: { return fp_add(a, b); }
        case 2u: { return fp_sub(a, b); }
        case 3u: { return fp_square(a); }
        case 4u: { return fp_inverse(a); }
        default: { return fp_neg(a); }
    }
}

fn fp2_op(op: u32, a: Fp2, b: Fp2) -> Fp2 {
    switch op {
        case 0u: { return fp2_mul(a, b); }
        case 1u: { return fp2_add(a, b); }
        case 2u: { return fp2_sub(a, b); }
        case 3u: { return fp2_square(a); }
        case 4u: { return fp2_inverse(a); }
        default: { return fp2_neg(a); }
    }
}

@compute @workgroup_size(64)
fn fp_ops(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = linear_index(gid, groups, 64u);
    if i >= params.count {
        return;
    }
    var a: array<u32, 12>;
    var b: array<u32, 12>;
    for (var k = 0u; k < 12u; k++) {
        a[k] = in0[i * 12u + k];
        b[k] = in1[i * 12u + k];
    }
    let r = fp_pack(fp_op(params.a, fp_unpack(a), fp_unpack(b)));
    for (var k = 0u; k < 12u; k++) {
        out[i * 12u + k] = r[k];
    }
}

@compute @workgroup_size(64)
fn fp2_ops(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = linear_index(gid, groups, 64u);
    if i >= params.count {
        return;
    }
    var a: array<u32, 24>;
    var b: array<u32, 24>;
    for (var k = 0u; k < 24u; k++) {
        a[k] = in0[i * 24u + k];
        b[k] = in1[i * 24u + k];
    }
    let r = fp2_pack(fp2_op(params.a, fp2_unpack(a), fp2_unpack(b)));
    for (var k = 0u; k < 24u; k++) {
        out[i * 24u + k] = r[k];
    }
}
