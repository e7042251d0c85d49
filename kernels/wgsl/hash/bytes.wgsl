// Storage holds bytes; SHA-256 and SM3 read big-endian words.
fn byte_swap(x: u32) -> u32 {
    return (x << 24u) | ((x << 8u) & 0x00ff0000u) | ((x >> 8u) & 0x0000ff00u) | (x >> 24u);
}
