// The one binding layout every veribatch kernel uses: a small uniform block of sizes and
// flags, up to three read-only inputs, one output. A kernel that needs fewer inputs
// leaves the others bound to a placeholder, so the host needs a single layout.

struct Params {
    count: u32,
    a: u32,
    b: u32,
    c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> in0: array<u32>;
@group(0) @binding(2) var<storage, read> in1: array<u32>;
@group(0) @binding(3) var<storage, read> in2: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

// The linear index of an invocation of a dispatch laid out as a 2D grid of workgroups
// (a single dimension holds at most 65535 workgroups).
fn linear_index(gid: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
    return gid.y * groups.x * workgroup_size + gid.x;
}
