//! Work spread over the machine's cores with scoped threads, for the parts of the analysis
//! that are independent per item (a large batch's edges, vc-mismatch checks, per-key
//! conflicts and read verdicts, the report's JSON lines). Results come back in the items'
//! order, whatever thread computed them, so the output never depends on the number of threads
//! — the tests compare 1 thread with several.
//!
//! std's scoped threads rather than a pool crate: each call is one fan-out and join over data
//! borrowed from the caller, which is all `std::thread::scope` is for.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items a call runs on the calling thread: starting threads costs tens of
/// microseconds, and the collector's frequent reports touch a few keys each.
pub(crate) const MIN_PARALLEL: usize = 256;

/// Items a thread claims at a time: small enough that a few hot keys do not leave one thread
/// with most of the work, large enough that claiming is not the cost.
const BATCH: usize = 32;

/// The number of threads to use by default: the cores the process may run on.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `items.iter().map(|x| f(&mut state, x)).collect()`, on up to `threads` threads, each with
/// its own `state` from `init` (reused buffers); the results in the order of `items`.
pub(crate) fn map<T, R, S>(
    items: &[T],
    threads: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads.min(items.len().div_ceil(BATCH)).max(1);
    if threads == 1 || items.len() < MIN_PARALLEL {
        let mut state = init();
        return items.iter().map(|x| f(&mut state, x)).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut state = init();
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + BATCH).min(items.len());
            let out = items[start..end].iter().map(|x| f(&mut state, x)).collect();
            done.push((start, out));
        }
    };
    let mut batches: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A panic on a helper is the same bug as on this thread: passed on as it is.
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    batches.sort_unstable_by_key(|&(start, _)| start);
    batches.into_iter().flat_map(|(_, out)| out).collect()
}

/// [`map`] for a few large items (chunks of a report): threads even below
/// [`MIN_PARALLEL`] items, one item at a time.
pub(crate) fn map_all<T, R>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads.min(items.len()).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, R)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(x) = items.get(i) else {
                return done;
            };
            done.push((i, f(x)));
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    all.sort_unstable_by_key(|&(i, _)| i);
    all.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..5000).collect();
        let one = map(
            &items,
            1,
            || 0u64,
            |calls, &x| {
                *calls += 1;
                x * x
            },
        );
        assert_eq!(one, items.iter().map(|x| x * x).collect::<Vec<_>>());
        for threads in [2, 3, 8] {
            assert_eq!(map(&items, threads, || (), |(), &x| x * x), one);
        }
        assert!(map(&[] as &[u64], 4, || (), |(), &x| x).is_empty());
        for threads in [1, 2, 5] {
            assert_eq!(
                map_all(&items[..7], threads, |&x| x + 1),
                (1..8).collect::<Vec<_>>()
            );
        }
    }
}
