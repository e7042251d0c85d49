//! Leaves from text: one leaf per line, its data in hex (`0x` optional; `0x` alone is a
//! leaf of no bytes), as `veribatch log` reads them from a file or stdin.
//!
//! Lines are read in batches on a thread of their own; each batch's leaves are decoded on
//! all cores and hashed by the backend while the next is read, so memory is a few
//! batches, whatever the file's size.

use std::io::{self, BufRead};
use std::sync::mpsc;

use rayon::prelude::*;

use super::{Hash, PackedLeaves};
use crate::backend::Backend;
use crate::merkle::TreeHash;

/// Lines a thread decodes at a time.
const LINES_PER_TASK: usize = 4096;

/// The largest leaf a line may hold, in bytes (a line is at most twice that in hex): a
/// bound on memory, far above what logs store in a leaf (certificates, entries' hashes).
pub const MAX_LEAF_BYTES: usize = 1 << 20;

/// The text a batch holds at most, beyond its last line: a batch ends early when its
/// lines are long, so memory is bounded by bytes, not only by the number of leaves.
const BATCH_TEXT_BYTES: usize = 64 << 20;

/// Why the leaves cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LeafError {
    #[error("cannot read the leaves: {0}")]
    Io(#[from] io::Error),
    #[error("line {line}: empty (a leaf of no bytes is written 0x)")]
    Empty { line: u64 },
    #[error("line {line}: bad hex: {error}")]
    BadHex { line: u64, error: hex::FromHexError },
    #[error("line {line}: a leaf of more than {MAX_LEAF_BYTES} bytes")]
    TooLong { line: u64 },
}

/// One batch of leaves: their data and their leaf hashes (made by `hash`), from leaf
/// index `first`.
#[derive(Debug, Default)]
pub struct LeafBatch {
    pub first: u64,
    pub hash: TreeHash,
    pub leaves: PackedLeaves,
    pub hashes: Vec<Hash>,
}

impl LeafBatch {
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The data of leaf `first + i`.
    pub fn leaf(&self, i: usize) -> &[u8] {
        self.leaves.leaf(i)
    }
}

/// The lines of a batch as read, each ended by a newline but perhaps the last.
#[derive(Default)]
struct Lines {
    /// The index of the first line's leaf.
    first: u64,
    text: Vec<u8>,
    /// Where each line ends (its newline, or the end of `text`).
    ends: Vec<usize>,
}

impl Lines {
    fn line(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        &self.text[start..self.ends[i]]
    }
}

/// Leaves from a reader in batches of at most a given number, stopping after `limit`
/// leaves if given (the lines after it are not read). The text of the next batch is read
/// on another thread while the caller decodes and hashes this one, so reading overlaps
/// hashing; memory is at most three batches of text (the one being read, one waiting,
/// the one being decoded) and one batch of leaves and hashes.
///
/// The reading thread is not joined: a reader blocked on a terminal's stdin must not keep
/// the command from ending; it stops at its next batch once this is dropped.
pub struct LeafLines {
    batches: mpsc::Receiver<Result<Lines, LeafError>>,
    /// Leaves handed out so far.
    read: u64,
    /// The last batch (empty) or an error was received: the thread has ended as it
    /// should.
    ended: bool,
}

impl LeafLines {
    /// Reads `reader` in batches of at most `max` leaves (and about [`BATCH_TEXT_BYTES`]
    /// of text).
    pub fn new<R: BufRead + Send + 'static>(reader: R, limit: Option<u64>, max: usize) -> Self {
        Self::with_text_budget(reader, limit, max, BATCH_TEXT_BYTES)
    }

    fn with_text_budget<R: BufRead + Send + 'static>(
        mut reader: R,
        limit: Option<u64>,
        max: usize,
        text_budget: usize,
    ) -> Self {
        let (send, batches) = mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let mut first = 0u64;
            loop {
                let want = match limit {
                    Some(limit) => max.min(usize::try_from(limit - first).unwrap_or(usize::MAX)),
                    None => max,
                };
                let mut lines = Lines {
                    first,
                    ..Lines::default()
                };
                let read = read_lines(&mut reader, &mut lines, want, text_budget);
                let last = lines.ends.is_empty() || read.is_err();
                first += lines.ends.len() as u64;
                if send.send(read.map(|()| lines)).is_err() || last {
                    return;
                }
            }
        });
        Self {
            batches,
            read: 0,
            ended: false,
        }
    }

    /// Leaves read so far.
    pub fn count(&self) -> u64 {
        self.read
    }

    /// The next batch of leaves, decoded on all cores and their leaf hashes made with
    /// `hash` by `backend`; an empty batch at the end.
    pub fn next_batch(
        &mut self,
        backend: &dyn Backend,
        hash: TreeHash,
    ) -> Result<LeafBatch, LeafError> {
        let lines = match self.batches.recv() {
            Ok(lines) => lines,
            // After its last batch or an error the thread has ended: asked again, the
            // input is still over.
            Err(_) if self.ended => {
                return Ok(LeafBatch {
                    first: self.read,
                    hash,
                    ..LeafBatch::default()
                });
            }
            // Gone before either: it panicked, and the leaves are not all read.
            Err(_) => {
                return Err(LeafError::Io(io::Error::other(
                    "the reading thread ended before the input did",
                )));
            }
        };
        self.ended = lines.as_ref().map_or(true, |l| l.ends.is_empty());
        let lines = lines?;
        self.read += lines.ends.len() as u64;
        let first = lines.first;
        let decoded: Vec<Result<PackedLeaves, LeafError>> = (0..lines.ends.len())
            .step_by(LINES_PER_TASK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                let mut leaves = PackedLeaves::new();
                for i in start..lines.ends.len().min(start + LINES_PER_TASK) {
                    decode(lines.line(i), first + i as u64 + 1, |data| {
                        leaves.push(data)
                    })?;
                }
                Ok(leaves)
            })
            .collect();
        let mut leaves = PackedLeaves::new();
        for part in decoded {
            leaves.append(&part?);
        }
        let hashes = hash.log_leaf_hashes(backend, &leaves);
        Ok(LeafBatch {
            first,
            hash,
            leaves,
            hashes,
        })
    }
}

/// Appends up to `want` lines to `batch`, fewer if they pass the byte budget: the
/// reader's buffer is copied whole and searched for line ends, not read line by line.
fn read_lines(
    reader: &mut impl BufRead,
    batch: &mut Lines,
    want: usize,
    budget: usize,
) -> Result<(), LeafError> {
    // A line this long holds a leaf over the limit, whatever follows.
    let too_long = 2 * MAX_LEAF_BYTES + 4;
    let mut line_start = 0;
    // Full: `want` lines, or the byte budget reached at a line's end.
    let full = |lines: usize, bytes: usize| lines == want || bytes >= budget;
    while !full(
        batch.ends.len(),
        if batch.ends.is_empty() { 0 } else { line_start },
    ) {
        let buffered = reader.fill_buf()?;
        if buffered.is_empty() {
            // The last line, without its end.
            if batch.text.len() > line_start {
                batch.ends.push(batch.text.len());
            }
            return Ok(());
        }
        let mut used = buffered.len();
        let offset = batch.text.len();
        for end in memchr::memchr_iter(b'\n', buffered) {
            if offset + end - line_start > too_long {
                break;
            }
            batch.ends.push(offset + end);
            line_start = offset + end + 1;
            if full(batch.ends.len(), line_start) {
                used = end + 1;
                break;
            }
        }
        batch.text.extend_from_slice(&buffered[..used]);
        reader.consume(used);
        if batch.text.len() - line_start > too_long {
            return Err(LeafError::TooLong {
                line: batch.first + batch.ends.len() as u64 + 1,
            });
        }
    }
    Ok(())
}

/// `with` of a leaf's bytes, decoded from its line (number `line`, from 1) into a buffer
/// on the stack where they fit.
fn decode<T>(text: &[u8], line: u64, with: impl FnOnce(&[u8]) -> T) -> Result<T, LeafError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(LeafError::Empty { line });
    }
    let digits = text.strip_prefix(b"0x").unwrap_or(text);
    if digits.len() > 2 * MAX_LEAF_BYTES {
        return Err(LeafError::TooLong { line });
    }
    if digits.len() % 2 == 1 {
        return Err(LeafError::BadHex {
            line,
            error: hex::FromHexError::OddLength,
        });
    }
    let mut small = [0u8; 256];
    let mut large = Vec::new();
    let out = match digits.len() / 2 {
        n if n <= small.len() => &mut small[..n],
        n => {
            large.resize(n, 0);
            &mut large[..]
        }
    };
    crate::hex_digits::decode_to_slice(digits, out)
        .map_err(|error| LeafError::BadHex { line, error })?;
    Ok(with(out))
}

#[cfg(test)]
mod tests {
    use super::super::leaf_hash;
    use super::*;
    use crate::backend::cpu::CpuBackend;

    fn read_all(text: &str, limit: Option<u64>, batch: usize) -> Result<Vec<Vec<u8>>, LeafError> {
        let mut leaves = LeafLines::new(io::Cursor::new(text.to_owned()), limit, batch);
        let mut all = Vec::new();
        loop {
            let b = leaves.next_batch(&CpuBackend::new(), TreeHash::Sha256)?;
            if b.is_empty() {
                return Ok(all);
            }
            assert_eq!(b.first as usize, all.len());
            for i in 0..b.len() {
                assert_eq!(b.hashes[i], leaf_hash(b.leaf(i)));
                all.push(b.leaf(i).to_vec());
            }
        }
    }

    #[test]
    fn lines_are_hex_leaves_with_or_without_0x() {
        let text = "0x00\r\n0x\nabcd\n  0XAB\n";
        assert!(read_all(text, None, 2).is_err(), "0X is not a prefix");
        let leaves = read_all("0x00\r\n0x\nabcd\n0xff", None, 2).unwrap();
        assert_eq!(leaves, vec![vec![0], vec![], vec![0xab, 0xcd], vec![0xff]]);
        assert_eq!(read_all("0x00\n0x01\n", Some(1), 8).unwrap(), vec![vec![0]]);
    }

    #[test]
    fn long_lines_end_a_batch_early() {
        let line = format!("0x{}\n", "ab".repeat(500));
        let text = line.repeat(10);
        let mut leaves =
            LeafLines::with_text_budget(io::Cursor::new(text), None, 100, 3 * line.len());
        let sizes: Vec<usize> = std::iter::from_fn(|| {
            let b = leaves
                .next_batch(&CpuBackend::new(), TreeHash::Sha256)
                .unwrap();
            (!b.is_empty()).then_some(b.len())
        })
        .collect();
        assert_eq!(
            sizes,
            [3, 3, 3, 1],
            "batches of the budget, every line once"
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let e = read_all("0x00\n\n0x01\n", None, 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: empty (a leaf of no bytes is written 0x)"
        );
        let e = read_all("0x00\n0x01\n0xzz\n", None, 2).unwrap_err();
        assert!(e.to_string().starts_with("line 3: bad hex"), "{e}");
        let long = format!("0x{}\n", "ab".repeat(MAX_LEAF_BYTES + 1));
        let e = read_all(&long, None, 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("line 1: a leaf of more than {MAX_LEAF_BYTES} bytes")
        );
        // After the limit nothing is read, good or bad.
        assert_eq!(read_all("0x00\nnot hex\n", Some(1), 8).unwrap().len(), 1);
    }
}
