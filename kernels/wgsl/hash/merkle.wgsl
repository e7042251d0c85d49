// One level of a Merkle tree: node k of the level above is H(left || right) of nodes 2k
// and 2k + 1 of this level, H the module's `node_hash_64` (SHA-256 in the sha256 module,
// SM3 in the sm3 one). A last node without a sibling is paired with the
// root of an all-zero subtree of the same height (the zero-hash ladder), so padding to
// a limit never materializes zero chunks.
//
// Hashing independent 64-byte blocks is the same kernel on an even number of nodes.
//
// in0: this level, eight words (32 bytes) per node; in1: the zero-hash ladder, eight
// words per height; params.count: nodes in this level; params.a: its height.
// out: the level above, ceil(count / 2) nodes.
@compute @workgroup_size(64)
fn merkle_level(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let k = linear_index(gid, groups, 64u);
    if k >= (params.count + 1u) / 2u {
        return;
    }
    var message: array<u32, 16>;
    for (var i = 0u; i < 8u; i++) {
        message[i] = byte_swap(in0[16u * k + i]);
    }
    if 2u * k + 1u < params.count {
        for (var i = 0u; i < 8u; i++) {
            message[8u + i] = byte_swap(in0[16u * k + 8u + i]);
        }
    } else {
        for (var i = 0u; i < 8u; i++) {
            message[8u + i] = byte_swap(in1[8u * params.a + i]);
        }
    }
    let digest = node_hash_64(message);
    for (var i = 0u; i < 8u; i++) {
        out[8u * k + i] = byte_swap(digest[i]);
    }
}
