//! The one list of primitive cases a GPU is checked on: `veribatch selftest` runs it on
//! the user's device, and the differential tests of each GPU backend run it in CI.
//! A case added here is in both.

use crate::curves::bls12_381::{G1Affine, G2Affine};
use std::fmt;

use super::inputs::{self, Rng};
use crate::backend::Scalars;
use crate::backend::log_tree::{Hash, PackedLeaves};
use crate::curves::bls12_381::{neg_g1_affine, neg_g2_affine};

/// How much to check: `Quick` fits a software device (lavapipe) in CI; `Full` adds the
/// large inputs a datacenter GPU is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Quick,
    Full,
}

/// The GPU primitives, named as `--gpu-threshold` and the device health name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Primitive {
    Sha256,
    MerkleRoot,
    G1Sum,
    G2Sum,
    G1Msm,
    G2Msm,
    G1Scale,
    /// RFC 9162 leaf hashes.
    LogLeaves,
    /// RFC 9162 perfect subtrees.
    LogSubtree,
    /// SM3 of 64-byte blocks.
    Sm3,
    /// Merkle roots with SM3 nodes.
    Sm3Root,
}

impl Primitive {
    pub const ALL: [Self; 11] = [
        Self::Sha256,
        Self::MerkleRoot,
        Self::G1Sum,
        Self::G2Sum,
        Self::G1Msm,
        Self::G2Msm,
        Self::G1Scale,
        Self::LogLeaves,
        Self::LogSubtree,
        Self::Sm3,
        Self::Sm3Root,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::MerkleRoot => "merkle_root",
            Self::G1Sum => "g1_sum",
            Self::G2Sum => "g2_sum",
            Self::G1Msm => "g1_msm",
            Self::G2Msm => "g2_msm",
            Self::G1Scale => "g1_scale",
            Self::LogLeaves => "log_leaves",
            Self::LogSubtree => "log_subtree",
            Self::Sm3 => "sm3",
            Self::Sm3Root => "sm3_root",
        }
    }

    /// What a case's size counts.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Sha256 | Self::Sm3 => "blocks",
            Self::MerkleRoot | Self::Sm3Root => "chunks",
            Self::LogLeaves => "leaves",
            Self::LogSubtree => "leaf hashes",
            _ => "points",
        }
    }
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The scalars of an MSM or scaling case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// Random 64-bit scalars (batch verification's coefficients), led by 0, 1, 2^64−1,
    /// 2 and 2^63.
    U64,
    /// Random scalars below 2^254 (Groth16's), led by 0, 1, r−1 and 2^64−1.
    Fr,
    /// Every scalar 1: every point in one bucket.
    Ones,
    /// Every scalar below 2^8: a few crowded buckets.
    Bytes,
    /// Every scalar 2^64−1: every window's top bucket.
    Max,
}

impl ScalarKind {
    fn name(self) -> &'static str {
        match self {
            Self::U64 => "64-bit",
            Self::Fr => "255-bit",
            Self::Ones => "all 1",
            Self::Bytes => "8-bit",
            Self::Max => "all 2^64-1",
        }
    }

    /// `n` scalars of this kind.
    pub fn scalars(self, n: usize, rng: &mut Rng) -> Scalars {
        match self {
            Self::U64 => {
                let mut values: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
                for (v, edge) in values.iter_mut().zip([0, 1, u64::MAX, 2, 1 << 63]) {
                    *v = edge;
                }
                Scalars::from_u64s(&values)
            }
            Self::Fr => {
                let random = inputs::scalars_fr(n, rng);
                let mut values: Vec<[u8; 32]> = (0..n)
                    .map(|i| random.get(i).try_into().expect("32 bytes"))
                    .collect();
                let mut one = [0u8; 32];
                one[0] = 1;
                let mut low64 = [0u8; 32];
                low64[..8].fill(0xff);
                for (v, edge) in values.iter_mut().zip([[0u8; 32], one, R_MINUS_1_LE, low64]) {
                    *v = edge;
                }
                Scalars::from_fr_le(&values)
            }
            Self::Ones => Scalars::from_u64s(&vec![1; n]),
            Self::Bytes => {
                Scalars::from_u64s(&(0..n).map(|_| rng.next_u64() & 0xff).collect::<Vec<_>>())
            }
            Self::Max => Scalars::from_u64s(&vec![u64::MAX; n]),
        }
    }
}

/// r − 1, the largest scalar of Fr, little-endian.
const R_MINUS_1_LE: [u8; 32] = [
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd, 0x53,
    0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33, 0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7, 0xed, 0x73,
];

/// One input of one primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    pub primitive: Primitive,
    /// Blocks, chunks or points.
    pub size: usize,
    /// The scalars, for MSMs and scaling.
    pub scalars: Option<ScalarKind>,
    /// For Merkle roots: levels of zero padding above the smallest tree that holds
    /// `size` chunks.
    pub extra_depth: u32,
}

impl Case {
    fn new(primitive: Primitive, size: usize) -> Self {
        Self {
            primitive,
            size,
            scalars: None,
            extra_depth: 0,
        }
    }

    fn with_scalars(primitive: Primitive, size: usize, scalars: ScalarKind) -> Self {
        Self {
            scalars: Some(scalars),
            ..Self::new(primitive, size)
        }
    }

    /// A root (`MerkleRoot` or `Sm3Root`) of `size` chunks, `extra_depth` levels deeper
    /// than they need.
    fn merkle(primitive: Primitive, size: usize, extra_depth: u32) -> Self {
        Self {
            extra_depth,
            ..Self::new(primitive, size)
        }
    }

    /// The Merkle tree's depth: the smallest that holds `size` chunks, plus the padding.
    pub fn depth(&self) -> u32 {
        self.size.max(1).next_power_of_two().ilog2() + self.extra_depth
    }

    /// The seed of this case's random input: the same case always gets the same input,
    /// so a mismatch can be reproduced.
    pub fn seed(&self) -> u64 {
        let kind = self.scalars.map_or(0, |s| s as u64 + 1);
        (self.primitive as u64) << 56
            ^ (kind << 48)
            ^ (u64::from(self.extra_depth) << 40)
            ^ self.size as u64
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} {}",
            self.primitive,
            self.size,
            self.primitive.unit()
        )?;
        if let Some(scalars) = self.scalars {
            write!(f, ", {} scalars", scalars.name())?;
        }
        if matches!(self.primitive, Primitive::MerkleRoot | Primitive::Sm3Root) {
            write!(f, ", depth {}", self.depth())?;
        }
        Ok(())
    }
}

/// Every case of `level`, in the order of [`Primitive::ALL`].
pub fn cases(level: Level) -> Vec<Case> {
    let full = level == Level::Full;
    let mut cases = Vec::new();

    let mut blocks = vec![1, 2, 63, 64, 65, 255, 256, 257, 1000];
    if full {
        blocks.extend([1 << 16, 1 << 20]);
    }
    cases.extend(blocks.iter().map(|&n| Case::new(Primitive::Sha256, n)));

    // Every count up to 40 and around the powers of two, at three paddings: the levels
    // with an odd node, the zero-hash ladder, the empty tree.
    let mut counts: Vec<usize> = (0..=40).collect();
    counts.extend([63, 64, 65, 127, 128, 129, 255, 256, 257, 300, 1 << 12]);
    if full {
        counts.extend([1 << 16, (1 << 18) + 1, 1 << 20]);
    }
    for &count in &counts {
        for extra in [0, 1, 5] {
            cases.push(Case::merkle(Primitive::MerkleRoot, count, extra));
        }
    }
    cases.push(Case::merkle(Primitive::MerkleRoot, 1000, 30)); // a deep tree of few chunks

    let mut sums = vec![0, 1, 2, 3, 7, 33, 127, 128, 129, 1000];
    if full {
        sums.extend([65536, 300_000]);
    }
    for primitive in [Primitive::G1Sum, Primitive::G2Sum] {
        cases.extend(sums.iter().map(|&n| Case::new(primitive, n)));
    }

    let mut msms = vec![1, 2, 3, 5, 17, 100, 1000, 4096];
    if full {
        msms.extend([1 << 14, 1 << 16]);
    }
    for primitive in [Primitive::G1Msm, Primitive::G2Msm] {
        for &n in &msms {
            for kind in [ScalarKind::U64, ScalarKind::Fr] {
                cases.push(Case::with_scalars(primitive, n, kind));
            }
        }
        for kind in [ScalarKind::Ones, ScalarKind::Bytes, ScalarKind::Max] {
            cases.push(Case::with_scalars(primitive, 2000, kind));
        }
    }

    let mut scales = vec![1, 2, 40];
    if full {
        scales.extend([3000, 1 << 16]);
    }
    for n in scales {
        for kind in [ScalarKind::U64, ScalarKind::Fr] {
            cases.push(Case::with_scalars(Primitive::G1Scale, n, kind));
        }
    }

    // Leaves of every length from 0 to 200 bytes lead each case (the prefix byte and
    // the padding cross the block boundaries at 55, 56, 63 and 64), then random ones.
    let mut leaves = vec![1, 2, 63, 64, 65, 201, 1000, 4097];
    if full {
        leaves.extend([1 << 16, 1 << 20]);
    }
    cases.extend(
        leaves
            .into_iter()
            .map(|n| Case::new(Primitive::LogLeaves, n)),
    );

    let mut subtrees = vec![1, 2, 4, 8, 64, 1024, 4096];
    if full {
        subtrees.extend([1 << 16, 1 << 20]);
    }
    cases.extend(
        subtrees
            .into_iter()
            .map(|n| Case::new(Primitive::LogSubtree, n)),
    );

    // SM3's kernels share the level kernel with SHA-256's: the same blocks, and the
    // roots of every count up to 40 and around the powers of two.
    cases.extend(blocks.into_iter().map(|n| Case::new(Primitive::Sm3, n)));
    for count in counts {
        for extra in [0, 1, 5] {
            cases.push(Case::merkle(Primitive::Sm3Root, count, extra));
        }
    }
    cases.push(Case::merkle(Primitive::Sm3Root, 1000, 30));
    cases
}

/// `n` leaves: lengths 0, 1, … 200 first, then random lengths up to 300 bytes, every
/// 97th a leaf of 5,000 bytes.
pub fn log_leaves(n: usize, rng: &mut Rng) -> PackedLeaves {
    let mut leaves = PackedLeaves::new();
    for i in 0..n {
        let len = match i {
            0..=200 => i,
            _ if i % 97 == 0 => 5_000,
            _ => (rng.next_u64() % 301) as usize,
        };
        leaves.push(&rng.bytes(len));
    }
    leaves
}

/// `n` random 32-byte leaf hashes.
pub fn leaf_hashes(n: usize, rng: &mut Rng) -> Vec<Hash> {
    rng.bytes(32 * n)
        .chunks_exact(32)
        .map(|h| h.try_into().expect("32 bytes"))
        .collect()
}

/// `n` points of G1 with the edges every formula must handle: the point at infinity at
/// index 1, a point repeated (index 3 = index 2: a doubling) and a point beside its
/// negation (index 5 = −index 4: a sum through infinity).
pub fn g1_points(n: usize, rng: &mut Rng) -> Vec<G1Affine> {
    let mut points = inputs::g1_points(n, rng);
    with_edges(&mut points, G1Affine::default(), neg_g1_affine);
    points
}

/// As [`g1_points`], in G2.
pub fn g2_points(n: usize, rng: &mut Rng) -> Vec<G2Affine> {
    let mut points = inputs::g2_points(n, rng);
    with_edges(&mut points, G2Affine::default(), neg_g2_affine);
    points
}

fn with_edges<P: Copy>(points: &mut [P], infinity: P, neg: impl Fn(&P) -> P) {
    if points.len() > 1 {
        points[1] = infinity;
    }
    if points.len() > 3 {
        points[3] = points[2];
    }
    if points.len() > 5 {
        points[5] = neg(&points[4]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_primitive_has_cases_and_full_adds_to_quick() {
        let quick = cases(Level::Quick);
        let full = cases(Level::Full);
        for primitive in Primitive::ALL {
            assert!(
                quick.iter().any(|c| c.primitive == primitive),
                "{primitive}"
            );
        }
        assert!(quick.iter().all(|c| full.contains(c)));
        assert!(full.len() > quick.len());
    }

    #[test]
    fn seeds_differ_between_cases() {
        let all = cases(Level::Full);
        let mut seeds: Vec<u64> = all.iter().map(Case::seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), all.len());
    }

    #[test]
    fn edge_points_are_in_place() {
        let mut rng = Rng::new(1);
        let points = g1_points(8, &mut rng);
        assert!(crate::curves::bls12_381::g1_is_infinity(&points[1]));
        assert_eq!(points[3], points[2]);
        assert_eq!(neg_g1_affine(&points[5]), points[4]);
    }
}
