//! What commands print and how they exit.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use veribatch_engine::{InputError, Verdict};

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
        writeln!(self.out, "{line}").map_err(|e| format!("cannot write verdicts: {e}"))
    }

    pub fn finish(mut self) -> Result<Tally, String> {
        self.out
            .flush()
            .map_err(|e| format!("cannot write verdicts: {e}"))?;
        Ok(self.tally)
    }
}

/// An engine verdict as the CLI reports it, with field names as the input file spells them.
pub fn describe(verdict: Verdict, rename: &dyn Fn(&str) -> &str) -> Result<bool, String> {
    verdict.map_err(|e: InputError| {
        let field = rename(e.location.field);
        match e.location.index {
            Some(i) => format!("{field}[{i}]: {}", e.reason),
            None => format!("{field}: {}", e.reason),
        }
    })
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
