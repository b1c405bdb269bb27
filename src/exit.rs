//! Exit codes, decided in one place so that CI can tell "the organization
//! failed a check" from "the input was wrong" from "the tool could not do its
//! job". Every command returns `Result<Exit, Failure>`; every library error
//! type is mapped to its code here, once, by a `From` impl.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done: nothing failed |
//! | 1 | a check failed: a control failed or was not assessed (gate), a bundle does not verify |
//! | 2 | usage or input error: a bad flag, control, config, waiver, key or bundle file |
//! | 3 | the tool failed: cannot reach AWS, cannot write an output, interrupted |

use std::fmt;

#[cfg(feature = "aws")]
use auditpack_aws::collection::runner::CollectError;
#[cfg(feature = "aws")]
use auditpack_aws::kms_signer::KmsError;
use auditpack_core::custody::bag_check::VerifyError;
use auditpack_core::custody::diff::DiffError;
use auditpack_core::custody::gate_input::GateInputError;
use auditpack_core::custody::signature::{SigningError, TrustError};
use auditpack_core::evidence::merge::MergeError;
use auditpack_core::evidence::staging::StagingError;
use auditpack_core::report::PipelineError;

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; nothing failed.
    Done,
    /// 1: the check ran and found a problem (a failing control, a changed bundle).
    CheckFailed,
}

/// Why a command could not do its job: the message (printed once, by `main`)
/// and whether it was the input (2) or the tool (3).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong; names the file, line, account or key.
    pub message: String,
    /// 2 for usage or input, 3 for the tool.
    pub kind: FailureKind,
}

/// See [`Failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 2: usage or input error.
    Input,
    /// 3: the tool failed.
    Tool,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn input(message: impl fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            kind: FailureKind::Input,
        }
    }

    /// A failure of the tool (exit 3).
    pub fn tool(message: impl fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            kind: FailureKind::Tool,
        }
    }
}

/// The process exit code of a command's outcome: 0, 1, 2 or 3.
pub fn code(outcome: &Result<Exit, Failure>) -> u8 {
    match outcome {
        Ok(Exit::Done) => 0,
        Ok(Exit::CheckFailed) => 1,
        Err(Failure {
            kind: FailureKind::Input,
            ..
        }) => 2,
        Err(Failure {
            kind: FailureKind::Tool,
            ..
        }) => 3,
    }
}

impl From<PipelineError> for Failure {
    /// `report` succeeds when it produced its outputs, whatever the verdicts
    /// (the gate decides on verdicts); an input problem is 2, anything else 3.
    fn from(e: PipelineError) -> Failure {
        if e.is_input_error() {
            Failure::input(e)
        } else {
            Failure::tool(e)
        }
    }
}

#[cfg(feature = "aws")]
impl From<auditpack_aws::locker::LockerError> for Failure {
    /// An unsuitable destination (no COMPLIANCE lock, key exists) is the
    /// user's; AWS failing or a stored object that does not match is the tool's.
    fn from(e: auditpack_aws::locker::LockerError) -> Failure {
        if e.input {
            Failure::input(e)
        } else {
            Failure::tool(e)
        }
    }
}

#[cfg(feature = "aws")]
impl From<CollectError> for Failure {
    /// A scope that selects nothing, or an output folder that already holds
    /// something, is the user's; anything else (discovery, writing) is the tool's.
    fn from(e: CollectError) -> Failure {
        match e {
            CollectError::Scope(_)
            | CollectError::Output(StagingError::OutputExists(_) | StagingError::Locked { .. }) => {
                Failure::input(e)
            }
            _ => Failure::tool(e),
        }
    }
}

impl From<MergeError> for Failure {
    /// Shards that cannot be merged are input; failing to write is the tool's.
    fn from(e: MergeError) -> Failure {
        match e {
            MergeError::Output(StagingError::OutputExists(_) | StagingError::Locked { .. }) => {
                Failure::input(e)
            }
            MergeError::Output(_) | MergeError::Copy { .. } => Failure::tool(e),
            _ => Failure::input(e),
        }
    }
}

macro_rules! input_errors {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Failure {
            /// Always the input's: a file that is not what it should be.
            fn from(e: $error) -> Failure {
                Failure::input(e)
            }
        })*
    };
}

input_errors!(VerifyError, GateInputError, SigningError, TrustError);
#[cfg(feature = "aws")]
input_errors!(KmsError);

impl From<auditpack_core::period::PeriodError> for Failure {
    /// No bundle, no run of the organization, a bad setting: the input's;
    /// failing to write the package: the tool's.
    fn from(e: auditpack_core::period::PeriodError) -> Failure {
        use auditpack_core::period::PeriodError;
        match e {
            PeriodError::Input(_) => Failure::input(e),
            PeriodError::Write(inner) => Failure::from(inner),
            PeriodError::Output { .. } => Failure::tool(e),
        }
    }
}

impl From<DiffError> for Failure {
    /// Unreadable input; a bundle that does not verify is a failed check and
    /// handled by the command before it gets here.
    fn from(e: DiffError) -> Failure {
        Failure::input(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_stable() {
        let codes = [
            code(&Ok(Exit::Done)),
            code(&Ok(Exit::CheckFailed)),
            code(&Err(Failure::input("x"))),
            code(&Err(Failure::tool("x"))),
        ];
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
