// Points in storage buffers, twelve words per Fp component (Montgomery values):
// affine (x, y) with (0, 0) standing for the identity as in blst (no curve point has
// x = y = 0, since b != 0), or projective (X, Y, Z).

const FP_WORDS: u32 = 12u;
const AFFINE_WORDS: u32 = 2u * COORD_FPS * FP_WORDS;
const POINT_WORDS: u32 = POINT_FPS * FP_WORDS;

fn in0_fp(at: u32) -> Fp {
    var w: array<u32, 12>;
    for (var i = 0u; i < FP_WORDS; i++) {
        w[i] = in0[at + i];
    }
    return fp_unpack(w);
}

fn in1_fp(at: u32) -> Fp {
    var w: array<u32, 12>;
    for (var i = 0u; i < FP_WORDS; i++) {
        w[i] = in1[at + i];
    }
    return fp_unpack(w);
}

fn in2_fp(at: u32) -> Fp {
    var w: array<u32, 12>;
    for (var i = 0u; i < FP_WORDS; i++) {
        w[i] = in2[at + i];
    }
    return fp_unpack(w);
}

fn load_affine(index: u32) -> Point {
    let at = index * AFFINE_WORDS;
    var p: Point;
    var any = 0u;
    for (var i = 0u; i < 2u * COORD_FPS; i++) {
        p.c[i] = in0_fp(at + i * FP_WORDS);
        if !fp_is_zero(p.c[i]) {
            any = 1u;
        }
    }
    if any == 0u {
        return point_identity();
    }
    p.c[2u * COORD_FPS] = fp_one();
    return p;
}

fn load_point(index: u32) -> Point {
    let at = index * POINT_WORDS;
    var p: Point;
    for (var i = 0u; i < POINT_FPS; i++) {
        p.c[i] = in0_fp(at + i * FP_WORDS);
    }
    return p;
}

fn load_point_in1(index: u32) -> Point {
    let at = index * POINT_WORDS;
    var p: Point;
    for (var i = 0u; i < POINT_FPS; i++) {
        p.c[i] = in1_fp(at + i * FP_WORDS);
    }
    return p;
}

fn load_point_in2(index: u32) -> Point {
    let at = index * POINT_WORDS;
    var p: Point;
    for (var i = 0u; i < POINT_FPS; i++) {
        p.c[i] = in2_fp(at + i * FP_WORDS);
    }
    return p;
}

fn store_point(index: u32, p: Point) {
    let at = index * POINT_WORDS;
    for (var i = 0u; i < POINT_FPS; i++) {
        let w = fp_pack(p.c[i]);
        for (var k = 0u; k < FP_WORDS; k++) {
            out[at + i * FP_WORDS + k] = w[k];
        }
    }
}
