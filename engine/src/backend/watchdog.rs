//! A device call that never returns must not hold a batch, or the device, forever.
//!
//! Every device call runs on a thread of its own and the caller waits at most
//! [`Watchdog::deadline`] for it; past that the call is abandoned (its thread is left to
//! finish or hang on its own, with owned copies of its inputs), the batch's primitive
//! runs on the CPU, and the device is marked unhealthy: no more calls go to it until a
//! probe (a small sum checked against the CPU) answers right. At most one probe runs at a
//! time, so a device stuck for good costs one thread per call that was in flight when it
//! stuck plus one probe, not a thread per call.

use std::sync::mpsc;
use std::time::Duration;

/// How long a device call may take, and how often an unhealthy device is probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchdog {
    /// A device call still running after this is abandoned.
    pub deadline: Duration,
    /// The deadline of a call during which the device compiles a kernel (the first use
    /// of each wgpu pipeline, which may come long after the primitive's first call: a
    /// larger input needs kernels a smaller one did not). Compiling takes seconds on a
    /// GPU and minutes on a software device such as lavapipe.
    pub first_call: Duration,
    /// After a failed probe, the next one waits this long.
    pub probe_interval: Duration,
}

impl Default for Watchdog {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            first_call: Duration::from_secs(600),
            probe_interval: Duration::from_secs(10),
        }
    }
}

/// Why a watched call gave no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Abandoned {
    /// Still running at the deadline.
    TimedOut(Duration),
    /// It panicked, or no thread could be started for it.
    Failed(String),
}

impl std::fmt::Display for Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TimedOut(deadline) => write!(
                f,
                "no answer within the watchdog deadline of {} ms; call abandoned",
                deadline.as_millis()
            ),
            Self::Failed(why) => f.write_str(why),
        }
    }
}

/// Runs `call` on a new thread and waits for it `deadline`; a call still running then is
/// given `extension()` more (asked at the deadline: zero unless the device is compiling).
pub fn call<R: Send + 'static>(
    deadline: Duration,
    extension: impl FnOnce() -> Duration,
    call: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Abandoned> {
    let (send, receive) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("veribatch-device-call".into())
        .spawn(move || {
            // The waiter may have given up already: nobody to tell.
            let _ = send.send(call());
        })
        .map_err(|e| Abandoned::Failed(format!("cannot start a device thread: {e}")))?;
    let abandoned = |e, waited| match e {
        mpsc::RecvTimeoutError::Timeout => Abandoned::TimedOut(waited),
        mpsc::RecvTimeoutError::Disconnected => {
            Abandoned::Failed("the device call panicked".into())
        }
    };
    match receive.recv_timeout(deadline) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let more = extension();
            receive
                .recv_timeout(more)
                .map_err(|e| abandoned(e, deadline + more))
        }
        answer => answer.map_err(|e| abandoned(e, deadline)),
    }
}

/// Blocks the calling thread for good: an injected hang.
pub fn hang_forever() -> ! {
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_time_timeouts_and_panics_are_told_apart() {
        let none = || Duration::ZERO;
        assert_eq!(call(Duration::from_secs(60), none, || 7), Ok(7));
        let (release, wait) = mpsc::channel::<()>();
        let late = call(Duration::from_millis(20), none, move || wait.recv().is_ok());
        assert_eq!(late, Err(Abandoned::TimedOut(Duration::from_millis(20))));
        drop(release);
        let panicked = call(Duration::from_secs(60), none, || -> u8 {
            panic!("injected")
        });
        assert!(matches!(panicked, Err(Abandoned::Failed(why)) if why.contains("panicked")));
    }

    #[test]
    fn a_call_still_compiling_at_the_deadline_gets_the_extension() {
        let slow = || {
            std::thread::sleep(Duration::from_millis(200));
            7
        };
        let extended = call(Duration::from_millis(20), || Duration::from_secs(60), slow);
        assert_eq!(extended, Ok(7));
        let (_release, wait) = mpsc::channel::<()>();
        let hung = call(
            Duration::from_millis(20),
            || Duration::from_millis(30),
            move || wait.recv().is_ok(),
        );
        assert_eq!(hung, Err(Abandoned::TimedOut(Duration::from_millis(50))));
    }
}
