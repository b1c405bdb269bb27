//! The evidence locker's rules (issue #17), kept apart from the S3 calls
//! (`auditpack_aws::locker`): where a bundle goes, and which bucket
//! retention is strong enough to hold it.
//!
//! A bundle is stored under `PREFIX/<organization>/<yyyy>/<mm>/<dd>/<file>`,
//! dated by the day its collection finished (from its own `results.json`), so
//! a quarter's runs list by day and the same bundle always has the same key.
//! The bucket must have S3 Object Lock with a default retention in
//! COMPLIANCE mode (no one, not even the account's root user, can delete or
//! overwrite a version before it expires) of at least the configured days.

use super::bag_check::Verification;

/// `s3://BUCKET/PREFIX`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockerTarget {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl LockerTarget {
    /// Parses `s3://BUCKET[/PREFIX]`; the message says what is wrong.
    pub fn parse(url: &str) -> Result<LockerTarget, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{url}' is not an s3://BUCKET/PREFIX location"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!("'{bucket}' is not an S3 bucket name"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part == ".." || part == ".") {
            return Err(format!("the prefix '{prefix}' has a '.' or '..' segment"));
        }
        Ok(LockerTarget {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The key of `file_name` of `organization_id`, collected on `day`
    /// (`YYYY-MM-DD`).
    pub fn key(&self, organization_id: &str, day: &str, file_name: &str) -> String {
        let dated = day.replace('-', "/");
        let path = format!("{organization_id}/{dated}/{file_name}");
        if self.prefix.is_empty() {
            path
        } else {
            format!("{}/{path}", self.prefix)
        }
    }
}

/// The organization a path in the locker's layout names: the one before
/// `<yyyy>/<mm>/<dd>/<file>` at its end (`[PREFIX/]<organization>/…`).
/// Unverified, like any name: it only says where to look.
pub fn organization_in_layout(path: &str) -> Option<&str> {
    let parts: Vec<&str> = path.rsplitn(6, '/').collect();
    let [_file, dd, mm, yyyy, organization, ..] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let id = organization.strip_prefix("o-")?;
    let id_ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (digits(yyyy, 4) && digits(mm, 2) && digits(dd, 2) && id_ok).then_some(*organization)
}

/// The organization and the collection day of a verified bundle, from its
/// own `data/results.json`.
pub fn bundle_origin(verification: &Verification) -> Result<(String, String), String> {
    let bytes = verification
        .contents
        .entries
        .bytes("data/results.json")
        .ok_or("the bundle has no data/results.json")?;
    let results = crate::outputs::results_json::parse_results(bytes)
        .map_err(|e| format!("data/results.json: {e}"))?;
    let organization = results.organization_id;
    let day = results
        .collection_window
        .end
        .get(..10)
        .unwrap_or_default()
        .to_string();
    let plausible_org = organization.starts_with("o-")
        && organization[2..].bytes().all(|b| b.is_ascii_alphanumeric());
    if !plausible_org {
        return Err(format!("'{organization}' is not an organization id"));
    }
    if chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").is_err() {
        return Err(format!(
            "collection_window.end '{}' has no date",
            results.collection_window.end
        ));
    }
    Ok((organization, day))
}

/// The upload's own IAM policy, separate from the read-only audit role's:
/// read the bucket's Object Lock configuration, write new objects under the
/// prefix and read them back (HeadObject needs `s3:GetObject`, and
/// `s3:GetObjectVersion` for the version just written). Nothing that deletes,
/// shortens a retention or changes the bucket.
pub fn upload_policy(target: &LockerTarget) -> serde_json::Value {
    let bucket = format!("arn:aws:s3:::{}", target.bucket);
    let objects = if target.prefix.is_empty() {
        format!("{bucket}/*")
    } else {
        format!("{bucket}/{}/*", target.prefix)
    };
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AuditpackLockerRetention",
                "Effect": "Allow",
                "Action": ["s3:GetBucketObjectLockConfiguration"],
                "Resource": bucket
            },
            {
                "Sid": "AuditpackLockerWriteOnce",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                "Resource": objects
            }
        ]
    })
}

/// A bucket's default Object Lock retention, as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// `COMPLIANCE` or `GOVERNANCE`; none when the bucket has no default rule.
    pub mode: Option<String>,
    /// `Days`, when set.
    pub days: Option<i32>,
    /// `Years`, when set.
    pub years: Option<i32>,
}

/// Whether `retention` keeps every upload for at least `min_days` in
/// COMPLIANCE mode; the reason when it does not.
pub fn retention_problem(retention: Option<&Retention>, min_days: u32) -> Option<String> {
    let Some(retention) = retention else {
        return Some(
            "it has no S3 Object Lock configuration: anything stored there can be deleted".into(),
        );
    };
    match retention.mode.as_deref() {
        Some("COMPLIANCE") => {}
        Some(mode) => {
            return Some(format!(
                "its default retention is {mode} mode: users with s3:BypassGovernanceRetention can delete the evidence (COMPLIANCE mode is required)"
            ))
        }
        None => return Some("it has Object Lock but no default retention rule".into()),
    }
    let days =
        i64::from(retention.days.unwrap_or(0)) + 365 * i64::from(retention.years.unwrap_or(0));
    (days < i64::from(min_days)).then(|| {
        format!("its COMPLIANCE retention is {days} day(s), less than the {min_days} required")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organization_is_read_back_from_a_key_of_the_layout_and_nothing_else() {
        let t = LockerTarget::parse("s3://acme-evidence-locker/soc2/ci").unwrap();
        let key = t.key("o-abc123", "2026-11-26", "b.zip");
        assert_eq!(organization_in_layout(&key), Some("o-abc123"));
        assert_eq!(
            organization_in_layout("o-a1/2026/01/02/b.zip"),
            Some("o-a1")
        );
        for other in [
            "b.zip",
            "2026/01/02/b.zip",
            "o-a1/2026/1/02/b.zip",
            "o-a1/26/01/02/b.zip",
            "o-A1/2026/01/02/b.zip",
            "o-/2026/01/02/b.zip",
            "x-a1/2026/01/02/b.zip",
            "o-a1/2026/01/02/extra/b.zip",
        ] {
            assert_eq!(organization_in_layout(other), None, "{other}");
        }
    }

    #[test]
    fn locations_parse_and_keys_are_dated_by_collection_day() {
        let t = LockerTarget::parse("s3://acme-evidence-locker/soc2/").unwrap();
        assert_eq!(t.bucket, "acme-evidence-locker");
        assert_eq!(t.prefix, "soc2");
        assert_eq!(
            t.key("o-abc123", "2026-11-26", "auditpack-o-abc123-2026-Q4.zip"),
            "soc2/o-abc123/2026/11/26/auditpack-o-abc123-2026-Q4.zip"
        );
        let bare = LockerTarget::parse("s3://acme-evidence-locker").unwrap();
        assert_eq!(
            bare.key("o-a", "2026-01-02", "b.zip"),
            "o-a/2026/01/02/b.zip"
        );
        for bad in [
            "https://x/y",
            "s3://Bad_Bucket/x",
            "s3://ab",
            "s3://bucket/../etc",
            "acme",
        ] {
            assert!(LockerTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_upload_policy_writes_under_the_prefix_and_deletes_nothing() {
        let policy = upload_policy(&LockerTarget::parse("s3://acme-locker/soc2").unwrap());
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Resource"], "arn:aws:s3:::acme-locker");
        assert_eq!(statements[1]["Resource"], "arn:aws:s3:::acme-locker/soc2/*");
        let actions: Vec<&str> = statements
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap())
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(actions
            .iter()
            .all(|a| !a.contains("Delete") && !a.contains("Retention") && !a.contains("Bypass")));
        assert!(actions.contains(&"s3:PutObject"));
    }

    /// deploy/terraform/evidence-locker grants the uploader what the CLI
    /// prints, statement by statement (sid and actions), so the two cannot drift.
    #[test]
    fn the_terraform_module_grants_exactly_the_upload_policy() {
        let main_tf = include_str!("../../../../deploy/terraform/evidence-locker/main.tf");
        let block = main_tf
            .split("data \"aws_iam_policy_document\" \"uploader\"")
            .nth(1)
            .expect("the uploader policy document");
        let policy = upload_policy(&LockerTarget::parse("s3://bucket/p").unwrap());
        for statement in policy["Statement"].as_array().unwrap() {
            let sid = statement["Sid"].as_str().unwrap();
            let at = block
                .find(&format!("sid       = \"{sid}\""))
                .unwrap_or_else(|| panic!("{sid}"));
            let actions_line = block[at..]
                .lines()
                .find(|l| l.trim_start().starts_with("actions"))
                .unwrap();
            let expected: Vec<String> = statement["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("\"{}\"", a.as_str().unwrap()))
                .collect();
            assert_eq!(
                actions_line.split_once('=').unwrap().1.trim(),
                format!("[{}]", expected.join(", ")),
                "{sid}"
            );
        }
        assert!(main_tf.contains("mode = \"COMPLIANCE\""));
    }

    #[test]
    fn only_compliance_retention_long_enough_is_accepted() {
        let r = |mode: &str, days: Option<i32>, years: Option<i32>| Retention {
            mode: Some(mode.into()),
            days,
            years,
        };
        assert_eq!(
            retention_problem(Some(&r("COMPLIANCE", Some(400), None)), 365),
            None
        );
        assert_eq!(
            retention_problem(Some(&r("COMPLIANCE", None, Some(1))), 365),
            None
        );
        let short = retention_problem(Some(&r("COMPLIANCE", Some(30), None)), 365).unwrap();
        assert!(short.contains("30 day(s), less than the 365"), "{short}");
        let governance = retention_problem(Some(&r("GOVERNANCE", Some(400), None)), 365).unwrap();
        assert!(governance.contains("GOVERNANCE"), "{governance}");
        assert!(retention_problem(None, 365)
            .unwrap()
            .contains("no S3 Object Lock"));
        let no_rule = Retention {
            mode: None,
            days: None,
            years: None,
        };
        assert!(retention_problem(Some(&no_rule), 1)
            .unwrap()
            .contains("no default retention"));
    }
}
