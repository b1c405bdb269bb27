//! IAM Access Analyzer: the analyzers of an account × region.
//!
//! The wire format is lowerCamel (`analyzers`, `type`); evidence uses the
//! PascalCase member names the other sources use (`Analyzers`, `Type`).

use aws_sdk_accessanalyzer::types::AnalyzerSummary;
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::access_analyzer::*;

/// Collects the analyzer list.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_accessanalyzer::Client::new(&ctx.config);
    ctx.call_if_needed(&LIST_ANALYZERS, None, json!({}), analyzers(client))
        .await
}

async fn analyzers(client: &aws_sdk_accessanalyzer::Client) -> Result<Answer, CallError> {
    paginate(
        client.list_analyzers().into_paginator().send(),
        "Analyzers",
        |page| page.analyzers().iter().map(analyzer_json).collect(),
    )
    .await
}

fn analyzer_json(a: &AnalyzerSummary) -> Value {
    json!({
        "Arn": a.arn(),
        "Name": a.name(),
        "Type": a.r#type().as_str(),
        "Status": a.status().as_str(),
        "CreatedAt": rfc3339(a.created_at()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_accessanalyzer::types::{AnalyzerStatus, Type};
    use aws_smithy_types::DateTime;

    #[test]
    fn analyzer_member_names() {
        let a = AnalyzerSummary::builder()
            .arn("arn:aws:access-analyzer:us-east-1:222222222222:analyzer/org")
            .name("org")
            .r#type(Type::Organization)
            .status(AnalyzerStatus::Active)
            .created_at(DateTime::from_secs(1_767_225_600))
            .build()
            .unwrap();
        let v = analyzer_json(&a);
        assert_eq!(v["Type"], "ORGANIZATION");
        assert_eq!(v["Status"], "ACTIVE");
        assert_eq!(v["CreatedAt"], "2026-01-01T00:00:00Z");
    }
}
