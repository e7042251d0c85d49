//! Reading input files: whole files or stdin, record files streamed in windows (NDJSON or
//! JSON arrays), hex fields.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use serde_json::Value;

/// The bytes of `path`, or of stdin when it is `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A reader of `path`, or of stdin when it is `-`, for commands that stream their input.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin()));
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Box::new(file))
}

/// One record of an input file: a JSON value, or why its line is not JSON.
pub type Record = Result<Value, String>;

/// The records of a file or stdin in windows of `window`, read and parsed on another
/// thread while the caller verifies the window before: memory holds a few windows, never
/// the file. The input is either one JSON array (its elements streamed as they parse) or
/// NDJSON (one JSON value per non-empty line; a line that is not JSON or not UTF-8 is a
/// record with an error, so one bad line does not stop the rest). An error that ends the
/// input (it cannot be read, an array that breaks off) comes after the windows before it.
pub fn stream(path: &Path, window: usize) -> Result<Windows, String> {
    let reader = open(path)?;
    let (send, windows) = mpsc::sync_channel(1);
    // Not joined: a reader blocked on a terminal's stdin must not keep the command from
    // ending; it stops at its next send once the windows are dropped.
    std::thread::spawn(move || {
        let mut sink = Sink {
            send,
            window,
            records: Vec::with_capacity(window),
        };
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let ended = read_records(&mut reader, &mut sink);
        let rest = std::mem::take(&mut sink.records);
        if !rest.is_empty() {
            let _ = sink.send.send(Ok(rest));
        }
        if let Err(e) = ended {
            let _ = sink.send.send(Err(e));
        }
    });
    Ok(Windows(windows))
}

/// Windows of records, in input order, from [`stream`].
pub struct Windows(mpsc::Receiver<Result<Vec<Record>, String>>);

/// What waiting for a window ended with.
pub enum Waited {
    Window(Result<Vec<Record>, String>),
    /// The input is over.
    End,
    /// Ctrl-C came first.
    Stopped,
}

impl Windows {
    /// The next window, the end of the input, or a stop once `stop` is set (Ctrl-C),
    /// which is looked at while waiting, so a slow stdin does not hold a stop back until
    /// its window fills.
    pub fn next_until(&mut self, stop: &AtomicBool) -> Waited {
        while !stop.load(Ordering::SeqCst) {
            match self.0.recv_timeout(Duration::from_millis(50)) {
                Ok(window) => return Waited::Window(window),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Waited::End,
            }
        }
        Waited::Stopped
    }
}

/// Gathers records into windows and hands each full one over.
struct Sink {
    send: mpsc::SyncSender<Result<Vec<Record>, String>>,
    window: usize,
    records: Vec<Record>,
}

/// The caller is gone: stop reading.
struct Gone;

impl Sink {
    fn push(&mut self, record: Record) -> Result<(), Gone> {
        self.records.push(record);
        if self.records.len() == self.window {
            let full = std::mem::replace(&mut self.records, Vec::with_capacity(self.window));
            self.send.send(Ok(full)).map_err(|_| Gone)?;
        }
        Ok(())
    }
}

fn read_records(reader: &mut impl BufRead, sink: &mut Sink) -> Result<(), String> {
    let first = loop {
        let buffered = reader
            .fill_buf()
            .map_err(|e| format!("cannot read the input: {e}"))?;
        match buffered.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => break buffered[at],
            None if buffered.is_empty() => return Ok(()),
            None => {
                let n = buffered.len();
                reader.consume(n);
            }
        }
    };
    if first == b'[' {
        return read_array(reader, sink);
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .by_ref()
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read the input: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        if n as u64 > MAX_LINE_BYTES {
            skip_line(reader)?;
            let record = Err(format!("a line of more than {} MiB", MAX_LINE_BYTES >> 20));
            if sink.push(record).is_err() {
                return Ok(());
            }
            continue;
        }
        let record = match std::str::from_utf8(&line) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}")),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        if sink.push(record).is_err() {
            return Ok(());
        }
    }
}

/// The longest NDJSON line read: a record beyond it is malformed, and memory stays bounded
/// on input without line ends.
const MAX_LINE_BYTES: u64 = 64 << 20;

/// Reads past the end of the current line.
fn skip_line(reader: &mut impl BufRead) -> Result<(), String> {
    loop {
        let buffered = reader
            .fill_buf()
            .map_err(|e| format!("cannot read the input: {e}"))?;
        if buffered.is_empty() {
            return Ok(());
        }
        match buffered.iter().position(|&b| b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let n = buffered.len();
                reader.consume(n);
            }
        }
    }
}

/// The elements of one JSON array, each handed over as soon as it is parsed.
fn read_array(reader: &mut impl BufRead, sink: &mut Sink) -> Result<(), String> {
    struct Elements<'a>(&'a mut Sink);

    impl<'de> serde::de::Visitor<'de> for Elements<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of records")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(value) = seq.next_element::<Value>()? {
                if self.0.push(Ok(value)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        }
    }

    let mut json = serde_json::Deserializer::from_reader(reader);
    serde::Deserializer::deserialize_seq(&mut json, Elements(sink))
        .and_then(|()| json.end())
        .map_err(|e| format!("input is not a valid JSON array: {e}"))
}

/// Bytes from a hex string, with or without `0x`.
pub fn hex(text: &str) -> Result<Vec<u8>, String> {
    veribatch_engine::json::hex(text).map_err(|e| format!("bad hex: {e}"))
}
