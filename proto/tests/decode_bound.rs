//! The decoding bound is an upper bound of what prost really allocates: each request is
//! decoded under an allocator that records its peak, for shapes from the realistic to
//! the hostile (empty items, one-byte items, deep nesting, packed varints, unknown
//! fields); and it refuses the hostile shapes while admitting realistic ones at the
//! largest size the server's limits allow.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use prost::Message;
use veribatch_proto::decode_bound::{ALLOWANCE, Bounded, MAX_FACTOR, decoded_bound};
use veribatch_proto::{self as proto, log_inclusion_proof::LeafValue, log_proof::Proof};

/// The system allocator, counting the bytes each thread holds and their peak, so that
/// tests running at once do not count each other's. A reallocation is an allocation
/// and a release (GlobalAlloc's default), as a copying allocator does it.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = HELD.get() + layout.size() as isize;
        HELD.set(held);
        PEAK.set(PEAK.get().max(held));
        // SAFETY: forwarded as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.set(HELD.get() - layout.size() as isize);
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated while decoding `bytes` as `M` (the message kept to the end).
fn decoding_peak<M: Message + Default>(bytes: &[u8]) -> u64 {
    let before = HELD.get();
    PEAK.set(before);
    let message = M::decode(bytes).expect("the test's encodings are valid");
    let peak = PEAK.get() - before;
    drop(message);
    peak as u64
}

fn assert_bounded<M: Message + Default + Bounded>(what: &str, message: &M) {
    let bytes = message.encode_to_vec();
    let bound = decoded_bound::<M>(&bytes).expect("a request has a schema");
    let peak = decoding_peak::<M>(&bytes);
    assert!(
        peak <= bound,
        "{what}: decoding {} bytes took {peak} bytes, over the bound {bound}",
        bytes.len()
    );
}

fn within_limit<M: Message + Bounded>(message: &M) -> bool {
    let bytes = message.encode_to_vec();
    let bound = decoded_bound::<M>(&bytes).expect("a request has a schema");
    bound <= MAX_FACTOR * bytes.len() as u64 + ALLOWANCE
}

fn leaves(n: usize, len: usize) -> proto::LogRootRequest {
    proto::LogRootRequest {
        leaves: (0..n).map(|i| vec![i as u8; len]).collect(),
        size: Some(n as u64),
        ..Default::default()
    }
}

fn inclusion(path: usize, node: usize, leaf: usize) -> proto::LogProof {
    proto::LogProof {
        proof: Some(Proof::Inclusion(proto::LogInclusionProof {
            size: 1 << 20,
            index: 7,
            leaf_value: Some(LeafValue::Leaf(vec![1; leaf])),
            path: vec![vec![2; node]; path],
            root: vec![3; 32],
        })),
    }
}

fn consistency(path: usize) -> proto::LogProof {
    proto::LogProof {
        proof: Some(Proof::Consistency(proto::LogConsistencyProof {
            old_size: 5,
            old_root: vec![4; 32],
            size: 9,
            root: vec![5; 32],
            path: vec![vec![6; 32]; path],
        })),
    }
}

fn sets(n: usize, keys: usize, key_len: usize) -> proto::VerifySignaturesRequest {
    proto::VerifySignaturesRequest {
        sets: (0..n)
            .map(|_| proto::SignatureSet {
                signature: vec![7; 96],
                public_keys: vec![vec![8; key_len]; keys],
                messages: vec![vec![9; 32]],
            })
            .collect(),
        dst: b"dst".to_vec(),
        scheme: 0,
    }
}

fn merkle(proofs: usize, leaves: usize, gindex: u64) -> proto::VerifyMerkleProofsRequest {
    merkle_with(proofs, leaves, gindex, 3)
}

fn merkle_with(
    proofs: usize,
    leaves: usize,
    gindex: u64,
    helpers: usize,
) -> proto::VerifyMerkleProofsRequest {
    proto::VerifyMerkleProofsRequest {
        proofs: (0..proofs)
            .map(|_| proto::MerkleProof {
                root: vec![1; 32],
                gindices: vec![gindex; leaves],
                leaves: vec![vec![2; 32]; leaves],
                proof: vec![vec![3; 32]; helpers],
            })
            .collect(),
        ..Default::default()
    }
}

/// A `VerifyLogProofs` request of one proof whose message is `pieces`, one after the
/// other: protobuf merges the occurrences of a singular field into one message (and a
/// oneof's later variant replaces the earlier), which prost's encoder never writes but
/// a hostile client may.
fn one_proof_in_pieces(pieces: &[proto::LogProof]) -> Vec<u8> {
    let body: Vec<u8> = pieces.iter().flat_map(|p| p.encode_to_vec()).collect();
    let mut bytes = vec![0x0a];
    prost::encoding::encode_varint(body.len() as u64, &mut bytes);
    bytes.extend(body);
    bytes
}

/// Lists of 2^k + 1 elements: the last element makes the list grow from 2^k to 2^(k+1)
/// slots, holding 3·2^k at that moment, the worst case of the bound's rule.
const JUST_GROWN: usize = (1 << 17) + 1;

#[test]
fn the_bound_is_above_what_decoding_allocates() {
    assert_bounded("empty leaves", &leaves(JUST_GROWN, 0));
    assert_bounded("one-byte leaves", &leaves(JUST_GROWN, 1));
    assert_bounded("32-byte leaves", &leaves(JUST_GROWN, 32));
    assert_bounded("one large leaf", &leaves(1, 5 << 20));
    let proofs = |proofs: Vec<proto::LogProof>| proto::VerifyLogProofsRequest {
        proofs,
        ..Default::default()
    };
    assert_bounded(
        "empty proofs",
        &proofs(vec![proto::LogProof::default(); JUST_GROWN]),
    );
    assert_bounded(
        "empty path nodes",
        &proofs(vec![inclusion(20, 0, 0); 5_000]),
    );
    assert_bounded(
        "real inclusion proofs",
        &proofs(vec![inclusion(30, 32, 100); 5_000]),
    );
    assert_bounded("consistency proofs", &proofs(vec![consistency(25); 5_000]));
    assert_bounded("sets of empty keys", &sets(1, JUST_GROWN, 0));
    assert_bounded("sets of real keys", &sets(1_000, 64, 48));
    assert_bounded("small gindices", &merkle(1, JUST_GROWN, 3));
    assert_bounded("large gindices", &merkle(2_000, 30, u64::MAX));
    let stream = proto::VerifyStreamRequest {
        id: 9,
        request: Some(proto::verify_stream_request::Request::LogRoot(leaves(
            100_000, 0,
        ))),
    };
    assert_bounded("a stream's request", &stream);
    assert_bounded("one-leaf proofs", &merkle_with(JUST_GROWN, 1, 2, 1));
    assert_bounded("proofs without leaves", &merkle_with(JUST_GROWN, 0, 2, 0));
    assert_bounded(
        "a Merkle root",
        &proto::MerkleRootRequest {
            chunks: vec![0; 8 << 20],
            ..Default::default()
        },
    );
}

/// Pieces of one singular message, merged (their lists appended) or replacing each
/// other, stay under the bound.
#[test]
fn a_message_in_pieces_is_bounded() {
    // Five empty nodes a piece and nothing else: each piece's list alone would fit in
    // eight slots, while the merged list of 2^17 + 3 nodes needs 2^18.
    let piece = proto::LogProof {
        proof: Some(Proof::Inclusion(proto::LogInclusionProof {
            path: vec![Vec::new(); 5],
            ..Default::default()
        })),
    };
    let merged = one_proof_in_pieces(&vec![piece; 26_215]);
    let replaced = one_proof_in_pieces(
        &[inclusion(50_000, 0, 0), consistency(50_000)]
            .into_iter()
            .cycle()
            .take(6)
            .collect::<Vec<_>>(),
    );
    for (what, bytes) in [("merged", merged), ("replaced", replaced)] {
        let bound = decoded_bound::<proto::VerifyLogProofsRequest>(&bytes).expect("a request");
        let peak = decoding_peak::<proto::VerifyLogProofsRequest>(&bytes);
        assert!(peak <= bound, "{what}: {peak} bytes over the bound {bound}");
    }
}

/// Fields this build does not know are skipped by prost without allocating; the bound
/// walks past them (a group too) and still counts what follows.
#[test]
fn unknown_fields_do_not_hide_what_follows() {
    let mut bytes = vec![
        0x98, 0x01, 0x05, // field 19, varint 5
        0xa3, 0x01, // field 20, start group
        0x08, 0x01, // field 1 in the group, varint 1
        0xa4, 0x01, // field 20, end group
    ];
    bytes.extend(leaves(100_000, 0).encode_to_vec());
    let bound = decoded_bound::<proto::LogRootRequest>(&bytes).expect("a request");
    let known = decoded_bound::<proto::LogRootRequest>(&leaves(100_000, 0).encode_to_vec())
        .expect("a request");
    assert_eq!(bound, known);
    assert!(decoding_peak::<proto::LogRootRequest>(&bytes) <= bound);
}

#[test]
fn masses_of_tiny_items_are_refused_and_real_requests_admitted() {
    // 8 MiB of empty leaves would take over 200 MiB.
    assert!(!within_limit(&leaves(4 << 20, 0)));
    assert!(!within_limit(&leaves(4 << 20, 1)));
    assert!(!within_limit(&proto::VerifyLogProofsRequest {
        proofs: vec![proto::LogProof::default(); 4 << 20],
        ..Default::default()
    }));
    assert!(!within_limit(&sets(1, 4 << 20, 0)));
    // Realistic requests at the server's largest sizes: 64 MiB of 32-byte leaves, the
    // cost limit's 2^18 path nodes, 2^18 keys of 48 bytes, 65,536 one-leaf proofs
    // (with no helper node, with one, with three), 65,536 sets of one key.
    assert!(within_limit(&leaves(1_900_000, 32)));
    assert!(within_limit(&proto::VerifyLogProofsRequest {
        proofs: vec![inclusion(32, 32, 32); 8_192],
        ..Default::default()
    }));
    assert!(within_limit(&proto::VerifyLogProofsRequest {
        proofs: vec![inclusion(0, 32, 32); 65_536],
        ..Default::default()
    }));
    assert!(within_limit(&sets(4_096, 64, 48)));
    assert!(within_limit(&merkle(65_536, 4, u64::MAX)));
    assert!(within_limit(&merkle_with(65_536, 1, 1, 0)));
    assert!(within_limit(&merkle_with(65_536, 1, 2, 1)));
    assert!(within_limit(&merkle_with(65_536, 1, 2, 3)));
    assert!(within_limit(&sets(65_536, 1, 48)));
    // Replies have no schema: the client decodes them as they come.
    assert_eq!(decoded_bound::<proto::LogRootResponse>(&[]), None);
}

/// A nested field whose length runs past its message's end: prost checks it only
/// against the whole buffer and would decode (and allocate) it before failing, so the
/// bound refuses the request outright.
#[test]
fn a_length_past_its_message_is_refused() {
    // proofs[0] of length 5 whose `inclusion` claims the rest: empty path nodes.
    let n = 200_000usize;
    let mut log = vec![0x0a, 0x05, 0x0a];
    prost::encoding::encode_varint(n as u64, &mut log);
    log.extend(std::iter::repeat_n([0x2a, 0x00], n / 2).flatten());
    assert_eq!(
        decoded_bound::<proto::VerifyLogProofsRequest>(&log),
        Some(u64::MAX)
    );
    // proofs[0] of length 5 whose packed gindices claim the rest.
    let mut merkle = vec![0x0a, 0x05, 0x12];
    prost::encoding::encode_varint(n as u64, &mut merkle);
    merkle.extend(std::iter::repeat_n(0u8, n));
    assert_eq!(
        decoded_bound::<proto::VerifyMerkleProofsRequest>(&merkle),
        Some(u64::MAX)
    );
    // Truncated at the top level too.
    assert_eq!(
        decoded_bound::<proto::LogRootRequest>(&[0x0a, 0x05, 0x01]),
        Some(u64::MAX)
    );
}
