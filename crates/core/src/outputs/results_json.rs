//! `results.json`: the machine-readable verdicts (schema in `docs/results-format.md`).

use serde::de::Error as _;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use crate::evaluation::{
    CollectionWindow, CriterionCoverage, Results, ResultsSource, Summary, WaiverRecord,
    RESULTS_SCHEMA_VERSION,
};
use crate::evidence::attachments::Attachment;
use crate::evidence::period::PeriodDates;
use crate::evidence::ToolInfo;

/// The versions this auditpack reads: version 1 files load (every field added
/// since is optional) and mean what they meant; anything newer is refused,
/// never read as if it were a version this tool knows.
const READABLE_VERSIONS: std::ops::RangeInclusive<u32> = 1..=RESULTS_SCHEMA_VERSION;

/// Serialises results as pretty JSON with a trailing newline. Field order is
/// fixed by the types and maps are sorted, so the same results give the same bytes.
#[cfg(test)]
pub(crate) fn render_results(results: &Results) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_results(results, &mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// [`render_results`] written to `out` as it is serialised: at 10,000
/// accounts the file is most of a gigabyte, and `report` never holds it.
pub(crate) fn write_results(
    results: &impl ResultsSource,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, &Streamed::of(results))?;
    out.write_all(b"\n")
}

/// [`Results`] as it serialises, field for field (a test compares the
/// bytes), with the controls read one at a time from `source`: the file is
/// written without the whole results in memory.
#[derive(Serialize)]
#[serde(bound = "")]
struct Streamed<'a, S: ResultsSource> {
    schema_version: u32,
    tool: &'a ToolInfo,
    organization_id: &'a str,
    management_account_id: &'a str,
    period: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_dates: Option<&'a PeriodDates>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    period_to_date: bool,
    generated_at: &'a str,
    collection_window: &'a CollectionWindow,
    home_region: &'a str,
    regions: &'a [String],
    summary: &'a Summary,
    controls: Controls<'a, S>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    waivers: &'a [WaiverRecord],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    attachments: &'a [Attachment],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    criteria: &'a [CriterionCoverage],
}

impl<'a, S: ResultsSource> Streamed<'a, S> {
    fn of(source: &'a S) -> Streamed<'a, S> {
        // Destructured, so a field added to `Results` fails to compile here.
        let Results {
            schema_version,
            tool,
            organization_id,
            management_account_id,
            period,
            period_dates,
            period_to_date,
            generated_at,
            collection_window,
            home_region,
            regions,
            summary,
            controls: _,
            waivers,
            attachments,
            criteria,
        } = source.head();
        Streamed {
            schema_version: *schema_version,
            tool,
            organization_id,
            management_account_id,
            period,
            period_dates: period_dates.as_ref(),
            period_to_date: *period_to_date,
            generated_at,
            collection_window,
            home_region,
            regions,
            summary,
            controls: Controls(source),
            waivers,
            attachments,
            criteria,
        }
    }
}

/// The controls of a [`ResultsSource`], serialised one at a time.
struct Controls<'a, S>(&'a S);

impl<S: ResultsSource> Serialize for Controls<'_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let controls = &self.0.head().controls;
        let mut seq = serializer.serialize_seq(Some(controls.len()))?;
        for n in 0..controls.len() {
            seq.serialize_element(&Control(self.0, n))?;
        }
        seq.end()
    }
}

/// Control `n` of a [`ResultsSource`], its members as [`ControlResult`]
/// writes them, its items a piece at a time: `report` writes results.json
/// beside the IPE sheets, and holds a piece of a control's items for it,
/// not the control's 40,000 at 10,000 accounts × 4 regions.
struct Control<'a, S>(&'a S, usize);

impl<S: ResultsSource> Serialize for Control<'_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let Control(source, n) = *self;
        // The members in order (`preserve_order`), as a struct writes them.
        let serde_json::Value::Object(members) =
            serde_json::to_value(&source.head().controls[n]).map_err(serde::ser::Error::custom)?
        else {
            return Err(serde::ser::Error::custom(
                "a control serialises as an object",
            ));
        };
        let mut map = serializer.serialize_map(Some(members.len()))?;
        for (key, value) in &members {
            match key.as_str() {
                "results" => map.serialize_entry(key, &Items(source, n))?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// Control `n`'s items, read a piece at a time.
struct Items<'a, S>(&'a S, usize);

impl<S: ResultsSource> Serialize for Items<'_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for piece in self.0.item_pieces_of(self.1) {
            for item in piece.iter() {
                seq.serialize_element(item)?;
            }
        }
        seq.end()
    }
}

/// Reads `results.json` back (used by gate, verify and diff); a schema
/// version this auditpack does not know is an error.
pub(crate) fn parse_results(bytes: &[u8]) -> Result<Results, serde_json::Error> {
    let results: Results = serde_json::from_slice(bytes)?;
    if !READABLE_VERSIONS.contains(&results.schema_version) {
        return Err(serde_json::Error::custom(format!(
            "schema_version {}; this auditpack reads results.json versions {} to {}",
            results.schema_version,
            READABLE_VERSIONS.start(),
            READABLE_VERSIONS.end()
        )));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{StoredResults, Verdict};

    /// A version-1 file as an earlier auditpack wrote it (no period fields).
    fn with_version(version: u32) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schema_version": version,
            "tool": {"name": "auditpack", "version": "0.1.0"},
            "organization_id": "o-a1b2c3d4e5", "management_account_id": "111111111111",
            "period": "2026-Q4", "generated_at": "2026-11-20T09:16:41Z",
            "collection_window": {"start": "2026-11-20T09:12:00Z", "end": "2026-11-20T09:16:41Z"},
            "home_region": "us-east-1", "regions": ["us-east-1"],
            "summary": {"controls": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0},
                        "items": {"pass": 0, "fail": 0, "not_assessed": 0, "disabled": 0}},
            "controls": []
        }))
        .unwrap()
    }

    #[test]
    fn versions_one_and_two_are_read_and_later_ones_refused() {
        assert_eq!(parse_results(&with_version(1)).unwrap().schema_version, 1);
        assert_eq!(parse_results(&with_version(2)).unwrap().schema_version, 2);
        for unknown in [0, 3, 99] {
            let e = parse_results(&with_version(unknown)).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("schema_version {unknown};")),
                "{e}"
            );
        }
    }

    /// The samples evaluated with their items on disk, as `report` does.
    fn stored_samples() -> (crate::outputs::test_samples::Evaluated, StoredResults) {
        use crate::outputs::test_samples::{repo, samples};
        let e = samples();
        let folder = repo().join("evidence-samples");
        let store = crate::evidence::EvidenceStore::open(&folder).unwrap();
        let controls = crate::evaluation::load_control_set(&crate::evaluation::ControlSet::only(
            &repo().join("controls"),
        ))
        .unwrap();
        let config = crate::evaluation::config::Config::default();
        let stored =
            crate::evaluation::evaluate_stored(&controls, &config, &store, &e.org, &e.run).unwrap();
        (e, stored)
    }

    fn written(results: &impl ResultsSource) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_results(results, &mut bytes).unwrap();
        bytes
    }

    /// Written a control and a piece of its items at a time, from memory or
    /// from the items' files, the file is `Results` serialised whole (its
    /// derived `Serialize`, pretty, a newline after).
    #[test]
    fn the_file_written_in_pieces_is_the_results_serialised_whole() {
        let mut results = crate::outputs::test_samples::samples().results;
        results.controls[0].results.clear();
        assert!(results.controls.iter().any(|c| c.results.len() > 10));
        let stored = StoredResults::of_results(results.clone()).unwrap();
        let mut whole = serde_json::to_vec_pretty(&results).unwrap();
        whole.push(b'\n');
        assert!(written(&results) == whole, "from memory");
        assert!(written(&stored) == whole, "from the items' files");
    }

    /// Evaluated with the items on disk, a pass at a time, the samples give
    /// results.json byte for byte as evaluated in memory: every control, its
    /// items in order, the counts; and with a register of waivers (active on
    /// a failing item, on a whole control, expired, stale) applied a control
    /// at a time, the same waived results as the register applied at once.
    #[test]
    fn results_with_items_on_disk_are_the_results_in_memory_byte_for_byte() {
        let (e, mut stored) = stored_samples();
        assert_eq!(written(&stored), render_results(&e.results));
        assert_eq!(written(&e.results), render_results(&e.results));
        for (n, c) in e.results.controls.iter().enumerate() {
            assert_eq!(&*stored.control(n), c);
            assert_eq!(stored.item_count(n), c.results.len());
        }
        let failing = (e.results.controls.iter())
            .find_map(|c| {
                let item = c.results.iter().find(|i| i.status == Verdict::Fail)?;
                Some((c.id.clone(), item.account_id.clone()))
            })
            .expect("the samples fail somewhere");
        let not_assessed = (e.results.controls.iter())
            .find(|c| c.status == Verdict::NotAssessed && c.id != failing.0)
            .map(|c| c.id.clone())
            .expect("the samples have a gap");
        let passing = (e.results.controls.iter())
            .find(|c| c.status == Verdict::Pass)
            .map(|c| c.id.clone())
            .expect("the samples pass somewhere");
        let waiver = |control: &str, account: Option<&str>, expires: &str| {
            let account = account
                .map(|a| format!("account = \"{a}\"\n"))
                .unwrap_or_default();
            format!("[[waiver]]\ncontrol = \"{control}\"\n{account}reason = \"r\"\napprover = \"a\"\nticket = \"T-1\"\nexpires = {expires}\n")
        };
        let register = [
            waiver(&failing.0, Some(&failing.1), "2099-01-01"),
            waiver(&not_assessed, None, "2099-01-01"),
            waiver(&failing.0, None, "2001-01-01"),
            waiver(&passing, None, "2099-01-01"),
        ]
        .concat();
        let waivers =
            crate::evaluation::Waivers::parse(std::path::Path::new("waivers.toml"), &register)
                .unwrap();
        let mut in_memory = e.results.clone();
        crate::evaluation::apply_waivers(&mut in_memory, &waivers);
        stored.apply_waivers(&waivers).unwrap();
        assert!(
            in_memory.summary.items.waived > 0,
            "{:?}",
            in_memory.summary
        );
        let states: Vec<_> = in_memory.waivers.iter().map(|w| w.state).collect();
        assert_eq!(states.len(), 4);
        assert_eq!(written(&stored), render_results(&in_memory));
        stored.check().unwrap();
    }

    /// A results file that can no longer be read is an error `check`
    /// returns, never a control that quietly has no items.
    #[test]
    fn a_failed_read_back_of_the_items_is_reported() {
        let (e, stored) = stored_samples();
        let n = (e.results.controls.iter())
            .position(|c| !c.results.is_empty())
            .unwrap();
        stored.check().unwrap();
        stored.corrupt_for_test(n);
        assert!(stored.control(n).results.is_empty());
        let error = stored.check().unwrap_err();
        assert!(
            error.to_string().contains("reading the results back"),
            "{error}"
        );
    }
}
