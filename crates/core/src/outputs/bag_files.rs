//! The files of a bag as `verify` read them: each path with its SHA-256 and
//! size, in path order, and the bytes of the few files kept (tag files,
//! results, org and run records). The bag writer keeps its list of evidence
//! files in the same form, without entries (`BagFiles<()>`).
//!
//! Why not a map of path to entry: a bundle of 10,000 accounts × 4 regions
//! holds 837,000 files, and a `BTreeMap<String, _>` of them was ~200 MB of
//! `verify` (a heap string, a string header and B-tree node space each).
//! Paths added in increasing order (a zip auditpack writes lists its payload
//! so) are front-coded instead, as sorted string tables are: each path keeps
//! only what follows the part it shares with the one before
//! (`data/evidence/1000…/eu-west-1/ec2/` is written once per run of files),
//! and every [`RESTART`]th path is whole, so a path is found by a binary
//! search of those and a short scan. ~25 bytes a path and 40 an entry:
//! ~55 MB for that bundle. Paths that come out of order (its tag files,
//! written after the payload, or any order another writer chose) are kept
//! in a map beside them.

use std::collections::{BTreeMap, BTreeSet};

/// One file's hash and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BagEntry {
    /// SHA-256, as bytes: hex only when shown.
    pub sha256: [u8; 32],
    /// Size in bytes.
    pub size: u64,
}

impl BagEntry {
    /// The SHA-256 as lowercase hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// True when the SHA-256 is `hex` (lowercase), compared without allocating.
    pub(crate) fn has_sha256(&self, hex: &str) -> bool {
        let mut ours = [0u8; 64];
        hex::encode_to_slice(self.sha256, &mut ours).is_ok() && ours == hex.as_bytes()
    }
}

/// Every this many in-order paths, one is coded whole.
const RESTART: usize = 16;

/// A bag's files by path (see the module's docs), added in any order by
/// [`BagFiles::insert`] and read in path order, each with an entry `E`:
/// its hash and size as `verify` read them, or nothing (`()`, no memory)
/// for the list of evidence files `report` bags.
#[derive(Debug, Clone)]
pub struct BagFiles<E = BagEntry> {
    /// The in-order paths, each as (bytes shared with the one before, then
    /// how many follow, as LEB128 numbers) and those bytes.
    coded: Vec<u8>,
    /// Where in `coded` each run of [`RESTART`] paths begins.
    restarts: Vec<usize>,
    /// The in-order paths' entries, in their order.
    entries: Vec<E>,
    /// The last in-order path, whole.
    last: Vec<u8>,
    /// Paths added out of order, with their entries.
    others: BTreeMap<String, E>,
    /// The kept files' bytes, by path.
    kept: BTreeMap<String, Vec<u8>>,
    /// Paths added more than once.
    duplicated: BTreeSet<String>,
}

impl<E> Default for BagFiles<E> {
    fn default() -> Self {
        BagFiles {
            coded: Vec::new(),
            restarts: Vec::new(),
            entries: Vec::new(),
            last: Vec::new(),
            others: BTreeMap::new(),
            kept: BTreeMap::new(),
            duplicated: BTreeSet::new(),
        }
    }
}

impl BagFiles {
    /// No files.
    pub fn new() -> BagFiles {
        BagFiles::default()
    }
}

impl<E> BagFiles<E> {
    /// No files, with room for `files` entries (a zip declares how many it
    /// holds: reserved once rather than grown by doubling).
    pub fn with_capacity(files: usize) -> BagFiles<E> {
        BagFiles {
            entries: Vec::with_capacity(files),
            ..BagFiles::default()
        }
    }

    /// Adds the file at `path`, with its bytes when kept. A path added again
    /// keeps its last copy (entry and bytes), as a map would, and is named
    /// by [`BagFiles::finish`].
    pub fn insert(&mut self, path: &str, entry: E, bytes: Option<Vec<u8>>) {
        if self.entries.is_empty() || path.as_bytes() > self.last.as_slice() {
            self.push_in_order(path, entry);
        } else if let Some(n) = self.in_order_position(path) {
            self.entries[n] = entry;
            self.duplicated.insert(path.to_string());
        } else if self.others.insert(path.to_string(), entry).is_some() {
            self.duplicated.insert(path.to_string());
        }
        match bytes {
            Some(bytes) => self.kept.insert(path.to_string(), bytes),
            None => self.kept.remove(path),
        };
    }

    fn push_in_order(&mut self, path: &str, entry: E) {
        let shared = match self.entries.len() % RESTART {
            0 => {
                self.restarts.push(self.coded.len());
                0
            }
            _ => shared_prefix(&self.last, path),
        };
        let suffix = &path.as_bytes()[shared..];
        push_number(&mut self.coded, shared);
        push_number(&mut self.coded, suffix.len());
        self.coded.extend_from_slice(suffix);
        self.last.truncate(shared);
        self.last.extend_from_slice(suffix);
        self.entries.push(entry);
    }

    /// The paths added more than once, each once, in path order.
    pub fn finish(&mut self) -> Vec<String> {
        std::mem::take(&mut self.duplicated).into_iter().collect()
    }

    /// Where the in-order path `path` is, if it is one: the last run whose
    /// first path is not after it, then a scan of that run.
    fn in_order_position(&self, path: &str) -> Option<usize> {
        let target = path.as_bytes();
        let runs_not_after = self.restarts.partition_point(|&at| {
            let mut first = Decoder::at(&self.coded, at);
            first.next_path().is_some_and(|p| p <= target)
        });
        let run = runs_not_after.checked_sub(1)?;
        let mut decoder = Decoder::at(&self.coded, self.restarts[run]);
        let end = ((run + 1) * RESTART).min(self.entries.len());
        for n in run * RESTART..end {
            match decoder.next_path()?.cmp(target) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Some(n),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&E> {
        match self.in_order_position(path) {
            Some(n) => Some(&self.entries[n]),
            None => self.others.get(path),
        }
    }

    /// Whether the bag has a file at `path`.
    pub fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// The kept bytes of the file at `path` (none for a file only hashed).
    pub fn bytes(&self, path: &str) -> Option<&[u8]> {
        self.kept.get(path).map(Vec::as_slice)
    }

    /// Every kept file's path and bytes, in path order.
    pub fn kept(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.kept.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// Every file, in path order: the in-order paths and the others merged.
    pub fn iter(&self) -> impl Iterator<Item = (String, &E)> {
        let mut decoder = Decoder::at(&self.coded, 0);
        let in_order = (self.entries.iter()).map_while(move |entry| {
            let path = String::from_utf8_lossy(decoder.next_path()?).into_owned();
            Some((path, entry))
        });
        let others = self.others.iter().map(|(p, e)| (p.clone(), e));
        merge_in_path_order(in_order, others)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.entries.len() + self.others.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl BagFiles {
    /// Takes the kept bytes of the file at `path` out (the period package
    /// takes results.json rather than copy hundreds of MB), with its entry.
    pub fn take(&mut self, path: &str) -> Option<(BagEntry, Option<Vec<u8>>)> {
        let entry = *self.get(path)?;
        Some((entry, self.kept.remove(path)))
    }
}

impl<'p> FromIterator<(&'p str, (BagEntry, Option<Vec<u8>>))> for BagFiles {
    fn from_iter<I: IntoIterator<Item = (&'p str, (BagEntry, Option<Vec<u8>>))>>(
        files: I,
    ) -> BagFiles {
        let mut all = BagFiles::new();
        for (path, (entry, bytes)) in files {
            all.insert(path, entry, bytes);
        }
        all
    }
}

/// Two sequences of (path, item), each in path order, as one in path order.
/// A path both have comes once, with `second`'s item: the bag writer's
/// payload map goes over its evidence list (the two never share a path in
/// a [`BagFiles`]).
pub(crate) fn merge_in_path_order<T>(
    first: impl Iterator<Item = (String, T)>,
    second: impl Iterator<Item = (String, T)>,
) -> impl Iterator<Item = (String, T)> {
    use std::cmp::Ordering;
    let (mut first, mut second) = (first.peekable(), second.peekable());
    std::iter::from_fn(move || {
        let order = match (first.peek(), second.peek()) {
            (Some((a, _)), Some((b, _))) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => first.next(),
            Ordering::Equal => first.next().and(second.next()),
            Ordering::Greater => second.next(),
        }
    })
}

/// How many leading bytes `a` and `b` share, cut back to a character
/// boundary of `b` (so every coded suffix is whole characters).
fn shared_prefix(a: &[u8], b: &str) -> usize {
    let mut n = a
        .iter()
        .zip(b.as_bytes())
        .take_while(|(x, y)| x == y)
        .count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Appends `n` as LEB128 (7 bits a byte, low first).
fn push_number(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads front-coded paths from a position of [`BagFiles::coded`] where a
/// run begins (or from any path, once one has been read whole).
struct Decoder<'c> {
    coded: &'c [u8],
    at: usize,
    path: Vec<u8>,
}

impl<'c> Decoder<'c> {
    fn at(coded: &'c [u8], at: usize) -> Decoder<'c> {
        Decoder {
            coded,
            at,
            path: Vec::new(),
        }
    }

    fn number(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = *self.coded.get(self.at)?;
            self.at += 1;
            n |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(n);
            }
        }
        None
    }

    /// The next path, whole.
    fn next_path(&mut self) -> Option<&[u8]> {
        let shared = self.number()?;
        let len = self.number()?;
        let suffix = self.coded.get(self.at..self.at + len)?;
        self.at += len;
        self.path.truncate(shared);
        self.path.extend_from_slice(suffix);
        Some(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(n: u8) -> BagEntry {
        BagEntry {
            sha256: [n; 32],
            size: n.into(),
        }
    }

    /// Added out of order and twice, the files read as a map of them would
    /// give them: in path order (bytewise, as `String`'s order), each path
    /// once with its last copy and bytes, and the repeated paths are named.
    #[test]
    fn files_added_in_any_order_read_as_a_map_of_them_would() {
        let added = [
            ("data/b", 1, None),
            ("data/a-c", 2, None),
            ("data/a/b", 3, Some(b"first".to_vec())),
            ("bagit.txt", 4, Some(b"BagIt".to_vec())),
            ("data/a/b", 5, Some(b"second".to_vec())),
            ("data/b", 6, None),
            ("data/b", 7, None),
        ];
        let mut files = BagFiles::new();
        let mut map = BTreeMap::new();
        for (path, n, bytes) in &added {
            files.insert(path, entry(*n), bytes.clone());
            map.insert(path.to_string(), entry(*n));
        }
        assert_eq!(files.finish(), ["data/a/b", "data/b"]);
        let read: Vec<(String, BagEntry)> = files.iter().map(|(p, e)| (p, *e)).collect();
        assert_eq!(read, map.into_iter().collect::<Vec<_>>());
        assert_eq!(files.len(), 4);
        assert_eq!(files.get("data/b"), Some(&entry(7)));
        assert!(files.get("data/c").is_none() && !files.contains_key("data/a"));
        assert_eq!(files.bytes("data/a/b"), Some(b"second".as_slice()));
        assert_eq!(files.bytes("data/b"), None);
        let kept: Vec<&str> = files.kept().map(|(p, _)| p).collect();
        assert_eq!(kept, ["bagit.txt", "data/a/b"]);
        let (taken, bytes) = files.take("bagit.txt").unwrap();
        assert_eq!(
            (taken, bytes.as_deref()),
            (entry(4), Some(b"BagIt".as_slice()))
        );
        assert_eq!(files.bytes("bagit.txt"), None);
    }

    /// Paths that share parts, including multi-byte characters cut where
    /// the shared bytes end mid-character, come back whole.
    #[test]
    fn paths_sharing_part_of_a_character_come_back_whole() {
        let paths = ["data/é", "data/ê", "data/êa", "data/日本", "data/日本語"];
        let files: BagFiles = (paths.iter()).map(|p| (*p, (entry(1), None))).collect();
        let read: Vec<String> = files.iter().map(|(p, _)| p).collect();
        assert_eq!(read, paths);
        assert!(paths.iter().all(|p| files.contains_key(p)));
    }

    fn path() -> impl Strategy<Value = String> {
        // Few letters, so paths share prefixes and repeat.
        proptest::collection::vec(prop_oneof!["a", "b", "/", "é", "-"], 0..6)
            .prop_map(|parts| format!("data/{}", parts.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any sequence of paths (sorted runs, repeats, out of order, more
        /// than a run of them) reads as a `BTreeMap` of them does, finds
        /// what it holds and nothing else, and names each path repeated.
        #[test]
        fn any_insertions_read_as_a_map(
            runs in proptest::collection::vec(
                (proptest::collection::vec(path(), 0..40), any::<bool>()),
                1..4,
            ),
            absent in path(),
        ) {
            let mut files = BagFiles::new();
            let mut map = BTreeMap::new();
            let mut seen = BTreeSet::new();
            let mut repeated = BTreeSet::new();
            let mut n = 0u8;
            for (mut run, sorted) in runs {
                if sorted {
                    run.sort();
                }
                for p in run {
                    n = n.wrapping_add(1);
                    files.insert(&p, entry(n), None);
                    map.insert(p.clone(), entry(n));
                    if !seen.insert(p.clone()) {
                        repeated.insert(p);
                    }
                }
            }
            let read: Vec<(String, BagEntry)> = files.iter().map(|(p, e)| (p, *e)).collect();
            prop_assert_eq!(&read, &map.clone().into_iter().collect::<Vec<_>>());
            prop_assert_eq!(files.len(), map.len());
            for (p, e) in &map {
                prop_assert_eq!(files.get(p), Some(e));
            }
            prop_assert_eq!(files.get(&absent), map.get(&absent));
            prop_assert_eq!(files.finish(), repeated.into_iter().collect::<Vec<_>>());
        }
    }
}
