//! The hashes of RFC 9162 §2.1.1, with SHA-256. The one-byte prefixes keep a leaf from
//! passing for an inner node (a second-preimage defence the SSZ trees do not need).

use sha2::{Digest, Sha256};

use super::Hash;

/// The Merkle Tree Hash of the empty tree: SHA-256 of no bytes.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// SHA-256(0x00 ‖ data): the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right): the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_tree_hash_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest([])));
    }

    #[test]
    fn leaves_and_nodes_hash_apart() {
        let (l, r) = ([1u8; 32], [2u8; 32]);
        let data = [&[1u8][..], &l, &r].concat();
        assert_ne!(leaf_hash(&data[1..]), node_hash(&l, &r));
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&data)), node_hash(&l, &r));
    }
}
