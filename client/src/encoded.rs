//! Requests encoded once and sent many times (`veribatch load --attack`).

use tonic::Status;

/// A request encoded once, to be sent many times with [`Remote::send_encoded`]: `veribatch
/// load --attack` sends one large request over and over, and encoding it each time would
/// put the sender's work on the cores it shares with the server it measures.
#[derive(Clone, Debug)]
pub struct Encoded {
    pub(crate) path: tonic::codegen::http::uri::PathAndQuery,
    pub(crate) bytes: prost::bytes::Bytes,
}

impl Encoded {
    /// `request` for `method`, a path such as `/veribatch.v1.Verifier/VerifyMerkleProofs`.
    pub fn new(method: &'static str, request: &impl prost::Message) -> Self {
        Self {
            path: tonic::codegen::http::uri::PathAndQuery::from_static(method),
            bytes: request.encode_to_vec().into(),
        }
    }
}

/// The codec of [`Encoded`] requests: their bytes go out as they are, and answers are
/// read and dropped.
#[derive(Clone, Copy)]
pub(crate) struct Preencoded;

impl tonic::codec::Codec for Preencoded {
    type Encode = prost::bytes::Bytes;
    type Decode = ();
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        Self
    }

    fn decoder(&mut self) -> Self {
        Self
    }
}

impl tonic::codec::Encoder for Preencoded {
    type Item = prost::bytes::Bytes;
    type Error = Status;

    fn encode(
        &mut self,
        item: Self::Item,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        prost::bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Preencoded {
    type Item = ();
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, Status> {
        let n = prost::bytes::Buf::remaining(src);
        prost::bytes::Buf::advance(src, n);
        Ok(Some(()))
    }
}
