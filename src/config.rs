//! `auditpack.toml`: the user's settings. For evaluation: parameter overrides per
//! control, and controls turned off, which always needs a written reason (the
//! report shows it, so an auditor sees every gap that was chosen).
//!
//! ```toml
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

/// Contents of `auditpack.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Per-control settings, by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, Spanned<ControlSettings>>,
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
            vec![LintError { file: path.to_path_buf(), line: 0, field: "file".into(), message: e.to_string() }]
        })?;
        Self::parse(path, &text)
    }

    /// Parses config text.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<LintError>> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = line_of(text, e.span().map(|s| s.start).unwrap_or(0));
            vec![LintError { file: path.to_path_buf(), line, field: "file".into(), message: e.message().to_string() }]
        })?;
        config.file = Some(path.to_path_buf());
        config.text = text.to_string();
        Ok(config)
    }

    /// Checks the settings against the controls: unknown control ids, unknown
    /// parameters, type changes and reasonless disabling are all errors.
    pub fn check_against(&self, controls: &[Control]) -> Result<(), Vec<LintError>> {
        let mut errors = Vec::new();
        for (id, settings) in &self.controls {
            let line = line_of(&self.text, settings.span().start);
            match controls.iter().find(|c| &c.id == id) {
                None => errors.push(self.error(line, format!("controls.\"{id}\""), format!("no control has id '{id}'"))),
                Some(control) => self.check_settings(control, settings.get_ref(), &mut errors),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_settings(&self, control: &Control, settings: &ControlSettings, errors: &mut Vec<LintError>) {
        let id = &control.id;
        for (name, value) in &settings.params {
            let line = line_of(&self.text, value.span().start);
            let field = format!("controls.\"{id}\".params.{name}");
            match (control.params.get(name), toml_to_json(value.get_ref())) {
                (None, _) => errors.push(self.error(line, field, format!("control {id} has no parameter '{name}'"))),
                (_, None) => errors.push(self.error(line, field, "parameters must be strings, numbers, booleans or lists".into())),
                (Some(default), Some(new)) if json_kind(default) != json_kind(&new) => errors.push(self.error(
                    line,
                    field,
                    format!("expected a {} like the default {default}, found {new}", json_kind(default)),
                )),
                _ => {}
            }
        }
        if let Some(enabled) = &settings.enabled {
            let has_reason = settings.reason.as_ref().is_some_and(|r| !r.get_ref().trim().is_empty());
            if !enabled.get_ref() && !has_reason {
                let line = line_of(&self.text, enabled.span().start);
                errors.push(self.error(line, format!("controls.\"{id}\".enabled"), "a control can only be turned off with a written reason".into()));
            }
        }
    }

    fn error(&self, line: usize, field: String, message: String) -> LintError {
        LintError { file: self.file.clone().unwrap_or_default(), line, field, message }
    }

    /// What to do with `control`: its parameters, or the reason it is off.
    pub fn decide(&self, control: &Control) -> Decision {
        let settings = self.controls.get(&control.id).map(Spanned::get_ref);
        if let Some(s) = settings {
            if s.enabled.as_ref().is_some_and(|e| !e.get_ref()) {
                let reason = s.reason.as_ref().map(|r| r.get_ref().clone()).unwrap_or_default();
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

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}
