//! How often each control operates, what gap that allows, and how many runs
//! the auditor samples: read from `[period]` of `auditpack.toml`, with the
//! defaults below, and written into `period.json` so that re-derivation (and
//! the auditor) uses exactly what was used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evaluation::config::PeriodSettings;

/// A control's frequency: how often it operates (here: how often the gate
/// that evidences it runs). The names follow the sampling table in
/// docs/period.md.
pub const FREQUENCIES: [(&str, u32, u32); 7] = [
    // (name, longest allowed stretch without evidence in days, sample size)
    ("annual", 366, 1),
    ("quarterly", 92, 2),
    ("monthly", 31, 2),
    ("semimonthly", 16, 3),
    ("weekly", 7, 5),
    ("daily", 1, 20),
    ("recurring", 1, 25),
];

/// The frequency assumed when `[period] frequency` is not set.
pub const DEFAULT_FREQUENCY: &str = "weekly";

/// Where the default sample sizes come from (printed in the package).
pub const SAMPLE_SOURCE: &str = "AICPA Audit Guide, Government Auditing Standards and Single Audits, \
     'Audit Sampling Considerations' chapter: sample sizes for tests of controls by control frequency \
     (low end of each range); see docs/period.md";

/// One control's resolved settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRule {
    /// Its frequency.
    pub frequency: String,
    /// The longest allowed stretch without evidence, in days.
    pub max_gap_days: u32,
}

/// Everything the period verdicts and the sample depend on, as recorded in
/// `period.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Frequency of controls without their own.
    pub frequency: String,
    /// Allowed gap of controls without their own, in days.
    pub max_gap_days: u32,
    /// Sample size by frequency.
    pub sample_sizes: BTreeMap<String, u32>,
    /// Where the sample sizes come from.
    pub sample_source: String,
    /// Per-control rules that differ from the default.
    pub controls: BTreeMap<String, ControlRule>,
    /// The sampling seed, when set; otherwise derived from the bundles.
    pub seed: Option<String>,
}

impl Settings {
    /// Resolves `[period]`; an unknown frequency is an error naming it.
    pub fn from_config(period: &PeriodSettings) -> Result<Settings, String> {
        let frequency = period
            .frequency
            .clone()
            .unwrap_or_else(|| DEFAULT_FREQUENCY.into());
        let max_gap_days = match period.max_gap_days {
            Some(days) => days,
            None => {
                default_gap(&frequency).ok_or_else(|| unknown(&frequency, "period.frequency"))?
            }
        };
        let mut sample_sizes: BTreeMap<String, u32> = FREQUENCIES
            .iter()
            .map(|(name, _, size)| (name.to_string(), *size))
            .collect();
        for (name, size) in &period.sample_sizes {
            if !sample_sizes.contains_key(name) {
                return Err(unknown(name, "period.sample_sizes"));
            }
            sample_sizes.insert(name.clone(), *size);
        }
        let mut controls = BTreeMap::new();
        for (id, own) in &period.controls {
            let frequency = own.frequency.clone().unwrap_or_else(|| frequency.clone());
            let field = format!("period.controls.\"{id}\".frequency");
            let gap = match own.max_gap_days {
                Some(days) => days,
                None if own.frequency.is_some() => {
                    default_gap(&frequency).ok_or_else(|| unknown(&frequency, &field))?
                }
                None => max_gap_days,
            };
            controls.insert(
                id.clone(),
                ControlRule {
                    frequency,
                    max_gap_days: gap,
                },
            );
        }
        let custom = !period.sample_sizes.is_empty();
        Ok(Settings {
            frequency,
            max_gap_days,
            sample_sizes,
            sample_source: if custom {
                format!("{SAMPLE_SOURCE}; changed in auditpack.toml [period.sample_sizes]")
            } else {
                SAMPLE_SOURCE.into()
            },
            controls,
            seed: period.seed.clone(),
        })
    }

    /// The rule for one control.
    pub fn rule(&self, control_id: &str) -> ControlRule {
        self.controls
            .get(control_id)
            .cloned()
            .unwrap_or_else(|| ControlRule {
                frequency: self.frequency.clone(),
                max_gap_days: self.max_gap_days,
            })
    }

    /// The sample size for a frequency (0 for one the table lacks).
    pub fn sample_size(&self, frequency: &str) -> u32 {
        self.sample_sizes.get(frequency).copied().unwrap_or(0)
    }
}

/// The allowed gap of a known frequency.
fn default_gap(frequency: &str) -> Option<u32> {
    FREQUENCIES
        .iter()
        .find(|(name, _, _)| *name == frequency)
        .map(|(_, gap, _)| *gap)
}

fn unknown(frequency: &str, field: &str) -> String {
    let known: Vec<&str> = FREQUENCIES.iter().map(|(n, _, _)| *n).collect();
    format!(
        "{field}: '{frequency}' is not a frequency ({})",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_weekly_with_a_seven_day_gap_and_the_table() {
        let s = Settings::from_config(&PeriodSettings::default()).unwrap();
        assert_eq!((s.frequency.as_str(), s.max_gap_days), ("weekly", 7));
        assert_eq!(s.sample_size("daily"), 20);
        assert_eq!(s.rule("any").max_gap_days, 7);
    }

    #[test]
    fn a_control_frequency_sets_its_gap_and_unknown_names_are_refused() {
        let mut p = PeriodSettings {
            frequency: Some("daily".into()),
            ..PeriodSettings::default()
        };
        p.controls.insert(
            "iam.password-policy".into(),
            crate::evaluation::config::PeriodControlSettings {
                frequency: Some("monthly".into()),
                max_gap_days: None,
            },
        );
        let s = Settings::from_config(&p).unwrap();
        assert_eq!(s.rule("iam.password-policy").max_gap_days, 31);
        assert_eq!(s.rule("other").max_gap_days, 1);
        p.frequency = Some("hourly".into());
        let err = Settings::from_config(&p).unwrap_err();
        assert!(err.contains("'hourly' is not a frequency"), "{err}");
        p.frequency = None;
        p.sample_sizes.insert("fortnightly".into(), 4);
        assert!(Settings::from_config(&p)
            .unwrap_err()
            .contains("period.sample_sizes"));
    }
}
