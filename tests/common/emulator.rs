//! Test support: a moto AWS emulator on a free loopback port, seeded with the
//! organization of `tests/emulator/seed_org.py`, behind
//! `tests/emulator/fault_proxy.py`. Used by the end-to-end tests (the
//! `emulator` feature); traffic never leaves 127.0.0.1.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::repo;

/// The emulator's helper scripts and its `auditpack.toml`.
fn script(name: &str) -> PathBuf {
    repo().join("tests/emulator").join(name)
}

/// A program of the Python venv scripts/test.sh installs (`.venv`, or
/// `$AUDITPACK_VENV`) with moto and jsonschema.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("AUDITPACK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh (it installs moto into .venv) or set AUDITPACK_VENV",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not start listening on 127.0.0.1:{port} within 60 s");
}

/// A running process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The seeded organization.
pub struct Emulator {
    _moto: Running,
    _proxy: Running,
    /// The endpoint the collector uses (the fault proxy).
    pub endpoint: String,
    /// What the seed created.
    pub seed: serde_json::Value,
}

/// The fault proxy's test-only faults, by the seed's account keys (management,
/// security, log-archive, network, dev, prod, ...): several can be given to one
/// emulator, each in its own account and service, so one collection run
/// carries them all (starting an emulator costs seconds). Services are named
/// by their signing name (`kms`, `config`, `guardduty`, `cloudtrail`, ...); see
/// `tests/emulator/fault_proxy.py` for what each fault sends.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    outage: Vec<String>,
    expired_credentials: Vec<String>,
    /// (account key, the fault as the proxy reads it, without its account id)
    faults: Vec<(String, serde_json::Value)>,
}

impl Faults {
    /// No faults.
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Every AssumeRole into `account` gets its connection dropped (an STS
    /// outage for it, not a refusal).
    pub fn outage(mut self, account: &str) -> Faults {
        self.outage.push(account.into());
        self
    }

    /// `account`'s first credentials are already expired when issued.
    pub fn expired_credentials(mut self, account: &str) -> Faults {
        self.expired_credentials.push(account.into());
        self
    }

    /// Every request of `account` to `service` is read, then its connection
    /// is reset (RST), no answer.
    pub fn reset(self, account: &str, service: &str) -> Faults {
        self.fault(
            account,
            serde_json::json!({"service": service, "fault": "reset"}),
        )
    }

    /// The first `count` requests of `account` to `service` (every one when
    /// `None`) get HTTP `status` (500 or 503) in the service's error shape.
    pub fn server_errors(
        self,
        account: &str,
        service: &str,
        status: u16,
        count: Option<u32>,
    ) -> Faults {
        self.fault(
            account,
            serde_json::json!({"service": service, "fault": "server_error", "status": status, "count": count}),
        )
    }

    /// Every request of `account` to `service` is answered `seconds` late.
    pub fn slow(self, account: &str, service: &str, seconds: f64) -> Faults {
        self.fault(
            account,
            serde_json::json!({"service": service, "fault": "slow", "seconds": seconds}),
        )
    }

    /// The first `count` cloudtrail:LookupEvents requests of `account` (every
    /// one when `None`) get AWS's ThrottlingException, whatever their rate.
    pub fn throttled_lookups(self, account: &str, count: Option<u32>) -> Faults {
        self.fault(
            account,
            serde_json::json!({"service": "cloudtrail", "fault": "throttle", "count": count}),
        )
    }

    fn fault(mut self, account: &str, fault: serde_json::Value) -> Faults {
        self.faults.push((account.into(), fault));
        self
    }
}

impl Emulator {
    /// Starts moto, seeds it and starts the fault proxy in front of it.
    pub fn start() -> Emulator {
        Emulator::start_with(&Faults::new())
    }

    /// [`Emulator::start`], with the fault proxy dropping the connection of
    /// every AssumeRole into the accounts of these seed keys (an STS outage
    /// for them, not a refusal).
    pub fn start_with_outage(outage: &[&str]) -> Emulator {
        Emulator::start_with_faults(outage, &[])
    }

    /// [`Emulator::start`], with the fault proxy's test-only faults for the
    /// accounts of these seed keys: an STS outage (`outage`), and credentials
    /// already expired when first issued (`expired_credentials`).
    pub fn start_with_faults(outage: &[&str], expired_credentials: &[&str]) -> Emulator {
        let faults = outage.iter().fold(Faults::new(), |f, a| f.outage(a));
        let faults = (expired_credentials.iter()).fold(faults, |f, a| f.expired_credentials(a));
        Emulator::start_with(&faults)
    }

    /// [`Emulator::start`], with the fault proxy's test-only `faults`.
    pub fn start_with(faults: &Faults) -> Emulator {
        let moto_port = free_port();
        let moto = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Running(moto);
        wait_until_listening(moto_port, "moto_server");
        let upstream = format!("http://127.0.0.1:{moto_port}");
        let seeded = Command::new(venv_bin("python"))
            .arg(script("seed_org.py"))
            .arg(&upstream)
            .output()
            .unwrap();
        assert!(
            seeded.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        let seed: serde_json::Value =
            serde_json::from_slice(&seeded.stdout).expect("the seed prints JSON");
        // The proxy reads the unreachable accounts and the Access Analyzer
        // fixture from the seed's description of the organization.
        let mut proxy_seed = seed.clone();
        let id = |key: &str| -> serde_json::Value {
            let id = seed["accounts"][key].clone();
            assert!(id.is_string(), "no account {key} in the seed");
            id
        };
        let ids = |keys: &[String]| -> serde_json::Value { keys.iter().map(|k| id(k)).collect() };
        proxy_seed["outage"] = ids(&faults.outage);
        proxy_seed["expired_credentials"] = ids(&faults.expired_credentials);
        proxy_seed["faults"] = (faults.faults.iter())
            .map(|(key, fault)| {
                let mut fault = fault.clone();
                fault["account"] = id(key);
                fault
            })
            .collect();
        let seed_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(seed_file.path(), proxy_seed.to_string()).unwrap();
        let proxy_port = free_port();
        let proxy = Command::new(venv_bin("python"))
            .arg(script("fault_proxy.py"))
            .arg(proxy_port.to_string())
            .arg(&upstream)
            .arg(seed_file.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("the fault proxy starts");
        let proxy = Running(proxy);
        wait_until_listening(proxy_port, "fault_proxy.py");
        Emulator {
            _moto: moto,
            _proxy: proxy,
            endpoint: format!("http://127.0.0.1:{proxy_port}"),
            seed,
        }
    }

    /// An account id from the seed by its key (management, security, log-archive, network, dev, prod, staging).
    pub fn account(&self, key: &str) -> String {
        self.seed["accounts"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no account {key} in the seed"))
            .to_string()
    }

    /// The fault proxy's counters (`GET /__proxy/stats`): AssumeRole answers
    /// per account, the faults it served, the LookupEvents it answered and
    /// throttled for their rate.
    pub fn proxy_stats(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /__proxy/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }

    /// The `auditpack` binary with this emulator's endpoint and test credentials,
    /// and nothing else from the environment's AWS settings.
    pub fn auditpack(&self, secret: &str) -> Command {
        auditpack_at(&self.endpoint, "AKIAAUDITPACKE2ETEST", secret)
    }
}

/// The `auditpack` binary with `endpoint` and the given test credentials, and
/// nothing else from the environment's AWS settings (nor its log filter or CI
/// variables).
pub fn auditpack_at(endpoint: &str, access_key_id: &str, secret: &str) -> Command {
    let mut cmd = super::auditpack();
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd
}

/// Runs a helper script of `tests/emulator` with the venv's python and
/// `args`; panics unless it succeeds; returns its standard output.
pub fn python(name: &str, args: &[&str]) -> String {
    let out = Command::new(venv_bin("python"))
        .arg(script(name))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Adds `collect` of the seed organization's two regions into `out` to `cmd`,
/// as the end-to-end tests run it (two attempts: moto does not throttle).
pub fn collect_seed_org<'c>(cmd: &'c mut Command, out: &Path, config: &Path) -> &'c mut Command {
    cmd.args([
        "collect",
        "--regions",
        "us-east-1,eu-west-1",
        "--period",
        "2026-Q4",
    ])
    .args(["--s3-path-style", "--max-attempts", "2", "--no-progress"])
    .arg("--config")
    .arg(config)
    .arg("--out")
    .arg(out)
}

/// The role rules for the seeded organization (account ids are random; names are
/// not), shared with `scripts/make-samples.sh`.
pub fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("auditpack.toml");
    std::fs::copy(script("auditpack.toml"), &path).unwrap();
    path
}

/// Fails when a file under `dir` holds the test secret key, an AWS credential
/// or signature field, or a private key.
pub fn assert_no_secrets(dir: &Path, secret: &str) {
    for file in super::files_under(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for needle in [
            secret,
            "SecretAccessKey",
            "SessionToken",
            "X-Amz-Security-Token",
            "AWS4-HMAC-SHA256",
            "PRIVATE KEY",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains {needle}",
                file.display()
            );
        }
    }
}
