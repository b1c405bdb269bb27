//! The collection plan: which operations to call in which account and region,
//! derived from the control files, so the collector calls only what some control
//! reads (and whatever those calls depend on, e.g. the bucket list before the
//! per-bucket calls).

use std::collections::BTreeMap;

use super::context::OpSet;
use super::OperationSpec;
use auditpack_core::catalog::cloudtrail::LOOKUP_EVENTS;
use auditpack_core::evaluation::{AccountSelector, Control, RegionSelector};
use auditpack_core::evidence::RegionDir;
use auditpack_core::org::{Account, Org};

/// Account id → region folder → operations.
pub(crate) type Plan = BTreeMap<String, BTreeMap<RegionDir, OpSet>>;

/// Builds the plan for the active accounts of `org`.
pub(crate) fn build_plan(
    controls: &[Control],
    org: &Org,
    regions: &[String],
    home_region: &str,
) -> Plan {
    let mut plan = Plan::new();
    for control in controls {
        let scope_accounts: Vec<&Account> = select(org, control.accounts).collect();
        if !control.changes.is_empty() {
            // The change events of the period, where the evaluation reads them.
            let items: Vec<Option<&str>> = match control.regions {
                RegionSelector::Each => regions.iter().map(|r| Some(r.as_str())).collect(),
                _ => vec![None],
            };
            for item_region in items {
                let region =
                    RegionDir::Region(control.change_events_region(item_region, home_region));
                for account in &scope_accounts {
                    add_with_dependencies(&mut plan, &account.id, &region, &LOOKUP_EVENTS);
                }
            }
        }
        for binding in &control.evidence {
            let accounts: Vec<&Account> = match binding.account {
                auditpack_core::evaluation::AccountRef::Scope => scope_accounts.clone(),
                auditpack_core::evaluation::AccountRef::Role(role) => {
                    org.accounts_with_role(role).collect()
                }
                auditpack_core::evaluation::AccountRef::All => org.active_accounts().collect(),
            };
            let region_dirs = region_dirs(binding.region, control.regions, regions, home_region);
            for account in accounts {
                for region in &region_dirs {
                    add_with_dependencies(&mut plan, &account.id, region, binding.operation);
                }
            }
        }
    }
    plan
}

/// Whether some control reads `spec` (in any account): for the calls
/// discovery makes before there is a plan (the accounts' tags).
pub(crate) fn some_control_reads(controls: &[Control], spec: &OperationSpec) -> bool {
    controls
        .iter()
        .flat_map(|c| &c.evidence)
        .any(|b| b.operation.source_name() == spec.source_name())
}

fn select(org: &Org, selector: AccountSelector) -> Box<dyn Iterator<Item = &Account> + '_> {
    match selector {
        AccountSelector::All => Box::new(org.active_accounts()),
        AccountSelector::Role(role) => Box::new(org.accounts_with_role(role)),
    }
}

fn region_dirs(
    binding: auditpack_core::evaluation::RegionRef,
    scope: RegionSelector,
    regions: &[String],
    home: &str,
) -> Vec<RegionDir> {
    use auditpack_core::evaluation::RegionRef;
    match (binding, scope) {
        (RegionRef::Global, _) => vec![RegionDir::Global],
        (RegionRef::Home, _) | (RegionRef::Scope, RegionSelector::Home) => {
            vec![RegionDir::Region(home.to_string())]
        }
        (RegionRef::Scope, RegionSelector::Each) => regions
            .iter()
            .map(|r| RegionDir::Region(r.clone()))
            .collect(),
        (RegionRef::Scope, RegionSelector::Global) => vec![RegionDir::Global],
    }
}

/// Plans `spec` and every operation it depends on (typed links in the catalog).
fn add_with_dependencies(
    plan: &mut Plan,
    account: &str,
    region: &RegionDir,
    spec: &'static OperationSpec,
) {
    plan.entry(account.to_string())
        .or_default()
        .entry(region.clone())
        .or_default()
        .extend(spec.with_dependencies().map(|op| op.source_name()));
}
