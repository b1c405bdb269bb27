//! `auditpack.toml`: the user's settings. For evaluation: parameter overrides per
//! control, and controls turned off, which always needs a written reason (the
//! report shows it, so an auditor sees every gap that was chosen).
//!
//! For discovery: which role each account plays. The management account is
//! found by itself; the other roles are assigned by rules (first match wins),
//! selecting accounts by id, name, OU path or tag.
//!
//! ```toml
//! [[roles]]
//! role = "log-archive"
//! names = ["acme-log-archive"]
//!
//! [[roles]]
//! role = "workload"
//! ou_paths = ["Root/Workloads/*"]          # a trailing /* matches the OU and everything below it
//!
//! [controls."logarchive.immutable"]
//! params = { min_retention_days = 2555 }   # seven years
//!
//! [controls."iam.password-policy"]
//! enabled = false
//! reason = "All human access is through IAM Identity Center; no IAM users exist (ticket SEC-142)."
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::evaluation::{toml_to_json, Control, LintError};
use crate::org::{Account, Role};

/// Settings for one control.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSettings {
    /// Parameter overrides; each must exist in the control with the same type.
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<toml::Value>>,
    /// `false` turns the control off (needs `reason`).
    pub enabled: Option<Spanned<bool>>,
    /// Why the control is off; shown in the report and results.
    pub reason: Option<Spanned<String>>,
}

/// A rule assigning a role to the accounts it selects (any selector matching is enough).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// The role to assign.
    pub role: Role,
    /// Account ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Account names (exact).
    #[serde(default)]
    pub names: Vec<String>,
    /// OU paths like `Root/Security`; `Root/Workloads/*` also matches every OU below.
    #[serde(default)]
    pub ou_paths: Vec<String>,
    /// Tags that must all be present with these values.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl RoleRule {
    /// True when the rule selects this account.
    pub fn selects(&self, account: &Account) -> bool {
        self.ids.contains(&account.id)
            || self.names.contains(&account.name)
            || self
                .ou_paths
                .iter()
                .any(|pattern| ou_matches(pattern, &account.ou_path))
            || (!self.tags.is_empty()
                && self
                    .tags
                    .iter()
                    .all(|(k, v)| account.tags.get(k) == Some(v)))
    }
}

fn ou_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix("/*") {
        Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
        None => path == pattern,
    }
}

/// `[changes]` of `auditpack.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSettings {
    /// The principals of the change process (the Terraform pipeline's roles):
    /// ARN patterns where `*` matches any run of characters, compared with the
    /// role a session was issued from (`sessionContext.sessionIssuer.arn`) and
    /// with the identity's own ARN. A change they make is a managed change;
    /// anyone else's is an exception.
    #[serde(default)]
    pub trusted_principals: Vec<String>,
}

impl ChangeSettings {
    /// Whether `arn` matches a trusted principal pattern.
    pub fn trusts(&self, arn: &str) -> bool {
        self.trusted_principals.iter().any(|p| glob_matches(p, arn))
    }
}

/// `*` matches any run of characters (none included); everything else itself.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// `[period]` of `auditpack.toml`.
/// `[criteria]`: the categories of the SOC 2 report beyond security, whose
/// criteria the coverage lists (and flags when nothing evidences them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaSettings {
    /// `availability`, `confidentiality`, `processing-integrity`, `privacy`.
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSettings {
    /// The month the fiscal year starts in (1 = January, the default): years,
    /// halves and quarters in `--period` are then fiscal.
    #[serde(default = "january")]
    pub fiscal_year_start_month: u32,
    /// How often the gate runs (`daily`, `weekly`, …), for `auditpack
    /// period`: it sets the longest allowed stretch without a run and the
    /// sample size. Default `weekly`.
    #[serde(default)]
    pub frequency: Option<String>,
    /// The longest stretch, in days, a control may go without evidence
    /// before the period verdict is NOT ASSESSED; default from `frequency`.
    #[serde(default)]
    pub max_gap_days: Option<u32>,
    /// The sampling seed; default: derived from the included bundles' hashes.
    #[serde(default)]
    pub seed: Option<String>,
    /// Sample sizes by frequency, replacing the defaults one by one.
    #[serde(default)]
    pub sample_sizes: BTreeMap<String, u32>,
    /// Per-control `frequency` and `max_gap_days`, by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, PeriodControlSettings>,
}

/// `[period.controls."<id>"]`: one control's own frequency or allowed gap.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodControlSettings {
    /// How often this control operates (overrides `[period] frequency`).
    #[serde(default)]
    pub frequency: Option<String>,
    /// Its longest allowed stretch without evidence, in days.
    #[serde(default)]
    pub max_gap_days: Option<u32>,
}

impl Default for PeriodSettings {
    fn default() -> Self {
        PeriodSettings {
            fiscal_year_start_month: january(),
            frequency: None,
            max_gap_days: None,
            seed: None,
            sample_sizes: BTreeMap::new(),
            controls: BTreeMap::new(),
        }
    }
}

fn january() -> u32 {
    1
}

/// Contents of `auditpack.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Role assignment rules, first match wins.
    #[serde(default)]
    pub roles: Vec<RoleRule>,
    /// Per-control settings, by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, Spanned<ControlSettings>>,
    /// How `--period` labels resolve to dates.
    #[serde(default)]
    pub period: PeriodSettings,
    /// Who may make the changes controls declare.
    #[serde(default)]
    pub changes: ChangeSettings,
    /// Which Trust Services Criteria are in scope beyond the Common Criteria.
    #[serde(default)]
    pub criteria: CriteriaSettings,
    /// The file it was read from (for error messages), if any.
    #[serde(skip)]
    pub file: Option<PathBuf>,
    #[serde(skip)]
    text: String,
}

/// What the configuration decides for one control.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Evaluate with these parameters (defaults merged with overrides).
    Evaluate(BTreeMap<String, serde_json::Value>),
    /// Turned off, with the written reason.
    Disabled(String),
}

impl Config {
    /// Reads a config file, naming file and line on a syntax error.
    pub fn load(path: &Path) -> Result<Config, Vec<LintError>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![LintError {
                file: path.to_path_buf(),
                line: 0,
                field: "file".into(),
                message: e.to_string(),
            }]
        })?;
        Self::parse(path, &text)
    }

    /// Parses config text.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<LintError>> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = line_of(text, e.span().map(|s| s.start).unwrap_or(0));
            vec![LintError {
                file: path.to_path_buf(),
                line,
                field: "file".into(),
                message: e.message().to_string(),
            }]
        })?;
        config.file = Some(path.to_path_buf());
        config.text = text.to_string();
        let known: Vec<&str> = super::CATEGORIES.iter().map(|(c, _)| *c).collect();
        let unknown: Vec<LintError> = (config.criteria.categories.iter())
            .filter(|c| !known.contains(&c.as_str()))
            .map(|c| LintError {
                file: path.to_path_buf(),
                line: line_of(text, text.find(&format!("\"{c}\"")).unwrap_or(0)),
                field: "criteria.categories".into(),
                message: format!(
                    "'{c}' is not a category of the Trust Services Criteria ({})",
                    known.join(", ")
                ),
            })
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        Ok(config)
    }

    /// The role of an account: management by the organization's own record,
    /// otherwise the first rule that selects it.
    pub fn role_for(&self, account: &Account, management_account_id: &str) -> Option<Role> {
        if account.id == management_account_id {
            return Some(Role::Management);
        }
        self.roles
            .iter()
            .find(|rule| rule.selects(account))
            .map(|rule| rule.role)
    }

    /// True when some rule selects by tag (discovery then reads account tags).
    pub fn needs_tags(&self) -> bool {
        self.roles.iter().any(|rule| !rule.tags.is_empty())
    }

    /// Checks the settings against the controls: unknown control ids, unknown
    /// parameters, type changes and reasonless disabling are all errors.
    pub fn check_against(&self, controls: &[Control]) -> Result<(), Vec<LintError>> {
        let mut errors = Vec::new();
        for (id, settings) in &self.controls {
            let line = line_of(&self.text, settings.span().start);
            match controls.iter().find(|c| &c.id == id) {
                None => errors.push(self.error(
                    line,
                    format!("controls.\"{id}\""),
                    format!("no control has id '{id}'"),
                )),
                Some(control) => self.check_settings(control, settings.get_ref(), &mut errors),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_settings(
        &self,
        control: &Control,
        settings: &ControlSettings,
        errors: &mut Vec<LintError>,
    ) {
        let id = &control.id;
        for (name, value) in &settings.params {
            let line = line_of(&self.text, value.span().start);
            let field = format!("controls.\"{id}\".params.{name}");
            match (control.params.get(name), toml_to_json(value.get_ref())) {
                (None, _) => errors.push(self.error(
                    line,
                    field,
                    format!("control {id} has no parameter '{name}'"),
                )),
                (_, None) => errors.push(self.error(
                    line,
                    field,
                    "parameters must be strings, numbers, booleans or lists".into(),
                )),
                (Some(default), Some(new)) if json_kind(default) != json_kind(&new) => {
                    errors.push(self.error(
                        line,
                        field,
                        format!(
                            "expected a {} like the default {default}, found {new}",
                            json_kind(default)
                        ),
                    ))
                }
                _ => {}
            }
        }
        if let Some(enabled) = &settings.enabled {
            let has_reason = settings
                .reason
                .as_ref()
                .is_some_and(|r| !r.get_ref().trim().is_empty());
            if !enabled.get_ref() && !has_reason {
                let line = line_of(&self.text, enabled.span().start);
                errors.push(self.error(
                    line,
                    format!("controls.\"{id}\".enabled"),
                    "a control can only be turned off with a written reason".into(),
                ));
            }
        }
    }

    fn error(&self, line: usize, field: String, message: String) -> LintError {
        LintError {
            file: self.file.clone().unwrap_or_default(),
            line,
            field,
            message,
        }
    }

    /// What to do with `control`: its parameters, or the reason it is off.
    pub fn decide(&self, control: &Control) -> Decision {
        let settings = self.controls.get(&control.id).map(Spanned::get_ref);
        if let Some(s) = settings {
            if s.enabled.as_ref().is_some_and(|e| !e.get_ref()) {
                let reason = s
                    .reason
                    .as_ref()
                    .map(|r| r.get_ref().clone())
                    .unwrap_or_default();
                return Decision::Disabled(reason);
            }
        }
        let mut params = control.params.clone();
        for (name, value) in settings.into_iter().flat_map(|s| s.params.iter()) {
            if let Some(json) = toml_to_json(value.get_ref()) {
                params.insert(name.clone(), json);
            }
        }
        Decision::Evaluate(params)
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_f64() => "number",
        serde_json::Value::Number(_) => "integer",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        _ => "value",
    }
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn trusted_principals_match_arn_patterns() {
        let changes = ChangeSettings {
            trusted_principals: vec!["arn:aws:iam::*:role/terraform-*".into()],
        };
        assert!(changes.trusts("arn:aws:iam::111111111111:role/terraform-apply"));
        assert!(changes.trusts("arn:aws:iam::222222222222:role/terraform-"));
        assert!(!changes.trusts("arn:aws:iam::111111111111:role/admin"));
        assert!(!changes.trusts("arn:aws:iam::111111111111:user/terraform-ci"));
        assert!(!ChangeSettings::default().trusts("arn:aws:iam::1:role/x"));
        assert!(super::glob_matches("a*b*c", "a-b-c") && !super::glob_matches("a*b*c", "a-c-b"));
        assert!(super::glob_matches("exact", "exact") && !super::glob_matches("exact", "exactly"));
    }

    use super::*;
    use crate::org::AccountStatus;

    fn account(id: &str, name: &str, ou: &str, tags: &[(&str, &str)]) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
            email: String::new(),
            status: AccountStatus::Active,
            ou_path: ou.into(),
            role: None,
            joined_at: String::new(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            reachable: None,
        }
    }

    #[test]
    fn roles_by_id_name_ou_and_tag_first_match_wins() {
        let text = r#"
[[roles]]
role = "security"
ids = ["222222222222"]
[[roles]]
role = "log-archive"
names = ["logs"]
[[roles]]
role = "network"
tags = { "auditpack:role" = "network" }
[[roles]]
role = "workload"
ou_paths = ["Root/Workloads/*"]
"#;
        let config = Config::parse(Path::new("auditpack.toml"), text).unwrap();
        let mgmt = "111111111111";
        assert_eq!(
            config.role_for(&account(mgmt, "m", "Root", &[]), mgmt),
            Some(Role::Management)
        );
        assert_eq!(
            config.role_for(&account("222222222222", "s", "Root", &[]), mgmt),
            Some(Role::Security)
        );
        assert_eq!(
            config.role_for(&account("3", "logs", "Root/Workloads", &[]), mgmt),
            Some(Role::LogArchive)
        );
        assert_eq!(
            config.role_for(
                &account("4", "n", "Root", &[("auditpack:role", "network")]),
                mgmt
            ),
            Some(Role::Network)
        );
        assert_eq!(
            config.role_for(&account("5", "d", "Root/Workloads/Dev", &[]), mgmt),
            Some(Role::Workload)
        );
        assert_eq!(
            config.role_for(&account("6", "w", "Root/Workloads", &[]), mgmt),
            Some(Role::Workload)
        );
        assert_eq!(
            config.role_for(&account("7", "x", "Root/WorkloadsOld", &[]), mgmt),
            None
        );
        assert!(config.needs_tags());
        let bad = Config::parse(
            Path::new("auditpack.toml"),
            "[[roles]]\nrole = \"securty\"\n",
        );
        assert!(bad.unwrap_err()[0]
            .to_string()
            .starts_with("auditpack.toml:2:"));
    }
}
