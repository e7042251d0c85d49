//! A bound on the memory a request takes to decode, checked before it is decoded.
//!
//! A message's size says little about its decoded size when its items are tiny: an empty
//! `bytes` element is 2 bytes on the wire and a 24-byte `Vec` in memory (up to 72 while
//! its list grows), so a 64 MiB `LogRoot` of empty leaves is 33 million `Vec`s, 0.75 to
//! 2.3 GiB before its handler could refuse it. The server's codec therefore walks each request
//! with its message's schema (written by build.rs from the proto), adds up what prost
//! will ask of the allocator for it (the message; each list's slots, counted per list
//! from its elements as Rust's `Vec` grows; every byte of data; the largest field's data
//! once more, for prost's copy of it), and refuses a request whose bound is over
//! [`MAX_FACTOR`] times its size plus [`ALLOWANCE`], with `INVALID_ARGUMENT`. Requests
//! of items of 32 bytes or more at the server's item and cost limits are bounded at
//! 1.7 to 4.6 times their size (65,536 one-leaf Merkle proofs without helper nodes the
//! most), well within the limit; only masses of tiny items are refused. The
//! allocator's own overhead per allocation (16 bytes or so in glibc) is not counted. Replies
//! are decoded unchecked (their messages have no schema here).

use std::marker::PhantomData;

use prost::Message;
use prost::bytes::Buf;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder};

/// A request may take this many times its encoded size to decode ...
pub const MAX_FACTOR: u64 = 4;
/// ... plus this many bytes.
pub const ALLOWANCE: u64 = 16 << 20;

/// A message of the proto, with the index of its schema in `SCHEMAS` if it is a request.
pub trait Bounded {
    const SCHEMA: Option<usize>;
}

/// How a field is encoded, for what its decoding allocates.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Every scalar of the proto is a varint (build.rs refuses fixed-width ones).
    Varint,
    /// `bytes` and `string`: their data on the heap.
    Bytes,
    /// The message of this schema.
    Message(usize),
}

#[derive(Debug)]
struct Field {
    number: u32,
    kind: Kind,
    repeated: bool,
}

#[derive(Debug)]
struct Schema {
    /// `size_of` the generated struct.
    size: usize,
    fields: &'static [Field],
}

include!(concat!(env!("OUT_DIR"), "/decode_schema.rs"));

/// Memory of one list element of `kind`, in the list itself.
fn element_size(kind: Kind) -> u64 {
    match kind {
        // Every scalar fits in 8 bytes; a `Vec<u8>` or `String` is 24.
        Kind::Varint => 8,
        Kind::Bytes => 24,
        Kind::Message(schema) => SCHEMAS[schema].size as u64,
    }
}

/// Bytes prost allocates decoding `bytes` as a message of `M` (asked of the allocator,
/// at the peak of the decoding), counting the message itself; `None` for a message
/// without a schema (not a request). `u64::MAX` for a malformed encoding (truncated, a
/// length past its message's end, a stray end of group), which prost would refuse.
pub fn decoded_bound<M: Bounded>(bytes: &[u8]) -> Option<u64> {
    let schema = M::SCHEMA?;
    let mut tally = Tally::default();
    tally.message(schema, bytes, Instance::Fresh);
    if tally.malformed {
        return Some(u64::MAX);
    }
    Some(SCHEMAS[schema].size as u64 + tally.total + tally.largest_data)
}

/// Whether the lists of a message instance start empty and stay its own.
#[derive(Clone, Copy)]
enum Instance {
    /// The request itself, or an element of a repeated message field: every
    /// occurrence on the wire is a new message.
    Fresh,
    /// A singular message field (or one inside it): prost merges every occurrence of
    /// it into one message, lists appended, or, for a oneof's other variant, decodes
    /// the new one beside the one it then replaces.
    Merged,
}

/// Slots (elements' room) a list of `n` elements holds at most while it is decoded.
/// prost pushes element by element: a list's capacity goes 4, 8, 16 … (Rust's growth
/// for elements of up to 1 KiB), and while it grows the old buffer is held beside the
/// new one, 1.5 times the final capacity at most. A list in a merged instance may be
/// the sum of several occurrences' lists, or held beside another: 4 + 3n, which is
/// above that rule for any n and stays above it when the occurrences' lists are added.
fn list_slots(n: u64, instance: Instance) -> u64 {
    match (n, instance) {
        (0, _) => 0,
        (1..=4, Instance::Fresh) => 4,
        (_, Instance::Fresh) => n.next_power_of_two() / 2 * 3,
        (_, Instance::Merged) => 4 + 3 * n,
    }
}

#[derive(Default)]
struct Tally {
    total: u64,
    /// prost takes a field's data out of the buffer as `Bytes` before it copies it into
    /// its `Vec<u8>`, which is a copy unless the buffer is made of `Bytes` (tonic's is,
    /// a slice is not): the largest such copy, alive beside everything decoded so far.
    largest_data: u64,
    /// The encoding breaks somewhere. prost checks a nested length only against the
    /// whole buffer, so a field that runs past its message's end is decoded (and
    /// allocated) before prost fails: such a request is refused, not counted.
    malformed: bool,
}

impl Tally {
    /// The heap of one instance of the message of `schema` encoded as `bytes`, beyond
    /// its own struct: its lists, their elements' heap and its data.
    fn message(&mut self, schema: usize, mut bytes: &[u8], instance: Instance) {
        let fields = SCHEMAS[schema].fields;
        // Elements of each repeated field, by its position in `fields`.
        let mut elements = [0u64; MAX_FIELDS];
        while !bytes.is_empty() {
            let Some(key) = varint(&mut bytes) else {
                self.malformed = true;
                return;
            };
            let (number, wire) = ((key >> 3) as u32, key & 7);
            let position = fields.iter().position(|f| f.number == number);
            let mut count = |n: u64| {
                if let Some(i) = position.filter(|&i| fields[i].repeated) {
                    elements[i] += n;
                }
            };
            match wire {
                0 => {
                    if varint(&mut bytes).is_none() {
                        self.malformed = true;
                        return;
                    }
                    count(1);
                }
                1 | 5 => {
                    let width = if wire == 1 { 8 } else { 4 };
                    let Some(rest) = bytes.get(width..) else {
                        self.malformed = true;
                        return;
                    };
                    bytes = rest;
                    count(1);
                }
                2 => {
                    let Some(payload) = length_delimited(&mut bytes) else {
                        self.malformed = true;
                        return;
                    };
                    let Some(field) = position.map(|i| &fields[i]) else {
                        continue;
                    };
                    match field.kind {
                        Kind::Bytes => {
                            count(1);
                            // A non-empty `Vec<u8>` holds at least 8 bytes.
                            let data = payload.len() as u64;
                            self.total += if data == 0 { 0 } else { data.max(8) };
                            self.largest_data = self.largest_data.max(data);
                        }
                        Kind::Message(inner) => {
                            count(1);
                            let nested = if field.repeated {
                                Instance::Fresh
                            } else {
                                Instance::Merged
                            };
                            self.message(inner, payload, nested);
                            if self.malformed {
                                return;
                            }
                        }
                        // A packed list: its elements are the varints ending in it.
                        Kind::Varint => {
                            count(payload.iter().filter(|b| *b & 0x80 == 0).count() as u64);
                        }
                    }
                }
                3 => {
                    if !skip_group(&mut bytes, number) {
                        self.malformed = true;
                        return;
                    }
                }
                // An end of group outside one, or wire types 6 and 7: prost refuses it.
                _ => {
                    self.malformed = true;
                    return;
                }
            }
        }
        self.total += fields
            .iter()
            .zip(elements)
            .map(|(f, n)| list_slots(n, instance) * element_size(f.kind))
            .sum::<u64>();
    }
}

/// The payload of a length-delimited field, after its length.
fn length_delimited<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(bytes)?).ok()?;
    let payload = bytes.get(..len)?;
    *bytes = &bytes[len..];
    Some(payload)
}

/// Skips a group (deprecated, but prost skips one in an unknown field) after its start
/// tag, up to its matching end; false if it is malformed or nested too deeply.
fn skip_group(bytes: &mut &[u8], number: u32) -> bool {
    let mut open = vec![number];
    while let Some(&innermost) = open.last() {
        let Some(key) = varint(bytes) else {
            return false;
        };
        let (number, wire) = ((key >> 3) as u32, key & 7);
        let skipped = match wire {
            0 => varint(bytes).is_some(),
            1 | 5 => {
                let width = if wire == 1 { 8 } else { 4 };
                bytes.get(width..).map(|rest| *bytes = rest).is_some()
            }
            2 => length_delimited(bytes).is_some(),
            // prost's recursion limit.
            3 if open.len() < 100 => {
                open.push(number);
                true
            }
            4 if number == innermost => {
                open.pop();
                true
            }
            _ => false,
        };
        if !skipped {
            return false;
        }
    }
    true
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

/// Refuses the request `bytes` if its decoding bound is over the limit.
fn check<M: Bounded>(bytes: &[u8]) -> Result<(), Status> {
    let Some(bound) = decoded_bound::<M>(bytes) else {
        return Ok(());
    };
    let len = bytes.len();
    if bound == u64::MAX {
        return Err(Status::invalid_argument(
            "the request is not a valid protobuf encoding: it breaks off, or a field runs \
             past the end of its message",
        ));
    }
    if bound > MAX_FACTOR * len as u64 + ALLOWANCE {
        return Err(Status::invalid_argument(format!(
            "the request's {len} bytes would take up to {bound} bytes of memory to decode, \
             more than {MAX_FACTOR} times its size plus {} MiB: it holds too many tiny \
             items (empty or a few bytes each); send them in several requests",
            ALLOWANCE >> 20
        )));
    }
    Ok(())
}

/// tonic's prost codec, with requests checked against their decoding bound first.
#[derive(Debug, Clone)]
pub struct BoundedCodec<T, U> {
    prost: ProstCodec<T, U>,
}

impl<T, U> Default for BoundedCodec<T, U> {
    fn default() -> Self {
        Self {
            prost: ProstCodec::default(),
        }
    }
}

impl<T, U> Codec for BoundedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Bounded + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
    type Decoder = BoundedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.prost.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        BoundedDecoder {
            prost: self.prost.decoder(),
            _message: PhantomData,
        }
    }
}

/// Decodes a `U` after checking its bound.
#[derive(Debug)]
pub struct BoundedDecoder<U> {
    prost: ProstDecoder<U>,
    _message: PhantomData<U>,
}

impl<U: Message + Default + Bounded> Decoder for BoundedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let len = buf.remaining();
        if buf.chunk().len() >= len {
            // tonic buffers a whole message in one contiguous buffer: the usual case.
            check::<U>(&buf.chunk()[..len])?;
            return self.prost.decode(buf);
        }
        let whole = buf.copy_to_bytes(len);
        check::<U>(&whole)?;
        U::decode(whole)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }

    fn buffer_settings(&self) -> tonic::codec::BufferSettings {
        self.prost.buffer_settings()
    }
}
