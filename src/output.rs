//! What commands print and how they exit.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use veribatch_engine::error::Field;
use veribatch_engine::{InputError, Verdict};

use crate::input::{self, Record, Waited};

/// `println!` that ends the process quietly when stdout is a closed pipe (the reader,
/// such as `head`, has what it wanted), instead of panicking: with status 141, what a
/// shell reports for coreutils killed by SIGPIPE, never 0 (which would say "all valid"
/// for output nobody read).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line on stdout; see [`outln`].
pub fn print_line(line: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        stdout_failed(&e);
    }
}

/// Exit status for a closed stdout: 128 + SIGPIPE, as shells report coreutils' death.
pub const CLOSED_PIPE: i32 = 141;

/// A failed write to stdout: quiet exit 141 for a closed pipe, else the error and exit 2.
pub fn stdout_failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE);
    }
    eprintln!("error: cannot write to stdout: {e}");
    std::process::exit(2);
}

/// How a command that ran ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked is valid.
    AllValid,
    /// Something is invalid or malformed.
    SomeInvalid,
    /// Ctrl-C stopped the command; what was done has been written.
    Interrupted,
}

impl Outcome {
    pub fn from_valid(all_valid: bool) -> Self {
        if all_valid {
            Self::AllValid
        } else {
            Self::SomeInvalid
        }
    }

    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Self::AllValid => 0,
            Self::SomeInvalid => 1,
            Self::Interrupted => 130,
        })
    }
}

/// The error or the command fails with exit code 2.
pub type CommandResult = Result<Outcome, String>;

/// One line of verdict output.
#[derive(Serialize)]
struct VerdictLine<'a> {
    index: usize,
    valid: bool,
    error: Option<&'a str>,
}

/// Counts of a run's verdicts, for the summary on stderr.
#[derive(Default)]
pub struct Tally {
    pub valid: usize,
    pub invalid: usize,
    pub malformed: usize,
}

impl Tally {
    pub fn all_valid(&self) -> bool {
        self.invalid == 0 && self.malformed == 0
    }

    pub fn total(&self) -> usize {
        self.valid + self.invalid + self.malformed
    }
}

/// Writes `{"index":N,"valid":…,"error":…}` lines to a file or stdout.
pub struct VerdictWriter {
    out: Box<dyn Write>,
    /// A closed stdout ends the process quietly; a failed file write is an error.
    to_stdout: bool,
    pub tally: Tally,
}

impl VerdictWriter {
    pub fn create(path: Option<&Path>) -> Result<Self, String> {
        let out: Box<dyn Write> = match path {
            Some(p) => Box::new(BufWriter::new(
                File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
            )),
            None => Box::new(BufWriter::new(io::stdout().lock())),
        };
        Ok(Self {
            out,
            to_stdout: path.is_none(),
            tally: Tally::default(),
        })
    }

    /// Writes the verdict for item `index`.
    pub fn write(&mut self, index: usize, verdict: &Result<bool, String>) -> Result<(), String> {
        let (valid, error) = match verdict {
            Ok(true) => {
                self.tally.valid += 1;
                (true, None)
            }
            Ok(false) => {
                self.tally.invalid += 1;
                (false, None)
            }
            Err(e) => {
                self.tally.malformed += 1;
                (false, Some(e.as_str()))
            }
        };
        let line = serde_json::to_string(&VerdictLine {
            index,
            valid,
            error,
        })
        .expect("verdicts serialize");
        let written = writeln!(self.out, "{line}");
        self.check(written)
    }

    pub fn finish(mut self) -> Result<Tally, String> {
        let flushed = self.out.flush();
        self.check(flushed)?;
        Ok(self.tally)
    }

    fn check(&self, written: io::Result<()>) -> Result<(), String> {
        match written {
            Err(e) if self.to_stdout => stdout_failed(&e),
            other => other.map_err(|e| format!("cannot write verdicts: {e}")),
        }
    }
}

/// An engine verdict as the CLI reports it, with field names as the input file spells them.
pub fn describe(verdict: Verdict, rename: &dyn Fn(Field) -> &'static str) -> Result<bool, String> {
    verdict.map_err(|e: InputError| e.located(rename(e.field)))
}

/// A running count on stderr, for inputs whose length is not known until they end
/// (drawn only when stderr is a terminal).
fn counter(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{pos}} {what} ({{per_sec}})"
        ))
        .expect("valid template"),
    );
    bar
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        ))
        .expect("valid template"),
    );
    bar
}

/// A flag set by Ctrl-C, so long commands stop between batches and write what they have.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    // A second handler cannot be installed; commands run once per process.
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst));
    flag
}

/// Verifies a batch of inputs: one verdict per input, in order; an error stops the
/// command (exit 2).
pub type VerifyFn<'a, T> = dyn Fn(&[T]) -> Result<Vec<Verdict>, String> + 'a;

/// How a batch command reads, verifies and reports its records.
pub struct BatchJob<'a, T> {
    /// What one record is, for the progress bar and summary ("sets", "proofs").
    pub what: &'a str,
    /// Records verified per engine call (the size of the windows given to `run`).
    pub per_batch: usize,
    /// Whether an input with no records is success (otherwise it cannot run: exit 2).
    pub allow_empty: bool,
    /// Where verdicts go (stdout if `None`).
    pub output: Option<&'a Path>,
    /// A record into an engine input, or the reason it is malformed.
    pub parse: &'a dyn Fn(&Record) -> Result<T, String>,
    pub verify: &'a VerifyFn<'a, T>,
    /// Engine fields as the input file spells them.
    pub rename: &'a dyn Fn(Field) -> &'static str,
}

impl<T> BatchJob<'_, T> {
    /// Verifies the records of `file` (stdin for `-`) window by window as they are read
    /// ([`input::stream`]), writing one verdict line per record in input order and a
    /// summary on stderr; Ctrl-C stops between windows, and while one is being read. An input that ends in an error
    /// (a broken array) ends the command with it, after the verdicts of the records
    /// before.
    pub fn run(&self, file: &Path) -> CommandResult {
        let interrupted = interrupt_flag();
        let mut windows = input::stream(file, self.per_batch)?;
        let mut waited = windows.next_until(&interrupted);
        let empty = match &waited {
            Waited::End => true,
            Waited::Stopped => false,
            Waited::Window(Err(e)) => return Err(e.clone()),
            Waited::Window(Ok(records)) => records.is_empty(),
        };
        if empty && !self.allow_empty {
            return Err(format!(
                "no {} in input: nothing verified is not success (--allow-empty accepts it)",
                self.what
            ));
        }
        let mut writer = VerdictWriter::create(self.output)?;
        let bar = counter(self.what);
        while let Waited::Window(records) = waited {
            let records = records?;
            let first = writer.tally.total();
            let mut inputs = Vec::with_capacity(records.len());
            let parse_errors: Vec<Option<String>> = records
                .iter()
                .map(|record| match (self.parse)(record) {
                    Ok(input) => {
                        inputs.push(input);
                        None
                    }
                    Err(e) => Some(e),
                })
                .collect();
            drop(records);
            let verdicts = (self.verify)(&inputs)?;
            if verdicts.len() != inputs.len() {
                return Err(format!(
                    "{} verdicts for {} {}: not trusting the answer",
                    verdicts.len(),
                    inputs.len(),
                    self.what
                ));
            }
            let mut verdicts = verdicts.into_iter();
            for (offset, parse_error) in parse_errors.into_iter().enumerate() {
                let verdict = match parse_error {
                    None => describe(verdicts.next().expect("counted above"), self.rename),
                    Some(e) => Err(e),
                };
                writer.write(first + offset, &verdict)?;
            }
            bar.set_position(writer.tally.total() as u64);
            waited = windows.next_until(&interrupted);
        }
        let stopped = matches!(waited, Waited::Stopped);
        bar.finish_and_clear();
        let tally = writer.finish()?;
        eprintln!(
            "{} {}: {} valid, {} invalid, {} malformed",
            tally.total(),
            self.what,
            tally.valid,
            tally.invalid,
            tally.malformed
        );
        if stopped {
            eprintln!(
                "interrupted after {} {}: the rest of the input was not verified",
                tally.total(),
                self.what
            );
            return Ok(Outcome::Interrupted);
        }
        Ok(Outcome::from_valid(tally.all_valid()))
    }
}
