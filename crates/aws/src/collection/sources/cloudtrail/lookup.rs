//! CloudTrail's event history (`LookupEvents`): each lookup the controls
//! declare (`Username=root`), over the part of the audit period the history
//! still holds, one request every half second at most in an account × region
//! (AWS allows 2 a second there), every page to the end.
//!
//! Each event is kept in its raw CloudTrail record form (the `CloudTrailEvent`
//! JSON AWS returns as a string, parsed): eventTime, eventName, eventSource,
//! userIdentity, sourceIPAddress, userAgent, requestParameters,
//! responseElements, errorCode, additionalEventData. The answer also records
//! the window queried, so a control can tell how much of the period it covers.

use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use serde_json::{json, Value};

use crate::collection::answer::{Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::cloudtrail::{CHANGES_QUALIFIER, LOOKUP_EVENTS};
use auditpack_core::evidence::ErrorClass;

/// The spacing AWS's limit (2 requests a second per account and region) asks for.
const REQUEST_SPACING: Duration = Duration::from_millis(500);

/// Every lookup, one after the other (they share the account × region's limit).
pub(super) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let Some((start, end)) = ctx.lookups.window else {
        return Ok(());
    };
    if !ctx.needs(&LOOKUP_EVENTS) {
        return Ok(());
    }
    let client = aws_sdk_cloudtrail::Client::new(&ctx.config);
    let window = Window {
        start: DateTime::from_secs(start.timestamp()),
        end: DateTime::from_secs(end.timestamp()),
    };
    // The declared lookups, then the change events: (qualifier, lookup).
    let changes = (!ctx.lookups.changes.is_empty())
        .then(|| (CHANGES_QUALIFIER.to_string(), "ReadOnly=false".to_string()));
    let queries = (ctx.lookups.queries.iter())
        .map(|q| (q.clone(), q.clone()))
        .chain(changes);
    for (i, (qualifier, query)) in queries.enumerate() {
        if i > 0 {
            tokio::time::sleep(REQUEST_SPACING).await;
        }
        let Some((key, value)) = query.split_once('=') else {
            continue; // refused by `controls lint`
        };
        let kept = (qualifier == CHANGES_QUALIFIER).then_some(ctx.lookups.changes.as_slice());
        let parameters = json!({
            "LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}],
            "StartTime": super::rfc3339(&window.start),
            "EndTime": super::rfc3339(&window.end),
        });
        ctx.call(
            &LOOKUP_EVENTS,
            Some(&qualifier),
            parameters,
            lookup_events(&client, key, value, &window, kept),
        )
        .await?;
    }
    Ok(())
}

/// Whether a raw record is one of the `kept` events (`eventSource:eventName`).
fn is_kept(record: &Value, kept: &[String]) -> bool {
    match (record["eventSource"].as_str(), record["eventName"].as_str()) {
        (Some(source), Some(name)) => kept
            .iter()
            .any(|k| k.split_once(':') == Some((source, name))),
        _ => false,
    }
}

/// The part of the period queried.
struct Window {
    start: DateTime,
    end: DateTime,
}

/// Every page of one lookup, spaced by [`REQUEST_SPACING`].
async fn lookup_events(
    client: &aws_sdk_cloudtrail::Client,
    key: &str,
    value: &str,
    window: &Window,
    kept: Option<&[String]>,
) -> Result<Answer, CallError> {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::from(key))
        .attribute_value(value)
        .build()
        .map_err(|e| CallError::local("InvalidLookup", e.to_string(), ErrorClass::Other))?;
    let mut answer = Answer::paginated();
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        if token.is_some() {
            tokio::time::sleep(REQUEST_SPACING).await;
        }
        let page = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(window.start)
            .end_time(window.end)
            .set_next_token(token.take())
            .send()
            .await?;
        answer.page(&page);
        for event in page.events() {
            let record = raw_record(event.cloud_trail_event())?;
            if kept.is_none_or(|kept| is_kept(&record, kept)) {
                events.push(record);
            }
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    let n = events.len();
    let mut data = json!({
        "Events": events,
        "Window": {"StartTime": super::rfc3339(&window.start), "EndTime": super::rfc3339(&window.end)},
    });
    if let Some(kept) = kept {
        // Which events of the write history were kept (the others are not evidence).
        data["Kept"] = json!(kept);
    }
    Ok(answer.finish(data, n))
}

/// The CloudTrail record an event carries as JSON text.
fn raw_record(text: Option<&str>) -> Result<Value, CallError> {
    let unreadable = |why: String| CallError::local("Unparseable", why, ErrorClass::Unparseable);
    let text =
        text.ok_or_else(|| unreadable("an event without its CloudTrailEvent record".into()))?;
    serde_json::from_str(text)
        .map_err(|e| unreadable(format!("a CloudTrailEvent record is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_record_is_kept_as_aws_wrote_it() {
        let record = raw_record(Some(
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventTime":"2026-11-02T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","sourceIPAddress":"203.0.113.9","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}"#,
        ))
        .unwrap();
        assert_eq!(record["userIdentity"]["type"], "Root");
        assert_eq!(record["additionalEventData"]["MFAUsed"], "No");
        assert_eq!(record["eventTime"], "2026-11-02T10:00:00Z");
    }

    #[test]
    fn only_declared_changes_are_kept() {
        let kept = ["cloudtrail.amazonaws.com:StopLogging".to_string()];
        let record = |source: &str, name: &str| json!({"eventSource": source, "eventName": name});
        assert!(is_kept(
            &record("cloudtrail.amazonaws.com", "StopLogging"),
            &kept
        ));
        assert!(!is_kept(
            &record("cloudtrail.amazonaws.com", "StartLogging"),
            &kept
        ));
        assert!(!is_kept(&record("s3.amazonaws.com", "StopLogging"), &kept));
        assert!(!is_kept(&json!({}), &kept));
    }

    #[test]
    fn a_record_that_is_not_json_is_unparseable_not_skipped() {
        let e = raw_record(Some("{not json")).unwrap_err();
        assert_eq!(e.class, ErrorClass::Unparseable);
        assert_eq!(raw_record(None).unwrap_err().class, ErrorClass::Unparseable);
    }
}
