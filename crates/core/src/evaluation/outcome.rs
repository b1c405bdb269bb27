//! Verdicts. Explicit outcomes rather than booleans, so that evidence that could
//! not be read can never be mistaken for a pass.

use serde::{Deserialize, Serialize};

/// The verdict for a requirement, a scope item (account or account × region) or a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every requirement was met, on evidence that was collected completely.
    Pass,
    /// At least one requirement was not met (a known failure).
    Fail,
    /// Evidence was missing or its collection failed, and nothing failed outright.
    NotAssessed,
    /// Turned off in `auditpack.toml` with a written reason.
    Disabled,
    /// Failed or not assessed, but covered by an unexpired waiver in the
    /// exceptions register (`waivers.toml`); the original verdict is kept beside it.
    Waived,
}

impl Verdict {
    /// Combines the verdicts of parts that must *all* hold.
    ///
    /// A known failure wins over a gap (the item is FAIL, and the message still
    /// lists what was not assessed); a gap wins over a waiver, a waiver over a
    /// pass; no parts at all is a gap, because a control that looked at nothing
    /// has not shown anything.
    pub(crate) fn all_of(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut combined: Option<Verdict> = None;
        for part in parts {
            combined = Some(match (combined, part) {
                (_, Verdict::Disabled) => continue,
                (None, p) => p,
                (Some(Verdict::Fail), _) | (_, Verdict::Fail) => Verdict::Fail,
                (Some(Verdict::NotAssessed), _) | (_, Verdict::NotAssessed) => Verdict::NotAssessed,
                (Some(Verdict::Waived), _) | (_, Verdict::Waived) => Verdict::Waived,
                (Some(c), _) => c,
            });
        }
        combined.unwrap_or(Verdict::NotAssessed)
    }

    /// The label shown to people (`NOT ASSESSED`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotAssessed => "NOT ASSESSED",
            Verdict::Disabled => "DISABLED",
            Verdict::Waived => "WAIVED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::*;
    use super::*;

    #[test]
    fn all_of_is_fail_closed() {
        assert_eq!(Verdict::all_of([Pass, Pass]), Pass);
        assert_eq!(Verdict::all_of([Pass, NotAssessed]), NotAssessed);
        assert_eq!(Verdict::all_of([NotAssessed, Fail, Pass]), Fail);
        assert_eq!(Verdict::all_of([Fail, NotAssessed]), Fail);
        assert_eq!(Verdict::all_of([]), NotAssessed);
        assert_eq!(Verdict::all_of([Disabled]), NotAssessed);
        assert_eq!(Verdict::all_of([Disabled, Pass]), Pass);
        assert_eq!(Verdict::all_of([Pass, Waived, Pass]), Waived);
        assert_eq!(Verdict::all_of([Waived, NotAssessed]), NotAssessed);
        assert_eq!(Verdict::all_of([Fail, Waived]), Fail);
    }
}
