//! Caps on what is read from a bundle (zip or folder) by `verify`, `gate`,
//! `diff` and re-evaluation.
//!
//! A bundle comes from someone else, and deflate compresses a run of zeros
//! about 1,000 to 1: a 4 MB zip can claim gigabytes. Every entry is read
//! through `Read::take` with what is left of its caps, so a zip bomb ends as an
//! error naming the entry after at most the cap's bytes, never as an
//! allocation the process cannot survive. The defaults hold up to 10,000
//! accounts × 4 regions, measured (docs/limits.md and docs/performance.md);
//! each cap can be raised by an environment variable. docs/limits.md lists
//! them.

use std::fmt;

/// Largest size of one file held in memory, uncompressed (default 1 GiB:
/// `results.json` is the largest such file, 703 MB at 10,000 accounts × 4
/// regions). A file that is only hashed as it streams by costs no memory and
/// is bounded by [`MAX_TOTAL_BYTES`] alone: a per-file cap on it would bound
/// nothing a bomb split over many entries could not reach anyway, and it
/// refused the run's own OSCAL file (1.45 GB at 10,000 × 4).
pub const MAX_FILE_BYTES: Cap = Cap {
    default: 1 << 30,
    var: "AUDITPACK_BAG_MAX_FILE_BYTES",
    what: "one file held in memory",
};
/// Largest total of every file, uncompressed (default 64 GiB).
pub const MAX_TOTAL_BYTES: Cap = Cap {
    default: 64 << 30,
    var: "AUDITPACK_BAG_MAX_TOTAL_BYTES",
    what: "all files together",
};
/// Largest number of entries (default 4 million).
pub const MAX_FILES: Cap = Cap {
    default: 4_000_000,
    var: "AUDITPACK_BAG_MAX_FILES",
    what: "the number of entries",
};
/// Largest total of the files held in memory while verifying (tag files,
/// `results.json`, `org.json`, `run.json`, coverage, controls, config,
/// waivers; default 2 GiB). Evidence files are hashed as they stream by.
pub const MAX_MEMORY_BYTES: Cap = Cap {
    default: 2 << 30,
    var: "AUDITPACK_BAG_MAX_MEMORY_BYTES",
    what: "the files held in memory",
};

/// One cap: its default, the environment variable that overrides it, and
/// what it limits (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// The value when the variable is unset.
    pub default: u64,
    /// The environment variable that sets it.
    pub var: &'static str,
    /// What it limits, in words.
    pub what: &'static str,
}

/// An environment variable that is set but is not a positive whole number.
#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?} is not a positive whole number of {unit}")]
pub struct BadCap {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// Bytes or entries.
    pub unit: &'static str,
}

/// The caps in force for one read of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BagLimits {
    /// See [`MAX_FILE_BYTES`].
    pub file_bytes: u64,
    /// See [`MAX_TOTAL_BYTES`].
    pub total_bytes: u64,
    /// See [`MAX_FILES`].
    pub files: u64,
    /// See [`MAX_MEMORY_BYTES`].
    pub memory_bytes: u64,
}

impl Default for BagLimits {
    fn default() -> Self {
        BagLimits {
            file_bytes: MAX_FILE_BYTES.default,
            total_bytes: MAX_TOTAL_BYTES.default,
            files: MAX_FILES.default,
            memory_bytes: MAX_MEMORY_BYTES.default,
        }
    }
}

impl BagLimits {
    /// The defaults, each overridden by its environment variable when set.
    pub fn from_env() -> Result<BagLimits, BadCap> {
        Ok(BagLimits {
            file_bytes: read_cap(MAX_FILE_BYTES, "bytes")?,
            total_bytes: read_cap(MAX_TOTAL_BYTES, "bytes")?,
            files: read_cap(MAX_FILES, "entries")?,
            memory_bytes: read_cap(MAX_MEMORY_BYTES, "bytes")?,
        })
    }
}

fn read_cap(cap: Cap, unit: &'static str) -> Result<u64, BadCap> {
    match std::env::var(cap.var) {
        Err(_) => Ok(cap.default),
        Ok(value) => value
            .trim()
            .replace('_', "")
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(BadCap {
                var: cap.var,
                value,
                unit,
            }),
    }
}

/// Which cap an entry ran into, with its value, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// The cap.
    pub cap: Cap,
    /// Its value in force.
    pub limit: u64,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "over the limit of {} for {} (set {} to raise it; see docs/limits.md)",
            self.limit, self.cap.what, self.cap.var
        )
    }
}

/// What is left of the caps while a bundle is read, entry by entry.
#[derive(Debug)]
pub(crate) struct Allowance {
    limits: BagLimits,
    total_left: u64,
    memory_left: u64,
}

impl Allowance {
    pub(crate) fn new(limits: BagLimits) -> Allowance {
        Allowance {
            limits,
            total_left: limits.total_bytes,
            memory_left: limits.memory_bytes,
        }
    }

    /// Refuses more entries than [`MAX_FILES`] before any is read.
    pub(crate) fn check_count(&self, entries: u64) -> Result<(), Exceeded> {
        if entries > self.limits.files {
            return Err(Exceeded {
                cap: MAX_FILES,
                limit: self.limits.files,
            });
        }
        Ok(())
    }

    /// The most bytes the next entry may have, and the cap that sets it
    /// (the per-file cap on a tie): the total for an entry hashed as it
    /// streams by; also the per-file and memory caps for one `kept` in memory.
    pub(crate) fn next_entry(&self, kept: bool) -> (u64, Exceeded) {
        let total = (self.total_left, MAX_TOTAL_BYTES, self.limits.total_bytes);
        let caps = match kept {
            true => vec![
                (
                    self.limits.file_bytes,
                    MAX_FILE_BYTES,
                    self.limits.file_bytes,
                ),
                total,
                (self.memory_left, MAX_MEMORY_BYTES, self.limits.memory_bytes),
            ],
            false => vec![total],
        };
        let (left, cap, limit) = caps
            .into_iter()
            .min_by_key(|(left, _, _)| *left)
            .expect("the total cap is always there");
        (left, Exceeded { cap, limit })
    }

    /// Records an entry of `size` bytes as read.
    pub(crate) fn spend(&mut self, size: u64, kept: bool) {
        self.total_left = self.total_left.saturating_sub(size);
        if kept {
            self.memory_left = self.memory_left.saturating_sub(size);
        }
    }
}

/// Why [`read_capped`] gave no bytes.
#[derive(Debug)]
pub(crate) enum CappedRead {
    /// The file cannot be read.
    Io(std::io::Error),
    /// It is larger than [`MAX_FILE_BYTES`].
    TooLarge(Exceeded),
    /// The cap's variable is not a number.
    BadCap(BadCap),
}

/// Reads a whole file given on its own (a `results.json` for the gate) under
/// the per-file cap, without allocating beyond it.
pub(crate) fn read_capped(path: &std::path::Path) -> Result<Vec<u8>, CappedRead> {
    use std::io::Read;
    let limit = BagLimits::from_env()
        .map_err(CappedRead::BadCap)?
        .file_bytes;
    let file = std::fs::File::open(path).map_err(CappedRead::Io)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(CappedRead::Io)?;
    if bytes.len() as u64 > limit {
        return Err(CappedRead::TooLarge(Exceeded {
            cap: MAX_FILE_BYTES,
            limit,
        }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_cap_names_itself() {
        let limits = BagLimits {
            file_bytes: 100,
            total_bytes: 250,
            files: 3,
            memory_bytes: 120,
        };
        let mut allowance = Allowance::new(limits);
        assert!(allowance.check_count(3).is_ok());
        assert_eq!(allowance.check_count(4).unwrap_err().cap, MAX_FILES);
        assert_eq!(allowance.next_entry(true).0, 100);
        // Hashed as it streams by: only the total bounds it.
        let (left, cap) = allowance.next_entry(false);
        assert_eq!((left, cap.cap), (250, MAX_TOTAL_BYTES));
        allowance.spend(100, true);
        allowance.spend(100, false);
        let (left, cap) = allowance.next_entry(true);
        assert_eq!((left, cap.cap, cap.limit), (20, MAX_MEMORY_BYTES, 120));
        let (left, cap) = allowance.next_entry(false);
        assert_eq!((left, cap.cap, cap.limit), (50, MAX_TOTAL_BYTES, 250));
    }
}
