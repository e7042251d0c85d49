//! Engine values as the proto carries them, and back: the client sends what the server
//! takes, with one mapping for both.

use veribatch_engine::ProofInput;
use veribatch_engine::bls::{Scheme, SignatureSet};

impl From<SignatureSet> for crate::SignatureSet {
    fn from(s: SignatureSet) -> Self {
        Self {
            signature: s.signature,
            public_keys: s.public_keys,
            messages: s.messages,
        }
    }
}

impl From<crate::SignatureSet> for SignatureSet {
    fn from(s: crate::SignatureSet) -> Self {
        Self {
            signature: s.signature,
            public_keys: s.public_keys,
            messages: s.messages,
        }
    }
}

impl From<ProofInput> for crate::Groth16Proof {
    fn from(p: ProofInput) -> Self {
        Self {
            proof: p.proof,
            public_inputs: p.public_inputs,
        }
    }
}

impl From<crate::Groth16Proof> for ProofInput {
    fn from(p: crate::Groth16Proof) -> Self {
        Self {
            proof: p.proof,
            public_inputs: p.public_inputs,
        }
    }
}

impl From<veribatch_engine::Verdict> for crate::Verdict {
    fn from(v: veribatch_engine::Verdict) -> Self {
        match v {
            Ok(valid) => Self {
                valid,
                error: String::new(),
            },
            Err(e) => Self {
                valid: false,
                error: e.to_string(),
            },
        }
    }
}

impl From<Scheme> for crate::BlsScheme {
    fn from(scheme: Scheme) -> Self {
        match scheme {
            Scheme::Basic => Self::Basic,
            Scheme::MessageAugmentation => Self::MessageAugmentation,
            Scheme::ProofOfPossession => Self::ProofOfPossession,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_proofs_survive_the_round_trip() {
        let set = SignatureSet {
            signature: vec![1; 96],
            public_keys: vec![vec![2; 48], vec![3; 48]],
            messages: vec![vec![4; 32], vec![5; 32]],
        };
        assert_eq!(
            SignatureSet::from(crate::SignatureSet::from(set.clone())),
            set
        );
        let proof = ProofInput {
            proof: vec![6; 192],
            public_inputs: vec![vec![7; 32]],
        };
        assert_eq!(
            ProofInput::from(crate::Groth16Proof::from(proof.clone())),
            proof
        );
    }

    #[test]
    fn every_scheme_has_its_own_value() {
        let values = [
            Scheme::Basic,
            Scheme::MessageAugmentation,
            Scheme::ProofOfPossession,
        ]
        .map(|s| crate::BlsScheme::from(s) as i32);
        assert!(
            values
                .iter()
                .all(|&v| v != crate::BlsScheme::Unspecified as i32)
        );
        assert!(values[0] != values[1] && values[1] != values[2] && values[0] != values[2]);
    }
}
