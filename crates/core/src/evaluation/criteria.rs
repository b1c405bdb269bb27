//! The 2017 Trust Services Criteria (revised points of focus, 2022) that a control
//! may cite. A fixed list, so a typo such as `CC7.9` is a lint error.

/// Highest criterion number in each series, e.g. `("CC6", 8)` means CC6.1–CC6.8.
const SERIES: &[(&str, u32)] = &[
    ("CC1", 5),
    ("CC2", 3),
    ("CC3", 4),
    ("CC4", 2),
    ("CC5", 3),
    ("CC6", 8),
    ("CC7", 5),
    ("CC8", 1),
    ("CC9", 2),
    ("A1", 3),
    ("C1", 2),
    ("PI1", 5),
    ("P1", 1),
    ("P2", 1),
    ("P3", 2),
    ("P4", 3),
    ("P5", 2),
    ("P6", 7),
    ("P7", 1),
    ("P8", 1),
];

/// True when `id` names a Trust Services criterion, e.g. `CC7.2` or `A1.2`.
pub fn is_known_criterion(id: &str) -> bool {
    let Some((series, number)) = id.split_once('.') else {
        return false;
    };
    let Ok(number) = number.parse::<u32>() else {
        return false;
    };
    SERIES
        .iter()
        .any(|(s, max)| *s == series && (1..=*max).contains(&number))
}

/// Every criterion with a short name (paraphrasing the 2017 Trust Services
/// Criteria, revised points of focus 2022), in TSC order: what the criteria
/// coverage lists, so a criterion nothing evidences is seen, not missed.
pub const CRITERIA: &[(&str, &str)] = &[
    ("CC1.1", "Commitment to integrity and ethical values"),
    (
        "CC1.2",
        "Board independence and oversight of internal control",
    ),
    (
        "CC1.3",
        "Structures, reporting lines, authorities and responsibilities",
    ),
    (
        "CC1.4",
        "Attracting, developing and retaining competent individuals",
    ),
    (
        "CC1.5",
        "Accountability for internal control responsibilities",
    ),
    (
        "CC2.1",
        "Relevant, quality information to support internal control",
    ),
    (
        "CC2.2",
        "Internal communication of objectives and responsibilities",
    ),
    ("CC2.3", "Communication with external parties"),
    (
        "CC3.1",
        "Objectives specified clearly enough to identify risks",
    ),
    ("CC3.2", "Identification and analysis of risks"),
    ("CC3.3", "Potential for fraud considered"),
    (
        "CC3.4",
        "Changes that could affect internal control identified",
    ),
    ("CC4.1", "Ongoing and separate evaluations of controls"),
    ("CC4.2", "Deficiencies evaluated and communicated"),
    ("CC5.1", "Control activities that mitigate risks"),
    ("CC5.2", "General control activities over technology"),
    (
        "CC5.3",
        "Control activities deployed through policies and procedures",
    ),
    (
        "CC6.1",
        "Logical access security software, infrastructure and architecture",
    ),
    ("CC6.2", "User registration, authorization and removal"),
    (
        "CC6.3",
        "Role-based access, least privilege and segregation of duties",
    ),
    ("CC6.4", "Physical access restricted"),
    (
        "CC6.5",
        "Protection discontinued only when assets are disposed of",
    ),
    (
        "CC6.6",
        "Protection against threats from outside the system boundaries",
    ),
    (
        "CC6.7",
        "Transmission, movement and removal of information restricted",
    ),
    (
        "CC6.8",
        "Unauthorized or malicious software prevented or detected",
    ),
    (
        "CC7.1",
        "Configuration changes and new vulnerabilities detected",
    ),
    ("CC7.2", "System components monitored for anomalies"),
    ("CC7.3", "Security events evaluated as possible incidents"),
    ("CC7.4", "Security incidents responded to"),
    ("CC7.5", "Recovery from security incidents"),
    (
        "CC8.1",
        "Changes authorized, designed, tested, approved and implemented",
    ),
    ("CC9.1", "Risk mitigation for business disruptions"),
    ("CC9.2", "Vendor and business partner risk managed"),
    (
        "A1.1",
        "Processing capacity maintained, monitored and evaluated",
    ),
    (
        "A1.2",
        "Environmental protections, backup and recovery infrastructure",
    ),
    ("A1.3", "Recovery plan procedures tested"),
    ("C1.1", "Confidential information identified and maintained"),
    ("C1.2", "Confidential information disposed of"),
    ("PI1.1", "Quality information about processing objectives"),
    ("PI1.2", "System inputs complete and accurate"),
    ("PI1.3", "System processing complete, accurate and timely"),
    (
        "PI1.4",
        "System outputs complete, accurate and distributed as intended",
    ),
    ("PI1.5", "Stored data complete, accurate and protected"),
    ("P1.1", "Notice about privacy practices"),
    ("P2.1", "Choice and consent"),
    (
        "P3.1",
        "Personal information collected consistent with objectives",
    ),
    (
        "P3.2",
        "Explicit consent for sensitive personal information",
    ),
    (
        "P4.1",
        "Personal information used consistent with objectives",
    ),
    ("P4.2", "Personal information retained as committed"),
    ("P4.3", "Personal information disposed of securely"),
    (
        "P5.1",
        "Data subjects' access to their personal information",
    ),
    ("P5.2", "Correction of personal information"),
    ("P6.1", "Disclosure to third parties with consent"),
    ("P6.2", "Record of authorized disclosures"),
    ("P6.3", "Record of unauthorized disclosures"),
    ("P6.4", "Privacy commitments obtained from vendors"),
    ("P6.5", "Vendors notify unauthorized disclosures"),
    ("P6.6", "Breaches notified to affected data subjects"),
    ("P6.7", "Accounting of personal information held"),
    (
        "P7.1",
        "Personal information accurate, complete and relevant",
    ),
    ("P8.1", "Privacy inquiries, complaints and disputes handled"),
];

/// The additional categories a config may select, and the series they add
/// to the Common Criteria (security, always in scope).
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("availability", &["A1"]),
    ("confidentiality", &["C1"]),
    ("processing-integrity", &["PI1"]),
    ("privacy", &["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]),
];

/// A criterion in scope and what evidences it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CriterionCoverage {
    /// `CC6.1`.
    pub id: String,
    /// Its short name.
    pub name: String,
    /// `PASS`, `FAIL`, `NOT_ASSESSED`, `WAIVED` (the combined verdict of its
    /// controls, as results.json writes verdicts), `NOT_TESTED` (attachments
    /// only, no control judges them) or `NOT_EVIDENCED` (nothing yet).
    pub status: String,
    /// The controls citing it, with their verdicts.
    pub controls: Vec<CriterionControl>,
    /// The attachments supporting it (directly, or through a control they name).
    pub attachments: Vec<String>,
}

/// A control citing a criterion.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CriterionControl {
    /// Control id.
    pub id: String,
    /// Its verdict.
    pub status: super::Verdict,
}

/// Every criterion in scope: the Common Criteria, the series of the selected
/// `categories`, and any other criterion a control or attachment cites.
pub fn coverage(
    controls: &[super::ControlResult],
    attachments: &[crate::evidence::attachments::Attachment],
    categories: &[String],
) -> Vec<CriterionCoverage> {
    let series: Vec<&str> = std::iter::once("CC")
        .chain(
            (CATEGORIES.iter())
                .filter(|(c, _)| categories.iter().any(|x| x == c))
                .flat_map(|(_, s)| s.iter().copied()),
        )
        .collect();
    let in_series = |id: &str| {
        let prefix = id.split('.').next().unwrap_or_default();
        series.iter().any(|s| {
            if *s == "CC" {
                prefix.starts_with("CC")
            } else {
                prefix == *s
            }
        })
    };
    let cited = |id: &str| {
        controls.iter().any(|c| c.tsc.iter().any(|t| t == id))
            || attachments
                .iter()
                .any(|a| a.criteria.iter().any(|t| t == id))
    };
    (CRITERIA.iter())
        .filter(|(id, _)| in_series(id) || cited(id))
        .map(|(id, name)| {
            let citing: Vec<&super::ControlResult> = controls
                .iter()
                .filter(|c| c.tsc.iter().any(|t| t == id))
                .collect();
            let mut files: Vec<String> = (attachments.iter())
                .filter(|a| {
                    a.criteria.iter().any(|t| t == id)
                        || citing.iter().any(|c| a.controls.contains(&c.id))
                })
                .map(|a| a.file.clone())
                .collect();
            files.sort();
            files.dedup();
            let tested: Vec<super::Verdict> = (citing.iter())
                .map(|c| c.status)
                .filter(|s| *s != super::Verdict::Disabled)
                .collect();
            let status = if !tested.is_empty() {
                serde_json::to_value(super::Verdict::all_of(tested))
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            } else if !files.is_empty() {
                "NOT_TESTED".into()
            } else {
                "NOT_EVIDENCED".into()
            };
            CriterionCoverage {
                id: id.to_string(),
                name: name.to_string(),
                status,
                controls: (citing.iter())
                    .map(|c| CriterionControl {
                        id: c.id.clone(),
                        status: c.status,
                    })
                    .collect(),
                attachments: files,
            }
        })
        .collect()
}

/// Orders criteria as the TSC do: CC, then A1, C1, PI1, P…; CC6.10 after CC6.9.
pub fn criterion_order(id: &str) -> (usize, u32, u32) {
    let (series, number) = id.split_once('.').unwrap_or((id, "0"));
    let letters = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let family = ["CC", "A", "C", "PI", "P"]
        .iter()
        .position(|f| *f == letters);
    let parse = |n: &str| n.parse().unwrap_or(0);
    (
        family.unwrap_or(9),
        parse(&series[letters.len()..]),
        parse(number),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_and_the_series_agree() {
        assert_eq!(
            CRITERIA.len(),
            SERIES.iter().map(|(_, n)| *n as usize).sum::<usize>()
        );
        for (id, _) in CRITERIA {
            assert!(is_known_criterion(id), "{id}");
        }
        let mut sorted = CRITERIA.to_vec();
        sorted.sort_by_key(|(id, _)| criterion_order(id));
        assert_eq!(sorted, CRITERIA, "in TSC order");
    }

    #[test]
    fn common_criteria_always_and_categories_on_request() {
        let all = coverage(&[], &[], &[]);
        assert_eq!(all.len(), 33, "CC1.1 to CC9.2");
        assert!(all.iter().all(|c| c.status == "NOT_EVIDENCED"));
        let more = coverage(&[], &[], &["availability".into(), "privacy".into()]);
        assert_eq!(more.len(), 33 + 3 + 18);
    }

    #[test]
    fn known_and_unknown() {
        for ok in ["CC6.1", "CC7.2", "A1.2", "CC8.1", "PI1.5"] {
            assert!(is_known_criterion(ok), "{ok}");
        }
        for bad in ["CC7.9", "CC6", "cc6.1", "X1.1", "CC6.x", "CC6.0"] {
            assert!(!is_known_criterion(bad), "{bad}");
        }
    }
}
