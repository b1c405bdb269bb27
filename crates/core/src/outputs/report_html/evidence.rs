//! The evidence index (section 6): evidence files by account, each with its
//! link, answer, size and SHA-256, listed once. Findings cite these rows
//! (`#e<n>`) and passing accounts link each account's block (`#ev-<account>`).
//!
//! Up to [`LISTED_FILES_MAX`] files every file has a row. Above that (e.g.
//! 1,000 accounts in many regions) an account's block lists only the files
//! whose call did not answer `ok`, and says how many more files its folder
//! holds; every file is still in `manifest-sha256.txt` and `results.json`, and
//! findings then link their files directly. This keeps the page usable and
//! under 10 MB whatever the number of regions.

use serde::Serialize;

use super::links::Links;
use super::view::readable_time;
use crate::org::Org;
use crate::outputs::bagit::human_size;
use crate::outputs::{EvidenceIndex, EvidenceIndexEntry};

/// The most evidence files listed one by one (about 300 bytes of HTML each).
pub(super) const LISTED_FILES_MAX: usize = 20_000;

/// The run's evidence files, and which of them the page lists.
pub(super) struct Index<'a> {
    entries: &'a EvidenceIndex,
    all_listed: bool,
}

/// An evidence file as cited by a finding.
#[derive(Serialize)]
pub(super) struct FileRef {
    /// `#e<n>` (its index row), or the file's own href when it has no row.
    pub(super) href: String,
    /// `service:Operation`.
    call: String,
    qualifier: String,
}

impl<'a> Index<'a> {
    /// The index of `entries`, listing each one while there are at most `max`.
    pub(super) fn new(entries: &'a EvidenceIndex, max: usize) -> Index<'a> {
        Index {
            entries,
            all_listed: entries.len() <= max,
        }
    }

    /// Whether every file has a row (else only those not answering `ok`).
    pub(super) fn all_listed(&self) -> bool {
        self.all_listed
    }

    fn listed(&self, entry: &EvidenceIndexEntry) -> bool {
        self.all_listed || entry.status != "ok"
    }

    /// How a finding cites the file at `path` (relative to the evidence root).
    pub(super) fn cite(&self, path: &str, links: &Links) -> FileRef {
        let Some((n, entry)) = self.entries.lookup(path) else {
            let name = path.rsplit('/').next().unwrap_or(path);
            return FileRef {
                href: links.evidence(path),
                call: name.to_string(),
                qualifier: String::new(),
            };
        };
        FileRef {
            href: match self.listed(&entry) {
                true => format!("#e{n}"),
                false => links.evidence(path),
            },
            call: format!("{}:{}", entry.service, entry.operation),
            qualifier: entry.qualifier.clone().unwrap_or_default(),
        }
    }
}

/// One account's evidence files.
#[derive(Serialize)]
pub(super) struct EvidenceAccount<'a> {
    account_id: String,
    account_name: &'a str,
    folder: String,
    /// The rows: every file, or only those not answering `ok`.
    rows: Vec<EvidenceRow>,
    files: usize,
    /// Files answering `ok` that have no row.
    unlisted: usize,
    size: String,
    /// When its files were collected: `first – last`, or one time.
    collected: String,
    /// Files whose call failed, and files saying the resource does not exist.
    errors: usize,
    not_found: usize,
}

#[derive(Serialize)]
struct EvidenceRow {
    /// Position in the whole index: the row's anchor is `e<n>`.
    n: usize,
    href: String,
    region: String,
    entry: EvidenceIndexEntry,
    /// `ok`, `not_found`, or `error (Code)`.
    answer: String,
    /// Colours an answer other than `ok` (`fail`, `off`); empty for `ok`.
    answer_class: &'static str,
    size: String,
}

/// What an account's block says of all its files, listed or not.
#[derive(Default)]
struct Totals {
    size: u64,
    first: Option<String>,
    last: Option<String>,
}

/// The index, one block per account, files in path order (read from the
/// index as they go: only the listed rows are kept).
pub(super) fn evidence_accounts<'a>(
    index: &Index<'_>,
    org: &'a Org,
    links: &Links,
) -> Vec<EvidenceAccount<'a>> {
    let mut blocks: Vec<(EvidenceAccount<'a>, Totals)> = Vec::new();
    for (n, entry) in index.entries.iter().enumerate() {
        if blocks
            .last()
            .is_none_or(|(b, _)| b.account_id != entry.account_id)
        {
            let account = entry.account_id.as_str();
            let block = EvidenceAccount {
                account_id: account.to_string(),
                account_name: org.account(account).map_or("", |a| &a.name),
                folder: links.evidence_folder(account),
                rows: Vec::new(),
                files: 0,
                unlisted: 0,
                size: String::new(),
                collected: String::new(),
                errors: 0,
                not_found: 0,
            };
            blocks.push((block, Totals::default()));
        }
        let (block, totals) = blocks.last_mut().expect("pushed above");
        match entry.status.as_str() {
            "ok" => {}
            "not_found" => block.not_found += 1,
            _ => block.errors += 1,
        }
        block.files += 1;
        totals.size += entry.size;
        if let Some(time) = &entry.collected_at {
            if totals.first.as_ref().is_none_or(|first| time < first) {
                totals.first = Some(time.clone());
            }
            if totals.last.as_ref().is_none_or(|last| time > last) {
                totals.last = Some(time.clone());
            }
        }
        match index.listed(&entry) {
            true => block.rows.push(evidence_row(n, entry, links)),
            false => block.unlisted += 1,
        }
    }
    (blocks.into_iter())
        .map(|(mut block, totals)| {
            block.size = human_size(totals.size);
            block.collected = match (totals.first, totals.last) {
                (Some(first), Some(last)) if first != last => {
                    format!("{} – {}", readable_time(&first), readable_time(&last))
                }
                (Some(only), _) => readable_time(&only),
                _ => String::new(),
            };
            block
        })
        .collect()
}

fn evidence_row(n: usize, e: EvidenceIndexEntry, links: &Links) -> EvidenceRow {
    EvidenceRow {
        n,
        href: links.evidence(&e.path),
        region: e.region.as_deref().unwrap_or("global").to_string(),
        answer: match &e.error_code {
            Some(code) => format!("{} ({code})", e.status),
            None => e.status.clone(),
        },
        answer_class: match e.status.as_str() {
            "ok" => "",
            "not_found" => "off",
            _ => "fail",
        },
        size: human_size(e.size),
        entry: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::report_html::tests::{evidence, org, M};

    fn entries() -> Vec<EvidenceIndexEntry> {
        let error = evidence().remove(0);
        let mut ok = error.clone();
        ok.path = format!("{M}/global/iam/ListUsers.json");
        (ok.operation, ok.status, ok.error_code) = ("ListUsers".into(), "ok".into(), None);
        vec![error, ok]
    }

    #[test]
    fn every_file_has_a_row_up_to_the_limit() {
        let (entries, org, links) = (entries(), org(), Links::bundle());
        let entries_on_disk = EvidenceIndex::of_entries(&entries).unwrap();
        let index = Index::new(&entries_on_disk, 2);
        assert!(index.all_listed());
        let blocks = evidence_accounts(&index, &org, &links);
        assert_eq!((blocks[0].rows.len(), blocks[0].unlisted), (2, 0));
        assert_eq!(index.cite(&entries[1].path, &links).href, "#e1");
    }

    #[test]
    fn above_the_limit_only_files_not_answering_ok_have_rows() {
        let (entries, org, links) = (entries(), org(), Links::bundle());
        let entries_on_disk = EvidenceIndex::of_entries(&entries).unwrap();
        let index = Index::new(&entries_on_disk, 1);
        assert!(!index.all_listed());
        let blocks = evidence_accounts(&index, &org, &links);
        assert_eq!((blocks[0].rows.len(), blocks[0].unlisted), (1, 1));
        assert_eq!((blocks[0].files, blocks[0].errors), (2, 1));
        assert_eq!(blocks[0].rows[0].entry.status, "error");
        // A finding still reaches both: the error by its row, the other directly.
        assert_eq!(index.cite(&entries[0].path, &links).href, "#e0");
        let direct = index.cite(&entries[1].path, &links).href;
        assert_eq!(direct, format!("evidence/{M}/global/iam/ListUsers.json"));
    }
}
