//! auditpack's integration tests, as one test binary (`[[test]] name = "tests"`
//! in Cargo.toml; `autotests = false`): each file of `tests/` is a module of
//! it, and every helper they share is in `tests/common/`.
//!
//! A plain `cargo test` runs the offline tests: the real binary on the
//! bundled samples and on evidence folders the tests write, with the system's
//! OpenSSH, coreutils and OpenSSL. The end-to-end tests against the moto AWS
//! emulator (`live_collection`, `sharding`, `bench_server` and
//! `custody::kms`) need moto in `.venv` and are behind the `emulator`
//! feature: `scripts/test.sh` installs moto and runs
//! `cargo test --workspace --features emulator`.
//!
//! One module's tests: `cargo test --test tests control_cases::`.

mod common;

mod bundle;
mod control_cases;
mod custody;
mod engine;
mod gate;
mod hostile;
mod install;
mod merge;
mod period;
mod period_package;
mod report_snapshot;

#[cfg(feature = "emulator")]
mod bench_server;
#[cfg(feature = "emulator")]
mod faults;
#[cfg(feature = "emulator")]
mod init;
#[cfg(feature = "emulator")]
mod live_collection;
#[cfg(feature = "emulator")]
mod locker;
#[cfg(feature = "emulator")]
mod sharding;
