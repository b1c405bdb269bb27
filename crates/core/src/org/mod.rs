//! The Organization as auditpack models it: accounts, their status and roles
//! (management, security, log-archive, …), and the scope of a sharded run.
//!
//! Pure data: `auditpack-aws` builds an [`Org`] from the Organizations API and
//! writes it to `org.json`; everything downstream reads it from there.

mod model;
mod scope;

pub use model::{Account, AccountStatus, Org, Organization, Role};
pub use scope::{Scope, ScopeError};
