//! A client of the service, for the CLI's `--remote` and for tests: the same inputs and
//! verdicts as the engine, over gRPC.

use std::path::Path;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use veribatch_engine::bls::SignatureSet;
use veribatch_engine::groth16::KeyFormat;
use veribatch_engine::{InputError, ProofInput, Verdict};

use crate::proto::verifier_client::VerifierClient;
use crate::proto::{self, KeyFormat as ProtoKeyFormat};

/// Messages up to this size each way (the server's default limit).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// A connected client.
#[derive(Clone)]
pub struct Remote {
    client: VerifierClient<Channel>,
}

impl Remote {
    /// Connects to `url` (`http://host:port`, or `https://…` with `ca` the PEM of the
    /// certificate authority that signed the server's certificate).
    pub async fn connect(url: &str, ca: Option<&Path>) -> Result<Self, String> {
        Self::connect_tls(url, ca, None).await
    }

    /// [`Remote::connect`], presenting a client certificate and key (PEM) to a server
    /// that requires one (mutual TLS).
    pub async fn connect_tls(
        url: &str,
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, String> {
        let read =
            |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
        let mut endpoint =
            Endpoint::from_shared(url.to_string()).map_err(|e| format!("{url}: {e}"))?;
        if ca.is_some() || identity.is_some() {
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = ca {
                tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
            }
            if let Some((cert, key)) = identity {
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| format!("TLS: {e}"))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        Ok(Self {
            client: VerifierClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        })
    }

    /// The generated client, for calls this wrapper does not cover.
    pub fn inner(&mut self) -> &mut VerifierClient<Channel> {
        &mut self.client
    }

    pub async fn verify_signature_sets(
        &mut self,
        sets: &[SignatureSet],
        dst: &[u8],
    ) -> Result<Vec<Verdict>, String> {
        let request = proto::VerifySignaturesRequest {
            sets: sets
                .iter()
                .map(|s| proto::SignatureSet {
                    signature: s.signature.clone(),
                    public_keys: s.public_keys.clone(),
                    messages: s.messages.clone(),
                })
                .collect(),
            dst: dst.to_vec(),
        };
        let response = self
            .client
            .verify_signatures(request)
            .await
            .map_err(status)?;
        Ok(verdicts(response.into_inner().verdicts))
    }

    pub async fn merkle_root(
        &mut self,
        chunks: Vec<u8>,
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<[u8; 32], String> {
        let request = proto::MerkleRootRequest {
            chunks,
            limit: limit.unwrap_or(0),
            mix_in_length: mix_in_length.is_some(),
            length: mix_in_length,
        };
        let root = self
            .client
            .merkle_root(request)
            .await
            .map_err(status)?
            .into_inner()
            .root;
        root.try_into()
            .map_err(|r: Vec<u8>| format!("the server sent a root of {} bytes", r.len()))
    }

    /// Registers a key; returns its id.
    pub async fn register_key(
        &mut self,
        key: Vec<u8>,
        format: Option<KeyFormat>,
    ) -> Result<Vec<u8>, String> {
        let format = match format {
            None => ProtoKeyFormat::Unspecified,
            Some(KeyFormat::SnarkjsJson) => ProtoKeyFormat::SnarkjsJson,
            Some(KeyFormat::Arkworks) => ProtoKeyFormat::Arkworks,
            Some(KeyFormat::Bellman) => ProtoKeyFormat::Bellman,
        };
        let response = self
            .client
            .register_verifying_key(proto::RegisterVerifyingKeyRequest {
                verifying_key: key,
                format: format as i32,
            })
            .await
            .map_err(status)?;
        Ok(response.into_inner().key_id)
    }

    pub async fn verify_groth16(
        &mut self,
        key_id: &[u8],
        proofs: &[ProofInput],
    ) -> Result<Vec<Verdict>, String> {
        let request = proto::VerifyGroth16Request {
            key_id: key_id.to_vec(),
            proofs: proofs
                .iter()
                .map(|p| proto::Groth16Proof {
                    proof: p.proof.clone(),
                    public_inputs: p.public_inputs.clone(),
                })
                .collect(),
        };
        let response = self.client.verify_groth16(request).await.map_err(status)?;
        Ok(verdicts(response.into_inner().verdicts))
    }
}

fn status(s: tonic::Status) -> String {
    format!("the server answered {:?}: {}", s.code(), s.message())
}

/// Verdicts as the engine gives them; a malformed item's error comes back as text.
pub fn verdicts(v: Vec<proto::Verdict>) -> Vec<Verdict> {
    v.into_iter()
        .map(|v| {
            if v.error.is_empty() {
                Ok(v.valid)
            } else {
                Err(remote_error(v.error))
            }
        })
        .collect()
}

/// An item error reported by the server, split back into location and reason where the
/// text allows, so the CLI prints it as it would locally.
fn remote_error(text: String) -> InputError {
    let (location, reason) = text.split_once(": ").unwrap_or(("", text.as_str()));
    let (field, index) = match location.split_once('[') {
        Some((f, rest)) => (f, rest.trim_end_matches(']').parse().ok()),
        None => (location, None),
    };
    let field: &'static str = match field {
        "signature" => "signature",
        "public_keys" => "public_keys",
        "messages" => "messages",
        "proof" => "proof",
        "public_inputs" => "public_inputs",
        _ => return InputError::new("item", None, text),
    };
    InputError::new(field, index, reason)
}
