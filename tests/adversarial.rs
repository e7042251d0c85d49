//! Regression tests for the unsafe verdicts found in review: each is a way veribatch
//! once said "valid" (or OK, or exit 0) when it must not, or panicked. Real processes on
//! real files, a real server, and a lying server on loopback.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::process::{example, scratch, stderr, stdout, veribatch, veribatch_with_stdin};

use serde_json::{Value, json};
use veribatch_engine::bls::{Ciphersuite, Scheme, SignatureSet};
use veribatch_engine::groth16::{DegenerateKeys, KeyFormat};
use veribatch_service::proto;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

/// The py_ecc fixtures of the three BLS schemes (tests/vectors/bls/schemes).
fn scheme_fixtures() -> Value {
    let path = common::vectors().join("bls/schemes/schemes.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn fixture_set(case: &Value) -> SignatureSet {
    let list = |name: &str| {
        case["set"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| unhex(v.as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    SignatureSet {
        signature: unhex(case["set"]["signature"].as_str().unwrap()),
        public_keys: list("pubkeys"),
        messages: list("messages"),
    }
}

/// Every scheme's verdicts are py_ecc's, one by one and in one batch of all cases.
#[test]
fn every_scheme_agrees_with_py_ecc() {
    let engine = common::engine();
    let fixtures = scheme_fixtures();
    let cases = fixtures["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for scheme in Scheme::ALL {
        let own: Vec<&Value> = cases
            .iter()
            .filter(|c| c["scheme"] == scheme.name())
            .collect();
        assert!(own.len() >= 5, "{scheme}");
        let suite = Ciphersuite::new(own[0]["dst"].as_str().unwrap().as_bytes(), None).unwrap();
        assert_eq!(suite.scheme(), scheme);
        let sets: Vec<SignatureSet> = own.iter().map(|c| fixture_set(c)).collect();
        let batch = engine.verify_signature_sets(&sets, &suite);
        for ((case, set), in_batch) in own.iter().zip(&sets).zip(batch) {
            let alone = engine.verify_signature_sets(std::slice::from_ref(set), &suite);
            let want = case["valid"].as_bool().unwrap();
            assert_eq!(alone[0].clone().unwrap_or(false), want, "{scheme}: {case}");
            assert_eq!(in_batch, alone[0], "{scheme}: {}", case["name"]);
        }
    }
}

#[test]
fn signing_under_each_scheme_matches_py_ecc_byte_for_byte() {
    let engine = common::engine();
    let fixtures = scheme_fixtures();
    for scheme in Scheme::ALL {
        let dst = match scheme {
            Scheme::Basic => "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_",
            Scheme::MessageAugmentation => "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_AUG_",
            Scheme::ProofOfPossession => "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_",
        };
        let suite = Ciphersuite::new(dst.as_bytes(), None).unwrap();
        let want = fixtures["signatures_of_hello"][scheme.name()]
            .as_array()
            .unwrap();
        for (sk, want) in fixtures["secret_keys"].as_array().unwrap().iter().zip(want) {
            let sig = engine
                .sign(&unhex(sk.as_str().unwrap()), b"hello", &suite)
                .unwrap();
            assert_eq!(format!("0x{}", hex::encode(sig)), want.as_str().unwrap());
        }
    }
}

/// The rogue-key forgery of issue 11: [pk, −pk], one message twice, the signature at
/// infinity. Under the basic scheme's tag it is refused with the reason; a tag with no
/// scheme suffix is refused as a whole unless a scheme is named.
#[test]
fn the_basic_scheme_refuses_repeated_messages_through_the_cli() {
    let fixtures = scheme_fixtures();
    let forgery = fixtures["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scheme"] == "basic" && c["name"] == "forgery [pk, -pk]")
        .unwrap()
        .clone();
    let line = forgery["set"].to_string();
    let nul = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";
    for args in [
        vec!["verify", "bls", "--dst", nul, "-"],
        vec![
            "verify",
            "bls",
            "--dst",
            "MY_APP_V1",
            "--scheme",
            "basic",
            "-",
        ],
    ] {
        let out = veribatch_with_stdin(&args, line.as_bytes());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let verdict: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(verdict["valid"], false);
        assert_eq!(
            verdict["error"],
            "messages[1]: repeats messages[0]: the basic scheme requires distinct messages"
        );
    }
    let out = veribatch_with_stdin(
        &["verify", "bls", "--dst", "MY_APP_V1", "-"],
        line.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--scheme: the tag names no scheme"));
    let out = veribatch_with_stdin(
        &["verify", "bls", "--dst", nul, "--scheme", "pop", "-"],
        line.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("contradicts the tag"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_takes_the_scheme_beside_the_tag() {
    let server = common::server::Server::start(&[]);
    let mut client = server.client().await;
    let fixtures = scheme_fixtures();
    let case = |scheme: &str, name: &str| {
        fixtures["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scheme"] == scheme && c["name"] == name)
            .unwrap()
            .clone()
    };
    let nul = Ciphersuite::new(&b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"[..], None).unwrap();
    let forgery = fixture_set(&case("basic", "forgery [pk, -pk]"));
    let verdicts = client
        .verify_signature_sets(std::slice::from_ref(&forgery), &nul)
        .await
        .unwrap();
    let error = verdicts[0].clone().unwrap_err();
    // Read back from the reply's own fields, not parsed from its text.
    assert_eq!(
        error.field,
        veribatch_engine::error::Field::Messages,
        "{error}"
    );
    assert!(error.to_string().contains("distinct messages"), "{error}");

    let aug = Ciphersuite::new(&b"ANY_TAG"[..], Some(Scheme::MessageAugmentation)).unwrap();
    let aug_case = case("aug", "aggregate, one message four times");
    let mut set = fixture_set(&aug_case);
    // Signed under the standard AUG tag: under another tag it must fail, under its own pass.
    assert_eq!(
        client
            .verify_signature_sets(std::slice::from_ref(&set), &aug)
            .await
            .unwrap(),
        vec![Ok(false)]
    );
    let own = Ciphersuite::new(aug_case["dst"].as_str().unwrap().as_bytes(), None).unwrap();
    assert_eq!(
        client
            .verify_signature_sets(std::slice::from_ref(&set), &own)
            .await
            .unwrap(),
        vec![Ok(true)]
    );
    set.messages[2] = b"changed".to_vec();
    assert_eq!(
        client
            .verify_signature_sets(std::slice::from_ref(&set), &own)
            .await
            .unwrap(),
        vec![Ok(false)]
    );

    let raw = |dst: &[u8], scheme: i32| proto::VerifySignaturesRequest {
        sets: vec![proto::SignatureSet::default()],
        dst: dst.to_vec(),
        scheme,
    };
    for (request, message) in [
        (raw(b"MY_APP_V1", 0), "scheme: the tag names no scheme"),
        (
            raw(b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_", 1),
            "scheme: basic contradicts the tag",
        ),
        (raw(b"", 9), "scheme: unknown BLS scheme 9"),
    ] {
        let status = client.inner().verify_signatures(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with(message),
            "{}",
            status.message()
        );
    }
}

/// A snarkjs key with delta replaced: `gamma` copies gamma into delta.
fn tampered_key(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut key: Value =
        serde_json::from_slice(&std::fs::read(example("groth16/verification_key.json")).unwrap())
            .unwrap();
    edit(&mut key);
    key.to_string().into_bytes()
}

fn gamma_is_delta(key: &mut Value) {
    key["vk_delta_2"] = key["vk_gamma_2"].clone();
}

/// A proof of any public inputs x for a key with γ = δ, made from the key alone:
/// A = α, B = β, C = −(IC₀ + Σ x_j·IC_j), here with x = (1, 2, 3).
fn forged_proof(key: &[u8]) -> Vec<u8> {
    use veribatch_engine::curves::bls12_381::{
        compress_g1, decode_g1, g1_add, g1_from_affine, neg_g1,
    };
    let key = KeyFormat::SnarkjsJson
        .parse_key_with(key, DegenerateKeys::Accept)
        .unwrap()
        .canonical_bytes();
    let (alpha, beta) = (&key[..48], &key[48..144]);
    let ic = &key[48 + 3 * 96 + 8..];
    let point = |k: usize| g1_from_affine(&decode_g1(&ic[48 * k..48 * (k + 1)]).unwrap());
    let mut l = point(0);
    for (k, times) in [(1, 1), (2, 2), (3, 3)] {
        for _ in 0..times {
            l = g1_add(&l, &point(k));
        }
    }
    let c = compress_g1(&neg_g1(&l));
    [alpha, beta, &c[..]].concat()
}

#[test]
fn groth16_keys_that_let_anyone_forge_are_refused_unless_asked_for() {
    let dir = scratch("degenerate");
    let vk = dir.join("vk.json");
    let key = tampered_key(gamma_is_delta);
    std::fs::write(&vk, &key).unwrap();
    let proof = dir.join("proof.hex");
    std::fs::write(&proof, format!("0x{}", hex::encode(forged_proof(&key)))).unwrap();
    let public = dir.join("public.json");
    std::fs::write(&public, r#"["1","2","3"]"#).unwrap();
    let args = [
        vk.to_str().unwrap(),
        public.to_str().unwrap(),
        proof.to_str().unwrap(),
    ];

    let out = veribatch(&[&["groth16", "verify"][..], &args].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("gamma equals delta: anyone can forge proofs for this key"),
        "{}",
        stderr(&out)
    );
    // Asked for, the key is taken with a warning, and the forgery shows why it is refused.
    let out = veribatch(&[&["groth16", "verify", "--allow-degenerate-key"][..], &args].concat());
    assert_eq!(
        (out.status.code(), stdout(&out).trim()),
        (Some(0), "OK"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));

    // The service refuses it too.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = common::server::Server::start(&[]);
        let mut client = server.client().await;
        let err = client.register_key(key.clone(), None).await.unwrap_err();
        assert!(err.to_string().contains("gamma equals delta"), "{err}");
    });
}

#[test]
fn every_forgeable_key_shape_is_named() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(gamma_is_delta), "gamma equals delta"),
        (
            Box::new(|k| {
                // −γ: the same x, y replaced by p − y (both Fp2 coordinates).
                k["vk_delta_2"] = k["vk_gamma_2"].clone();
                k["vk_delta_2"][1] = negate_fp2(&k["vk_gamma_2"][1]);
            }),
            "gamma equals minus delta",
        ),
        (
            Box::new(|k| k["vk_beta_2"] = k["vk_gamma_2"].clone()),
            "beta equals gamma",
        ),
        (
            Box::new(|k| k["IC"][2] = json!(["0", "1", "0"])),
            "IC[2] is the point at infinity: public input 1 is unconstrained",
        ),
        (
            Box::new(|k| k["IC"][3] = k["IC"][1].clone()),
            "IC[3] equals IC[1]: public inputs 0 and 2 can be traded",
        ),
        (
            Box::new(|k| {
                k["IC"][2] = k["IC"][1].clone();
                k["IC"][2][1] = json!(negate_fp(k["IC"][1][1].as_str().unwrap()));
            }),
            "IC[2] equals minus IC[1]",
        ),
    ];
    for (edit, message) in cases {
        let key = tampered_key(edit);
        let err = KeyFormat::SnarkjsJson.parse_key(&key).unwrap_err();
        assert!(
            matches!(err.kind, veribatch_engine::error::ErrorKind::Degenerate(_)),
            "{err}"
        );
        assert!(err.to_string().contains(message), "{message}: {err}");
        assert!(
            KeyFormat::SnarkjsJson
                .parse_key_with(&key, DegenerateKeys::Accept)
                .is_ok(),
            "{message}"
        );
    }
    // IC₀ is the constant's point, not a public input's: the untouched key parses.
    assert!(
        KeyFormat::SnarkjsJson
            .parse_key(&tampered_key(|_| ()))
            .is_ok()
    );
}

/// p − y for a decimal y of BLS12-381's base field (arkworks' Fq does the arithmetic).
fn negate_fp(y: &str) -> String {
    use std::str::FromStr;
    (-ark_bls12_381::Fq::from_str(y).expect("a decimal coordinate")).to_string()
}

fn negate_fp2(y: &Value) -> Value {
    json!([
        negate_fp(y[0].as_str().unwrap()),
        negate_fp(y[1].as_str().unwrap())
    ])
}

#[test]
fn empty_input_is_not_success() {
    let dir = scratch("empty");
    let empty = dir.join("empty.ndjson");
    std::fs::write(&empty, "\n\n").unwrap();
    let empty = empty.to_str().unwrap();
    let vk = example("groth16/verification_key.json");
    for (args, what) in [
        (vec!["verify", "bls", empty], "no sets in input"),
        (vec!["verify", "bls", "-"], "no sets in input"),
        (
            vec!["groth16", "verify-batch", "--vk", &vk, empty],
            "no proofs in input",
        ),
        (
            vec!["groth16", "verify-batch", "--vk", &vk, "-"],
            "no proofs in input",
        ),
    ] {
        let out = veribatch(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
    }
    let array = dir.join("array.json");
    std::fs::write(&array, " [ ] ").unwrap();
    let out = veribatch(&["verify", "bls", array.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    for args in [
        vec!["verify", "bls", "--allow-empty", empty],
        vec!["groth16", "verify-batch", "--allow-empty", "--vk", &vk, "-"],
    ] {
        let out = veribatch(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "");
    }
}

/// `… | head -c 100`: the reader leaves early, and the writer ends quietly with 141
/// (128 + SIGPIPE, as a shell reports coreutils), never 0, which would mean "all valid".
#[test]
fn a_closed_pipe_ends_commands_quietly() {
    let dir = scratch("pipe");
    let chunks = dir.join("chunks.bin");
    std::fs::write(&chunks, vec![7u8; 32 * 4096]).unwrap();
    let indices: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    let indices = indices.join(",");
    let valid = example("valid.ndjson");
    let big_input = dir.join("many.ndjson");
    let one = std::fs::read_to_string(&valid).unwrap();
    std::fs::write(&big_input, one.repeat(4000 / one.lines().count().max(1))).unwrap();
    for args in [
        vec![
            "merkle",
            "prove",
            "--index",
            &indices,
            chunks.to_str().unwrap(),
        ],
        vec!["verify", "bls", big_input.to_str().unwrap()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_veribatch"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The read end is closed here, as `head -c 100` closes it.
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{}: {err}", args[0]);
        assert!(!err.contains("Broken pipe"), "{}: {err}", args[0]);
        assert_eq!(out.status.code(), Some(141), "{}: {err}", args[0]);
    }
}

/// A server that answers every verification with `extra` verdicts more (or fewer) than
/// it was sent items: the CLI must refuse the reply, not panic or ignore the rest.
mod lying_server {
    use std::pin::Pin;

    use tokio_stream::Stream;
    use tonic::{Request, Response, Status, Streaming};
    use veribatch_service::proto::verifier_server::Verifier;
    use veribatch_service::proto::*;

    pub struct Liar {
        pub extra: isize,
    }

    impl Liar {
        fn verdicts(&self, items: usize) -> Vec<Verdict> {
            let n = (items as isize + self.extra).max(0) as usize;
            vec![
                Verdict {
                    valid: true,
                    ..Default::default()
                };
                n
            ]
        }
    }

    fn refused<T>() -> Result<Response<T>, Status> {
        Err(Status::unimplemented("a lying test server"))
    }

    #[tonic::async_trait]
    impl Verifier for Liar {
        type VerifyStreamStream =
            Pin<Box<dyn Stream<Item = Result<VerifyStreamResponse, Status>> + Send>>;

        async fn get_info(
            &self,
            _: Request<GetInfoRequest>,
        ) -> Result<Response<GetInfoResponse>, Status> {
            refused()
        }
        async fn verify_signatures(
            &self,
            request: Request<VerifySignaturesRequest>,
        ) -> Result<Response<VerifySignaturesResponse>, Status> {
            let request = request.into_inner();
            Ok(Response::new(VerifySignaturesResponse {
                verdicts: self.verdicts(request.sets.len()),
                scheme: request.scheme,
            }))
        }
        async fn aggregate_signatures(
            &self,
            _: Request<AggregateSignaturesRequest>,
        ) -> Result<Response<AggregateSignaturesResponse>, Status> {
            refused()
        }
        async fn aggregate_public_keys(
            &self,
            _: Request<AggregatePublicKeysRequest>,
        ) -> Result<Response<AggregatePublicKeysResponse>, Status> {
            refused()
        }
        async fn merkle_root(
            &self,
            _: Request<MerkleRootRequest>,
        ) -> Result<Response<MerkleRootResponse>, Status> {
            refused()
        }
        async fn merkle_root_stream(
            &self,
            _: Request<Streaming<MerkleRootStreamRequest>>,
        ) -> Result<Response<MerkleRootResponse>, Status> {
            refused()
        }
        async fn verify_merkle_proofs(
            &self,
            _: Request<VerifyMerkleProofsRequest>,
        ) -> Result<Response<VerifyMerkleProofsResponse>, Status> {
            refused()
        }
        async fn log_root(
            &self,
            _: Request<LogRootRequest>,
        ) -> Result<Response<LogRootResponse>, Status> {
            refused()
        }
        async fn verify_log_proofs(
            &self,
            request: Request<VerifyLogProofsRequest>,
        ) -> Result<Response<VerifyLogProofsResponse>, Status> {
            // No `hash` in the reply, as from a server older than the field: SHA-256.
            Ok(Response::new(VerifyLogProofsResponse {
                verdicts: self.verdicts(request.into_inner().proofs.len()),
                hash: 0,
            }))
        }
        async fn verify_sm2(
            &self,
            request: Request<VerifySm2Request>,
        ) -> Result<Response<VerifySm2Response>, Status> {
            Ok(Response::new(VerifySm2Response {
                verdicts: self.verdicts(request.into_inner().signatures.len()),
            }))
        }
        async fn register_verifying_key(
            &self,
            _: Request<RegisterVerifyingKeyRequest>,
        ) -> Result<Response<RegisterVerifyingKeyResponse>, Status> {
            Ok(Response::new(RegisterVerifyingKeyResponse {
                key_id: vec![0; 32],
                public_inputs: 3,
            }))
        }
        async fn verify_groth16(
            &self,
            request: Request<VerifyGroth16Request>,
        ) -> Result<Response<VerifyGroth16Response>, Status> {
            Ok(Response::new(VerifyGroth16Response {
                verdicts: self.verdicts(request.into_inner().proofs.len()),
            }))
        }
        async fn verify_stream(
            &self,
            _: Request<Streaming<VerifyStreamRequest>>,
        ) -> Result<Response<Self::VerifyStreamStream>, Status> {
            refused()
        }
    }
}

/// Starts a lying server on a loopback port, on its own runtime thread.
fn start_liar(extra: isize) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tonic::transport::Server::builder()
                .add_service(proto::verifier_server::VerifierServer::new(
                    lying_server::Liar { extra },
                ))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
                .unwrap();
        });
    });
    addr
}

#[test]
fn a_reply_with_the_wrong_number_of_verdicts_is_refused() {
    let vk = example("groth16/verification_key.json");
    let batch = example("groth16/batch.ndjson");
    let valid = example("valid.ndjson");
    let log_proofs = common::vectors().join("rfc9162/inclusion.ndjson");
    let sm2 = common::vectors().join("sm2/openssl.ndjson");
    let log_proofs = log_proofs.to_str().unwrap();
    for extra in [-1, 1] {
        let url = format!("http://{}", start_liar(extra));
        for args in [
            vec!["verify", "bls", "--remote", &url, &valid],
            vec!["log", "verify", "--remote", &url, log_proofs],
            vec!["verify", "sm2", "--remote", &url, sm2.to_str().unwrap()],
            vec![
                "groth16",
                "verify-batch",
                "--remote",
                &url,
                "--vk",
                &vk,
                &batch,
            ],
        ] {
            let out = veribatch(&args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{extra} {args:?}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("not trusting the reply"),
                "{}",
                stderr(&out)
            );
            assert!(
                !stderr(&out).contains("warning"),
                "loopback is not warned about"
            );
            assert_eq!(stdout(&out), "", "no verdict printed from a bad reply");
        }
    }
}

/// A server that ignores the request's hash (one older than the field answers with
/// SHA-256, and says nothing) is not believed for an SM3 tree.
#[test]
fn a_reply_made_with_another_hash_is_refused() {
    let dir = common::process::scratch("wrong-hash");
    let leaves = common::vectors().join("rfc9162/leaves.txt");
    let prove = veribatch(&[
        "log",
        "prove",
        "--hash",
        "sm3",
        "--index",
        "5",
        leaves.to_str().unwrap(),
    ]);
    assert_eq!(prove.status.code(), Some(0), "{}", stderr(&prove));
    let records = dir.join("sm3.ndjson");
    std::fs::write(&records, stdout(&prove)).unwrap();
    let url = format!("http://{}", start_liar(0));
    let out = veribatch(&["log", "verify", "--remote", &url, records.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("made the tree with sha256 instead of the sm3 asked for"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "no verdict printed from a bad reply");
}
