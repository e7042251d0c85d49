//! Groth16 keys and proofs made by arkworks' own prover (ark-groth16), in the encodings
//! veribatch reads. Shared by the tests and the benchmarks.

use ark_bls12_381::{Bls12_381, Fr, G1Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{Groth16, Proof, ProvingKey, VerifyingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable};
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use ark_std::rand::{SeedableRng, rngs::StdRng};

/// Knowledge of a, b with a·b = c, a + b = d, a·a = e; (c, d, e) public.
#[derive(Clone, Copy)]
pub struct Circuit {
    pub a: Fr,
    pub b: Fr,
}

impl Circuit {
    pub fn public_inputs(&self) -> Vec<Fr> {
        vec![self.a * self.b, self.a + self.b, self.a * self.a]
    }
}

impl ConstraintSynthesizer<Fr> for Circuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let [c, d, e] = self.public_inputs().try_into().expect("three inputs");
        let a = cs.new_witness_variable(|| Ok(self.a))?;
        let b = cs.new_witness_variable(|| Ok(self.b))?;
        let c = cs.new_input_variable(|| Ok(c))?;
        let d = cs.new_input_variable(|| Ok(d))?;
        let e = cs.new_input_variable(|| Ok(e))?;
        let lc = ark_relations::gr1cs::LinearCombination::<Fr>::new;
        cs.enforce_r1cs_constraint(|| lc() + a, || lc() + b, || lc() + c)?;
        cs.enforce_r1cs_constraint(|| lc() + a + b, || lc() + Variable::One, || lc() + d)?;
        cs.enforce_r1cs_constraint(|| lc() + a, || lc() + a, || lc() + e)?;
        Ok(())
    }
}

pub struct Fixture {
    pub pk: ProvingKey<Bls12_381>,
    pub vk: VerifyingKey<Bls12_381>,
    rng: StdRng,
}

impl Fixture {
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let circuit = Circuit {
            a: Fr::from(3u64),
            b: Fr::from(5u64),
        };
        let (pk, vk) = Groth16::<Bls12_381>::circuit_specific_setup(circuit, &mut rng).unwrap();
        Self { pk, vk, rng }
    }

    /// A proof for witnesses (a, b), with its public inputs.
    pub fn prove(&mut self, a: u64, b: u64) -> (Proof<Bls12_381>, Vec<Fr>) {
        let circuit = Circuit {
            a: Fr::from(a),
            b: Fr::from(b),
        };
        let proof = Groth16::<Bls12_381>::prove(&self.pk, circuit, &mut self.rng).unwrap();
        (proof, circuit.public_inputs())
    }
}

/// arkworks' compressed serialization.
pub fn compressed(x: &impl CanonicalSerialize) -> Vec<u8> {
    let mut out = Vec::new();
    x.serialize_compressed(&mut out).unwrap();
    out
}

fn uncompressed(x: &impl CanonicalSerialize) -> Vec<u8> {
    let mut out = Vec::new();
    x.serialize_uncompressed(&mut out).unwrap();
    out
}

/// bellman's `VerifyingKey::write` layout, built from arkworks' points (whose encodings
/// are the zcash ones). β_g1 and δ_g1 are not in an arkworks key; any valid G1 points
/// serve, since verification does not use them.
pub fn bellman_key(vk: &VerifyingKey<Bls12_381>) -> Vec<u8> {
    let g1 = G1Affine::generator();
    let mut out = uncompressed(&vk.alpha_g1);
    out.extend(uncompressed(&g1));
    out.extend(uncompressed(&vk.beta_g2));
    out.extend(uncompressed(&vk.gamma_g2));
    out.extend(uncompressed(&g1));
    out.extend(uncompressed(&vk.delta_g2));
    out.extend((vk.gamma_abc_g1.len() as u32).to_be_bytes());
    for p in &vk.gamma_abc_g1 {
        out.extend(uncompressed(p));
    }
    out
}

/// An Fr element as 32 big-endian bytes.
pub fn fr_be(x: &Fr) -> Vec<u8> {
    x.into_bigint().to_bytes_be()
}
