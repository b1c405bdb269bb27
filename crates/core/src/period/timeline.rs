//! The period's timelines: every run's verdicts folded in one run at a time,
//! then turned into period verdicts, failure intervals, gaps and samples.
//!
//! Memory: a run adds one verdict per control × account × region (a few
//! bytes) and nothing else; its `results.json` is dropped before the next run
//! is read. Runs may arrive in any order; time order is decided at the end.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::model::*;
use super::settings::Settings;
use crate::evaluation::{ChangeRecord, CollectionWindow, Verdict};

/// The parts of a run's `results.json` the period needs (serde skips the rest
/// without keeping it).
#[derive(Debug, Deserialize)]
pub struct RunResults {
    /// Format version (1 or 2).
    pub schema_version: u32,
    /// The organization.
    pub organization_id: String,
    /// When the run collected.
    pub collection_window: CollectionWindow,
    /// Every control.
    pub controls: Vec<RunControl>,
}

/// One control of a run.
#[derive(Debug, Deserialize)]
pub struct RunControl {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Verdict.
    pub status: Verdict,
    /// Items.
    #[serde(default)]
    pub results: Vec<RunItem>,
}

/// One item of a run's control.
#[derive(Debug, Deserialize)]
pub struct RunItem {
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: Option<String>,
    /// Verdict.
    pub status: Verdict,
    /// The waiver applied, if any.
    #[serde(default)]
    pub waiver: Option<RunWaiver>,
    /// Changes of the period.
    #[serde(default)]
    pub period: Option<RunItemPeriod>,
}

/// A waiver as applied in a run.
#[derive(Debug, Deserialize)]
pub struct RunWaiver {
    /// Ticket.
    pub ticket: String,
    /// Expiry.
    pub expires: String,
}

/// The change section of an item.
#[derive(Debug, Deserialize)]
pub struct RunItemPeriod {
    /// Changes that were exceptions.
    #[serde(default)]
    pub exceptions: Vec<ChangeRecord>,
}

/// The parts of a run's `org.json` the period needs.
#[derive(Debug, Deserialize)]
pub struct RunOrg {
    /// Every account.
    pub accounts: Vec<RunAccount>,
}

/// One account of a run's organization.
#[derive(Debug, Deserialize)]
pub struct RunAccount {
    /// Id.
    pub id: String,
    /// `ACTIVE`, `SUSPENDED`, …
    pub status: String,
    /// When it joined.
    #[serde(default)]
    pub joined_at: String,
}

type KeyId = (u32, u16);

/// Every run's view of one exception: (run, the ticket that accepted it).
type ExceptionSightings = Vec<(u16, Option<String>)>;

#[derive(Default)]
struct KeyTrack {
    runs: Vec<(u16, Verdict)>,
    /// Exception key → every (run, accepted-by ticket) observation.
    exceptions: BTreeMap<String, (PeriodException, ExceptionSightings)>,
    /// (ticket, expires) → runs it waived.
    waivers: BTreeMap<(String, String), Vec<u16>>,
}

#[derive(Default)]
struct ControlTrack {
    title: Vec<(u16, String)>,
    runs: Vec<(u16, Verdict)>,
    keys: HashMap<KeyId, KeyTrack>,
}

/// Every run folded in so far.
#[derive(Default)]
pub struct Accumulator {
    runs: Vec<RunEntry>,
    accounts: Vec<String>,
    account_index: HashMap<String, u32>,
    /// Per account: (run, active) and the latest joined date seen.
    account_runs: Vec<(Vec<(u16, bool)>, String)>,
    regions: Vec<Option<String>>,
    region_index: HashMap<Option<String>, u16>,
    controls: BTreeMap<String, ControlTrack>,
}

/// More runs than a timeline can index.
pub const MAX_RUNS: usize = u16::MAX as usize;

impl Accumulator {
    /// Runs folded in.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True before the first run.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Folds one run in; `entry.controls` is filled here.
    pub fn add(&mut self, mut entry: RunEntry, results: RunResults, org: &RunOrg) {
        let run = u16::try_from(self.runs.len()).expect("caller caps the runs at MAX_RUNS");
        for account in &org.accounts {
            let a = self.account(&account.id);
            let (runs, joined) = &mut self.account_runs[a as usize];
            runs.push((run, account.status == "ACTIVE"));
            if account.joined_at > *joined {
                joined.clone_from(&account.joined_at);
            }
        }
        let mut counts = [0usize; 5];
        for control in results.controls {
            counts[verdict_slot(control.status)] += 1;
            let mut keys: HashMap<KeyId, (Verdict, RunItem)> = HashMap::new();
            for item in control.results {
                let key = (self.account(&item.account_id), self.region(&item.region));
                match keys.get_mut(&key) {
                    Some((worst, _)) => *worst = worse(*worst, item.status),
                    None => {
                        keys.insert(key, (item.status, item));
                    }
                }
            }
            let track = self.controls.entry(control.id).or_default();
            track.title.push((run, control.title));
            track.runs.push((run, control.status));
            for (key, (status, item)) in keys {
                let k = track.keys.entry(key).or_default();
                k.runs.push((run, status));
                if let Some(w) = item.waiver {
                    k.waivers
                        .entry((w.ticket, w.expires))
                        .or_default()
                        .push(run);
                }
                for change in item.period.map(|p| p.exceptions).unwrap_or_default() {
                    let id = change
                        .event_id
                        .clone()
                        .unwrap_or_else(|| format!("{}|{}", change.time, change.event));
                    let ticket = change.waiver.as_ref().map(|w| w.ticket.clone());
                    k.exceptions
                        .entry(id)
                        .or_insert_with(|| {
                            (
                                PeriodException {
                                    time: change.time.clone(),
                                    event: change.event.clone(),
                                    event_id: change.event_id.clone(),
                                    principal: change.principal.clone(),
                                    waiver_ticket: None,
                                },
                                Vec::new(),
                            )
                        })
                        .1
                        .push((run, ticket));
                }
            }
        }
        entry.controls = counts;
        self.runs.push(entry);
    }

    fn account(&mut self, id: &str) -> u32 {
        if let Some(i) = self.account_index.get(id) {
            return *i;
        }
        let i = self.accounts.len() as u32;
        self.accounts.push(id.to_string());
        self.account_runs.push((Vec::new(), String::new()));
        self.account_index.insert(id.to_string(), i);
        i
    }

    fn region(&mut self, region: &Option<String>) -> u16 {
        if let Some(i) = self.region_index.get(region) {
            return *i;
        }
        let i = self.regions.len() as u16;
        self.regions.push(region.clone());
        self.region_index.insert(region.clone(), i);
        i
    }

    /// The period's findings. `seed` overrides the settings' and the derived seed.
    pub fn derive(
        self,
        settings: &Settings,
        period: &PeriodSpan,
        organization_id: &str,
    ) -> PeriodDoc {
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by(|a, b| {
            let (ra, rb) = (&self.runs[*a], &self.runs[*b]);
            (&ra.started_at, &ra.sha256).cmp(&(&rb.started_at, &rb.sha256))
        });
        let mut position = vec![0usize; self.runs.len()];
        for (p, r) in order.iter().enumerate() {
            position[*r] = p;
        }
        let runs: Vec<RunEntry> = order.iter().map(|r| self.runs[*r].clone()).collect();
        let seed = settings.seed.clone().unwrap_or_else(|| derived_seed(&runs));
        let days = Calendar::new(period, &runs);
        let windows: Vec<(NaiveDate, NaiveDate)> = self
            .account_runs
            .iter()
            .map(|(seen, joined)| days.account_window(seen, joined, &position))
            .collect();
        let mut controls = Vec::new();
        for (id, track) in self.controls {
            let rule = settings.rule(&id);
            let timeline = letters(&track.runs, &position, runs.len());
            let mut items: Vec<ItemPeriodFinding> = track
                .keys
                .into_iter()
                .map(|((account, region), k)| {
                    let window = windows[account as usize];
                    item_finding(
                        &self.accounts[account as usize],
                        &self.regions[region as usize],
                        k,
                        &position,
                        &runs,
                        &days,
                        window,
                        rule.max_gap_days,
                    )
                })
                .collect();
            items.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
            let title = track
                .title
                .into_iter()
                .max_by_key(|(run, _)| position[*run as usize])
                .map(|(_, t)| t)
                .unwrap_or_default();
            let failure_intervals = failure_intervals(&timeline, &runs);
            let (status, message) = control_verdict(&timeline, &items, rule.max_gap_days);
            let sample = draw_sample(
                &seed,
                &id,
                &timeline,
                &runs,
                settings.sample_size(&rule.frequency),
            );
            controls.push(ControlPeriod {
                id,
                title,
                frequency: rule.frequency,
                max_gap_days: rule.max_gap_days,
                status,
                message,
                timeline,
                failure_intervals,
                sample,
                items,
            });
        }
        let mut summary = PeriodSummary {
            runs: runs.len(),
            ..PeriodSummary::default()
        };
        for c in &controls {
            match c.status {
                Verdict::Pass => summary.pass += 1,
                Verdict::Fail => summary.fail += 1,
                Verdict::NotAssessed => summary.not_assessed += 1,
                Verdict::Waived => summary.waived += 1,
                Verdict::Disabled => summary.disabled += 1,
            }
        }
        PeriodDoc {
            schema_version: PERIOD_SCHEMA_VERSION,
            tool: crate::evidence::ToolInfo {
                name: crate::TOOL_NAME.into(),
                version: crate::TOOL_VERSION.into(),
            },
            organization_id: organization_id.to_string(),
            period: period.clone(),
            signatures: String::new(),
            settings: settings.clone(),
            seed,
            summary,
            runs,
            excluded: Vec::new(),
            controls,
        }
    }
}

/// The slot of a verdict in [`RunEntry::controls`].
fn verdict_slot(v: Verdict) -> usize {
    match v {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::NotAssessed => 2,
        Verdict::Waived => 3,
        Verdict::Disabled => 4,
    }
}

/// The worse of two verdicts of one account × region in one run.
fn worse(a: Verdict, b: Verdict) -> Verdict {
    let rank = |v| match v {
        Verdict::Fail => 4,
        Verdict::NotAssessed => 3,
        Verdict::Waived => 2,
        Verdict::Pass => 1,
        Verdict::Disabled => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// One letter per run in time order.
fn letters(observed: &[(u16, Verdict)], position: &[usize], runs: usize) -> String {
    let mut line = vec!['-'; runs];
    for (run, v) in observed {
        line[position[*run as usize]] = verdict_letter(*v);
    }
    line.into_iter().collect()
}

/// Dates of the period and of the runs.
struct Calendar {
    start: NaiveDate,
    end: NaiveDate,
    run_days: Vec<NaiveDate>,
}

impl Calendar {
    fn new(period: &PeriodSpan, runs: &[RunEntry]) -> Calendar {
        Calendar {
            start: day_of(&period.start).unwrap_or(NaiveDate::MIN),
            end: day_of(&period.end).unwrap_or(NaiveDate::MAX),
            run_days: runs
                .iter()
                .map(|r| day_of(&r.started_at).unwrap_or(NaiveDate::MIN))
                .collect(),
        }
    }

    /// The days an account was in the organization during the period: from
    /// the later of the period's start and the day it joined (or first
    /// appeared in a run, if earlier), to the day of
    /// the first run after its last active one (it was then suspended or
    /// gone), else the period's end.
    fn account_window(
        &self,
        seen: &[(u16, bool)],
        joined: &str,
        position: &[usize],
    ) -> (NaiveDate, NaiveDate) {
        // A joined date after the account's first run (a clock or record
        // error) must not excuse those runs: the first run bounds it.
        let first_seen = seen
            .iter()
            .map(|(run, _)| self.run_days[position[*run as usize]])
            .min();
        let joined = match (day_of(joined), first_seen) {
            (Some(j), Some(f)) => Some(j.min(f)),
            (j, f) => j.or(f),
        };
        let start = joined.map_or(self.start, |j| j.max(self.start));
        let last_active = seen
            .iter()
            .filter(|(_, active)| *active)
            .map(|(run, _)| position[*run as usize])
            .max();
        let end = match last_active {
            Some(p) if p + 1 < self.run_days.len() => self.run_days[p + 1].min(self.end),
            _ => self.end,
        };
        (start, end)
    }
}

/// The `YYYY-MM-DD` of an RFC 3339 time.
pub(super) fn day_of(time: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(time.get(..10)?, "%Y-%m-%d").ok()
}

fn days(from: NaiveDate, to: NaiveDate) -> Days {
    Days {
        from: from.to_string(),
        to: to.to_string(),
        days: (to - from).num_days() + 1,
    }
}

/// Stretches without evidence inside `window`: between consecutive days with
/// evidence (and the window's edges), as (gap between evidence days, the
/// stretch of days without). A run every 7 days has gaps of 7 (6 days
/// without); the window's edges count as evidence the day before and after,
/// so a first run on the 8th day of the period is a gap of 8.
fn gaps(evidence: &[NaiveDate], window: (NaiveDate, NaiveDate)) -> Vec<(i64, Days)> {
    let (start, end) = window;
    if start > end {
        return Vec::new();
    }
    let mut points: Vec<NaiveDate> = evidence
        .iter()
        .copied()
        .filter(|d| *d >= start && *d <= end)
        .collect();
    points.dedup();
    let mut out = Vec::new();
    let mut previous = start.pred_opt().unwrap_or(start);
    for day in points.into_iter().chain(end.succ_opt()) {
        let gap = (day - previous).num_days();
        if gap > 1 {
            let from = previous.succ_opt().unwrap_or(previous);
            let to = day.pred_opt().unwrap_or(day);
            out.push((gap, days(from, to)));
        }
        previous = day;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn item_finding(
    account: &str,
    region: &Option<String>,
    k: KeyTrack,
    position: &[usize],
    runs: &[RunEntry],
    calendar: &Calendar,
    window: (NaiveDate, NaiveDate),
    max_gap: u32,
) -> ItemPeriodFinding {
    let timeline = letters(&k.runs, position, runs.len());
    let evidence: Vec<NaiveDate> = timeline
        .chars()
        .enumerate()
        .filter(|(_, c)| matches!(c, 'P' | 'F' | 'W'))
        .map(|(p, _)| calendar.run_days[p])
        .collect();
    let stretches = gaps(&evidence, window);
    let longest_gap = stretches
        .iter()
        .max_by_key(|(gap, d)| (*gap, std::cmp::Reverse(d.from.clone())))
        .map(|(_, d)| d.clone());
    let uncovered: Vec<Days> = stretches
        .into_iter()
        .filter(|(gap, _)| *gap > i64::from(max_gap))
        .map(|(_, d)| d)
        .collect();
    let not_assessed_runs = timeline
        .chars()
        .enumerate()
        .filter(|(_, c)| *c == 'N')
        .map(|(p, _)| runs[p].started_at.clone())
        .collect();
    let mut exceptions: Vec<PeriodException> = k
        .exceptions
        .into_values()
        .map(|(mut e, seen)| {
            e.waiver_ticket = seen
                .into_iter()
                .max_by_key(|(run, _)| position[*run as usize])
                .and_then(|(_, t)| t);
            e
        })
        .collect();
    exceptions.sort_by(|a, b| (&a.time, &a.event_id).cmp(&(&b.time, &b.event_id)));
    let waivers = k
        .waivers
        .into_iter()
        .map(|((ticket, expires), seen)| {
            let first = seen
                .iter()
                .map(|r| position[*r as usize])
                .min()
                .unwrap_or(0);
            let last = seen
                .iter()
                .map(|r| position[*r as usize])
                .max()
                .unwrap_or(0);
            WaiverSeen {
                ticket,
                expires,
                first_run: runs[first].started_at.clone(),
                last_run: runs[last].started_at.clone(),
            }
        })
        .collect();
    let failure_intervals = failure_intervals(&timeline, runs);
    let status = item_verdict(&timeline, &uncovered, &exceptions);
    ItemPeriodFinding {
        account_id: account.to_string(),
        region: region.clone(),
        status,
        timeline,
        failure_intervals,
        longest_gap,
        uncovered,
        not_assessed_runs,
        exceptions,
        waivers,
    }
}

/// PASS only when every run passed, no stretch without evidence is longer
/// than allowed and no exception stands; FAIL when a run failed or an
/// exception stands; NOT ASSESSED when evidence is missing; WAIVED when only
/// waived failures stand in the way of a PASS.
fn item_verdict(timeline: &str, uncovered: &[Days], exceptions: &[PeriodException]) -> Verdict {
    let standing = exceptions.iter().any(|e| e.waiver_ticket.is_none());
    if timeline.contains('F') || standing {
        Verdict::Fail
    } else if timeline.contains('N') || !uncovered.is_empty() {
        Verdict::NotAssessed
    } else if timeline.contains('W') || !exceptions.is_empty() {
        Verdict::Waived
    } else if timeline.contains('P') {
        Verdict::Pass
    } else {
        Verdict::Disabled
    }
}

/// From each first failing (or waived) run to the first passing run after it.
fn failure_intervals(timeline: &str, runs: &[RunEntry]) -> Vec<FailureInterval> {
    let mut out = Vec::new();
    let mut open: Option<FailureInterval> = None;
    for (p, c) in timeline.chars().enumerate() {
        match c {
            'F' | 'W' => {
                let interval = open.get_or_insert_with(|| FailureInterval {
                    from: runs[p].started_at.clone(),
                    to: None,
                    failing_runs: 0,
                    waived: true,
                });
                interval.failing_runs += 1;
                interval.waived &= c == 'W';
            }
            'P' => {
                if let Some(mut interval) = open.take() {
                    interval.to = Some(runs[p].started_at.clone());
                    out.push(interval);
                }
            }
            _ => {}
        }
    }
    out.extend(open);
    out
}

/// The control's period verdict from its items, with one line saying why.
fn control_verdict(timeline: &str, items: &[ItemPeriodFinding], max_gap: u32) -> (Verdict, String) {
    let assessed = timeline.chars().filter(|c| *c != '-' && *c != 'D').count();
    if assessed == 0 {
        return (
            Verdict::Disabled,
            "disabled in every run of the period".into(),
        );
    }
    let count = |v: Verdict| items.iter().filter(|i| i.status == v).count();
    let total = items.len();
    if items.is_empty() {
        return (
            Verdict::NotAssessed,
            "no account or region was evaluated in any run".into(),
        );
    }
    let failed = count(Verdict::Fail);
    if failed > 0 {
        let first = items
            .iter()
            .flat_map(|i| i.failure_intervals.first().map(|f| f.from.clone()))
            .min()
            .unwrap_or_default();
        let standing = items
            .iter()
            .filter(|i| i.exceptions.iter().any(|e| e.waiver_ticket.is_none()))
            .count();
        let mut message =
            format!("{failed} of {total} account × region items failed during the period");
        if !first.is_empty() {
            message.push_str(&format!(" (first failing run {first})"));
        }
        if standing > 0 {
            message.push_str(&format!("; {standing} with change exceptions not accepted"));
        }
        return (Verdict::Fail, message);
    }
    let unassessed = count(Verdict::NotAssessed);
    if unassessed > 0 {
        let example = items
            .iter()
            .find_map(|i| i.uncovered.first())
            .map(|d| {
                format!(
                    " (e.g. {} to {}, {} days without a run)",
                    d.from, d.to, d.days
                )
            })
            .unwrap_or_default();
        return (
            Verdict::NotAssessed,
            format!(
                "{unassessed} of {total} items lack evidence for part of the period: a run not assessed, or more than {max_gap} days between runs{example}"
            ),
        );
    }
    if count(Verdict::Waived) > 0 {
        return (
            Verdict::Waived,
            format!(
                "every run passed or was waived; {} of {total} items rest on a waiver",
                count(Verdict::Waived)
            ),
        );
    }
    (
        Verdict::Pass,
        format!(
            "every one of {assessed} runs passed for all {total} items, never more than {max_gap} days apart"
        ),
    )
}

/// The default seed: from the hashes of the runs used, so the same bundles
/// draw the same sample.
fn derived_seed(runs: &[RunEntry]) -> String {
    let mut hasher = Sha256::new();
    for r in runs {
        hasher.update(r.sha256.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())[..16].to_string()
}

/// Draws `size` runs among those that evaluated the control: each run ranked
/// by SHA-256 of `<seed>:<control id>:<bundle sha256>`, lowest first, so an
/// auditor can redraw the sample with `sha256sum` alone (docs/period.md).
fn draw_sample(seed: &str, control: &str, timeline: &str, runs: &[RunEntry], size: u32) -> Sample {
    let population: Vec<usize> = timeline
        .chars()
        .enumerate()
        .filter(|(_, c)| *c != '-' && *c != 'D')
        .map(|(p, _)| p)
        .collect();
    let size = (size as usize).min(population.len());
    let mut ranked: Vec<(String, usize)> = population
        .iter()
        .map(|p| {
            let rank = hex::encode(Sha256::digest(
                format!("{seed}:{control}:{}", runs[*p].sha256).as_bytes(),
            ));
            (rank, *p)
        })
        .collect();
    ranked.sort();
    let mut drawn: Vec<usize> = ranked.into_iter().take(size).map(|(_, p)| p).collect();
    drawn.sort_unstable();
    Sample {
        population: population.len(),
        size,
        bundles: drawn.into_iter().map(|p| runs[p].sha256.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekly_runs_leave_gaps_of_seven_and_a_ten_day_stretch_is_named() {
        let window = (d("2026-10-01"), d("2026-10-31"));
        let weekly = [
            d("2026-10-01"),
            d("2026-10-08"),
            d("2026-10-15"),
            d("2026-10-22"),
            d("2026-10-29"),
        ];
        let g = gaps(&weekly, window);
        assert!(g.iter().all(|(gap, _)| *gap <= 7), "{g:?}");
        let stretch = [
            d("2026-10-01"),
            d("2026-10-12"),
            d("2026-10-19"),
            d("2026-10-26"),
            d("2026-10-31"),
        ];
        let g = gaps(&stretch, window);
        let (gap, days) = g.iter().max_by_key(|(gap, _)| *gap).unwrap();
        assert_eq!(
            (*gap, days.from.as_str(), days.to.as_str(), days.days),
            (11, "2026-10-02", "2026-10-11", 10)
        );
        // A first run on the 8th day leaves 7 days without evidence: a gap of 8.
        let late = gaps(
            &[
                d("2026-10-08"),
                d("2026-10-15"),
                d("2026-10-22"),
                d("2026-10-29"),
            ],
            window,
        );
        assert_eq!(late[0].0, 8);
        // No evidence at all: the whole window.
        assert_eq!(gaps(&[], window)[0].1.days, 31);
    }

    fn run(day: &str) -> RunEntry {
        RunEntry {
            bundle: day.into(),
            sha256: format!("{day}-sha"),
            locker_key: None,
            started_at: format!("{day}T02:00:00Z"),
            finished_at: format!("{day}T02:10:00Z"),
            signers: vec![],
            controls: [0; 5],
        }
    }

    #[test]
    fn an_interval_runs_from_the_first_failure_to_the_next_pass_and_stays_open_at_the_end() {
        let runs: Vec<RunEntry> = [
            "2026-10-01",
            "2026-10-02",
            "2026-10-03",
            "2026-10-04",
            "2026-10-05",
            "2026-10-06",
        ]
        .iter()
        .map(|d| run(d))
        .collect();
        let i = failure_intervals("PFNFPF", &runs);
        assert_eq!(i.len(), 2);
        assert_eq!(
            (i[0].from.as_str(), i[0].to.as_deref(), i[0].failing_runs),
            ("2026-10-02T02:00:00Z", Some("2026-10-05T02:00:00Z"), 2)
        );
        assert_eq!((i[1].to.clone(), i[1].waived), (None, false));
        assert!(failure_intervals("PWP", &runs)[0].waived);
    }

    #[test]
    fn every_run_must_pass_for_a_period_pass() {
        let none: Vec<PeriodException> = vec![];
        assert_eq!(item_verdict("PPPP", &[], &none), Verdict::Pass);
        assert_eq!(item_verdict("PPFP", &[], &none), Verdict::Fail);
        assert_eq!(item_verdict("PPNP", &[], &none), Verdict::NotAssessed);
        assert_eq!(item_verdict("PPWP", &[], &none), Verdict::Waived);
        let gap = vec![days(d("2026-10-02"), d("2026-10-11"))];
        assert_eq!(item_verdict("PPPP", &gap, &none), Verdict::NotAssessed);
        let standing = vec![PeriodException {
            time: "t".into(),
            event: "StopLogging".into(),
            event_id: Some("e".into()),
            principal: None,
            waiver_ticket: None,
        }];
        assert_eq!(item_verdict("PPPP", &[], &standing), Verdict::Fail);
        let accepted = vec![PeriodException {
            waiver_ticket: Some("CHG-1".into()),
            ..standing[0].clone()
        }];
        assert_eq!(item_verdict("PPPP", &[], &accepted), Verdict::Waived);
    }

    #[test]
    fn the_sample_is_reproducible_from_the_seed_and_capped_at_the_population() {
        let runs: Vec<RunEntry> = (1..=9).map(|i| run(&format!("2026-10-0{i}"))).collect();
        let a = draw_sample("seed", "c", "PPPPPPPPP", &runs, 5);
        assert_eq!(a, draw_sample("seed", "c", "PPPPPPPPP", &runs, 5));
        assert_eq!((a.population, a.size, a.bundles.len()), (9, 5, 5));
        assert_ne!(
            a.bundles,
            draw_sample("other", "c", "PPPPPPPPP", &runs, 5).bundles
        );
        let few = draw_sample("seed", "c", "P-D-P----", &runs, 5);
        assert_eq!((few.population, few.size), (2, 2));
        // The rank is the documented one: sha256("seed:c:<bundle sha>").
        let best = (0..9)
            .min_by_key(|p| hex::encode(Sha256::digest(format!("seed:c:{}", runs[*p].sha256))))
            .unwrap();
        assert!(a.bundles.contains(&runs[best].sha256));
    }
}
