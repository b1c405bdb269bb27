//! Loading the control definitions a run uses: the catalog compiled into
//! auditpack, the files of a `--controls` folder, or both, with every problem
//! of every file reported at once.
//!
//! A custom file never silently replaces a built-in control: the same id (or
//! the same file name, which would collide in the bundle's `data/controls/`)
//! is an error naming both. To change a shipped control, export the catalog
//! (`auditpack controls export DIR`), edit it there and run with
//! `--no-builtin-controls --controls DIR`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::control::{parse_control, Control, ControlOrigin, LintError};

include!(concat!(env!("OUT_DIR"), "/builtin_controls.rs"));

/// The folder name built-in controls are shown under in messages.
pub const BUILTIN_FOLDER: &str = "built-in";

/// Which control definitions to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSet {
    /// The catalog compiled into auditpack.
    pub builtin: bool,
    /// A folder of custom control files (`*.toml`, not recursive).
    pub folder: Option<PathBuf>,
}

impl ControlSet {
    /// The shipped catalog alone.
    pub fn builtin() -> ControlSet {
        ControlSet {
            builtin: true,
            folder: None,
        }
    }

    /// The files of `folder` alone (a bundle's own controls, a test's).
    pub fn only(folder: &Path) -> ControlSet {
        ControlSet {
            builtin: false,
            folder: Some(folder.to_path_buf()),
        }
    }
}

/// The shipped control files, (file name, text), sorted by name.
pub fn builtin_control_files() -> &'static [(&'static str, &'static str)] {
    BUILTIN_CONTROLS
}

/// Loads `*.toml` from `dir` (not recursive), sorted by control id.
pub fn load_controls(dir: &Path) -> Result<Vec<Control>, Vec<LintError>> {
    load_control_set(&ControlSet::only(dir))
}

/// Loads the controls of `set`, sorted by id.
pub fn load_control_set(set: &ControlSet) -> Result<Vec<Control>, Vec<LintError>> {
    let mut errors = Vec::new();
    let mut sources: Vec<(PathBuf, String, ControlOrigin)> = Vec::new();
    if set.builtin {
        sources.extend(BUILTIN_CONTROLS.iter().map(|(name, text)| {
            let file = Path::new(BUILTIN_FOLDER).join(name);
            (file, text.to_string(), ControlOrigin::BuiltIn)
        }));
    }
    if let Some(dir) = &set.folder {
        match folder_files(dir) {
            Ok(files) => sources.extend(files),
            Err(e) => errors.push(e),
        }
    }
    if sources.is_empty() && errors.is_empty() {
        errors.push(LintError {
            file: PathBuf::from(BUILTIN_FOLDER),
            line: 0,
            field: "controls".into(),
            message: "no controls to evaluate: --no-builtin-controls needs --controls DIR".into(),
        });
    }
    let mut controls: BTreeMap<String, Control> = BTreeMap::new();
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (file, text, origin) in sources {
        let mut control = match parse_control(&file, &text) {
            Ok(control) => control,
            Err(mut file_errors) => {
                errors.append(&mut file_errors);
                continue;
            }
        };
        control.origin = origin;
        let name = file_name(&file);
        let clash = |what: String, other: &Path| LintError {
            file: file.clone(),
            line: 1,
            field: "id".into(),
            message: format!("{what} is also used by {}{}", other.display(), hint(origin)),
        };
        if let Some(previous) = controls.get(&control.id) {
            errors.push(clash(format!("id '{}'", control.id), &previous.file));
        } else if let Some(previous) = names.get(&name) {
            errors.push(clash(format!("the file name {name}"), previous));
        } else {
            names.insert(name, file.clone());
            controls.insert(control.id.clone(), control);
        }
    }
    if errors.is_empty() {
        Ok(controls.into_values().collect())
    } else {
        Err(errors)
    }
}

/// How to resolve a clash of a custom file with the built-in catalog.
fn hint(origin: ControlOrigin) -> &'static str {
    match origin {
        ControlOrigin::Custom => " (a custom control never replaces a built-in one silently: give it another id and file name, or run `auditpack controls export DIR`, edit the copy and use --no-builtin-controls --controls DIR)",
        ControlOrigin::BuiltIn => "",
    }
}

fn file_name(file: &Path) -> String {
    file.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The `*.toml` files of `dir`, sorted, with their text.
fn folder_files(dir: &Path) -> Result<Vec<(PathBuf, String, ControlOrigin)>, LintError> {
    let read_error = |message: String| LintError {
        file: dir.to_path_buf(),
        line: 0,
        field: "folder".into(),
        message,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| read_error(format!("cannot read controls folder: {e}")))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(read_error(
            "no control files (*.toml) in this folder".into(),
        ));
    }
    files
        .into_iter()
        .map(|file| match std::fs::read_to_string(&file) {
            Ok(text) => Ok((file, text, ControlOrigin::Custom)),
            Err(e) => Err(LintError {
                file,
                line: 0,
                field: "file".into(),
                message: e.to_string(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads_and_marks_its_origin() {
        let controls = load_control_set(&ControlSet::builtin()).unwrap();
        assert_eq!(controls.len(), BUILTIN_CONTROLS.len());
        assert!(controls.iter().all(|c| c.origin == ControlOrigin::BuiltIn));
        assert!(controls.iter().any(|c| c.id == "cloudtrail.org-trail"));
        let trail = controls
            .iter()
            .find(|c| c.id == "cloudtrail.org-trail")
            .unwrap();
        assert_eq!(trail.file, Path::new("built-in/cloudtrail.org-trail.toml"));
    }

    #[test]
    fn a_custom_control_is_added_and_a_clash_with_a_builtin_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (name, text) = BUILTIN_CONTROLS[0];
        let own = text.replacen("id = \"", "id = \"acme.", 1);
        std::fs::write(dir.path().join("acme.own.toml"), &own).unwrap();
        let both = ControlSet {
            builtin: true,
            folder: Some(dir.path().to_path_buf()),
        };
        let controls = load_control_set(&both).unwrap();
        assert_eq!(controls.len(), BUILTIN_CONTROLS.len() + 1);
        let custom: Vec<_> = controls
            .iter()
            .filter(|c| c.origin == ControlOrigin::Custom)
            .collect();
        assert_eq!(custom.len(), 1);
        assert!(custom[0].id.starts_with("acme."));

        // The same id as a built-in control: refused, naming both.
        std::fs::write(dir.path().join("copy.toml"), text).unwrap();
        let errors = load_control_set(&both).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let shown = errors[0].to_string();
        assert!(shown.contains("copy.toml:1: id"), "{shown}");
        assert!(shown.contains(&format!("built-in/{name}")), "{shown}");
        assert!(shown.contains("--no-builtin-controls"), "{shown}");
        // Alone (the built-in catalog replaced), the copy is fine.
        std::fs::remove_file(dir.path().join("acme.own.toml")).unwrap();
        let only = load_control_set(&ControlSet::only(dir.path())).unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].origin, ControlOrigin::Custom);
    }

    #[test]
    fn no_controls_at_all_is_an_error() {
        let none = ControlSet {
            builtin: false,
            folder: None,
        };
        let errors = load_control_set(&none).unwrap_err();
        assert!(errors[0]
            .message
            .contains("--no-builtin-controls needs --controls"));
    }
}
