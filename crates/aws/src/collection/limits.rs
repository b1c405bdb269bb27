//! How many HTTP requests are in flight: at most `--max-concurrency` across the
//! run and `--account-concurrency` per AWS account, over one shared connection
//! pool.
//!
//! The limits sit in the SDK's HTTP layer, around each request attempt, rather
//! than around a whole SDK call, because a call that is throttled sleeps inside
//! the SDK (jittered exponential backoff, 0–1 s on the first retry) before it
//! tries again. Holding a permit through that sleep left permits idle for
//! ten round trips at a time; measured with bench/collect at 5 % throttling,
//! 100 accounts × 17 regions went from 17.7 s to 12.35 s when the permits
//! moved here over one shared connection pool (docs/performance.md).
//!
//! The account permit is taken before the run-wide one, so a request waiting
//! for its (busy) account never holds one of the run's permits idle.
//!
//! A call is also *admitted* before the SDK starts it ([`AccountLimits::admission`],
//! four times the account limit): the SDK's `--call-timeout` runs from the
//! start of the call, so an account with thousands of buckets must not start
//! thousands of calls that then wait for its 8 HTTP permits and time out in
//! the queue. Admitted calls sleeping in backoff hold an admission slot only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::Semaphore;

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxy settings
/// from `HTTPS_PROXY`/`NO_PROXY`), built once for the whole run. Left to
/// itself, the SDK builds a new client, with its own connection pool, for every
/// service client; auditpack makes one service client per account, region and
/// source, so every call would open a new connection (and, against AWS, a new
/// TLS handshake).
pub(crate) fn shared_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Calls of one account started at once, per account permit.
const ADMITTED_PER_PERMIT: usize = 4;

/// One account's limits.
#[derive(Debug, Clone)]
pub(crate) struct AccountLimits {
    /// Its SDK configs' HTTP client.
    pub http_client: SharedHttpClient,
    /// Calls started and not finished (waiting, in flight or in backoff).
    pub admission: Arc<Semaphore>,
}

/// The run's limits and request counters, shared by every account.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    inner: SharedHttpClient,
    global: Arc<Semaphore>,
    per_account: usize,
    counters: Arc<RequestCounters>,
}

/// HTTP requests sent, and how many of them were retries (the SDK numbers each
/// attempt in its `amz-sdk-request: attempt=N; max=M` header).
#[derive(Debug, Default)]
pub(crate) struct RequestCounters {
    requests: AtomicU64,
    retries: AtomicU64,
}

impl RequestCounters {
    /// Requests sent so far, retries included.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests that were a second or later attempt of a call.
    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    fn count(&self, request: &HttpRequest) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if attempt_number(request) > 1 {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The attempt number the SDK wrote into `amz-sdk-request` (1 when absent).
fn attempt_number(request: &HttpRequest) -> u32 {
    request
        .headers()
        .get("amz-sdk-request")
        .and_then(|value| {
            value
                .split(';')
                .find_map(|part| part.trim().strip_prefix("attempt="))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1)
}

impl Limits {
    /// At most `max_concurrency` requests in flight across the run and
    /// `account_concurrency` per account, over `inner`.
    pub(crate) fn new(
        inner: SharedHttpClient,
        max_concurrency: usize,
        account_concurrency: usize,
    ) -> Limits {
        Limits {
            inner,
            global: Arc::new(Semaphore::new(max_concurrency.max(1))),
            per_account: account_concurrency.max(1),
            counters: Arc::default(),
        }
    }

    /// The limits of one more account: an HTTP client with its own account
    /// permits (and the run's), and its admission of calls. Give every config
    /// of that account (all regions, all services) this one client, so they
    /// share the account's permits.
    pub(crate) fn for_account(&self) -> AccountLimits {
        AccountLimits {
            http_client: self.new_account_client().into_shared(),
            admission: Arc::new(Semaphore::new(ADMITTED_PER_PERMIT * self.per_account)),
        }
    }

    fn new_account_client(&self) -> LimitedClient {
        LimitedClient {
            inner: self.inner.clone(),
            global: self.global.clone(),
            account: Arc::new(Semaphore::new(self.per_account)),
            counters: self.counters.clone(),
        }
    }

    /// The request counters of the run.
    pub(crate) fn counters(&self) -> &RequestCounters {
        &self.counters
    }
}

#[derive(Debug, Clone)]
struct LimitedClient {
    inner: SharedHttpClient,
    global: Arc<Semaphore>,
    account: Arc<Semaphore>,
    counters: Arc<RequestCounters>,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limits: self.clone(),
        }
        .into_shared()
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_base_client_config(components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limits: LimitedClient,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limits = self.limits.clone();
        HttpConnectorFuture::new(async move {
            let _account = limits.account.acquire_owned().await;
            let _global = limits.global.acquire_owned().await;
            limits.counters.count(&request);
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    /// A connector that answers after 5 ms and records how many requests it
    /// held at once, overall and per account (named by a header).
    #[derive(Debug, Default)]
    struct Recording {
        now: Mutex<std::collections::HashMap<String, usize>>,
        total: AtomicUsize,
        max_total: AtomicUsize,
        max_per_account: AtomicUsize,
    }

    #[derive(Debug, Clone)]
    struct RecordingConnector(Arc<Recording>);

    impl HttpConnector for RecordingConnector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let seen = self.0.clone();
            let account = request.headers().get("x-account").unwrap_or("").to_string();
            HttpConnectorFuture::new(async move {
                let total = seen.total.fetch_add(1, Ordering::SeqCst) + 1;
                seen.max_total.fetch_max(total, Ordering::SeqCst);
                let here = {
                    let mut now = seen.now.lock().unwrap();
                    let n = now.entry(account.clone()).or_default();
                    *n += 1;
                    *n
                };
                seen.max_per_account.fetch_max(here, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                *seen.now.lock().unwrap().get_mut(&account).unwrap() -= 1;
                seen.total.fetch_sub(1, Ordering::SeqCst);
                Ok(HttpResponse::new(200.try_into().unwrap(), SdkBody::empty()))
            })
        }
    }

    fn connector_for(account: &LimitedClient, seen: &Arc<Recording>) -> LimitedConnector {
        LimitedConnector {
            inner: RecordingConnector(seen.clone()).into_shared(),
            limits: account.clone(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_in_flight_stay_within_the_account_and_run_limits() {
        let limits = Limits::new(shared_https_client(), 4, 3);
        let seen = Arc::new(Recording::default());
        let accounts: Vec<LimitedClient> = (0..3).map(|_| limits.new_account_client()).collect();
        let calls = accounts.iter().enumerate().flat_map(|(i, account)| {
            let connector = connector_for(account, &seen);
            (0..20).map(move |attempt| {
                let mut request = request_with(Some(if attempt % 5 == 4 {
                    "attempt=2; max=8"
                } else {
                    "attempt=1; max=8"
                }));
                request.headers_mut().insert("x-account", i.to_string());
                connector.call(request)
            })
        });
        for answer in futures::future::join_all(calls).await {
            assert_eq!(answer.unwrap().status().as_u16(), 200);
        }
        assert_eq!(
            seen.max_total.load(Ordering::SeqCst),
            4,
            "run limit reached, never passed"
        );
        assert!(seen.max_per_account.load(Ordering::SeqCst) <= 3);
        assert_eq!(
            (limits.counters().requests(), limits.counters().retries()),
            (60, 12)
        );
    }

    #[test]
    fn each_account_gets_its_own_permits_and_admission() {
        let limits = Limits::new(shared_https_client(), 64, 8);
        let (a, b) = (limits.for_account(), limits.for_account());
        assert_eq!(a.admission.available_permits(), 32);
        assert!(!Arc::ptr_eq(&a.admission, &b.admission));
    }

    fn request_with(header: Option<&str>) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::empty());
        if let Some(value) = header {
            request
                .headers_mut()
                .insert("amz-sdk-request", value.to_string());
        }
        request
    }

    #[test]
    fn attempt_number_comes_from_the_sdk_header() {
        assert_eq!(attempt_number(&request_with(Some("attempt=1; max=8"))), 1);
        assert_eq!(attempt_number(&request_with(Some("attempt=3; max=8"))), 3);
        assert_eq!(attempt_number(&request_with(Some("ttl=x; attempt=2"))), 2);
        assert_eq!(attempt_number(&request_with(None)), 1);
    }

    #[test]
    fn counters_separate_first_attempts_from_retries() {
        let counters = RequestCounters::default();
        counters.count(&request_with(Some("attempt=1; max=8")));
        counters.count(&request_with(Some("attempt=2; max=8")));
        counters.count(&request_with(None));
        assert_eq!((counters.requests(), counters.retries()), (3, 1));
    }
}
