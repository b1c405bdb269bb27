//! `auditpack init`: discovers the organization with the current credentials
//! and writes a starter `auditpack.toml` (role rules guessed from tags,
//! account names and OUs, the home region, the regions in use), shown for
//! review first, so a first real run needs no hand-written config. Makes only
//! the read-only calls of a collection's discovery, in the management account.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use auditpack_aws::collection::runner::{survey, CollectRequest, Survey};
use auditpack_aws::collection::session::{AssumeSettings, ClientSettings};
use auditpack_core::evaluation::starter_config::{guess_roles, starter_config, RoleGuess};
use auditpack_core::evidence::period::{current_quarter, resolve_period};
use auditpack_core::org::Scope;
use clap::Args;

use crate::exit::{Exit, Failure};

pub(crate) const AFTER_HELP: &str = "Examples:\n  auditpack init --dry-run            (print the file, write nothing)\n  \
    AWS_PROFILE=management auditpack init --out auditpack.toml\n\n\
    Credentials come from the SDK's default chain, as for collect: use the management account (or the\n\
    account Organizations delegates read access to). Nothing is written to AWS.";

/// `auditpack init`'s arguments.
#[derive(Args)]
pub struct InitArgs {
    /// The file to write.
    #[arg(long, default_value = "auditpack.toml")]
    out: PathBuf,
    /// Print the file instead of writing it (the guesses go to stderr).
    #[arg(long)]
    dry_run: bool,
    /// Replace the file when it exists.
    #[arg(long)]
    force: bool,
    /// Write without asking, even at a terminal.
    #[arg(long)]
    yes: bool,
    /// AWS profile to use instead of the default credential chain.
    #[arg(long)]
    profile: Option<String>,
    /// Home region; default: the SDK's region chain, else us-east-1.
    #[arg(long)]
    region: Option<String>,
    /// Path-style S3 addressing (emulators).
    #[arg(long, hide = true)]
    s3_path_style: bool,
}

/// Discovers, guesses, shows, and writes (or prints) the starter file.
pub fn run(args: &InitArgs) -> Result<Exit, Failure> {
    if !args.dry_run && !args.force && args.out.exists() {
        return Err(Failure::input(format!(
            "{} already exists; review it, or pass --force to replace it (--dry-run prints what init would write)",
            args.out.display()
        )));
    }
    let found = discover(args)?;
    let guesses = guess_roles(&found.org);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let text = starter_config(
        &found.org,
        &guesses,
        &found.home_region,
        &found.enabled_regions,
        &today,
    )
    .map_err(Failure::tool)?;
    let table = guess_table(&guesses);
    if args.dry_run {
        eprint!("{table}");
        out!("{text}");
        return Ok(Exit::Done);
    }
    out!("{table}");
    if std::io::stdin().is_terminal() && !args.yes && !confirmed(&args.out)? {
        outln!("nothing written");
        return Ok(Exit::Done);
    }
    write_atomically(&args.out, &text)?;
    outln!(
        "wrote {}: review the roles, then run auditpack controls lint --config {}",
        args.out.display(),
        args.out.display()
    );
    Ok(Exit::Done)
}

/// The organization, its home region and enabled regions, from the
/// management account; the calls' evidence goes to a scratch folder.
fn discover(args: &InitArgs) -> Result<Survey, Failure> {
    let scratch = tempfile::tempdir()
        .map_err(|e| Failure::tool(format!("cannot create a scratch folder: {e}")))?;
    let period = current_quarter(chrono::Utc::now().date_naive());
    let period_dates = resolve_period(&period, 1).map_err(Failure::tool)?;
    let request = CollectRequest {
        out: scratch.path().join("survey"),
        period,
        period_dates,
        regions: Vec::new(),
        client: ClientSettings {
            profile: args.profile.clone(),
            home_region: args.region.clone(),
            max_attempts: 5,
            call_timeout: Duration::from_secs(60),
            s3_path_style: args.s3_path_style,
        },
        assume: AssumeSettings {
            role_name: String::new(),
            external_id: None,
            session_name: "auditpack-init".into(),
        },
        max_concurrency: 4,
        account_concurrency: 4,
        scope: Scope::new(&[], &[]),
        command_line: std::env::args().collect(),
        progress: false,
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::tool(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(survey(&request))?)
}

/// One line per active account: id, role, why (names are shown quoted and
/// without control characters: they are whatever the account's owner typed).
fn guess_table(guesses: &[RoleGuess]) -> String {
    let mut table = format!("{:<14} {:<16} {:<32} WHY\n", "ACCOUNT", "ROLE", "NAME");
    for g in guesses {
        let name: String = g
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(30)
            .collect();
        let role = g.role.map(|r| r.as_str()).unwrap_or("(none)");
        table.push_str(&format!(
            "{:<14} {:<16} {:<32} {}\n",
            g.account_id,
            role,
            format!("{name:?}"),
            g.reason()
        ));
    }
    table
}

/// Asks at a terminal; anything but yes is no.
fn confirmed(out: &std::path::Path) -> Result<bool, Failure> {
    print!("Write {} with these roles? [y/N] ", out.display());
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::tool(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Writes `text` beside `path` and renames it into place, so an interrupted
/// init never leaves half a config.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Failure::tool(format!("{}: cannot write: {e}", dir.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::tool(format!("{}: cannot write: {e}", path.display())))?;
    file.persist(path)
        .map_err(|e| Failure::tool(format!("{}: cannot write: {}", path.display(), e.error)))?;
    Ok(())
}
