//! `auditpack merge`: several shards of one run (each collected by its own CI
//! job with `collect --ou/--accounts`) joined into one evidence tree, which
//! `report` then evaluates and bundles like any other.
//!
//! The shards must be of the same run: same tool version, period, home region
//! and regions, and the same organization with the same accounts. Each account
//! folder is taken from the one shard that collected the account; two shards
//! that both collected it are refused (which copy would be the evidence?). An
//! active account no shard collected stays in `org.json` without evidence, so
//! its controls are NOT ASSESSED, never silently dropped. Every shard's own
//! `run.json` is kept in the merged `run.json` (`shards`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use super::staging::{self, StagingError};
use super::store::relative_slash_path;
use super::{read_json_file, RunInfo, ShardRun, StoreError, SCHEMA_VERSION};
use crate::org::{Org, Scope};

/// Why shards could not be merged. Each names the shard folder at fault.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Fewer than two folders.
    #[error("merge needs at least two evidence folders (--evidence A --evidence B …)")]
    TooFewShards,
    /// A shard's `run.json` or `org.json` is missing or invalid.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A shard is not of the same run as the first one.
    #[error("{shard} is not of the same run as {first}: {what}")]
    NotTheSameRun {
        /// The first shard given (the reference).
        first: PathBuf,
        /// The shard that differs.
        shard: PathBuf,
        /// What differs, with both values.
        what: String,
    },
    /// Two shards both collected an account.
    #[error("account {account} was collected by both {first} and {second}; shards must not overlap (check their --ou/--accounts)")]
    Overlap {
        /// The account id.
        account: String,
        /// One shard.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Something in a shard that is not part of an evidence tree.
    #[error("{0}: not part of an evidence tree (expected org.json, run.json and 12-digit account folders)")]
    Unexpected(PathBuf),
    /// Output folder problems.
    #[error(transparent)]
    Output(#[from] StagingError),
    /// A shard's file could not be read or copied.
    #[error("{path}: {source}")]
    Copy {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeSummary {
    /// The merged `run.json`.
    pub run: RunInfo,
    /// Evidence files written.
    pub files: usize,
    /// Active accounts no shard collected (NOT ASSESSED in the report).
    pub not_collected: Vec<String>,
}

/// One shard as read.
struct Shard {
    folder: PathBuf,
    run: RunInfo,
    org: Org,
    /// Account folders present in the shard.
    account_dirs: BTreeSet<String>,
}

/// Merges the shard folders into `out` (which must not exist or be empty).
pub fn merge(
    folders: &[PathBuf],
    out: &Path,
    command_line: Vec<String>,
) -> Result<MergeSummary, MergeError> {
    if folders.len() < 2 {
        return Err(MergeError::TooFewShards);
    }
    let shards = folders
        .iter()
        .map(|f| read_shard(f))
        .collect::<Result<Vec<_>, _>>()?;
    for shard in &shards[1..] {
        check_same_run(&shards[0], shard)?;
    }
    let owners = owners(&shards)?;
    let staging = staging::prepare(out)?;
    // Account folders are disjoint: copied on every core (a copy is mostly
    // system time per file, ~96,000 files at 1,000 accounts x 17 regions).
    let copied: Vec<usize> = owners
        .par_iter()
        .filter(|(account, &owner)| shards[owner].account_dirs.contains(*account))
        .map(|(account, &owner)| {
            copy_tree(&shards[owner].folder.join(account), &staging.join(account))
        })
        .collect::<Result<_, _>>()?;
    let files = copied.iter().sum();
    // An account its shard reached but that has no folder (no evidence) has
    // nothing to copy; coverage reports it. Other shards' copies of a folder
    // (their discovery calls) are listed, not copied.
    let mut not_copied: Vec<Vec<String>> = vec![Vec::new(); shards.len()];
    for (account, &owner) in &owners {
        for (index, shard) in shards.iter().enumerate() {
            if index != owner && shard.account_dirs.contains(account) {
                not_copied[index].extend(relative_files(&shard.folder, account)?);
            }
        }
    }
    let org = merged_org(&shards, &owners);
    let not_collected: Vec<String> = org
        .active_accounts()
        .filter(|a| a.reachable.is_none())
        .map(|a| a.id.clone())
        .collect();
    let run = merged_run(
        &shards,
        &owners,
        not_copied,
        not_collected.is_empty(),
        command_line,
    );
    staging::write_json(&staging.join("org.json"), &org)?;
    staging::write_json(&staging.join("run.json"), &run)?;
    staging::finalize(&staging, out)?;
    Ok(MergeSummary {
        run,
        files,
        not_collected,
    })
}

fn read_shard(folder: &Path) -> Result<Shard, MergeError> {
    let run: RunInfo = read_json_file(&folder.join("run.json"))?;
    let org: Org = read_json_file(&folder.join("org.json"))?;
    let mut account_dirs = BTreeSet::new();
    let entries = std::fs::read_dir(folder).map_err(|source| MergeError::Copy {
        path: folder.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| MergeError::Copy {
            path: folder.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_account_dir =
            entry.path().is_dir() && name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit());
        match name.as_str() {
            "run.json" | "org.json" => {}
            _ if is_account_dir => {
                account_dirs.insert(name);
            }
            _ => return Err(MergeError::Unexpected(entry.path())),
        }
    }
    Ok(Shard {
        folder: folder.to_path_buf(),
        run,
        org,
        account_dirs,
    })
}

/// The first difference between two shards that makes them different runs.
fn check_same_run(first: &Shard, shard: &Shard) -> Result<(), MergeError> {
    let differ = |what: String| MergeError::NotTheSameRun {
        first: first.folder.clone(),
        shard: shard.folder.clone(),
        what,
    };
    let (a, b) = (&first.run, &shard.run);
    let fields = [
        (
            "schema_version",
            a.schema_version.to_string(),
            b.schema_version.to_string(),
        ),
        (
            "tool",
            format!("{} {}", a.tool.name, a.tool.version),
            format!("{} {}", b.tool.name, b.tool.version),
        ),
        ("period", a.period.clone(), b.period.clone()),
        (
            "period dates",
            format!("{:?}", a.period_dates),
            format!("{:?}", b.period_dates),
        ),
        ("home_region", a.home_region.clone(), b.home_region.clone()),
        ("regions", a.regions.join(","), b.regions.join(",")),
        (
            "organization",
            first.org.organization.id.clone(),
            shard.org.organization.id.clone(),
        ),
    ];
    for (name, left, right) in fields {
        if left != right {
            return Err(differ(format!("{name} {left:?} vs {right:?}")));
        }
    }
    if !b.shards.is_empty() || !a.shards.is_empty() {
        return Err(differ(
            "a merged tree cannot be merged again; merge the original shards".into(),
        ));
    }
    let listed = |org: &Org| -> BTreeMap<String, String> {
        org.accounts
            .iter()
            .map(|acc| (acc.id.clone(), format!("{:?}", acc.status)))
            .collect()
    };
    let (left, right) = (listed(&first.org), listed(&shard.org));
    for id in left.keys().chain(right.keys()) {
        if left.get(id) != right.get(id) {
            return Err(differ(format!(
                "org.json lists account {id} as {} vs {} (the organization changed between the shards' discoveries; collect the shards again)",
                left.get(id).map_or("absent", String::as_str),
                right.get(id).map_or("absent", String::as_str),
            )));
        }
    }
    Ok(())
}

/// For each account folder to write, the shard it comes from: the one shard
/// that collected the account (`reachable` set in its `org.json`); for a folder
/// no shard collected (e.g. the management account's discovery calls when no
/// shard selected it), the first shard that has it.
fn owners(shards: &[Shard]) -> Result<BTreeMap<String, usize>, MergeError> {
    let mut owners: BTreeMap<String, usize> = BTreeMap::new();
    for (index, shard) in shards.iter().enumerate() {
        for account in shard.org.accounts.iter().filter(|a| a.reachable.is_some()) {
            if let Some(&earlier) = owners.get(&account.id) {
                return Err(MergeError::Overlap {
                    account: account.id.clone(),
                    first: shards[earlier].folder.clone(),
                    second: shard.folder.clone(),
                });
            }
            owners.insert(account.id.clone(), index);
        }
    }
    for (index, shard) in shards.iter().enumerate() {
        for dir in &shard.account_dirs {
            owners.entry(dir.clone()).or_insert(index);
        }
    }
    Ok(owners)
}

fn merged_org(shards: &[Shard], owners: &BTreeMap<String, usize>) -> Org {
    let mut org = shards[0].org.clone();
    for account in &mut org.accounts {
        account.reachable = owners.get(&account.id).and_then(|&owner| {
            shards[owner]
                .org
                .account(&account.id)
                .and_then(|a| a.reachable)
        });
    }
    org
}

/// The merged `run.json`; `covers_everything` when every active account was
/// collected by some shard (the merged tree then has no `scope`, as one run
/// of the whole organization would not).
fn merged_run(
    shards: &[Shard],
    owners: &BTreeMap<String, usize>,
    not_copied: Vec<Vec<String>>,
    covers_everything: bool,
    command_line: Vec<String>,
) -> RunInfo {
    let first = &shards[0].run;
    let callers: BTreeSet<&str> = shards.iter().map(|s| s.run.caller_arn.as_str()).collect();
    let scopes: Vec<Scope> = shards
        .iter()
        .map(|s| s.run.scope.clone().unwrap_or_default())
        .collect();
    let whole = covers_everything || scopes.iter().any(Scope::is_whole_organization);
    RunInfo {
        schema_version: SCHEMA_VERSION,
        tool: first.tool.clone(),
        period: first.period.clone(),
        period_dates: first.period_dates.clone(),
        started_at: shards
            .iter()
            .map(|s| s.run.started_at.clone())
            .min()
            .unwrap_or_default(),
        finished_at: shards
            .iter()
            .map(|s| s.run.finished_at.clone())
            .max()
            .unwrap_or_default(),
        home_region: first.home_region.clone(),
        regions: first.regions.clone(),
        command_line,
        caller_arn: callers.into_iter().collect::<Vec<_>>().join(" + "),
        scope: (!whole).then(|| Scope::union(&scopes)),
        shards: shards
            .iter()
            .zip(not_copied)
            .enumerate()
            .map(|(index, (shard, files_not_copied))| ShardRun {
                folder: shard.folder.display().to_string(),
                started_at: shard.run.started_at.clone(),
                finished_at: shard.run.finished_at.clone(),
                command_line: shard.run.command_line.clone(),
                caller_arn: shard.run.caller_arn.clone(),
                scope: shard.run.scope.clone(),
                accounts: owners
                    .iter()
                    .filter(|(_, &owner)| owner == index)
                    .map(|(account, _)| account.clone())
                    .collect(),
                files_not_copied,
            })
            .collect(),
    }
}

/// Every entry under `dir`, in name order, with walk errors naming the path.
fn walk(dir: &Path) -> impl Iterator<Item = Result<walkdir::DirEntry, MergeError>> + '_ {
    WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(move |entry| {
            entry.map_err(|e| MergeError::Copy {
                path: e.path().unwrap_or(dir).to_path_buf(),
                source: e.into(),
            })
        })
}

/// Copies every file under `from` to the same place under `to`; returns the count.
fn copy_tree(from: &Path, to: &Path) -> Result<usize, MergeError> {
    let mut files = 0;
    for entry in walk(from) {
        let entry = entry?;
        let relative = entry
            .path()
            .strip_prefix(from)
            .expect("walk stays under its root");
        let target = to.join(relative);
        let copied = if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
        } else {
            files += 1;
            std::fs::copy(entry.path(), &target).map(|_| ())
        };
        copied.map_err(|source| MergeError::Copy {
            path: entry.path().to_path_buf(),
            source,
        })?;
    }
    Ok(files)
}

/// The files under `<root>/<account>`, as `/`-separated paths relative to `root`.
fn relative_files(root: &Path, account: &str) -> Result<Vec<String>, MergeError> {
    let mut paths = Vec::new();
    for entry in walk(&root.join(account)) {
        let entry = entry?;
        if entry.file_type().is_file() {
            paths.push(relative_slash_path(root, entry.path()));
        }
    }
    Ok(paths)
}
