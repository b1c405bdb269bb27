//! Results whose items are kept on disk: `report` evaluates an organization a
//! pass of accounts at a time and appends each pass's items to a temporary
//! file per control, read back in place, so the verdicts of 10,000 accounts are
//! never a value in memory. The outputs read them back a control at a time
//! ([`ResultsSource::controls`]), holding one control's items at most (~0.7 KB
//! an item: ~28 MB for a control over 10,000 accounts × 4 regions), or a
//! piece of a control's items at a time ([`StoredResults::item_pieces`]:
//! results.json, the IPE sheets, the workbook and OSCAL, which `report`
//! writes on two threads).
//!
//! [`ResultsSource`] is what the outputs read: results in memory (a parsed
//! `results.json`, the tests) and [`StoredResults`] give the same bytes.

use std::borrow::Cow;
use std::io::{BufWriter, Write};

use super::results::{ControlResult, Counts, ItemResult, Results, Summary};
use super::waivers::{waive_control, waiver_as_of, waiver_records, Waivers};
use super::Verdict;
use crate::evidence::read_back::ReadBack;

/// Verdicts as the outputs read them: the results' own fields, and their
/// controls one at a time with their items.
pub trait ResultsSource {
    /// Every field of the results; the controls' `results` (items) may be
    /// left out here: read a control's items through [`ResultsSource::control`].
    fn head(&self) -> &Results;

    /// Control `n` (in `head().controls` order) with every item.
    fn control(&self, n: usize) -> Cow<'_, ControlResult>;

    /// Every control with its items, in order, one at a time.
    fn controls(&self) -> impl Iterator<Item = Cow<'_, ControlResult>> {
        (0..self.head().controls.len()).map(|n| self.control(n))
    }

    /// Control `n`'s items a piece at a time, in order (see
    /// [`StoredResults::item_pieces`]), for an output that writes each item
    /// and drops it.
    fn item_pieces_of(&self, n: usize) -> impl Iterator<Item = Cow<'_, [ItemResult]>>;

    /// Control `n`'s items by verdict, without reading them where they are
    /// counted already.
    fn item_counts(&self, n: usize) -> Counts;
}

impl ResultsSource for Results {
    fn head(&self) -> &Results {
        self
    }

    fn control(&self, n: usize) -> Cow<'_, ControlResult> {
        Cow::Borrowed(&self.controls[n])
    }

    fn item_pieces_of(&self, n: usize) -> impl Iterator<Item = Cow<'_, [ItemResult]>> {
        std::iter::once(Cow::Borrowed(&self.controls[n].results[..]))
    }

    fn item_counts(&self, n: usize) -> Counts {
        Counts::of(self.controls[n].results.iter().map(|i| i.status))
    }
}

/// Results with their items in temporary files, one per control (see the
/// module's docs).
///
/// A read of a file that fails is kept, the control it was for is given
/// without items, and [`StoredResults::check`] returns the failure: `report`
/// checks before it publishes anything.
pub struct StoredResults {
    head: Results,
    /// Each control's items, in `head.controls` order.
    parts: Vec<ReadBack>,
    /// Where each control's items are in its file: (start, end) in bytes.
    ranges: Vec<(u64, u64)>,
    /// Each control's items by verdict.
    counts: Vec<Counts>,
}

impl std::fmt::Debug for StoredResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredResults({} controls)", self.parts.len())
    }
}

impl ResultsSource for StoredResults {
    fn head(&self) -> &Results {
        &self.head
    }

    fn control(&self, n: usize) -> Cow<'_, ControlResult> {
        let mut control = self.head.controls[n].clone();
        if let Some(items) = self.parts[n].kept(self.items(n)) {
            control.results = items;
        }
        Cow::Owned(control)
    }

    fn item_pieces_of(&self, n: usize) -> impl Iterator<Item = Cow<'_, [ItemResult]>> {
        self.item_pieces::<ItemResult>(n).map(Cow::Owned)
    }

    fn item_counts(&self, n: usize) -> Counts {
        self.counts[n]
    }
}

impl StoredResults {
    /// `results` with their items moved to temporary files (tests, and
    /// results evaluated in memory).
    pub fn of_results(mut results: Results) -> std::io::Result<StoredResults> {
        let mut spill = ItemSpill::new(results.controls.len())?;
        for (n, control) in results.controls.iter_mut().enumerate() {
            spill.append(n, std::mem::take(&mut control.results))?;
        }
        let order: Vec<usize> = (0..results.controls.len()).collect();
        spill.finish(results, &order)
    }

    /// The verdict counts of control `n`'s items.
    pub fn counts(&self, n: usize) -> Counts {
        self.counts[n]
    }

    /// How many items control `n` has.
    pub fn item_count(&self, n: usize) -> usize {
        self.counts[n].total()
    }

    /// The first read of the items that failed, if any.
    pub fn check(&self) -> std::io::Result<()> {
        self.parts.iter().try_for_each(ReadBack::check)
    }

    /// Applies the exceptions register, a control at a time: a control with
    /// a waiver is read, waived and written again (see `waivers`).
    pub fn apply_waivers(&mut self, waivers: &Waivers) -> std::io::Result<()> {
        let as_of = waiver_as_of(&self.head);
        let mut waived = vec![0; waivers.entries.len()];
        for n in 0..self.parts.len() {
            let id = &self.head.controls[n].id;
            if !waivers.entries.iter().any(|w| &w.terms.control == id) {
                continue;
            }
            let mut control = self.head.controls[n].clone();
            control.results = self.items(n)?;
            if waive_control(&mut control, waivers, &as_of, &mut waived) {
                self.rewrite(n, control)?;
            } else {
                self.head.controls[n].status = control.status;
            }
        }
        self.head.summary = Summary {
            controls: Counts::of(self.head.controls.iter().map(|c| c.status)),
            items: sum(self.counts.iter().copied()),
        };
        self.head.waivers = waiver_records(waivers, &as_of, &waived);
        Ok(())
    }

    /// Writes control `n` again at the end of its file (its old items stay
    /// where they were, unread).
    fn rewrite(&mut self, n: usize, mut control: ControlResult) -> std::io::Result<()> {
        let file = self.parts[n].file().as_file();
        let start = file.metadata()?.len();
        let mut out = BufWriter::new(file.try_clone()?);
        std::io::Seek::seek(&mut out, std::io::SeekFrom::Start(start))?;
        let items = std::mem::take(&mut control.results);
        self.counts[n] = Counts::of(items.iter().map(|i| i.status));
        let written = write_items(&mut out, &items)?;
        out.flush()?;
        self.ranges[n] = (start, start + written);
        self.head.controls[n] = control;
        Ok(())
    }

    /// Control `n`'s items, read a few MB at a time: the items parsed are
    /// what a reader needs, the file's bytes (69 MB for a regional control at
    /// 10,000 accounts × 4 regions) need not be held beside them.
    fn items(&self, n: usize) -> std::io::Result<Vec<ItemResult>> {
        self.items_by(n, 4 << 20)
    }

    /// [`StoredResults::items`], reading `chunk` bytes at a time.
    fn items_by(&self, n: usize, chunk: u64) -> std::io::Result<Vec<ItemResult>> {
        let mut items = Vec::with_capacity(self.counts[n].total());
        for piece in self.pieces_by(n, chunk) {
            items.extend(piece?);
        }
        Ok(items)
    }

    /// Control `n`'s items a piece at a time (the items of about a MB of its
    /// file each), parsed as `T`: any type that reads the fields it needs of
    /// an item and skips the rest. An output that writes an item's rows and
    /// drops it holds a piece, not the control (the largest at 10,000
    /// accounts × 4 regions: 40,000 items, ~70 MB parsed), and one that only
    /// counts parses no more than it counts. A read that fails ends the
    /// pieces and is kept for [`StoredResults::check`].
    pub fn item_pieces<T: serde::de::DeserializeOwned + Send>(
        &self,
        n: usize,
    ) -> impl Iterator<Item = Vec<T>> + '_ {
        let mut pieces = self.pieces_by(n, 1 << 20);
        std::iter::from_fn(move || {
            let piece = pieces.next()?;
            self.parts[n].kept(piece)
        })
    }

    /// What `make` gives for each of control `n`'s items (parsed as `T`),
    /// made a piece of items at a time: an output's rows or records, with
    /// the piece's items dropped once they are made (see
    /// [`StoredResults::item_pieces`]).
    pub fn made_per_item<'s, T, R, I>(
        &'s self,
        n: usize,
        mut make: impl FnMut(&T) -> I + 's,
    ) -> impl Iterator<Item = R> + 's
    where
        T: serde::de::DeserializeOwned + Send + 's,
        I: IntoIterator<Item = R>,
        R: 's,
    {
        self.item_pieces::<T>(n)
            .flat_map(move |piece| piece.iter().flat_map(&mut make).collect::<Vec<R>>())
    }

    /// Control `n`'s items `chunk` bytes of its file at a time, each whole
    /// line parsed as `T`; after a failure, nothing more.
    fn pieces_by<T: serde::de::DeserializeOwned + Send>(
        &self,
        n: usize,
        chunk: u64,
    ) -> impl Iterator<Item = std::io::Result<Vec<T>>> + '_ {
        let (start, end) = self.ranges[n];
        let (mut at, mut carried) = (start, Vec::new());
        std::iter::from_fn(move || {
            while at < end {
                let next = (at + chunk.max(1)).min(end);
                let mut bytes = std::mem::take(&mut carried);
                if let Err(error) = self.parts[n].read_onto(&mut bytes, at, next) {
                    at = end;
                    return Some(Err(error));
                }
                at = next;
                // Whole lines now; the last one's start waits for the next chunk.
                let whole = match at == end {
                    true => bytes.len(),
                    false => bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1),
                };
                carried = bytes.split_off(whole);
                if whole > 0 {
                    let parsed = parse_items(&bytes);
                    if parsed.is_err() {
                        at = end;
                    }
                    return Some(parsed);
                }
            }
            None
        })
    }

    /// Truncates control `n`'s items file, as a full or failing disk could.
    #[cfg(test)]
    pub(crate) fn corrupt_for_test(&self, n: usize) {
        self.parts[n].file().as_file().set_len(0).unwrap();
    }
}

/// The items of whole lines of an items file, one a line, parsed on every
/// core (the outputs read every control's items several times over).
fn parse_items<T: serde::de::DeserializeOwned + Send>(bytes: &[u8]) -> std::io::Result<Vec<T>> {
    use rayon::prelude::*;
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .par_iter()
        .map(|line| serde_json::from_slice::<T>(line))
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)
}

/// Writes `items` as JSON, one after another; the bytes written.
fn write_items(out: &mut impl Write, items: &[ItemResult]) -> std::io::Result<u64> {
    let mut counting = Counting { out, written: 0 };
    for item in items {
        serde_json::to_writer(&mut counting, item)?;
        counting.write_all(b"\n")?;
    }
    Ok(counting.written)
}

struct Counting<'w, W> {
    out: &'w mut W,
    written: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Where evaluation puts items as each pass decides them: one temporary
/// file per control (a pass appends to each), which [`StoredResults`] then
/// reads in place.
pub(crate) struct ItemSpill {
    parts: Vec<Part>,
    statuses: Vec<Counts>,
}

/// A control's items file and the writer appending to it.
struct Part {
    file: ReadBack,
    out: BufWriter<std::fs::File>,
}

impl Part {
    fn new() -> std::io::Result<Part> {
        let file = ReadBack::new("auditpack-items", "the results")?;
        let out = BufWriter::new(file.file().as_file().try_clone()?);
        Ok(Part { file, out })
    }
}

impl ItemSpill {
    pub(crate) fn new(controls: usize) -> std::io::Result<ItemSpill> {
        let parts = (0..controls)
            .map(|_| Part::new())
            .collect::<std::io::Result<_>>()?;
        Ok(ItemSpill {
            parts,
            statuses: vec![Counts::default(); controls],
        })
    }

    /// Adds `items` after control `n`'s items so far.
    pub(crate) fn append(&mut self, n: usize, items: Vec<ItemResult>) -> std::io::Result<()> {
        let more = Counts::of(items.iter().map(|i| i.status));
        self.statuses[n] = sum([self.statuses[n], more]);
        write_items(&mut self.parts[n].out, &items).map(|_| ())
    }

    /// The verdict of control `n`'s items so far (see [`Verdict::all_of`]).
    pub(crate) fn verdict(&self, n: usize) -> Verdict {
        let c = self.statuses[n];
        let present = [
            (c.pass, Verdict::Pass),
            (c.fail, Verdict::Fail),
            (c.not_assessed, Verdict::NotAssessed),
            (c.disabled, Verdict::Disabled),
            (c.waived, Verdict::Waived),
        ];
        Verdict::all_of(present.into_iter().filter(|(k, _)| *k > 0).map(|(_, v)| v))
    }

    /// Forgets control `n`'s items (a control over its evaluation budget
    /// reports none).
    pub(crate) fn discard(&mut self, n: usize) -> std::io::Result<()> {
        self.parts[n] = Part::new()?;
        self.statuses[n] = Counts::default();
        Ok(())
    }

    /// The summary of `controls`, whose items are those of spilled controls
    /// `order` (`controls[k]`'s are `order[k]`'s).
    pub(crate) fn summary(&self, controls: &[ControlResult], order: &[usize]) -> Summary {
        Summary {
            controls: Counts::of(controls.iter().map(|c| c.status)),
            items: sum(order.iter().map(|&n| self.statuses[n])),
        }
    }

    /// `head` (its controls' items left out) with the items read from their
    /// files where they are; `order[k]` is the spilled control whose items
    /// are `head.controls[k]`'s.
    pub(crate) fn finish(self, head: Results, order: &[usize]) -> std::io::Result<StoredResults> {
        let mut parts: Vec<Option<Part>> = self.parts.into_iter().map(Some).collect();
        let mut files = Vec::with_capacity(order.len());
        let mut ranges = Vec::with_capacity(order.len());
        let mut counts = Vec::with_capacity(order.len());
        for &n in order {
            let part = parts[n]
                .take()
                .ok_or_else(|| std::io::Error::other("a control's items twice"))?;
            let written = part.out.into_inner().map_err(|e| e.into_error())?;
            ranges.push((0, written.metadata()?.len()));
            files.push(part.file);
            counts.push(self.statuses[n]);
        }
        Ok(StoredResults {
            head,
            parts: files,
            ranges,
            counts,
        })
    }
}

/// Counts added up.
fn sum(counts: impl IntoIterator<Item = Counts>) -> Counts {
    let mut total = Counts::default();
    for c in counts {
        total.pass += c.pass;
        total.fail += c.fail;
        total.not_assessed += c.not_assessed;
        total.disabled += c.disabled;
        total.waived += c.waived;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items read back a chunk at a time, whatever the chunk's size (one
    /// byte, a few, more than a line, the whole file), are the items written.
    #[test]
    fn items_read_back_in_chunks_of_any_size_are_the_items_written() {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let folder = repo.join("evidence-samples");
        let store = crate::evidence::EvidenceStore::open(&folder).unwrap();
        let run = store.run_info().unwrap();
        let org: crate::org::Org =
            crate::evidence::read_json_file(&folder.join("org.json")).unwrap();
        let controls = crate::evaluation::load_control_set(&crate::evaluation::ControlSet::only(
            &repo.join("controls"),
        ))
        .unwrap();
        let config = crate::evaluation::config::Config::default();
        let results = crate::evaluation::evaluate(&controls, &config, &store, &org, &run);
        let stored = StoredResults::of_results(results.clone()).unwrap();
        let n = (0..results.controls.len())
            .max_by_key(|&n| results.controls[n].results.len())
            .unwrap();
        let written = &results.controls[n].results;
        assert!(written.len() > 10, "a control with items");
        for chunk in [1, 7, 100, 1_000, 1 << 30] {
            let read = stored.items_by(n, chunk).unwrap();
            assert!(read == *written, "chunks of {chunk} bytes");
        }
    }
}
