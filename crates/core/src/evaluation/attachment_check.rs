//! Attachments checked before evaluation: a metadata file that does not
//! parse, an attachment without one, or one naming something that cannot be
//! a control id or a criterion that does not exist is refused with its file and line (exit 2), never
//! skipped: a manual control must not turn NOT ASSESSED because its evidence
//! was silently dropped.

use super::{is_known_criterion, LintError};
use crate::evidence::attachments::{Attachment, AttachmentError};

/// Every problem with the attachments, or none.
pub fn check_attachments(
    root: &std::path::Path,
    attachments: &[Attachment],
    errors: &[AttachmentError],
) -> Result<(), Vec<LintError>> {
    let mut problems: Vec<LintError> = (errors.iter())
        .map(|e| LintError {
            file: e.file.clone(),
            line: e.line,
            field: "attachment".into(),
            message: e.message.clone(),
        })
        .collect();
    for a in attachments {
        let file = root.join(&a.metadata_file);
        // A control that is not in this run is allowed (a run may evaluate a
        // subset of the catalog); a name that cannot be a control id is a typo.
        let well_formed = |id: &str| {
            id.split('.').count() >= 2
                && id.split('.').all(|p| {
                    !p.is_empty()
                        && (p.chars())
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
        };
        for id in a.controls.iter().filter(|id| !well_formed(id)) {
            problems.push(LintError {
                file: file.clone(),
                line: 0,
                field: "controls".into(),
                message: format!("'{id}' is not a control id (service.check-name)"),
            });
        }
        for criterion in a.criteria.iter().filter(|c| !is_known_criterion(c)) {
            problems.push(LintError {
                file: file.clone(),
                line: 0,
                field: "criteria".into(),
                message: format!("'{criterion}' is not a Trust Services criterion (e.g. CC1.1)"),
            });
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems),
    }
}
