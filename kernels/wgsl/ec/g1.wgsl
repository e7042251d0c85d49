// G1: y^2 = x^3 + 4 over Fp. A coordinate is one Fp element; the formulas' programs
// (generated, before this file) do the arithmetic.

const COORD_FPS: u32 = 1u;

// Workgroup size of the point sums: 32 projective G1 points fill 11.25 KiB of
// workgroup memory, under WebGPU's 16 KiB minimum.
const SUM_WORKGROUP: u32 = 32u;
