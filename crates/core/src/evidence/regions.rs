//! Which regions an account has enabled, read from its `account:ListRegions`
//! evidence: opt-in regions differ per account, and a region the account has
//! not enabled is out of scope for it (no call can be made there), which the
//! evaluation records with that evidence instead of judging the region.

use std::collections::BTreeSet;

use serde_json::Value;

/// Whether a `RegionOptStatus` lets the account use the region: `ENABLED` or
/// `ENABLED_BY_DEFAULT`. `ENABLING`, `DISABLING`, `DISABLED` and an absent
/// status do not.
pub fn region_enabled(status: Option<&str>) -> bool {
    matches!(status, Some("ENABLED" | "ENABLED_BY_DEFAULT"))
}

/// The regions a `ListRegions` answer lists, split into those the account can
/// use and those it cannot.
pub fn split_regions(data: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut enabled = BTreeSet::new();
    let mut not_enabled = BTreeSet::new();
    for region in data["Regions"].as_array().into_iter().flatten() {
        if let Some(name) = region["RegionName"].as_str() {
            if region_enabled(region["RegionOptStatus"].as_str()) {
                enabled.insert(name.to_string());
            } else {
                not_enabled.insert(name.to_string());
            }
        }
    }
    (enabled, not_enabled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn disabled_enabling_and_absent_statuses_are_not_enabled() {
        let (enabled, not_enabled) = split_regions(&json!({"Regions": [
            {"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
            {"RegionName": "af-south-1", "RegionOptStatus": "DISABLED"},
            {"RegionName": "me-south-1", "RegionOptStatus": "ENABLED"},
            {"RegionName": "ap-east-1", "RegionOptStatus": "ENABLING"},
            {"RegionName": "eu-south-2"}
        ]}));
        assert_eq!(
            enabled,
            BTreeSet::from(["me-south-1".into(), "us-east-1".into()])
        );
        assert_eq!(
            not_enabled,
            BTreeSet::from(["af-south-1".into(), "ap-east-1".into(), "eu-south-2".into()])
        );
    }
}
