//! Work on every core, folded in order, with a bounded number of results in
//! memory.
//!
//! Why not rayon's chunks: verifying bundles two at a time in lockstep left a
//! core idle while the slower of the two finished and again while each
//! result was folded in. Here each core takes the next bundle as soon as it
//! is free, the folding runs beside them, and results are folded in the
//! bundles' order (so exclusions such as "the same bytes as X, already used"
//! do not depend on timing). A core may run ahead of the fold by at most
//! `window` items, which bounds memory whatever the number of bundles.

use std::collections::BTreeMap;
use std::sync::{mpsc, Condvar, Mutex};

/// Where the workers stand.
struct Progress {
    /// The next item to start.
    next_to_start: usize,
    /// Items folded so far.
    folded: usize,
    /// The fold failed: start nothing more.
    stopped: bool,
}

/// Runs `work` over `items` on `workers` threads and `fold`s the results in
/// the items' order, at most `window` items ahead of the fold; stops at the
/// first error `fold` returns.
pub(crate) fn work_in_order<T, R, E>(
    items: &[T],
    workers: usize,
    window: usize,
    work: impl Fn(&T) -> R + Sync,
    mut fold: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let window = window.max(1);
    let progress = (
        Mutex::new(Progress {
            next_to_start: 0,
            folded: 0,
            stopped: false,
        }),
        Condvar::new(),
    );
    let (sender, receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let sender = sender.clone();
            let (progress, work) = (&progress, &work);
            scope.spawn(move || {
                while let Some(index) = claim(progress, items.len(), window) {
                    if sender.send((index, work(&items[index]))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut outcome = Ok(());
        for (index, result) in receiver {
            waiting.insert(index, result);
            let mut next = lock(&progress.0).folded;
            while let Some(result) = waiting.remove(&next) {
                if outcome.is_ok() {
                    outcome = fold(result);
                }
                next += 1;
            }
            let mut state = lock(&progress.0);
            state.folded = next;
            state.stopped |= outcome.is_err();
            drop(state);
            progress.1.notify_all();
        }
        outcome
    })
}

/// The next item for a worker, once it is within `window` of the fold;
/// `None` when every item has started or the fold stopped.
fn claim(progress: &(Mutex<Progress>, Condvar), len: usize, window: usize) -> Option<usize> {
    let mut state = lock(&progress.0);
    loop {
        if state.stopped || state.next_to_start >= len {
            return None;
        }
        if state.next_to_start < state.folded + window {
            state.next_to_start += 1;
            return Some(state.next_to_start - 1);
        }
        state = progress
            .1
            .wait(state)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

/// The lock, even after a worker panicked (the scope re-raises the panic).
fn lock(mutex: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_are_folded_in_order_and_never_more_than_the_window_ahead() {
        let items: Vec<usize> = (0..200).collect();
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut folded = Vec::new();
        let outcome: Result<(), ()> = work_in_order(
            &items,
            4,
            3,
            |&i| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Later items finish first, so the order must be restored.
                std::thread::sleep(std::time::Duration::from_micros((200 - i as u64) * 5));
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            },
            |r| {
                folded.push(r);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(folded, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 3, "{most:?} at once");
    }

    #[test]
    fn a_failing_fold_stops_the_work_and_is_returned() {
        let items: Vec<usize> = (0..1000).collect();
        let started = AtomicUsize::new(0);
        let outcome = work_in_order(
            &items,
            2,
            2,
            |&i| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| {
                if i == 5 {
                    Err(format!("item {i}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(outcome, Err("item 5".to_string()));
        assert!(started.load(Ordering::SeqCst) <= 8, "{started:?} started");
    }
}
