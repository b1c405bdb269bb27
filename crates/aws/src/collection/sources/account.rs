//! AWS Account Management: the regions enabled for an account, for
//! `--regions all`. Called once, in the management account, by the runner.

use serde_json::json;

use crate::collection::answer::{Answer, CallError};

/// Lists the regions enabled for the caller's account, paginated to the end.
pub(crate) async fn list_enabled_regions(
    client: &aws_sdk_account::Client,
) -> Result<Answer, CallError> {
    use aws_sdk_account::types::RegionOptStatus;
    let mut answer = Answer::paginated();
    let mut regions = Vec::new();
    let mut pages = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
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
    let mut names: Vec<String> = data["Regions"]
        .as_array()
        .into_iter()
        .flatten()
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
}
