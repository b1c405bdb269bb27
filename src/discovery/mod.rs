//! Discovery: who is in the Organization and what role each account plays.
//!
//! Its output is [`Org`], written as `org.json` beside the evidence. Controls scope
//! themselves by these roles ("the log-archive account", "every active account"),
//! so an account without a role is itself a finding (`org.inventory`).

pub mod live;
mod org;
mod scope;

pub use org::{Account, AccountStatus, Org, Organization, Role};
pub use scope::Scope;
