//! One SDK configuration per account, built once and shared by every region and
//! service of that account (one credential set, one HTTP connection pool).
//!
//! Credentials live only in memory, inside the SDK's config: they are never
//! written to evidence, logs or reports. The AssumeRole evidence records the
//! assumed role's ARN, never the keys it returned.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::limits::AccountLimits;
use serde_json::json;

use super::answer::{Answer, CallError};

mod refresh;
use super::recorder::{CallSite, RecordError, Recorder};
use auditpack_core::catalog::sts::{ASSUME_ROLE, GET_CALLER_IDENTITY};
use refresh::{issued, AssumeRequest, RenewingCredentials};

/// Settings shared by every client of the run.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// AWS profile (`--profile`), or the default chain.
    pub profile: Option<String>,
    /// Home region (`--region`), or the default chain's region.
    pub home_region: Option<String>,
    /// Attempts per call (standard retry: jittered exponential backoff).
    pub max_attempts: u32,
    /// Timeout for one call including retries.
    pub call_timeout: Duration,
    /// Path-style S3 addressing (emulators, some proxies).
    pub s3_path_style: bool,
}

/// The caller's own configuration: the SDK's default credential chain
/// (environment, profile, SSO, web identity, instance or container role) and
/// `AWS_ENDPOINT_URL*` endpoints, with auditpack's retry and timeout policy,
/// making its requests through `http_client` (the management account's limits).
///
/// Standard retry, not adaptive: the SDK keeps adaptive mode's client-side
/// rate limiter in a process-wide partition per service, so one throttled
/// account would slow that service's calls in every account of the run, while
/// AWS throttles each account (and region) on its own. Per-account pacing is
/// `--account-concurrency`; throttling answers are still retried with backoff.
/// (Measured with bench/collect: adaptive mode stretched a 10-account run
/// whose calls were done in ~2 s to 28 s; see docs/performance.md.)
pub(crate) async fn base_config(
    settings: &ClientSettings,
    http_client: SharedHttpClient,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(settings.call_timeout)
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.home_region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// An account reached with working credentials.
#[derive(Debug, Clone)]
pub(crate) struct AccountSession {
    /// Account id.
    pub account_id: String,
    /// The identity calls are made as.
    pub caller_arn: String,
    /// Config with this account's credentials and the home region.
    pub config: SdkConfig,
    /// Admission of this account's calls (see `super::limits`).
    pub admission: Arc<Semaphore>,
}

impl AccountSession {
    /// The config for one region (`None`: the home region, for global services).
    pub(crate) fn config_for(&self, region: Option<&str>) -> SdkConfig {
        match region {
            Some(r) => self
                .config
                .to_builder()
                .region(Region::new(r.to_string()))
                .build(),
            None => self.config.clone(),
        }
    }

    /// Where calls of this account are recorded.
    pub(crate) fn site<'a>(&'a self, region: Option<&'a str>) -> CallSite<'a> {
        CallSite {
            account_id: &self.account_id,
            region,
            caller_arn: &self.caller_arn,
        }
    }
}

/// Who the base credentials are (recorded as evidence in that account).
pub(crate) async fn identify(
    config: &SdkConfig,
    recorder: &Recorder,
    admission: Arc<Semaphore>,
) -> Result<Result<AccountSession, CallError>, RecordError> {
    let client = aws_sdk_sts::Client::new(config);
    let outcome = async {
        let out = client.get_caller_identity().send().await?;
        let data = json!({"UserId": out.user_id(), "Account": out.account(), "Arn": out.arn()});
        Ok::<_, CallError>((Answer::single(data, 1, &out), out))
    }
    .await;
    let (account_id, arn) = match &outcome {
        Ok((_, out)) => (
            out.account().unwrap_or_default().to_string(),
            out.arn().unwrap_or_default().to_string(),
        ),
        Err(e) => return Ok(Err(e.clone())),
    };
    let site = CallSite {
        account_id: &account_id,
        region: None,
        caller_arn: &arn,
    };
    recorder.record(
        site,
        &GET_CALLER_IDENTITY,
        None,
        json!({}),
        outcome.map(|(a, _)| a),
    )?;
    Ok(Ok(AccountSession {
        account_id,
        caller_arn: arn,
        config: config.clone(),
        admission,
    }))
}

/// How to reach member accounts.
#[derive(Debug, Clone)]
pub struct AssumeSettings {
    /// Role name in every member account.
    pub role_name: String,
    /// External id, if the role's trust policy requires one.
    pub external_id: Option<String>,
    /// Session name (says auditpack, so CloudTrail shows who read).
    pub session_name: String,
}

/// Assumes the audit role in `account_id`. The attempt is recorded as
/// `sts:AssumeRole` evidence in that account either way, so an unreachable
/// account is visible, with the reason. The call itself is made in (and counts
/// against the limits of) the caller's account; the session's calls go through
/// `limits`, the member account's.
pub(crate) async fn assume_role(
    base: &AccountSession,
    account_id: &str,
    settings: &AssumeSettings,
    recorder: &Recorder,
    limits: AccountLimits,
) -> Result<Option<AccountSession>, RecordError> {
    let role_arn = format!("arn:aws:iam::{account_id}:role/{}", settings.role_name);
    let client = aws_sdk_sts::Client::new(&base.config);
    let mut request = client
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(&settings.session_name)
        .duration_seconds(3600);
    if let Some(external_id) = &settings.external_id {
        request = request.external_id(external_id);
    }
    let outcome = request.send().await.map_err(CallError::from);
    let parameters = json!({"RoleArn": role_arn, "RoleSessionName": settings.session_name});
    let site = CallSite {
        account_id,
        region: None,
        caller_arn: &base.caller_arn,
    };
    let (answer, session) = match outcome {
        Ok(out) => {
            let assumed = out
                .assumed_role_user()
                .map(|u| u.arn().to_string())
                .unwrap_or_else(|| role_arn.clone());
            let data = json!({"AssumedRoleUser": {"Arn": assumed, "AssumedRoleId": out.assumed_role_user().map(|u| u.assumed_role_id())}});
            let answer = Answer::single(data, 1, &out);
            let session = out.credentials().map(|c| {
                // Renewed by AssumeRole again before they lapse (a long run).
                let renewing = RenewingCredentials::new(
                    AssumeRequest {
                        client: client.clone(),
                        role_arn: role_arn.clone(),
                        session_name: settings.session_name.clone(),
                        external_id: settings.external_id.clone(),
                    },
                    issued(c),
                );
                let config = base
                    .config
                    .to_builder()
                    .credentials_provider(
                        aws_credential_types::provider::SharedCredentialsProvider::new(renewing),
                    )
                    .http_client(limits.http_client)
                    .build();
                AccountSession {
                    account_id: account_id.to_string(),
                    caller_arn: assumed.clone(),
                    config,
                    admission: limits.admission,
                }
            });
            (Ok(answer), session)
        }
        Err(e) => (Err(e), None),
    };
    recorder.record(site, &ASSUME_ROLE, None, parameters, answer)?;
    Ok(session)
}
