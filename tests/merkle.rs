//! SSZ Merkle roots and proofs against a plain reference implementation (sha2, padding
//! materialised, the tree built naively).

mod common;

use common::{TestRng, engine};
use sha2::{Digest, Sha256};
use veribatch_engine::merkle::{self, MerkleError, Node, verify_multiproof};

fn sha(a: &[u8], b: &[u8]) -> Node {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// The reference: pad to the next power of two with zero chunks, hash pairwise.
fn reference_root(chunks: &[u8], limit: Option<u64>) -> Node {
    common::reference_root(sha, chunks, limit)
}

fn reference_mix(root: &Node, length: u64) -> Node {
    common::reference_mix(sha, root, length)
}

#[test]
fn roots_match_the_reference_for_0_to_70_chunks() {
    let engine = engine();
    let mut rng = TestRng::new(1);
    for n in 0..=70 {
        let chunks = rng.bytes(32 * n);
        let want = reference_root(&chunks, None);
        assert_eq!(
            engine.merkle_root(&chunks, None, None).unwrap(),
            want,
            "n = {n}"
        );
        let mixed = engine.merkle_root(&chunks, None, Some(n as u64)).unwrap();
        assert_eq!(mixed, reference_mix(&want, n as u64), "n = {n}, mixed in");
    }
}

#[test]
fn limits_pad_without_materialising() {
    let engine = engine();
    let mut rng = TestRng::new(2);
    for (n, limit) in [
        (0, 1),
        (0, 5),
        (1, 1),
        (3, 3),
        (5, 7),
        (70, 100),
        (33, 1000),
        (9, 4097),
    ] {
        let chunks = rng.bytes(32 * n);
        assert_eq!(
            engine.merkle_root(&chunks, Some(limit), None).unwrap(),
            reference_root(&chunks, Some(limit)),
            "n = {n}, limit = {limit}"
        );
    }
    // A limit of 2^40 chunks: only the zero-hash ladder can pad that far.
    let chunks = rng.bytes(32 * 3);
    let mut want = reference_root(&chunks, Some(4));
    for h in 2..40 {
        want = sha(&want, &merkle::zero_hash(h));
    }
    assert_eq!(
        engine.merkle_root(&chunks, Some(1 << 40), None).unwrap(),
        want
    );
}

#[test]
fn the_zero_hash_ladder_is_the_root_of_zero_chunks() {
    for h in 0..8 {
        let zeros = vec![0u8; 32 << h];
        assert_eq!(
            merkle::zero_hash(h),
            reference_root(&zeros, None),
            "height {h}"
        );
    }
}

#[test]
fn large_trees_match_the_reference() {
    let engine = engine();
    let mut rng = TestRng::new(3);
    for n in [1 << 16, (1 << 20) + 3] {
        let chunks = rng.bytes(32 * n);
        assert_eq!(
            engine.merkle_root(&chunks, None, None).unwrap(),
            reference_root(&chunks, None),
            "n = {n}"
        );
    }
}

#[test]
fn bad_inputs_are_errors() {
    let engine = engine();
    assert_eq!(
        engine.merkle_root(&[0; 33], None, None),
        Err(MerkleError::NotChunks(33))
    );
    assert_eq!(
        engine.merkle_root(&[0; 96], Some(2), None),
        Err(MerkleError::OverLimit { count: 3, limit: 2 })
    );
    assert!(matches!(
        engine.merkle_root(&[], Some(u64::MAX), None),
        Err(MerkleError::TooDeep(_))
    ));
    assert_eq!(
        engine
            .merkle_root(&[0; 33], None, None)
            .unwrap_err()
            .to_string(),
        "chunks: 33 bytes is not a multiple of 32"
    );
}

#[test]
fn multiproofs_verify_and_detect_tampering() {
    let engine = engine();
    let mut rng = TestRng::new(4);
    for (n, limit, mix) in [
        (1, None, None),
        (13, None, None),
        (13, Some(64), Some(13)),
        (200, Some(300), None),
        (64, None, Some(64)),
    ] {
        let chunks = rng.bytes(32 * n);
        let tree = engine.merkle_tree(&chunks, limit, mix).unwrap();
        assert_eq!(
            tree.root(),
            engine.merkle_root(&chunks, limit, mix).unwrap()
        );
        for k in 1..=4.min(n) {
            let mut indices: Vec<u64> = (0..k).map(|_| rng.below(n as u64)).collect();
            indices.sort_unstable();
            indices.dedup();
            let proof = tree.prove(&indices).unwrap();
            assert_eq!(proof.root, tree.root());
            for ((g, leaf), &i) in proof.leaves.iter().zip(&indices) {
                assert_eq!(Some(*g), tree.leaf_gindex(i));
                assert_eq!(&leaf[..], &chunks[32 * i as usize..32 * i as usize + 32]);
            }
            let nodes: Vec<Node> = proof.helpers.iter().map(|h| h.1).collect();
            assert_eq!(
                verify_multiproof(&proof.leaves, &nodes, &proof.root),
                Ok(true)
            );

            let mut tampered = proof.leaves.clone();
            tampered[0].1[5] ^= 1;
            assert_eq!(verify_multiproof(&tampered, &nodes, &proof.root), Ok(false));
            if !nodes.is_empty() {
                let mut bad_nodes = nodes.clone();
                bad_nodes[0][0] ^= 1;
                assert_eq!(
                    verify_multiproof(&proof.leaves, &bad_nodes, &proof.root),
                    Ok(false)
                );
                assert!(verify_multiproof(&proof.leaves, &nodes[1..], &proof.root).is_err());
            }
        }
    }
}

#[test]
fn a_single_leaf_proof_is_the_ssz_branch() {
    let engine = engine();
    let chunks = TestRng::new(5).bytes(32 * 8);
    let tree = engine.merkle_tree(&chunks, None, None).unwrap();
    let proof = tree.prove(&[5]).unwrap();
    // Leaf 5 of 8 has gindex 13; the branch is its sibling 12, then 7, then 2.
    assert_eq!(proof.leaves[0].0, 13);
    let gindices: Vec<u64> = proof.helpers.iter().map(|h| h.0).collect();
    assert_eq!(gindices, [12, 7, 2]);
    let leaf = |i: usize| &chunks[32 * i..32 * i + 32];
    assert_eq!(proof.helpers[0].1, <Node>::try_from(leaf(4)).unwrap());
    assert_eq!(proof.helpers[1].1, sha(leaf(6), leaf(7)));
    assert_eq!(
        proof.helpers[2].1,
        sha(&sha(leaf(0), leaf(1)), &sha(leaf(2), leaf(3)))
    );
}

#[test]
fn proofs_of_leaves_outside_the_tree_are_refused() {
    let engine = engine();
    let tree = engine.merkle_tree(&[0; 32 * 5], None, None).unwrap();
    assert!(tree.prove(&[7]).is_ok(), "padding leaves can be proven");
    assert_eq!(
        tree.prove(&[8]).unwrap_err().to_string(),
        "indices[0]: leaf 8 is outside a tree of 8 leaves"
    );
    assert!(tree.prove(&[]).is_err());
    assert_eq!(
        tree.prove(&[2, 2]).unwrap_err().to_string(),
        "indices[1]: leaf 2 appears twice"
    );
}
