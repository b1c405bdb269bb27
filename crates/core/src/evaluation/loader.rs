//! Loading every control file of a folder, with every problem of every file reported at once.

use std::collections::BTreeMap;
use std::path::Path;

use super::control::{parse_control, Control, LintError};

/// Loads `*.toml` from `dir` (not recursive), sorted by control id.
pub fn load_controls(dir: &Path) -> Result<Vec<Control>, Vec<LintError>> {
    let read_error = |message: String| {
        vec![LintError {
            file: dir.to_path_buf(),
            line: 0,
            field: "folder".into(),
            message,
        }]
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
    let mut errors = Vec::new();
    let mut controls: BTreeMap<String, Control> = BTreeMap::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                errors.push(LintError {
                    file,
                    line: 0,
                    field: "file".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        match parse_control(&file, &text) {
            Ok(control) => {
                if let Some(previous) = controls.get(&control.id) {
                    errors.push(LintError {
                        file: file.clone(),
                        line: 1,
                        field: "id".into(),
                        message: format!(
                            "id '{}' is also used by {}",
                            control.id,
                            previous.file.display()
                        ),
                    });
                } else {
                    controls.insert(control.id.clone(), control);
                }
            }
            Err(mut file_errors) => errors.append(&mut file_errors),
        }
    }
    if errors.is_empty() {
        Ok(controls.into_values().collect())
    } else {
        Err(errors)
    }
}
