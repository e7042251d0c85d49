//! Merkle proof files, as `veribatch merkle verify` reads them, with a tree shape the
//! first bytes pick. A proof that verifies against its claimed root stops verifying when
//! any leaf changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::merkle::file::{ProofFile, Shape};
use veribatch_engine::merkle::verify_multiproof;

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
    let Ok(true) = verify_multiproof(&checked.leaves, &checked.helpers, &checked.claimed_root)
    else {
        return;
    };
    let mut leaves = checked.leaves.clone();
    leaves[0].1[0] ^= 1;
    assert_ne!(
        verify_multiproof(&leaves, &checked.helpers, &checked.claimed_root),
        Ok(true),
        "a changed leaf still verifies"
    );
});
