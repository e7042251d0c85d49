//! Thread pools that search failed batches for their invalid items, at a lower OS
//! priority than every other verification.
//!
//! A search costs one combined check per level of bisection, and only the caller whose
//! items failed needs it: on a busy machine it should take the cores nobody else wants,
//! not half of them. Its threads run at nice [`NICE`] (Linux schedules by thread, so the
//! rest of the process keeps its priority); under contention they get about a tenth of
//! what a thread at nice 0 gets, and all of an idle machine. Each searching batch gets a
//! pool of its own (the scheduler keeps one per worker), so that one long search does
//! not hold another's tasks in its queues.

/// The nice value of a search thread (0 is normal, 19 the lowest).
pub const NICE: i32 = 10;

/// A pool as wide as the machine whose threads run at nice [`NICE`]; `None` if it
/// cannot start (searches then run at normal priority).
pub fn build() -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, usize::from))
        .thread_name(|i| format!("veribatch-search-{i}"))
        .start_handler(|_| lower_priority())
        .build()
        .map_err(|e| tracing::warn!(error = %e, "no search pool; searches run at normal priority"))
        .ok()
}

/// Lowers the calling thread's priority to [`NICE`] (an unprivileged thread may always
/// lower its own). Where that fails, the search runs at normal priority: slower for
/// everyone else, never wrong.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let this_thread = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(this_thread), NICE) {
            tracing::warn!(error = %std::io::Error::from(error), "a search thread keeps normal priority");
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn searches_run_below_normal_priority() {
        let nice_of_this_thread = || {
            rustix::process::getpriority_process(Some(rustix::thread::gettid()))
                .expect("a thread may read its own priority")
        };
        let outside = nice_of_this_thread();
        let pool = super::build().expect("a search pool starts");
        assert_eq!(pool.install(nice_of_this_thread), super::NICE.max(outside));
        assert_eq!(
            nice_of_this_thread(),
            outside,
            "the caller's priority is untouched"
        );
    }
}
