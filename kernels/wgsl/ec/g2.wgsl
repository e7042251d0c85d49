// G2: y^2 = x^3 + 4(1 + i) over Fp2. A coordinate is two Fp elements (c0, c1); the
// formulas' programs (generated, before this file) expand Fp2 arithmetic into Fp.

const COORD_FPS: u32 = 2u;

// Workgroup size of the point sums: 16 projective G2 points fill 11.25 KiB of
// workgroup memory, under WebGPU's 16 KiB minimum.
const SUM_WORKGROUP: u32 = 16u;
