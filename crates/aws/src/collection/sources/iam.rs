//! IAM: the account summary (root MFA and root access keys), the password policy,
//! the users and which of them have a console password.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_iam::types::{LoginProfile, PasswordPolicy, SummaryKeyType, User};
use serde_json::{json, Value};

use super::rfc3339;
use crate::collection::answer::{paginate, Answer, CallError};
use crate::collection::context::RegionCtx;
use crate::collection::recorder::RecordError;
use auditpack_core::catalog::iam::*;

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
}
