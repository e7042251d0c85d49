//! Merkle trees with SM3 nodes (`--hash sm3`, the proto's `hash`): against a plain
//! reference on RustCrypto's sm3 (padding materialised, the tree built naively), in
//! memory, streamed from a file, and through a real server's MerkleRoot and
//! MerkleRootStream; multi-proofs of SM3 trees (`merkle prove|verify --hash sm3`, the
//! proto's VerifyMerkleProofs `hash`) against the reference tree's nodes.

mod common;

use common::process::{scratch, stderr, stdout, veribatch};
use common::{TestRng, engine};
use sm3::{Digest, Sm3};
use veribatch_engine::merkle::{MultiProof, Node, TreeHash, verify_multiproof_with};

fn sm3(a: &[u8], b: &[u8]) -> Node {
    let mut h = Sm3::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// The reference: pad to the next power of two with zero chunks, hash pairwise.
fn reference_root(chunks: &[u8], limit: Option<u64>) -> Node {
    common::reference_root(sm3, chunks, limit)
}

fn reference_mix(root: &Node, length: u64) -> Node {
    common::reference_mix(sm3, root, length)
}

#[test]
fn sm3_roots_match_the_reference_and_differ_from_sha256() {
    let engine = engine();
    let mut rng = TestRng::new(17);
    for n in 0..=70 {
        let chunks = rng.bytes(32 * n);
        let want = reference_root(&chunks, None);
        let root = engine.merkle_root_with(TreeHash::Sm3, &chunks, None, None);
        assert_eq!(root.unwrap(), want, "n = {n}");
        let mixed = engine.merkle_root_with(TreeHash::Sm3, &chunks, None, Some(n as u64));
        assert_eq!(
            mixed.unwrap(),
            reference_mix(&want, n as u64),
            "n = {n}, mixed in"
        );
        if n >= 2 {
            // Fewer than two chunks are their own root, whatever the hash.
            let sha = engine.merkle_root(&chunks, None, None).unwrap();
            assert_ne!(sha, want, "n = {n}: SHA-256's root");
        }
    }
    // Limits pad with SM3's zero-hash ladder.
    let chunks = rng.bytes(32 * 5);
    for limit in [5, 8, 9, 1000] {
        let root = engine.merkle_root_with(TreeHash::Sm3, &chunks, Some(limit), None);
        assert_eq!(
            root.unwrap(),
            reference_root(&chunks, Some(limit)),
            "limit {limit}"
        );
    }
    assert!(
        engine
            .merkle_root_with(TreeHash::Sm3, &chunks, Some(4), None)
            .is_err()
    );
}

/// The node at generalized index `g` of the reference SM3 tree of `chunks` padded to
/// `limit`, with `length` mixed in if given, computed from its definition.
fn reference_node(chunks: &[u8], limit: Option<u64>, length: Option<u64>, g: u64) -> Node {
    let count = (chunks.len() / 32) as u64;
    let depth = limit
        .unwrap_or(count)
        .max(1)
        .next_power_of_two()
        .trailing_zeros();
    let data = |g: u64| {
        fn node(chunks: &[u8], depth: u32, g: u64) -> Node {
            let level = 63 - g.leading_zeros();
            if level == depth {
                let i = (g - (1 << depth)) as usize;
                return chunks
                    .get(32 * i..32 * i + 32)
                    .map_or([0; 32], |c| c.try_into().unwrap());
            }
            sm3(&node(chunks, depth, 2 * g), &node(chunks, depth, 2 * g + 1))
        }
        node(chunks, depth, g)
    };
    match length {
        None => data(g),
        Some(length) if g == 1 => reference_mix(&data(1), length),
        Some(length) if g == 3 => {
            let mut chunk = [0u8; 32];
            chunk[..8].copy_from_slice(&length.to_le_bytes());
            chunk
        }
        // Under the data root (2): drop the leading 1 of the path below it.
        Some(_) => {
            let level = 63 - g.leading_zeros();
            data(g - (1 << (level - 1)))
        }
    }
}

fn assert_reference_nodes(proof: &MultiProof, node: impl Fn(u64) -> Node, what: &str) {
    for &(g, n) in proof.leaves.iter().chain(&proof.helpers) {
        assert_eq!(n, node(g), "{what}: node {g}");
    }
    assert_eq!(proof.root, node(1), "{what}: root");
}

#[test]
fn sm3_proofs_are_the_reference_trees_nodes() {
    let engine = engine();
    let mut rng = TestRng::new(21);
    for n in [1usize, 2, 5, 33, 64] {
        let chunks = rng.bytes(32 * n);
        for (limit, length) in [(None, None), (Some(100), None), (Some(100), Some(n as u64))] {
            let tree = engine
                .merkle_tree_with(TreeHash::Sm3, &chunks, limit, length)
                .unwrap();
            let what = format!("{n} chunks, limit {limit:?}, length {length:?}");
            let node = |g| reference_node(&chunks, limit, length, g);
            assert_eq!(tree.root(), node(1), "{what}");
            for indices in [vec![0], vec![n as u64 - 1], vec![n as u64 / 2, 0]] {
                let Ok(proof) = tree.prove(&indices) else {
                    assert!(indices.len() == 2 && n == 1, "{what}: {indices:?}");
                    continue;
                };
                assert_reference_nodes(&proof, node, &what);
                let helpers: Vec<Node> = proof.helpers.iter().map(|h| h.1).collect();
                let verify =
                    |hash| verify_multiproof_with(hash, &proof.leaves, &helpers, &proof.root);
                assert_eq!(verify(TreeHash::Sm3), Ok(true), "{what}");
                if !helpers.is_empty() {
                    assert_eq!(verify(TreeHash::Sha256), Ok(false), "{what}: as SHA-256");
                }
                let mut tampered = proof.leaves.clone();
                tampered[0].1[31] ^= 1;
                assert_eq!(
                    verify_multiproof_with(TreeHash::Sm3, &tampered, &helpers, &proof.root),
                    Ok(false),
                    "{what}: tampered"
                );
            }
        }
    }
}

/// `merkle prove --hash sm3` of a file larger than a block (its file tree) writes the
/// hash into the proof; `merkle verify` takes it from there, and refuses a `--hash`
/// that disagrees.
#[test]
fn merkle_prove_and_verify_take_hash_sm3() {
    let dir = scratch("sm3_merkle_prove");
    let mut rng = TestRng::new(22);
    let n = (1usize << 18) + 5;
    let chunks = rng.bytes(32 * n);
    let file = dir.join("chunks.bin");
    std::fs::write(&file, &chunks).unwrap();
    let path = file.to_str().unwrap();
    let indices = [3u64, (1 << 18) + 4];
    let out = veribatch(&[
        "merkle", "prove", "--hash", "sm3", "--index", "3,262148", path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let proof_text = stdout(&out);
    let proof: serde_json::Value = serde_json::from_str(&proof_text).unwrap();
    assert_eq!(proof["hash"], "sm3");
    let node = |g| reference_node(&chunks, None, None, g);
    let root = node(1);
    assert_eq!(proof["root"], format!("0x{}", hex::encode(root)));
    for (leaf, index) in proof["leaves"].as_array().unwrap().iter().zip(indices) {
        assert_eq!(leaf["index"], index);
        let g = leaf["gindex"].as_u64().unwrap();
        assert_eq!(leaf["leaf"], format!("0x{}", hex::encode(node(g))));
    }
    let proof_file = dir.join("proof.json");
    std::fs::write(&proof_file, &proof_text).unwrap();
    let proof_path = proof_file.to_str().unwrap();
    let root_hex = format!("0x{}", hex::encode(root));
    let depth = "19";
    let out = veribatch(&[
        "merkle", "verify", "--root", &root_hex, "--depth", depth, proof_path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "OK");
    let out = veribatch(&[
        "merkle", "verify", "--hash", "sha256", "--root", &root_hex, "--depth", depth, proof_path,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("sm3 tree"), "{}", stderr(&out));
    // Without its "hash" the same file is a SHA-256 proof, and does not lead to the root.
    let mut as_sha256 = proof.clone();
    as_sha256.as_object_mut().unwrap().remove("hash");
    std::fs::write(&proof_file, as_sha256.to_string()).unwrap();
    let out = veribatch(&[
        "merkle", "verify", "--root", &root_hex, "--depth", depth, proof_path,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "INVALID");
    let mut unknown = proof;
    unknown["hash"] = "blake3".into();
    std::fs::write(&proof_file, unknown.to_string()).unwrap();
    let out = veribatch(&[
        "merkle", "verify", "--root", &root_hex, "--depth", depth, proof_path,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("hash: "), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streamed_sm3_roots_are_the_roots_of_the_whole() {
    // Across blocks of 2^18 chunks: one block and a part, and a limit above them.
    let engine = engine();
    let mut rng = TestRng::new(18);
    let chunks = rng.bytes(32 * ((1 << 18) + 3));
    let whole = engine
        .merkle_root_with(TreeHash::Sm3, &chunks, Some(1 << 20), Some(7))
        .unwrap();
    assert_eq!(
        whole,
        reference_mix(&reference_root(&chunks, Some(1 << 20)), 7)
    );
    let (streamed, count) = engine
        .merkle_root_of_reader(
            TreeHash::Sm3,
            std::io::Cursor::new(chunks.clone()),
            Some(1 << 20),
            |_| Some(7),
        )
        .unwrap();
    assert_eq!((streamed, count), (whole, (1 << 18) + 3));
}

#[test]
fn merkle_root_takes_hash_sm3_from_a_file() {
    let dir = scratch("sm3_merkle_root");
    let mut rng = TestRng::new(19);
    let chunks = rng.bytes(32 * 1000);
    let file = dir.join("chunks.bin");
    std::fs::write(&file, &chunks).unwrap();
    let path = file.to_str().unwrap();
    let out = veribatch(&["merkle", "root", "--hash", "sm3", "--mix-in-length", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let want = reference_mix(&reference_root(&chunks, None), 1000);
    assert_eq!(stdout(&out).trim(), format!("0x{}", hex::encode(want)));
    let out = veribatch(&["merkle", "root", "--hash", "md5", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sha256 or sm3"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_builds_sm3_trees_whole_and_in_pieces() {
    use veribatch_service::proto;
    let server = common::server::Server::start(&[]);
    let mut client = server.client().await;
    let mut rng = TestRng::new(20);
    let chunks = rng.bytes(32 * 3000);
    let want = reference_root(&chunks, Some(4096));
    let root = client
        .merkle_root_with(TreeHash::Sm3, chunks.clone(), Some(4096), None)
        .await
        .unwrap();
    assert_eq!(root, want);

    // In pieces, as `merkle root --remote FILE` sends them.
    let dir = scratch("sm3_merkle_service");
    let file = dir.join("chunks.bin");
    std::fs::write(&file, &chunks).unwrap();
    let out = veribatch(&[
        "merkle",
        "root",
        "--hash",
        "sm3",
        "--limit",
        "4096",
        "--remote",
        &server.url(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("0x{}", hex::encode(want)));

    // An unknown hash is refused, naming the field.
    let mut raw = proto::verifier_client::VerifierClient::connect(server.url())
        .await
        .unwrap();
    let e = raw
        .merkle_root(proto::MerkleRootRequest {
            chunks: chunks[..64].to_vec(),
            hash: 9,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("hash"), "{}", e.message());

    // Proofs of an SM3 tree: valid under SM3, not under SHA-256 (unset).
    let tree = engine()
        .merkle_tree_with(TreeHash::Sm3, &chunks, Some(4096), Some(3000))
        .unwrap();
    let proof = tree.prove(&[7, 2999]).unwrap();
    let good = common::server::proto_proof(&proof);
    let mut bad = good.clone();
    bad.proof[0][0] ^= 1;
    for (hash, want) in [
        (proto::TreeHash::Sm3, vec![Ok(true), Ok(false)]),
        (proto::TreeHash::Sha256, vec![Ok(false), Ok(false)]),
    ] {
        let r = raw
            .verify_merkle_proofs(proto::VerifyMerkleProofsRequest {
                proofs: vec![good.clone(), bad.clone()],
                hash: hash as i32,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(veribatch_client::verdicts(r.verdicts), want, "{hash:?}");
    }
    let e = raw
        .verify_merkle_proofs(proto::VerifyMerkleProofsRequest {
            proofs: vec![good],
            hash: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().starts_with("hash"), "{}", e.message());
}
