//! Credentials of an assumed audit role that renew themselves: AssumeRole
//! gives an hour, and a long run (a large account, the event history's
//! spacing, throttling) must not have its last calls refused as expired. The
//! first AssumeRole is the evidence (`sts:AssumeRole`); renewals are the same
//! request again, logged, not recorded.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;

/// Renew at most this long before expiry (or a quarter of the credentials'
/// lifetime, when that is shorter).
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// The AssumeRole request that issued the credentials, to make again.
#[derive(Debug, Clone)]
pub(super) struct AssumeRequest {
    pub(super) client: aws_sdk_sts::Client,
    pub(super) role_arn: String,
    pub(super) session_name: String,
    pub(super) external_id: Option<String>,
}

impl AssumeRequest {
    /// Makes the request; the credentials, stamped with when they were issued.
    async fn credentials(&self) -> Result<Issued, provider::error::CredentialsError> {
        let mut request = self
            .client
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .duration_seconds(3600);
        if let Some(external_id) = &self.external_id {
            request = request.external_id(external_id);
        }
        let out = request
            .send()
            .await
            .map_err(provider::error::CredentialsError::provider_error)?;
        let c = out.credentials().ok_or_else(|| {
            provider::error::CredentialsError::not_loaded("AssumeRole gave no credentials")
        })?;
        Ok(issued(c))
    }
}

/// STS credentials as the SDK keeps them, with when they were issued.
#[derive(Debug, Clone)]
pub(super) struct Issued {
    credentials: Credentials,
    issued_at: SystemTime,
}

/// The SDK's credentials of an AssumeRole answer, with their expiry.
pub(super) fn issued(c: &aws_sdk_sts::types::Credentials) -> Issued {
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    Issued {
        credentials: Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "auditpack-assume-role",
        ),
        issued_at: SystemTime::now(),
    }
}

/// Whether credentials issued at `issued_at`, expiring at `expiry`, are due
/// for renewal at `now`: within the margin of their expiry, or past it.
fn due(now: SystemTime, issued_at: SystemTime, expiry: Option<SystemTime>) -> bool {
    let Some(expiry) = expiry else {
        return false;
    };
    let lifetime = expiry.duration_since(issued_at).unwrap_or_default();
    let margin = RENEW_MARGIN.min(lifetime / 4);
    match expiry.duration_since(now) {
        Ok(left) => left <= margin,
        Err(_) => true,
    }
}

/// A credentials provider that hands out the current credentials and renews
/// them by AssumeRole when they are due.
#[derive(Debug)]
pub(super) struct RenewingCredentials {
    request: AssumeRequest,
    current: Mutex<Issued>,
}

impl RenewingCredentials {
    pub(super) fn new(request: AssumeRequest, first: Issued) -> RenewingCredentials {
        RenewingCredentials {
            request,
            current: Mutex::new(first),
        }
    }

    async fn provide(&self) -> provider::Result {
        let now = SystemTime::now();
        let current = self.current.lock().expect("credentials lock").clone();
        if !due(now, current.issued_at, current.credentials.expiry()) {
            return Ok(current.credentials);
        }
        match self.request.credentials().await {
            Ok(renewed) => {
                tracing::info!(
                    role = %self.request.role_arn,
                    "renewed the assumed role's credentials before they lapse"
                );
                *self.current.lock().expect("credentials lock") = renewed.clone();
                Ok(renewed.credentials)
            }
            // Still valid: keep using them; the next call tries again.
            Err(e) if current.credentials.expiry().is_some_and(|t| t > now) => {
                tracing::warn!(
                    role = %self.request.role_arn,
                    "could not renew the assumed role's credentials yet: {e}"
                );
                Ok(current.credentials)
            }
            Err(e) => Err(e),
        }
    }
}

impl ProvideCredentials for RenewingCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.provide())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_due_near_or_past_their_expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let hour = Some(t0 + Duration::from_secs(3600));
        assert!(!due(t0, t0, hour), "fresh");
        assert!(
            !due(t0 + Duration::from_secs(3299), t0, hour),
            "more than 5 min left"
        );
        assert!(due(t0 + Duration::from_secs(3300), t0, hour), "5 min left");
        assert!(due(t0 + Duration::from_secs(4000), t0, hour), "expired");
        // Short-lived credentials: a quarter of their lifetime.
        let minute = Some(t0 + Duration::from_secs(60));
        assert!(!due(t0 + Duration::from_secs(44), t0, minute));
        assert!(due(t0 + Duration::from_secs(45), t0, minute));
        // Already expired when issued (a skewed clock): due at once.
        assert!(due(t0, t0, Some(t0 - Duration::from_secs(1))));
        assert!(!due(t0, t0, None), "no expiry, never renewed");
    }
}
