//! IAM: the account summary (root MFA and root access keys), the password policy,
//! the users and which of them have a console password, and the credential report.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_iam::types::{LoginProfile, PasswordPolicy, SummaryKeyType, User};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::iam::*;
use auditpack_core::evidence::ErrorClass;

/// Collects the account summary, the password policy, the users and their login profiles.
pub(crate) async fn collect(ctx: &RegionCtx<'_>) -> Result<(), RecordError> {
    let client = &aws_sdk_iam::Client::new(&ctx.config);
    // Independent calls: made concurrently (the account's limit still applies).
    futures::try_join!(
        ctx.call_if_needed(
            &GET_ACCOUNT_SUMMARY,
            None,
            json!({}),
            account_summary(client),
        ),
        ctx.call_if_needed(
            &GET_ACCOUNT_PASSWORD_POLICY,
            None,
            json!({}),
            password_policy(client),
        ),
        collect_users(ctx, client),
        ctx.call_if_needed(
            &GET_CREDENTIAL_REPORT,
            None,
            json!({}),
            credential_report(client),
        ),
    )?;
    Ok(())
}

/// The user list, then each user's login profile.
async fn collect_users(
    ctx: &RegionCtx<'_>,
    client: &aws_sdk_iam::Client,
) -> Result<(), RecordError> {
    if !ctx.needs(&LIST_USERS) && !ctx.needs(&GET_LOGIN_PROFILE) {
        return Ok(());
    }
    let Some(listing) = ctx
        .call(&LIST_USERS, None, json!({}), list_users(client))
        .await?
    else {
        return Ok(());
    };
    if !ctx.needs(&GET_LOGIN_PROFILE) {
        return Ok(());
    }
    let names: Vec<String> = listing["Users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["UserName"].as_str().map(String::from))
        .collect();
    let calls = names.iter().map(|name| async move {
        ctx.call(
            &GET_LOGIN_PROFILE,
            Some(name),
            json!({"UserName": name}),
            login_profile(client, name),
        )
        .await
        .map(|_| ())
    });
    futures::future::try_join_all(calls).await?;
    Ok(())
}

async fn account_summary(client: &aws_sdk_iam::Client) -> Result<Answer, CallError> {
    let out = client.get_account_summary().send().await?;
    Ok(Answer::single(summary_json(out.summary_map()), 1, &out))
}

/// `{SummaryMap: {AccountMFAEnabled: 0 | 1, …}}`, keys as AWS spells them, sorted.
fn summary_json(map: Option<&HashMap<SummaryKeyType, i32>>) -> Value {
    let sorted: Option<BTreeMap<&str, i32>> =
        map.map(|m| m.iter().map(|(k, v)| (k.as_str(), *v)).collect());
    json!({"SummaryMap": sorted})
}

async fn password_policy(client: &aws_sdk_iam::Client) -> Result<Answer, CallError> {
    let out = client.get_account_password_policy().send().await?;
    let data = json!({"PasswordPolicy": out.password_policy().map(password_policy_json)});
    Ok(Answer::single(data, 1, &out))
}

fn password_policy_json(p: &PasswordPolicy) -> Value {
    json!({
        "MinimumPasswordLength": p.minimum_password_length(),
        "RequireSymbols": p.require_symbols(),
        "RequireNumbers": p.require_numbers(),
        "RequireUppercaseCharacters": p.require_uppercase_characters(),
        "RequireLowercaseCharacters": p.require_lowercase_characters(),
        "AllowUsersToChangePassword": p.allow_users_to_change_password(),
        "ExpirePasswords": p.expire_passwords(),
        "MaxPasswordAge": p.max_password_age(),
        "PasswordReusePrevention": p.password_reuse_prevention(),
        "HardExpiry": p.hard_expiry(),
    })
}

async fn list_users(client: &aws_sdk_iam::Client) -> Result<Answer, CallError> {
    paginate(
        client.list_users().into_paginator().send(),
        "Users",
        |page| page.users().iter().map(user_json).collect(),
    )
    .await
}

fn user_json(u: &User) -> Value {
    json!({
        "UserName": u.user_name(),
        "UserId": u.user_id(),
        "Arn": u.arn(),
        "Path": u.path(),
        "CreateDate": rfc3339(u.create_date()),
        "PasswordLastUsed": u.password_last_used().map(rfc3339),
    })
}

async fn login_profile(client: &aws_sdk_iam::Client, user: &str) -> Result<Answer, CallError> {
    let out = client.get_login_profile().user_name(user).send().await?;
    let data = json!({"LoginProfile": out.login_profile().map(login_profile_json)});
    Ok(Answer::single(data, 1, &out))
}

fn login_profile_json(p: &LoginProfile) -> Value {
    json!({"UserName": p.user_name(), "CreateDate": rfc3339(p.create_date()), "PasswordResetRequired": p.password_reset_required()})
}

/// How often GenerateCredentialReport is asked until the report is COMPLETE,
/// and the longest wait between two asks. AWS generates a report in seconds for
/// most accounts and serves the same one for four hours, so the waits start at
/// one second and double up to the longest (1, 2, 4, 5, 5, … s); past ~1 minute
/// the call is recorded as a timeout (the controls reading it are NOT
/// ASSESSED), never waited on forever.
const REPORT_POLLS: u32 = 14;
const REPORT_POLL_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The wait before ask number `poll` (0 = the first ask, no wait).
fn report_poll_wait(poll: u32) -> std::time::Duration {
    match poll {
        0 => std::time::Duration::ZERO,
        n => std::time::Duration::from_secs(1 << (n - 1).min(3)).min(REPORT_POLL_MAX_WAIT),
    }
}

/// Generates the credential report (waiting until it is COMPLETE), then reads
/// it: the CSV exactly as AWS returned it (`Content`) beside its parsed rows.
async fn credential_report(client: &aws_sdk_iam::Client) -> Result<Answer, CallError> {
    let generate_ids = generate_credential_report(client).await?;
    let out = client.get_credential_report().send().await?;
    let csv = match out.content() {
        Some(blob) => String::from_utf8(blob.as_ref().to_vec()).map_err(|_| {
            CallError::local(
                "Unparseable",
                "the credential report is not UTF-8 text",
                ErrorClass::Unparseable,
            )
        })?,
        None => String::new(),
    };
    let rows = credential_report_rows(&csv)
        .map_err(|e| CallError::local("Unparseable", e, ErrorClass::Unparseable))?;
    let n = rows.len();
    let data = json!({
        "GeneratedTime": out.generated_time().map(rfc3339),
        "ReportFormat": out.report_format().map(|f| f.as_str()),
        "Content": csv,
        "Rows": rows,
    });
    let mut answer = Answer::single(data, n, &out);
    answer.request_ids.splice(0..0, generate_ids);
    Ok(answer)
}

/// Asks for a fresh report until AWS says COMPLETE; returns the request ids.
async fn generate_credential_report(
    client: &aws_sdk_iam::Client,
) -> Result<Vec<String>, CallError> {
    use aws_types::request_id::RequestId;
    let mut ids = Vec::new();
    for poll in 0..REPORT_POLLS {
        tokio::time::sleep(report_poll_wait(poll)).await;
        let out = client.generate_credential_report().send().await?;
        ids.extend(out.request_id().map(String::from));
        if out.state() == Some(&aws_sdk_iam::types::ReportStateType::Complete) {
            return Ok(ids);
        }
    }
    Err(CallError::local(
        "ReportInProgress",
        format!(
            "the credential report was not COMPLETE after {REPORT_POLLS} requests over {} s",
            (0..REPORT_POLLS)
                .map(report_poll_wait)
                .sum::<std::time::Duration>()
                .as_secs()
        ),
        ErrorClass::Timeout,
    ))
}

/// The report's rows as objects keyed by its column names (`user`,
/// `password_enabled`, `access_key_1_last_rotated`, …). `true`/`false` become
/// booleans; AWS's placeholders for "no value" (`N/A`, `no_information`,
/// `not_supported`) are left out, so a control reads them as absent (the raw
/// CSV beside the rows keeps which placeholder it was); every other value
/// (timestamps, ARNs) stays the string AWS wrote.
fn credential_report_rows(csv_text: &str) -> Result<Vec<Value>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("credential report header: {e}"))?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("credential report line {}: {e}", i + 2))?;
        let row: serde_json::Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .filter_map(|(column, value)| Some((column.to_string(), report_value(value)?)))
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(rows)
}

/// One cell: a boolean, a string, or nothing for AWS's placeholders.
fn report_value(cell: &str) -> Option<Value> {
    match cell {
        "true" | "TRUE" => Some(Value::Bool(true)),
        "false" | "FALSE" => Some(Value::Bool(false)),
        "N/A" | "no_information" | "not_supported" | "" => None,
        other => Some(Value::String(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;

    #[test]
    fn summary_map_uses_aws_key_names() {
        let map = HashMap::from([
            (SummaryKeyType::AccountMfaEnabled, 1),
            (SummaryKeyType::AccountAccessKeysPresent, 0),
            (SummaryKeyType::MfaDevices, 3),
            (SummaryKeyType::Users, 2),
        ]);
        let v = summary_json(Some(&map));
        assert_eq!(v["SummaryMap"]["AccountMFAEnabled"], 1);
        assert_eq!(v["SummaryMap"]["AccountAccessKeysPresent"], 0);
        assert_eq!(v["SummaryMap"]["MFADevices"], 3);
        assert_eq!(v["SummaryMap"]["Users"], 2);
        let keys: Vec<&String> = v["SummaryMap"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "AccountAccessKeysPresent",
                "AccountMFAEnabled",
                "MFADevices",
                "Users"
            ],
            "sorted, stable output"
        );
        assert_eq!(summary_json(None), json!({"SummaryMap": null}));
    }

    #[test]
    fn password_policy_has_every_member() {
        let p = PasswordPolicy::builder()
            .minimum_password_length(14)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .allow_users_to_change_password(true)
            .expire_passwords(true)
            .max_password_age(90)
            .password_reuse_prevention(24)
            .hard_expiry(false)
            .build();
        let v = json!({"PasswordPolicy": password_policy_json(&p)});
        let p = &v["PasswordPolicy"];
        assert_eq!(p["MinimumPasswordLength"], 14);
        for flag in [
            "RequireSymbols",
            "RequireNumbers",
            "RequireUppercaseCharacters",
            "RequireLowercaseCharacters",
            "AllowUsersToChangePassword",
            "ExpirePasswords",
        ] {
            assert_eq!(p[flag], true, "{flag}");
        }
        assert_eq!(p["MaxPasswordAge"], 90);
        assert_eq!(p["PasswordReusePrevention"], 24);
        assert_eq!(p["HardExpiry"], false);
        let empty = password_policy_json(&PasswordPolicy::builder().build());
        assert_eq!(empty["MaxPasswordAge"], Value::Null, "absent, not invented");
    }

    #[test]
    fn user_member_names() {
        let u = User::builder()
            .user_name("alice")
            .user_id("AIDAEXAMPLE")
            .arn("arn:aws:iam::1:user/alice")
            .path("/")
            .create_date(DateTime::from_secs(1_767_225_600))
            .build()
            .unwrap();
        let v = user_json(&u);
        assert_eq!(v["UserName"], "alice");
        assert_eq!(v["UserId"], "AIDAEXAMPLE");
        assert_eq!(v["Arn"], "arn:aws:iam::1:user/alice");
        assert_eq!(v["Path"], "/");
        assert_eq!(v["CreateDate"], "2026-01-01T00:00:00Z");
        assert_eq!(v["PasswordLastUsed"], Value::Null);
    }

    #[test]
    fn login_profile_member_names() {
        let p = LoginProfile::builder()
            .user_name("alice")
            .create_date(DateTime::from_secs(1_767_225_600))
            .password_reset_required(true)
            .build()
            .unwrap();
        let v = json!({"LoginProfile": login_profile_json(&p)});
        assert_eq!(v["LoginProfile"]["UserName"], "alice");
        assert_eq!(v["LoginProfile"]["CreateDate"], "2026-01-01T00:00:00Z");
        assert_eq!(v["LoginProfile"]["PasswordResetRequired"], true);
    }

    /// The first lines of a report as AWS documents them (IAM User Guide,
    /// "Getting credential reports"): the root row's placeholders, a user
    /// with a console password and a key, a user with neither.
    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::555555555555:root,2026-01-01T00:00:00+00:00,not_supported,2026-11-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
legacy-ci,arn:aws:iam::555555555555:user/legacy-ci,2025-03-01T00:00:00+00:00,true,no_information,2025-03-01T00:00:00+00:00,N/A,false,true,2025-03-01T00:00:00+00:00,2026-11-19T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
\"odd, name\",arn:aws:iam::555555555555:user/odd,2026-11-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn report_polls_back_off_to_a_bounded_total() {
        let waits: Vec<u64> = (0..REPORT_POLLS)
            .map(|p| report_poll_wait(p).as_secs())
            .collect();
        assert_eq!(&waits[..6], &[0, 1, 2, 4, 5, 5]);
        let total: u64 = waits.iter().sum();
        assert!((45..=90).contains(&total), "{total} s");
    }

    #[test]
    fn credential_report_rows_are_typed_and_placeholders_absent() {
        let rows = credential_report_rows(REPORT).unwrap();
        assert_eq!(rows.len(), 3);
        let root = &rows[0];
        assert_eq!(root["user"], "<root_account>");
        assert!(
            root.get("password_enabled").is_none(),
            "not_supported is absent"
        );
        assert_eq!(root["mfa_active"], true);
        let ci = &rows[1];
        assert_eq!(ci["password_enabled"], true);
        assert!(
            ci.get("password_last_used").is_none(),
            "no_information is absent"
        );
        assert_eq!(ci["access_key_1_active"], true);
        assert_eq!(ci["access_key_1_last_rotated"], "2025-03-01T00:00:00+00:00");
        assert_eq!(ci["access_key_2_active"], false);
        assert!(
            ci.get("access_key_2_last_rotated").is_none(),
            "N/A is absent"
        );
        assert_eq!(rows[2]["user"], "odd, name", "quoted CSV fields");
    }

    #[test]
    fn a_ragged_credential_report_is_refused_with_its_line() {
        let err = credential_report_rows("user,arn\na,b,c\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(credential_report_rows("").unwrap().is_empty());
    }
}
