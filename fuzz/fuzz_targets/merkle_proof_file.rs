//! Merkle proof files, as `veribatch merkle verify` reads them (SHA-256 or SM3 trees, as
//! the file says), with a tree shape the first bytes pick. A proof that verifies against its claimed root stops verifying when
//! any leaf changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::merkle::file::{ProofFile, Shape};
use veribatch_engine::merkle::verify_multiproof_with;

fuzz_target!(|data: &[u8]| {
    let Some((&depth, json)) = data.split_first() else {
        return;
    };
    let Ok(file) = ProofFile::parse(json) else {
        return;
    };
    let depth = u32::from(depth % 66);
    let shape = (depth < 65).then(|| Shape {
        depth,
        positions: 1u64.checked_shl(depth).unwrap_or(u64::MAX),
    });
    let Ok(checked) = file.check(shape) else {
        return;
    };
    let verify = |leaves| {
        verify_multiproof_with(
            checked.hash,
            leaves,
            &checked.helpers,
            &checked.claimed_root,
        )
    };
    let Ok(true) = verify(&checked.leaves) else {
        return;
    };
    let mut leaves = checked.leaves.clone();
    leaves[0].1[0] ^= 1;
    assert_ne!(verify(&leaves), Ok(true), "a changed leaf still verifies");
});
