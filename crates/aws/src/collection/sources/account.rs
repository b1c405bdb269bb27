//! AWS Account Management: the regions of an account and whether each is
//! enabled, for `--regions all`. Called by the runner, in the management account
//! (which regions exist) and in every member account (which of them it enabled:
//! opt-in regions differ per account).

use serde_json::json;

use crate::collection::answer::{Answer, CallError};

/// Lists every region of the caller's account with its opt status (enabled,
/// enabled by default, disabled, enabling, disabling), paginated to the end:
/// the disabled ones are the evidence that a region is out of scope there.
pub(crate) async fn list_regions(client: &aws_sdk_account::Client) -> Result<Answer, CallError> {
    let mut answer = Answer::paginated();
    let mut regions = Vec::new();
    let mut pages = client.list_regions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page?;
        answer.page(&page);
        for r in page.regions() {
            regions.push(json!({"RegionName": r.region_name(), "RegionOptStatus": r.region_opt_status().map(|s| s.as_str())}));
        }
    }
    let n = regions.len();
    Ok(answer.finish(json!({"Regions": regions}), n))
}

/// The region names of a `ListRegions` answer, sorted.
pub(crate) fn region_names(data: &serde_json::Value) -> Vec<String> {
    sorted_names(data, |_| true)
}

/// The regions of a `ListRegions` answer the account can use (`ENABLED`,
/// `ENABLED_BY_DEFAULT`), sorted; the same rule the evaluation applies
/// (`auditpack_core::evidence::region_enabled`).
pub(crate) fn enabled_region_names(data: &serde_json::Value) -> Vec<String> {
    sorted_names(data, |r| {
        auditpack_core::evidence::region_enabled(r["RegionOptStatus"].as_str())
    })
}

fn sorted_names(
    data: &serde_json::Value,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<String> {
    let mut names: Vec<String> = data["Regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| keep(r))
        .filter_map(|r| r["RegionName"].as_str().map(String::from))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_sorted_and_skip_malformed_entries() {
        let data = json!({"Regions": [{"RegionName": "us-east-1"}, {"RegionName": "eu-west-1"}, {"Other": 1}]});
        assert_eq!(region_names(&data), ["eu-west-1", "us-east-1"]);
        assert!(region_names(&json!({})).is_empty());
    }

    #[test]
    fn only_enabled_regions_are_usable() {
        let data = json!({"Regions": [
            {"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
            {"RegionName": "af-south-1", "RegionOptStatus": "DISABLED"},
            {"RegionName": "me-south-1", "RegionOptStatus": "ENABLED"},
            {"RegionName": "ap-east-1", "RegionOptStatus": "ENABLING"},
            {"RegionName": "eu-south-2"}
        ]});
        assert_eq!(enabled_region_names(&data), ["me-south-1", "us-east-1"]);
        assert_eq!(region_names(&data).len(), 5);
    }
}
