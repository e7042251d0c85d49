//! Finding exactly which items of a failed batch are invalid.
//!
//! A batch check over a random linear combination passes iff (up to 2^-64) every item in
//! it is valid, and with the same coefficients the check over a union is the product of
//! the checks over its parts. So a failed batch is split in halves: a half that passes is
//! all valid; a half that fails is split again. Only single-item checks (exact, with no
//! randomness) ever declare an item invalid. When both halves of a small batch fail, bad
//! items are dense and checking each item directly is cheaper than more splitting.
//!
//! Items are reported as soon as they are decided (a sub-batch that passes decides all of
//! its items at once), so a caller whose items share a failed batch with another caller's
//! bad ones is answered when its part is known, not when the whole search ends; and the
//! two halves of a failed sub-batch are checked at once, on all cores (of a
//! low-priority search pool, where the scheduler gives one).

use rayon::prelude::*;

use super::{BatchEquation, coefficients};

/// At or below this many items, each is checked on its own.
const SINGLE_CHECKS_AT: usize = 4;
/// At or below this many items, a batch whose halves both fail is checked item by item.
const DENSE_FAILURES_AT: usize = 64;

/// Told the verdict of some items as soon as it is known: `report(indices, valid)`.
pub type Report<'a> = &'a (dyn Fn(&[usize], bool) + Sync);

/// A report that is not listened to.
pub fn unreported(_: &[usize], _: bool) {}

/// Told about a batch while its items are decided.
pub trait Listener: Sync {
    /// `items` are decided: all valid, or all invalid. Every item is decided once.
    fn decided(&self, items: &[usize], valid: bool);
    /// The batch failed and the search for its invalid items begins: on the pool
    /// returned (the scheduler's low-priority
    /// [`search_pool`](crate::scheduler::search_pool), so that whoever runs the batch
    /// may start other work beside it), or on the current one.
    fn searching(&self) -> Option<&rayon::ThreadPool> {
        None
    }
}

impl<F: Fn(&[usize], bool) + Sync> Listener for F {
    fn decided(&self, items: &[usize], valid: bool) {
        self(items, valid)
    }
}

/// One verdict per item of `equation`'s batch, by random linear combination.
///
/// A lone item is checked with coefficient one, exactly; a batch with fresh coefficients
/// from the OS CSPRNG, searched with [`find_invalid`] if it fails. Every item is reported
/// once, as soon as its verdict is known.
///
/// `groups` are the lengths of consecutive runs of items that belong together (the
/// requests of different callers merged into one batch; empty: one group). A failed
/// batch is first split along them, every group checked at once: a caller whose items
/// are all valid is known after one check of its own items, however dense the bad items
/// of the others. Only then, and only for the groups that failed, does the search begin,
/// on the pool the listener gives ([`Listener::searching`]): the callers whose items
/// are bad wait for it, at low priority, and everyone else's batches keep the cores.
pub fn verdicts(
    equation: &(impl BatchEquation + ?Sized),
    groups: &[usize],
    listener: &dyn Listener,
) -> Vec<bool> {
    let n = equation.items();
    let item_holds = |i: usize| equation.holds(&[i], &[1]);
    let report = &|items: &[usize], valid: bool| listener.decided(items, valid);
    match n {
        0 => return Vec::new(),
        1 => {
            let valid = item_holds(0);
            report(&[0], valid);
            return vec![valid];
        }
        _ => {}
    }
    let coefficients = coefficients(n);
    let batch_holds = |indices: &[usize]| {
        let weights: Vec<u64> = indices.iter().map(|&i| coefficients[i]).collect();
        equation.holds(indices, &weights)
    };
    let all: Vec<usize> = (0..n).collect();
    let mut verdicts = vec![true; n];
    if batch_holds(&all) {
        report(&all, true);
        return verdicts;
    }
    // Empty groups (requests whose items all failed to decode) are no groups; groups
    // that do not cover the batch exactly are ignored: one group.
    let groups: Vec<usize> = groups.iter().copied().filter(|&len| len > 0).collect();
    let (mut invalid, failed) = if groups.len() > 1 && groups.iter().sum::<usize>() == n {
        check_groups(&groups, &batch_holds, &item_holds, report)
    } else {
        (Vec::new(), vec![all])
    };
    if !failed.is_empty() {
        let search = || {
            failed
                .par_iter()
                .flat_map(|group| find_invalid(group, &batch_holds, &item_holds, report))
                .collect::<Vec<usize>>()
        };
        invalid.extend(match listener.searching() {
            Some(pool) => pool.install(search),
            None => search(),
        });
    }
    tracing::debug!(
        items = n,
        invalid = invalid.len(),
        "batch failed; bad items found"
    );
    for i in invalid {
        verdicts[i] = false;
    }
    verdicts
}

/// Checks every group of a failed batch at once (a group of one exactly): the invalid
/// items of the groups of one, and the groups that failed and must be searched.
fn check_groups<B, I>(
    groups: &[usize],
    batch_holds: &B,
    item_holds: &I,
    report: Report<'_>,
) -> (Vec<usize>, Vec<Vec<usize>>)
where
    B: Fn(&[usize]) -> bool + Sync,
    I: Fn(usize) -> bool + Sync,
{
    let mut start = 0;
    let ranges: Vec<Vec<usize>> = groups
        .iter()
        .map(|&len| {
            let range = (start..start + len).collect();
            start += len;
            range
        })
        .collect();
    let failed: Vec<Option<Vec<usize>>> = ranges
        .into_par_iter()
        .map(|group| {
            let holds = match group[..] {
                [item] => item_holds(item),
                _ => batch_holds(&group),
            };
            if holds || group.len() == 1 {
                report(&group, holds);
            }
            (!holds).then_some(group)
        })
        .collect();
    let (singles, searched): (Vec<Vec<usize>>, Vec<Vec<usize>>) =
        failed.into_iter().flatten().partition(|g| g.len() == 1);
    (singles.concat(), searched)
}

/// The invalid items of `items`, a batch whose combined check failed.
///
/// `batch_holds(subset)` runs the combined check over a subset; `item_holds(i)` checks
/// one item exactly. Items whose sub-batch passed are valid; the rest are decided by
/// `item_holds`. Both halves of a failed batch are checked at once (rayon), and each
/// decision is reported as it is made.
pub fn find_invalid<B, I>(
    items: &[usize],
    batch_holds: &B,
    item_holds: &I,
    report: Report<'_>,
) -> Vec<usize>
where
    B: Fn(&[usize]) -> bool + Sync,
    I: Fn(usize) -> bool + Sync,
{
    if items.len() <= SINGLE_CHECKS_AT {
        return check_each(items, item_holds, report);
    }
    let (left, right) = items.split_at(items.len() / 2);
    // The whole failed: at least one half fails. Checking both at once costs one check
    // more when the left holds, and halves the time of the search.
    let (left_holds, right_holds) = rayon::join(|| batch_holds(left), || batch_holds(right));
    for (half, holds) in [(left, left_holds), (right, right_holds)] {
        if holds {
            report(half, true);
        }
    }
    if !left_holds && !right_holds && items.len() <= DENSE_FAILURES_AT {
        return check_each(items, item_holds, report);
    }
    let search = |half: &[usize], holds: bool| {
        if holds {
            Vec::new()
        } else {
            find_invalid(half, batch_holds, item_holds, report)
        }
    };
    let (mut bad, right_bad) =
        rayon::join(|| search(left, left_holds), || search(right, right_holds));
    bad.extend(right_bad);
    bad
}

fn check_each<I: Fn(usize) -> bool + Sync>(
    items: &[usize],
    item_holds: &I,
    report: Report<'_>,
) -> Vec<usize> {
    items
        .par_iter()
        .copied()
        .filter(|&i| {
            let valid = item_holds(i);
            report(&[i], valid);
            !valid
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn search(n: usize, bad: &[usize]) -> (Vec<usize>, usize) {
        let calls = AtomicUsize::new(0);
        let items: Vec<usize> = (0..n).collect();
        let batch = |s: &[usize]| {
            calls.fetch_add(1, Ordering::Relaxed);
            s.iter().all(|i| !bad.contains(i))
        };
        let item = |i: usize| !bad.contains(&i);
        let mut found = find_invalid(&items, &batch, &item, &unreported);
        found.sort_unstable();
        (found, calls.into_inner())
    }

    #[test]
    fn finds_exactly_the_bad_items() {
        for (n, bad) in [
            (1, vec![0]),
            (5, vec![4]),
            (100, vec![0, 99]),
            (1000, vec![3, 500, 501, 777]),
            (64, (0..64).collect()),
            (300, (0..300).step_by(3).collect()),
        ] {
            assert_eq!(search(n, &bad).0, bad, "n = {n}");
        }
    }

    #[test]
    fn one_bad_item_costs_logarithmically_many_batch_checks() {
        let (found, calls) = search(4096, &[1234]);
        assert_eq!(found, vec![1234]);
        assert!(
            calls <= 2 * 12,
            "{calls} batch checks for one bad item in 4096"
        );
    }

    /// Every item is reported exactly once, with its verdict, and the items of a half
    /// without bad ones are reported valid before the search in the other half ends.
    #[test]
    fn every_item_is_reported_once_with_its_verdict() {
        struct Items<'a>(&'a [usize]);
        impl BatchEquation for Items<'_> {
            fn items(&self) -> usize {
                512
            }
            fn holds(&self, indices: &[usize], _: &[u64]) -> bool {
                indices.iter().all(|i| !self.0.contains(i))
            }
        }
        let bad = [7usize, 300, 301];
        let reported = std::sync::Mutex::new(vec![None; 512]);
        let verdicts = verdicts(&Items(&bad), &[300, 1, 211], &|indices: &[usize], valid| {
            let mut reported = reported.lock().unwrap();
            for &i in indices {
                assert!(reported[i].replace(valid).is_none(), "{i} reported twice");
            }
        });
        let reported: Vec<bool> = reported
            .into_inner()
            .unwrap()
            .into_iter()
            .map(|r| r.expect("every item reported"))
            .collect();
        assert_eq!(reported, verdicts);
        assert_eq!(verdicts.iter().filter(|v| !**v).count(), 3);
    }

    #[test]
    fn a_batch_that_fails_without_a_bad_item_marks_nothing_invalid() {
        // Only exact single checks may declare an item invalid.
        let items: Vec<usize> = (0..20).collect();
        let found = find_invalid(&items, &|_: &[usize]| false, &|_| true, &unreported);
        assert!(found.is_empty());
    }
}
