//! Merkle trees with SM3 nodes (`--hash sm3`, the proto's `hash`): against a plain
//! reference on RustCrypto's sm3 (padding materialised, the tree built naively), in
//! memory, streamed from a file, and through a real server's MerkleRoot and
//! MerkleRootStream.

mod common;

use common::process::{scratch, stderr, stdout, veribatch};
use common::{TestRng, engine};
use sm3::{Digest, Sm3};
use veribatch_engine::merkle::{Node, TreeHash};

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
}
