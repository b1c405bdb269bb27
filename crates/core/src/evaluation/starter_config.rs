//! The starter `auditpack.toml` that `auditpack init` writes: role rules
//! guessed from what the organization already says about its accounts
//! (tags, names, OUs), the home region and the regions in use, each guess
//! with its reason in a comment, so a first real run needs no hand-written
//! config and a person can review every guess in one file.
//!
//! Guesses go from the most to the least deliberate signal: a tag that names
//! the account's role (`account-role = "network"`), then words of the account
//! name (`acme-log-archive`), then, for the roles many accounts share
//! (workload, sandbox), words of an OU (`Root/Workloads/Prod`). The singleton
//! roles (security, log-archive, network, shared-services) are never guessed
//! from an OU alone: AWS Control Tower's `Security` OU holds both the audit
//! and the log-archive account.
//!
//! The written file is parsed back and applied to the organization before it
//! is returned: every account gets exactly the role the guess table shows, or
//! the file is not written (see [`starter_config`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::config::Config;
use crate::org::{Account, Org, Role};

/// Words that name a role, as token sequences of a lowercased name (split on
/// anything that is not a letter or digit), most specific role first.
const ROLE_WORDS: &[(Role, &[&[&str]])] = &[
    (
        Role::LogArchive,
        &[
            &["log", "archive"],
            &["logarchive"],
            &["logs"],
            &["logging"],
            &["archive"],
        ],
    ),
    (
        Role::Security,
        &[&["security"], &["audit"], &["infosec"], &["secops"]],
    ),
    (
        Role::Network,
        &[
            &["network"],
            &["networking"],
            &["transit"],
            &["connectivity"],
            &["net"],
        ],
    ),
    (
        Role::SharedServices,
        &[
            &["shared", "services"],
            &["sharedservices"],
            &["shared"],
            &["tooling"],
            &["tools"],
            &["cicd"],
            &["deployment"],
            &["infrastructure"],
        ],
    ),
    (
        Role::Sandbox,
        &[
            &["sandbox"],
            &["sandboxes"],
            &["playground"],
            &["experiments"],
            &["lab"],
            &["poc"],
        ],
    ),
    (
        Role::Workload,
        &[
            &["prod"],
            &["production"],
            &["prd"],
            &["preprod"],
            &["nonprod"],
            &["staging"],
            &["stage"],
            &["stg"],
            &["dev"],
            &["development"],
            &["test"],
            &["testing"],
            &["qa"],
            &["uat"],
            &["workload"],
            &["workloads"],
            &["apps"],
        ],
    ),
];

/// Tag keys (lowercased) whose value may name the account's role.
const ROLE_TAG_KEYS: &[&str] = &[
    "account-role",
    "account_role",
    "accountrole",
    "role",
    "account-type",
    "account_type",
    "accounttype",
    "purpose",
    "environment",
    "env",
];

/// What a guess rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The management account, which Organizations names itself.
    Management,
    /// A tag whose value names the role.
    Tag {
        /// The tag key, as written on the account.
        key: String,
        /// Its value.
        value: String,
    },
    /// Words of the account's name.
    Name,
    /// Words of an OU on the account's path: the rule selects that OU and below.
    Ou {
        /// The OU path up to the OU that names the role (`Root/Workloads`).
        path: String,
    },
    /// Nothing named a role.
    Nothing,
}

/// One active account's guessed role and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGuess {
    /// Account id.
    pub account_id: String,
    /// Account name (untrusted text).
    pub name: String,
    /// OU path.
    pub ou_path: String,
    /// The guessed role, if any.
    pub role: Option<Role>,
    /// What it rests on.
    pub basis: Basis,
    /// The words that matched (`log archive`), for the reason shown.
    pub words: String,
}

impl RoleGuess {
    /// The reason, in words (no untrusted text).
    pub fn reason(&self) -> String {
        match &self.basis {
            Basis::Management => "the organization's management account".into(),
            Basis::Tag { .. } => format!("a role tag says \"{}\"", self.words),
            Basis::Name => format!("the account name says \"{}\"", self.words),
            Basis::Ou { .. } => format!("an OU on its path says \"{}\"", self.words),
            Basis::Nothing => "nothing in its tags, name or OUs names a role".into(),
        }
    }
}

/// The words of a name: lowercased runs of letters and digits.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
        .collect()
}

/// The role `text` names, with the words that matched; `roles` limits which.
fn role_named(text: &str, roles: &[Role]) -> Option<(Role, String)> {
    let words = tokens(text);
    for (role, phrases) in ROLE_WORDS.iter().filter(|(r, _)| roles.contains(r)) {
        for phrase in *phrases {
            let found = words
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase.iter()).all(|(a, b)| a == b));
            if found {
                return Some((*role, phrase.join(" ")));
            }
        }
    }
    None
}

const EVERY_ROLE: &[Role] = &[
    Role::LogArchive,
    Role::Security,
    Role::Network,
    Role::SharedServices,
    Role::Sandbox,
    Role::Workload,
];

/// Roles many accounts share, which an OU may name.
const POPULATION_ROLES: &[Role] = &[Role::Sandbox, Role::Workload];

/// Guesses the role of every active account (the management account's is
/// its own), sorted by account id.
pub fn guess_roles(org: &Org) -> Vec<RoleGuess> {
    let management = &org.organization.management_account_id;
    let mut guesses: Vec<RoleGuess> = org
        .active_accounts()
        .map(|account| guess_one(account, management))
        .collect();
    guesses.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    guesses
}

fn guess_one(account: &Account, management: &str) -> RoleGuess {
    let guess = |role, basis, words: String| RoleGuess {
        account_id: account.id.clone(),
        name: account.name.clone(),
        ou_path: account.ou_path.clone(),
        role,
        basis,
        words,
    };
    if account.id == management {
        return guess(Some(Role::Management), Basis::Management, String::new());
    }
    for wanted in ROLE_TAG_KEYS {
        let tag = account
            .tags
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == *wanted);
        if let Some((key, value)) = tag {
            if let Some((role, words)) = role_named(value, EVERY_ROLE) {
                let basis = Basis::Tag {
                    key: key.clone(),
                    value: value.clone(),
                };
                return guess(Some(role), basis, words);
            }
        }
    }
    if let Some((role, words)) = role_named(&account.name, EVERY_ROLE) {
        return guess(Some(role), Basis::Name, words);
    }
    // The outermost OU that names a population role (Root/Workloads/Prod:
    // Workloads), so one rule covers the OU and everything below it.
    let segments: Vec<&str> = account.ou_path.split('/').collect();
    for (i, segment) in segments.iter().enumerate().skip(1) {
        if let Some((role, words)) = role_named(segment, POPULATION_ROLES) {
            let path = segments[..=i].join("/");
            return guess(Some(role), Basis::Ou { path }, words);
        }
    }
    guess(None, Basis::Nothing, String::new())
}

/// A TOML string literal: quoted and escaped, so an account name or tag with
/// quotes, newlines or `#` stays one value.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The starter file: a header naming the organization, the home region and
/// the regions in use; one `[[roles]]` rule per role and basis, each value
/// commented with its reason; the accounts left without a role; and the
/// settings a team usually sets next, commented out. Parsed back and applied
/// to `org`, it gives every account the role its guess says; if it would
/// not, the accounts it got wrong are pinned by id first (and checked again).
pub fn starter_config(
    org: &Org,
    guesses: &[RoleGuess],
    home_region: &str,
    enabled_regions: &Result<Vec<String>, String>,
    written_on: &str,
) -> Result<String, String> {
    let mut pinned: Vec<&RoleGuess> = Vec::new();
    for _ in 0..2 {
        let text = render(
            org,
            guesses,
            &pinned,
            home_region,
            enabled_regions,
            written_on,
        );
        let wrong = misassigned(org, guesses, &text)?;
        if wrong.is_empty() {
            return Ok(text);
        }
        pinned = guesses
            .iter()
            .filter(|g| wrong.contains(&g.account_id.as_str()))
            .collect();
    }
    Err("the role rules written do not give every account its guessed role".into())
}

/// The accounts whose role under `text` is not their guess.
fn misassigned<'a>(
    org: &Org,
    guesses: &'a [RoleGuess],
    text: &str,
) -> Result<Vec<&'a str>, String> {
    let config = Config::parse(Path::new("auditpack.toml"), text).map_err(|errors| {
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!("the starter config does not parse: {}", shown.join("; "))
    })?;
    let management = &org.organization.management_account_id;
    Ok(guesses
        .iter()
        .filter(|g| {
            let account = org.account(&g.account_id).expect("guessed from this org");
            config.role_for(account, management) != g.role
        })
        .map(|g| g.account_id.as_str())
        .collect())
}

fn render(
    org: &Org,
    guesses: &[RoleGuess],
    pinned: &[&RoleGuess],
    home_region: &str,
    enabled_regions: &Result<Vec<String>, String>,
    written_on: &str,
) -> String {
    let mut out = String::new();
    let o = &org.organization;
    let active = org.active_accounts().count();
    let _ = writeln!(
        out,
        "# auditpack.toml, written by `auditpack init` on {written_on} for organization {}",
        o.id
    );
    let _ = writeln!(
        out,
        "# (management account {}, {active} active accounts).",
        o.management_account_id
    );
    out.push_str(
        "# Every role below is a guess, with its reason: review them before the first run.\n",
    );
    out.push_str("# A role decides which controls judge an account (docs/controls.md).\n#\n");
    let _ = writeln!(
        out,
        "# Home region (from your credentials; global services are read there): {home_region}"
    );
    match enabled_regions {
        Ok(regions) if regions.is_empty() => {
            out.push_str(
                "# account:ListRegions listed no enabled region: name them with --regions.\n",
            );
        }
        Ok(regions) => {
            let _ = writeln!(
                out,
                "# Regions enabled in the management account: {}.",
                regions.join(", ")
            );
            let _ = writeln!(
                out,
                "# Collect them with: auditpack run --regions {} --out audit",
                regions.join(",")
            );
            out.push_str("# (or --regions all: each account's own enabled regions)\n");
        }
        Err(why) => {
            let why: String = why.chars().filter(|c| !c.is_control()).collect();
            let _ = writeln!(out, "# The enabled regions could not be listed ({why});");
            out.push_str("# name them with --regions when you run auditpack.\n");
        }
    }
    out.push_str(
        "\n# ---- Account roles (the first rule that selects an account gives its role) ----\n",
    );
    for guess in pinned {
        let role = guess.role.map(Role::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "\n[[roles]]\nrole = \"{role}\"\nids = [{}]   # {}",
            quoted(&guess.account_id),
            guess.reason()
        );
    }
    let unique_name = |name: &str| org.accounts.iter().filter(|a| a.name == name).count() == 1;
    // Rules by (role, basis kind): tags, then names (ids where a name is
    // shared), then OUs, so the specific rules come before the broad ones.
    let mut by_tag: BTreeMap<(Role, String, String), Vec<&RoleGuess>> = BTreeMap::new();
    let mut by_name: BTreeMap<Role, Vec<&RoleGuess>> = BTreeMap::new();
    let mut by_ou: BTreeMap<(Role, String), Vec<&RoleGuess>> = BTreeMap::new();
    for g in guesses {
        let Some(role) = g.role else { continue };
        match &g.basis {
            Basis::Tag { key, value } => by_tag
                .entry((role, key.clone(), value.clone()))
                .or_default()
                .push(g),
            Basis::Name => by_name.entry(role).or_default().push(g),
            Basis::Ou { path } => by_ou.entry((role, path.clone())).or_default().push(g),
            Basis::Management | Basis::Nothing => {}
        }
    }
    for ((role, key, value), accounts) in &by_tag {
        let _ = writeln!(
            out,
            "\n[[roles]]\nrole = \"{}\"\ntags = {{ {} = {} }}   # {} account(s)",
            role.as_str(),
            quoted(key),
            quoted(value),
            accounts.len()
        );
    }
    for (role, accounts) in &by_name {
        let _ = writeln!(out, "\n[[roles]]\nrole = \"{}\"", role.as_str());
        let (named, shared): (Vec<&&RoleGuess>, Vec<&&RoleGuess>) =
            accounts.iter().partition(|g| unique_name(&g.name));
        if !named.is_empty() {
            out.push_str("names = [\n");
            for g in named {
                let _ = writeln!(
                    out,
                    "  {},   # {}: {}",
                    quoted(&g.name),
                    g.account_id,
                    g.reason()
                );
            }
            out.push_str("]\n");
        }
        if !shared.is_empty() {
            out.push_str("ids = [   # accounts whose name another account shares\n");
            for g in shared {
                let _ = writeln!(out, "  {},   # {}", quoted(&g.account_id), g.reason());
            }
            out.push_str("]\n");
        }
    }
    for ((role, path), accounts) in &by_ou {
        let _ = writeln!(
            out,
            "\n[[roles]]\nrole = \"{}\"\nou_paths = [{}]   # {} account(s): {}",
            role.as_str(),
            quoted(&format!("{path}/*")),
            accounts.len(),
            accounts[0].reason()
        );
    }
    let unassigned: Vec<&RoleGuess> = guesses.iter().filter(|g| g.role.is_none()).collect();
    if !unassigned.is_empty() {
        out.push_str("\n# No role guessed for these accounts (org.inventory reports accounts without a role);\n");
        out.push_str("# add a rule, or leave them out of the role-based controls:\n");
        for g in unassigned {
            let _ = writeln!(
                out,
                "#   {}  {}  {}",
                g.account_id,
                quoted(&g.name),
                quoted(&g.ou_path)
            );
        }
    }
    out.push_str(concat!(
        "\n# ---- Usually set next ----\n",
        "# The change process: changes by these principals are managed changes; anyone\n",
        "# else's change to what a control tests is an exception of the audit period.\n",
        "# [changes]\n",
        "# trusted_principals = [\"arn:aws:iam::*:role/terraform-apply\"]\n",
        "#\n",
        "# A fiscal year that starts in another month than January:\n",
        "# [period]\n",
        "# fiscal_year_start_month = 4\n",
        "#\n",
        "# Parameters, and controls turned off with a written reason:\n",
        "# [controls.\"logarchive.immutable\"]\n",
        "# params = { min_retention_days = 2555 }\n",
    ));
    out
}

#[cfg(test)]
mod tests;
