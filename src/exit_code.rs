//! Exit codes, decided in one place so that CI can tell "the organization failed
//! a control" from "the tool could not do its job".

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing failed.
    Success,
    /// The check ran and found a problem (a changed bundle, a failing control).
    CheckFailed,
    /// Bad usage or bad input (a broken control file, a file that is not a bundle).
    InputError,
    /// The tool failed (cannot write output).
    ToolFailed,
}

impl Outcome {
    /// The process exit code: 0, 1, 2 or 3.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::CheckFailed => 1,
            Outcome::InputError => 2,
            Outcome::ToolFailed => 3,
        }
    }

    /// `report` succeeds when it produced its outputs, whatever the verdicts
    /// (the gate decides on verdicts); an input problem is 2, anything else 3.
    pub fn for_pipeline_error(error: &crate::pipeline::PipelineError) -> Outcome {
        if error.is_input_error() {
            Outcome::InputError
        } else {
            Outcome::ToolFailed
        }
    }

    /// `verify`: 0 for an intact bag, 1 for any mismatch.
    pub fn for_verification(verification: &crate::verify::Verification) -> Outcome {
        if verification.is_intact() {
            Outcome::Success
        } else {
            Outcome::CheckFailed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_stable() {
        let codes: Vec<u8> = [
            Outcome::Success,
            Outcome::CheckFailed,
            Outcome::InputError,
            Outcome::ToolFailed,
        ]
        .iter()
        .map(|o| o.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
