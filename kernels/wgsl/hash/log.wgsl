// The hashes of RFC 9162 transparency-log trees: a leaf hash is SHA-256(0x00 || data), a
// node hash SHA-256(0x01 || left || right). The prefix byte shifts every message by one
// byte against the 32-bit words it is stored in, so words are assembled across two.

// Byte q of in0 (bytes are stored little-endian in its words).
fn log_data_byte(q: u32) -> u32 {
    return (in0[q / 4u] >> (8u * (q % 4u))) & 0xffu;
}

// Bytes q .. q + 3 of in0 as they are stored (little-endian), from any offset.
fn log_data_word(q: u32) -> u32 {
    let r = q % 4u;
    let low = in0[q / 4u];
    if r == 0u {
        return low;
    }
    return (low >> (8u * r)) | (in0[q / 4u + 1u] << (32u - 8u * r));
}

// Byte p of the padded message 0x00 || leaf || 0x80 || zeros, for the leaf of `len`
// bytes at `start` in in0 (the bit length is written over the last block's end).
fn log_leaf_message_byte(p: u32, start: u32, len: u32) -> u32 {
    if p == 0u {
        return 0u;
    }
    if p <= len {
        return log_data_byte(start + p - 1u);
    }
    if p == len + 1u {
        return 0x80u;
    }
    return 0u;
}

// The leaf hash of each leaf. in0: the leaves' data one after another; in1: where each
// leaf ends in it, in bytes (a leaf starts where the one before ends);
// params.count: leaves. out: eight words (32 bytes) per leaf.
@compute @workgroup_size(64)
fn log_leaves(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = linear_index(gid, groups, 64u);
    if i >= params.count {
        return;
    }
    var start = 0u;
    if i > 0u {
        start = in1[i - 1u];
    }
    let len = in1[i] - start;
    // The message is 1 + len bytes; padding adds 0x80 and an 8-byte length.
    let total = len + 1u;
    let blocks = (total + 8u) / 64u + 1u;
    var state = SHA256_IV;
    for (var b = 0u; b < blocks; b++) {
        var w: array<u32, 16>;
        for (var j = 0u; j < 16u; j++) {
            let p = 64u * b + 4u * j;
            if p >= 1u && p + 4u <= total {
                // Four bytes of the leaf.
                w[j] = byte_swap(log_data_word(start + p - 1u));
            } else {
                var word = 0u;
                for (var k = 0u; k < 4u; k++) {
                    word = (word << 8u) | log_leaf_message_byte(p + k, start, len);
                }
                w[j] = word;
            }
        }
        if b + 1u == blocks {
            // The message's length in bits, big-endian in the last eight bytes.
            w[14] = total >> 29u;
            w[15] = total << 3u;
        }
        state = sha256_compress(state, w);
    }
    for (var k = 0u; k < 8u; k++) {
        out[8u * i + k] = byte_swap(state[k]);
    }
}

// One level of a perfect subtree: node k of the level above is
// SHA-256(0x01 || node 2k || node 2k + 1) of this level. in0: this level, eight words per
// node; params.count: nodes of the level above. out: those nodes.
@compute @workgroup_size(64)
fn log_level(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let k = linear_index(gid, groups, 64u);
    if k >= params.count {
        return;
    }
    var m: array<u32, 16>;
    for (var i = 0u; i < 16u; i++) {
        m[i] = byte_swap(in0[16u * k + i]);
    }
    // 65 bytes: the prefix and 63 bytes of the children in the first block, the last
    // byte, 0x80 and the bit length (520) in the second.
    var first: array<u32, 16>;
    first[0] = 0x01000000u | (m[0] >> 8u);
    for (var i = 1u; i < 16u; i++) {
        first[i] = (m[i - 1u] << 24u) | (m[i] >> 8u);
    }
    var second: array<u32, 16>;
    second[0] = (m[15] << 24u) | 0x00800000u;
    second[15] = 520u;
    let digest = sha256_compress(sha256_compress(SHA256_IV, first), second);
    for (var i = 0u; i < 8u; i++) {
        out[8u * k + i] = byte_swap(digest[i]);
    }
}
