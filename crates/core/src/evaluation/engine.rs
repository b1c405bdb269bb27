//! Applies controls to the evidence store.
//!
//! For each control and each scope item (account, or account × region) it binds
//! the evidence the control declares, computes its `define`s, then checks every
//! assertion. Evidence that is missing or whose call failed is never bound: every
//! expression that reads it is NOT_ASSESSED, with the reason, so nothing missing
//! can become a pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use cel::objects::Key;
use cel::{Context, Value};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::budget::{charging, ControlBudget, OverBudget};
use super::control::{
    AccountRef, Assertion, Control, Define, EvidenceBinding, QualifierRef, RegionRef, WhenEmpty,
    WhenFalse,
};
use super::expr::{display_value, evidence_to_cel, json_to_cel, register_functions, Expr};
use super::results::*;
use super::stored::{ItemSpill, StoredResults};
use super::{AccountSelector, RegionSelector, Verdict};
use crate::evaluation::config::{Config, Decision};
use crate::evidence::{EvidenceDoc, EvidenceKey, EvidenceStore, RegionDir, RunInfo, ToolInfo};
use crate::org::{Account, Org, Role};

mod assertions;
mod binding;
mod manual;
mod period;
pub(crate) use period::PERIOD_REQUIREMENT;

use assertions::*;
use binding::*;

/// Failures beyond this many per assertion are counted, not listed, in messages.
const MAX_LISTED_FINDINGS: usize = 10;

/// Evaluates every control over the evidence; disabled controls are listed with their reason.
pub fn evaluate(
    controls: &[Control],
    config: &Config,
    store: &EvidenceStore,
    org: &Org,
    run: &RunInfo,
) -> Results {
    let per_pass = accounts_per_pass(run);
    evaluate_in_passes(controls, config, store, org, run, per_pass, None)
        .expect("results in memory are written nowhere")
        .0
}

/// [`evaluate`], each pass's items written to a temporary file as the pass
/// decides them (see [`StoredResults`]): what `report` holds is then the
/// controls and one pass, whatever the organization's size. The results are
/// those [`evaluate`] gives.
pub fn evaluate_stored(
    controls: &[Control],
    config: &Config,
    store: &EvidenceStore,
    org: &Org,
    run: &RunInfo,
) -> std::io::Result<StoredResults> {
    let mut spill = ItemSpill::new(controls.len())?;
    let (head, order) = evaluate_in_passes(
        controls,
        config,
        store,
        org,
        run,
        accounts_per_pass(run),
        Some(&mut spill),
    )?;
    spill.finish(head, &order)
}

/// [`evaluate`], `per_pass` accounts at a time (the results do not depend on it).
fn evaluate_in_passes(
    controls: &[Control],
    config: &Config,
    store: &EvidenceStore,
    org: &Org,
    run: &RunInfo,
    per_pass: usize,
    mut spill: Option<&mut ItemSpill>,
) -> std::io::Result<(Results, Vec<usize>)> {
    // Problems with attachments are refused before evaluation (`report`
    // names them); here the readable ones are judged.
    let (attachments, _) = store.attachments();
    let started = std::time::Instant::now();
    let evaluator = Evaluator::new(store, config, org, run);
    let accounts: Vec<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
    let passes: Vec<&[&str]> = accounts.chunks(per_pass.max(1)).collect();
    // Planning reads every active account's region listing, one account
    // after another (see `scope_items`): read ahead first. The first pass's
    // files are read ahead while the controls are planned, each next pass's
    // while the one before is evaluated.
    store.read_ahead_keys(org.active_accounts().map(|a| region_listing_key(&a.id)));
    if let Some(first) = passes.first() {
        store.read_ahead_accounts(first);
    }
    // Every control is planned first (its scope, and the run-wide facts it
    // needs from other accounts, computed once); then the accounts are
    // evaluated a pass at a time, and each pass's evidence is dropped before
    // the next is read, so evidence in memory does not grow with the
    // organization (docs/performance.md). Controls, and the scope items of
    // each, are independent: both run on every core (rayon keeps the order).
    let mut planned: Vec<Planned> = controls
        .par_iter()
        .map(|control| match config.decide(control) {
            Decision::Evaluate(params) => match &control.manual {
                Some(rule) => Planned::Done(Box::new(manual::manual_result(
                    control,
                    rule,
                    params,
                    &attachments,
                    org,
                    run,
                ))),
                None => evaluator.plan(control, params),
            },
            Decision::Disabled(reason) => Planned::Done(Box::new(disabled_result(control, reason))),
        })
        .collect();
    evaluator.forget_documents();
    let ms = started.elapsed().as_millis() as u64;
    tracing::debug!(ms, "controls planned");
    for (n, pass) in passes.iter().enumerate() {
        if let Some(next) = passes.get(n + 1) {
            store.read_ahead_accounts(next);
        }
        let in_pass: BTreeSet<&str> = pass.iter().copied().collect();
        planned.par_iter_mut().for_each(|p| {
            if let Planned::Items(plan) = p {
                evaluator.evaluate_items(plan, &in_pass);
            }
        });
        evaluator.forget_documents();
        if let Some(spill) = spill.as_deref_mut() {
            for (n, p) in planned.iter_mut().enumerate() {
                if let Planned::Items(plan) = p {
                    spill.append(n, std::mem::take(&mut plan.result.results))?;
                }
            }
        }
    }
    let mut results: Vec<(usize, ControlResult)> = (planned.into_iter().enumerate())
        .map(|(n, p)| Ok((n, p.finish(n, spill.as_deref_mut())?)))
        .collect::<std::io::Result<_>>()?;
    results.sort_by(|(_, a), (_, b)| a.id.cmp(&b.id));
    let (order, results): (Vec<usize>, Vec<ControlResult>) = results.into_iter().unzip();
    let summary = match spill.as_deref() {
        Some(spill) => spill.summary(&results, &order),
        None => Summary::of(&results),
    };
    let results = Results {
        schema_version: super::results::RESULTS_SCHEMA_VERSION,
        tool: ToolInfo {
            name: crate::TOOL_NAME.into(),
            version: crate::TOOL_VERSION.into(),
        },
        organization_id: org.organization.id.clone(),
        management_account_id: org.organization.management_account_id.clone(),
        period: run.period.clone(),
        period_dates: run.period_dates.clone(),
        period_to_date: (run.period_dates.as_ref())
            .is_some_and(|p| crate::evidence::period::period_to_date(p, &run.finished_at)),
        generated_at: run.finished_at.clone(),
        collection_window: CollectionWindow {
            start: run.started_at.clone(),
            end: run.finished_at.clone(),
        },
        home_region: run.home_region.clone(),
        regions: run.regions.clone(),
        summary,
        criteria: super::criteria::coverage(&results, &attachments, &config.criteria.categories),
        controls: results,
        waivers: Vec::new(),
        attachments,
    };
    Ok((results, order))
}

/// Values shared by every scope item, converted to CEL once.
struct Globals {
    org: Value,
    run: Value,
    home_region: String,
}

struct Evaluator<'a> {
    store: &'a EvidenceStore,
    /// Who may make the changes controls declare.
    changes: &'a crate::evaluation::config::ChangeSettings,
    org: &'a Org,
    run: &'a RunInfo,
    globals: Globals,
    /// The context every control's root scope is made under: CEL's standard
    /// library, auditpack's functions and the run's own values (`org`, `run`,
    /// `home_region`), converted once. The `cel` crate copies a value into
    /// its own form when it is added to a context, and `org` at 10,000
    /// accounts is ~3.7 MB of JSON: copied into each control's root, it was
    /// held once per control that reads it for the whole evaluation.
    global: Context<'static, 'static>,
    /// The active accounts of each role (`Org::accounts_with_role`), listed
    /// once: every scope item of a control that reads a role's account (the
    /// management account's trails, the log-archive buckets) asks, and a walk
    /// of the organization for each made evaluation quadratic in the
    /// accounts. Controls scoped to a role take their accounts from here too.
    role_holders: BTreeMap<Role, Vec<&'a Account>>,
    /// Evidence already bound, by path (or folder and operation for `qualifier = "*"`):
    /// many scope items and controls read the same documents, and converting them
    /// to CEL (or listing a folder) once per run instead of once per item keeps
    /// evaluation linear in the evidence, not in items × evidence.
    /// (Two threads may both load a document the first time; both get the same
    /// value, and the lock is never held while loading.)
    bound: Mutex<HashMap<String, Arc<Bound>>>,
}

/// Why a control has no scope item: a control that looked at nothing has
/// shown nothing, so it is NOT_ASSESSED with this message.
#[derive(Debug, Clone, thiserror::Error)]
enum EmptyPopulation {
    /// The organization has no active account.
    #[error("Not assessed: no active account in org.json.")]
    NoActiveAccount,
    /// The control is scoped to a role no active account has.
    #[error(
        "Not assessed: no active account has the role '{role}' (assign it in auditpack.toml)."
    )]
    NoAccountWithRole {
        /// The role the control is scoped to.
        role: Role,
    },
    /// Every region of the scope is one its accounts have not enabled.
    #[error("Not assessed: none of the control's accounts has enabled any region of the run (account:ListRegions).")]
    RegionsNotEnabled,
}

/// The names bound for one scope item: values, or why they are unavailable.
#[derive(Default)]
struct Bindings {
    values: Vec<(String, Value)>,
    unavailable: HashMap<String, String>,
    evidence: BTreeSet<EvidenceRef>,
}

impl Bindings {
    fn missing_reasons(&self, names: &BTreeSet<String>) -> Vec<String> {
        let mut reasons: Vec<String> = names
            .iter()
            .filter_map(|n| self.unavailable.get(n).cloned())
            .collect();
        reasons.sort();
        reasons.dedup();
        reasons
    }
}

/// How many (account, region) folders' evidence is read, evaluated and
/// dropped together: a pass holds these accounts' documents (and their CEL
/// forms) in every region of the run, and each control starts its items
/// once per pass. Counted in folders, not accounts, so a pass holds about
/// as much at 17 regions as at 4: 128 accounts a pass at 17 regions made
/// evaluation the peak of `report` at 1,000 × 17 (309 MiB, against 164 MiB
/// at 3,000 × 4).
const FOLDERS_PER_PASS: usize = 512;

/// [`FOLDERS_PER_PASS`] as accounts, for a run of `run.regions`: at least one.
fn accounts_per_pass(run: &RunInfo) -> usize {
    (FOLDERS_PER_PASS / run.regions.len().max(1)).max(1)
}

/// A control as planned before any account is evaluated.
enum Planned<'a> {
    /// Decided without evaluating items: disabled, manual, or no population.
    Done(Box<ControlResult>),
    /// Scope items to evaluate, pass by pass.
    Items(Box<Plan<'a>>),
}

/// What a control needs to evaluate its items in any pass: computed once.
struct Plan<'a> {
    control: &'a Control,
    /// The header, with the items decided so far.
    result: ControlResult,
    /// Every scope item, in order (accounts in `org.json` order).
    items: Vec<(&'a Account, Option<String>)>,
    /// The first item not yet evaluated.
    next: usize,
    budget: Arc<ControlBudget>,
    shared: Shared,
    used: BTreeSet<String>,
    /// The root context of every item, built once for the run and shared
    /// by every pass and core: CEL's standard library, auditpack's
    /// functions, the run-wide values, control-wide evidence maps and shared
    /// defines. The `cel` crate copies a value into its own form when it is
    /// added to a context, so building it for each pass (or each piece of
    /// work a core takes) copied the organization and the maps over every
    /// account again and again: quadratic in the accounts.
    root: Context<'a, 'static>,
}

impl Planned<'_> {
    /// The control's result once every pass is done (control `n`; with
    /// `spill`, its items are there, and the result is the header alone).
    fn finish(self, n: usize, spill: Option<&mut ItemSpill>) -> std::io::Result<ControlResult> {
        let Some(spill) = spill else {
            return Ok(match self {
                Planned::Done(result) => *result,
                Planned::Items(plan) if plan.budget.exceeded() => over_budget(plan.result),
                Planned::Items(plan) => {
                    let mut result = plan.result;
                    result.status = Verdict::all_of(result.results.iter().map(|r| r.status));
                    result
                }
            });
        };
        Ok(match self {
            Planned::Done(mut result) => {
                spill.append(n, std::mem::take(&mut result.results))?;
                *result
            }
            Planned::Items(plan) if plan.budget.exceeded() => {
                spill.discard(n)?;
                over_budget(plan.result)
            }
            Planned::Items(plan) => {
                let mut result = plan.result;
                result.status = spill.verdict(n);
                result
            }
        })
    }
}

impl<'a> Evaluator<'a> {
    fn new(store: &'a EvidenceStore, config: &'a Config, org: &'a Org, run: &'a RunInfo) -> Self {
        let globals = Globals {
            org: json_to_cel(&serde_json::to_value(org).expect("org serialises")),
            run: json_to_cel(&serde_json::to_value(run).expect("run serialises")),
            home_region: run.home_region.clone(),
        };
        Evaluator {
            store,
            changes: &config.changes,
            org,
            run,
            global: global_context(&globals),
            globals,
            role_holders: org.active_accounts().fold(BTreeMap::new(), |mut roles, a| {
                if let Some(role) = a.role {
                    roles.entry(role).or_default().push(a);
                }
                roles
            }),
            bound: Default::default(),
        }
    }

    /// The control's scope and what its items share (see [`Plan`]), or its
    /// result when its population is empty.
    fn plan<'e>(&'e self, control: &'e Control, params: BTreeMap<String, Json>) -> Planned<'e> {
        let mut result = control_header(control, params.clone());
        let items = match self.scope_items(control) {
            Ok((items, out_of_scope)) => {
                result.out_of_scope = out_of_scope;
                items
            }
            Err(empty) => {
                result.status = Verdict::NotAssessed;
                result.message = Some(empty.to_string());
                return Planned::Done(Box::new(result));
            }
        };
        let params = json_to_cel(&Json::Object(params.into_iter().collect()));
        let budget = Arc::new(ControlBudget::default());
        let shared = charging(&budget, || self.shared_defines(control, &params));
        let used = names_read_per_item(control, &shared.bindings);
        let mut common = shared.bindings.values.clone();
        common.extend(self.run_wide_values(&params));
        common.extend(shared.evidence_maps.iter().cloned());
        let root = scope_with(&self.global, &common, &used);
        drop(common);
        let shared = shared.converted();
        Planned::Items(Box::new(Plan {
            control,
            result,
            items,
            next: 0,
            budget,
            shared,
            used,
            root,
        }))
    }

    /// Evaluates the plan's next items whose account is in `in_pass` (they
    /// follow one another: items and passes both go in `org.json` order).
    fn evaluate_items(&self, plan: &mut Plan<'_>, in_pass: &BTreeSet<&str>) {
        let start = plan.next;
        let count = plan.items[start..]
            .iter()
            .take_while(|(account, _)| in_pass.contains(account.id.as_str()))
            .count();
        plan.next += count;
        if count == 0 {
            return;
        }
        let Plan {
            control,
            budget,
            shared,
            used,
            root,
            ..
        } = &*plan;
        // An item only adds its own names, in a child scope of the root.
        let decided: Vec<ItemResult> = plan.items[start..start + count]
            .par_iter()
            .map(|(account, region)| {
                charging(budget, || {
                    self.item(control, root, shared, used, account, region.clone())
                })
            })
            .collect();
        plan.result.results.extend(decided);
    }

    /// Drops every document read so far, and its CEL form, between passes:
    /// a pass reads its own accounts' documents and those its items bind in
    /// other accounts (the management account's trails, the organization's
    /// tag listings of its accounts), which the next pass reads again rather
    /// than keep them all. The maps over every account (`account = "all"`)
    /// stay: they are the run-wide facts controls share.
    /// The control-wide maps (cached under [`CONTROL_WIDE`]) go at the first
    /// call, once every control is planned: each plan's root context holds
    /// its own converted copy, and no item reads them again.
    fn forget_documents(&self) {
        self.bound_cache().retain(|key, _| key.starts_with("all:"));
        self.store.forget_every_document();
    }

    /// Computes, once per control, the defines that read only run-wide values
    /// (see [`RUN_WIDE`]), control-wide evidence maps (see
    /// [`is_control_wide_map`]) and earlier such defines: they are the same for
    /// every scope item, and recomputing one that walks the whole organization
    /// for each of thousands of items made evaluation quadratic in the
    /// accounts. A define that reads an evidence map, directly or through
    /// another define, is *gated*: an item whose own document cannot be used
    /// gets the reason instead of the value, as if it had computed it.
    fn shared_defines(&self, control: &Control, params: &Value) -> Shared {
        let evidence_maps: Vec<(String, Value)> = control
            .evidence
            .iter()
            .filter(|b| is_control_wide_map(b))
            .map(|b| (b.name.clone(), self.control_wide_map(b)))
            .collect();
        let mut bindings = Bindings::default();
        bindings.values.extend(self.run_wide_values(params));
        bindings.values.extend(evidence_maps.iter().cloned());
        let mut names: BTreeSet<String> = RUN_WIDE.iter().map(|n| n.to_string()).collect();
        let mut gated: BTreeSet<String> = evidence_maps.iter().map(|(n, _)| n.clone()).collect();
        names.extend(gated.iter().cloned());
        let defines: Vec<&Define> = control
            .defines
            .iter()
            .filter(|d| {
                let shared = d.expr.free_variables().is_subset(&names);
                if shared {
                    names.insert(d.name.clone());
                    if !d.expr.free_variables().is_disjoint(&gated) {
                        gated.insert(d.name.clone());
                    }
                }
                shared
            })
            .collect();
        let mut ctx = scope_with(&self.global, &bindings.values, &names);
        compute_defines(defines, &mut bindings, &mut ctx);
        bindings.values.retain(|(name, _)| {
            !RUN_WIDE.contains(&name.as_str()) && !evidence_maps.iter().any(|(n, _)| n == name)
        });
        for (name, _) in &evidence_maps {
            gated.remove(name);
        }
        Shared {
            bindings,
            evidence_maps,
            gated,
        }
    }

    /// The map account id → data of a control-wide `account = "all"`
    /// binding: the same for every scope item (built once per run).
    fn control_wide_map(&self, binding: &EvidenceBinding) -> Value {
        let any = self.binding_key(binding, String::new(), None);
        let map_key = format!(
            "{CONTROL_WIDE}{}/{}:{}",
            any.region, any.service, any.operation
        );
        self.every_account_map(&map_key, |account_id| {
            self.binding_key(binding, account_id.to_string(), None)
        })
    }

    /// `org`, `run`, `home_region` and `params`: the same for every scope item.
    fn run_wide_values(&self, params: &Value) -> [(String, Value); 4] {
        [
            (
                "home_region".into(),
                Value::String(Arc::new(self.globals.home_region.clone())),
            ),
            ("org".into(), self.globals.org.clone()),
            ("run".into(), self.globals.run.clone()),
            ("params".into(), params.clone()),
        ]
    }

    /// The accounts (× regions) a control applies to, and the account ×
    /// region pairs left out because the account has not enabled the region
    /// (per its own `account:ListRegions` evidence; without that evidence every
    /// region of the run is in scope). An empty population is an error, not a
    /// pass: a control that looked at nothing has shown nothing.
    fn scope_items(&self, control: &Control) -> Result<ScopeItems<'a>, EmptyPopulation> {
        let accounts: Vec<&Account> = match control.accounts {
            AccountSelector::All => self.org.active_accounts().collect(),
            AccountSelector::Role(role) => {
                self.role_holders.get(&role).cloned().unwrap_or_default()
            }
        };
        if accounts.is_empty() {
            return Err(match control.accounts {
                AccountSelector::All => EmptyPopulation::NoActiveAccount,
                AccountSelector::Role(role) => EmptyPopulation::NoAccountWithRole { role },
            });
        }
        let regions: Vec<Option<String>> = match control.regions {
            RegionSelector::Global => vec![None],
            RegionSelector::Home => vec![Some(self.run.home_region.clone())],
            RegionSelector::Each => self.run.regions.iter().cloned().map(Some).collect(),
        };
        let mut items = Vec::new();
        let mut out_of_scope = Vec::new();
        for account in accounts {
            let enabled = self.enabled_regions(account);
            for region in &regions {
                match (region, &enabled) {
                    (Some(name), Some(listing)) if !listing.enabled.contains(name) => {
                        out_of_scope.push(OutOfScope {
                            account_id: account.id.clone(),
                            account_name: account.name.clone(),
                            region: name.clone(),
                            region_opt_status: listing.status_of(name),
                            evidence: listing.evidence.clone(),
                        });
                    }
                    _ => items.push((account, region.clone())),
                }
            }
        }
        if items.is_empty() {
            return Err(EmptyPopulation::RegionsNotEnabled);
        }
        Ok((items, out_of_scope))
    }

    /// The regions `account` has enabled, from its `account:ListRegions`
    /// evidence (collected with `--regions all`); `None` when there is no
    /// usable listing, and every region of the run is then in scope.
    fn enabled_regions(&self, account: &Account) -> Option<RegionListing> {
        let doc = self.store.get(&region_listing_key(&account.id))?;
        let data = self.usable_json(&doc).ok()?;
        let (enabled, _) = crate::evidence::split_regions(data);
        Some(RegionListing {
            enabled,
            data: data.clone(),
            evidence: evidence_ref(&doc),
        })
    }

    /// One scope item. `root` holds what every item of the control shares;
    /// `bindings` gets only this item's values.
    fn item(
        &self,
        control: &Control,
        root: &Context<'_, 'static>,
        shared: &Shared,
        used: &BTreeSet<String>,
        account: &Account,
        region: Option<String>,
    ) -> ItemResult {
        let mut bindings = Bindings {
            values: Vec::new(),
            unavailable: shared.bindings.unavailable.clone(),
            evidence: BTreeSet::new(),
        };
        bindings.values.push((
            "account".into(),
            json_to_cel(&serde_json::to_value(account).expect("account serialises")),
        ));
        bindings.values.push((
            "region".into(),
            region
                .clone()
                .map_or(Value::Null, |r| Value::String(Arc::new(r))),
        ));
        for binding in &control.evidence {
            self.bind(binding, account, region.as_deref(), &mut bindings);
        }
        // A control-wide evidence map is already in `root`, and `bind` gives
        // none: adding it here would convert the whole organization's
        // documents again for every item (the `cel` crate copies a value into
        // its own form when it is added to a context), which is quadratic in
        // the accounts.
        let mut ctx = root.new_inner_scope();
        for (name, value) in bindings
            .values
            .iter()
            .filter(|(name, _)| used.contains(name))
        {
            ctx.add_variable_from_value(name.clone(), value.clone());
        }
        shared.gate(control, &mut bindings);
        let item_defines: Vec<&Define> = control
            .defines
            .iter()
            .filter(|d| !is_shared(d, &shared.bindings))
            .collect();
        compute_defines(item_defines, &mut bindings, &mut ctx);

        let place = match &region {
            Some(r) => format!("{}/{}", account.id, r),
            None => account.id.clone(),
        };
        let mut assertions: Vec<AssertionResult> = control
            .assertions
            .iter()
            .map(|a| check_assertion(a, &bindings, &ctx, &place))
            .collect();
        let mut evidence = bindings.evidence;
        let period = self.period_check(control, account, region.as_deref(), &place);
        let period = period.map(|checked| {
            assertions.push(checked.assertion);
            evidence.extend(checked.evidence);
            checked.period
        });
        let status = Verdict::all_of(assertions.iter().map(|a| a.status));
        ItemResult {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            region,
            status,
            message: item_message(status, &assertions),
            assertions,
            evidence: evidence.into_iter().collect(),
            waiver: None,
            period,
        }
    }

    fn bind(
        &self,
        binding: &EvidenceBinding,
        scope_account: &Account,
        scope_region: Option<&str>,
        out: &mut Bindings,
    ) {
        let source = binding.operation.source_name();
        let account_id = match binding.account {
            AccountRef::All => {
                return self.bind_every_account(binding, scope_account, scope_region, out)
            }
            AccountRef::Scope => scope_account.id.clone(),
            AccountRef::Role(role) => {
                let holders = self.role_holders.get(&role).map_or(&[][..], Vec::as_slice);
                match holders {
                    [one] => one.id.clone(),
                    [] => {
                        out.unavailable.insert(
                            binding.name.clone(),
                            format!("{source}: no active account has the role '{role}'"),
                        );
                        return;
                    }
                    _ => {
                        let reason = format!("{source}: several accounts have the role '{role}'; scope the control to that role instead");
                        out.unavailable.insert(binding.name.clone(), reason);
                        return;
                    }
                }
            }
        };
        let mut key = self.binding_key(binding, account_id, scope_region);
        if binding.qualifier == QualifierRef::ScopeAccount {
            key.qualifier = Some(scope_account.id.clone());
        }
        let bound = self.bound_evidence(&key, &binding.qualifier);
        out.evidence.extend(bound.evidence.iter().cloned());
        match &bound.value {
            Ok(value) => out.values.push((binding.name.clone(), value.clone())),
            Err(reason) => {
                out.unavailable
                    .insert(binding.name.clone(), reason.to_string());
            }
        }
    }
}

impl Evaluator<'_> {
    /// Where `binding` reads in `account_id`'s folder for a scope item in `scope_region`.
    fn binding_key(
        &self,
        binding: &EvidenceBinding,
        account_id: String,
        scope_region: Option<&str>,
    ) -> EvidenceKey {
        let region = match binding.region {
            RegionRef::Global => RegionDir::Global,
            RegionRef::Home => RegionDir::Region(self.run.home_region.clone()),
            RegionRef::Scope => RegionDir::from_region(scope_region),
        };
        EvidenceKey {
            account_id,
            region,
            service: binding.operation.service.to_string(),
            operation: binding.operation.operation.to_string(),
            qualifier: None,
        }
    }

    /// An `account = "all"` binding: the map account id → data of every active
    /// account whose document can be used (built once per region and
    /// operation), available to the item only when its own account's document
    /// can be used; the item cites its own document.
    fn bind_every_account(
        &self,
        binding: &EvidenceBinding,
        scope_account: &Account,
        scope_region: Option<&str>,
        out: &mut Bindings,
    ) {
        let own_key = self.binding_key(binding, scope_account.id.clone(), scope_region);
        let own = self.bound_evidence(&own_key, &QualifierRef::None);
        out.evidence.extend(own.evidence.iter().cloned());
        if let Err(reason) = &own.value {
            out.unavailable
                .insert(binding.name.clone(), reason.to_string());
            return;
        }
        // A control-wide map is in the item's root context already, and
        // only its availability (the item's own document) is the item's.
        if is_control_wide_map(binding) {
            return;
        }
        let map_key = format!(
            "all:{}/{}:{}",
            own_key.region, own_key.service, own_key.operation
        );
        let every = self.every_account_map(&map_key, |account_id| {
            self.binding_key(binding, account_id.to_string(), scope_region)
        });
        out.values.push((binding.name.clone(), every));
    }

    /// The map account id → data of every active account, cached under `map_key`.
    fn every_account_map(&self, map_key: &str, key_of: impl Fn(&str) -> EvidenceKey) -> Value {
        if let Some(hit) = self.bound_cache().get(map_key) {
            return hit.value.clone().unwrap_or(Value::Null);
        }
        // Each account's document is made a CEL value as it is read, and
        // not kept: at 10,000 accounts a JSON map of them all, or the
        // documents, would be held beside the map for nothing.
        let mut map: HashMap<Key, Value> = HashMap::new();
        (self.store).read_ahead_keys(self.org.active_accounts().map(|a| key_of(&a.id)));
        for account in self.org.active_accounts() {
            let key = key_of(&account.id);
            if let Some(doc) = self.store.peek(&key) {
                // As `evidence_to_cel` of a map of them all: a null is absent.
                let usable = self.usable_json(&doc).ok().filter(|d| !d.is_null());
                if let Some(data) = usable {
                    map.insert(
                        Key::String(Arc::new(account.id.clone())),
                        evidence_to_cel(data),
                    );
                }
            }
        }
        let bound = Arc::new(binding::Bound {
            value: Ok(Value::Map(map.into())),
            evidence: Vec::new(),
        });
        let value = bound.value.clone().unwrap_or(Value::Null);
        self.bound_cache()
            .entry(map_key.to_string())
            .or_insert(bound);
        value
    }
}

/// Where an account's `account:ListRegions` answer is: the regions it has
/// enabled, which decide its scope items.
fn region_listing_key(account_id: &str) -> EvidenceKey {
    EvidenceKey {
        account_id: account_id.to_string(),
        region: RegionDir::Global,
        service: "account".into(),
        operation: "ListRegions".into(),
        qualifier: None,
    }
}

/// What a control computes once for all its scope items.
struct Shared {
    /// The shared defines: values (in every item's root context) or reasons.
    bindings: Bindings,
    /// The control-wide `account = "all"` maps, by binding name (in the root
    /// context, and null here once it is built: see [`Shared::converted`];
    /// each item still binds its own document to know whether the name is
    /// available to it).
    evidence_maps: Vec<(String, Value)>,
    /// The shared defines that read an evidence map, directly or through
    /// another shared define.
    gated: BTreeSet<String>,
}

impl Shared {
    /// The same with every value replaced by null once the control's root
    /// context holds their converted copies (see [`Plan`]): items read the
    /// shared names, reasons and gates, never these values, and at 10,000
    /// accounts the maps over every account and the tallies made of them
    /// are tens of MB each.
    fn converted(mut self) -> Shared {
        let values = (self.bindings.values.iter_mut()).chain(self.evidence_maps.iter_mut());
        for (_, value) in values {
            *value = Value::Null;
        }
        self
    }

    /// Makes each gated define unavailable to an item for which a name it
    /// reads is unavailable (its own document of an evidence map cannot be
    /// used, or an earlier gated define is unavailable), with the reasons, in
    /// define order: what computing it for that item would have given.
    fn gate(&self, control: &Control, bindings: &mut Bindings) {
        for define in control
            .defines
            .iter()
            .filter(|d| self.gated.contains(&d.name))
        {
            let missing = bindings.missing_reasons(define.expr.free_variables());
            if !missing.is_empty() {
                bindings
                    .unavailable
                    .insert(define.name.clone(), missing.join("; "));
            }
        }
    }
}

/// Whether `binding` is an `account = "all"` map that is the same for every
/// scope item of its control: its region does not follow the item's, so the
/// map is built, converted to CEL and put in the root context once per
/// control, and defines over it can be computed once (`peer_tally`).
fn is_control_wide_map(binding: &EvidenceBinding) -> bool {
    binding.account == AccountRef::All && binding.region != RegionRef::Scope
}

/// A control's scope items (account, region) and the pairs out of scope.
type ScopeItems<'a> = (Vec<(&'a Account, Option<String>)>, Vec<OutOfScope>);

/// An account's `account:ListRegions` evidence, read.
struct RegionListing {
    enabled: BTreeSet<String>,
    data: Json,
    evidence: EvidenceRef,
}

impl RegionListing {
    /// The region's `RegionOptStatus` as listed.
    fn status_of(&self, region: &str) -> Option<String> {
        self.data["Regions"]
            .as_array()?
            .iter()
            .find(|r| r["RegionName"] == region)
            .and_then(|r| r["RegionOptStatus"].as_str().map(String::from))
    }
}

/// Names every scope item shares: a define reading only these (and earlier
/// such defines) is computed once per control.
const RUN_WIDE: [&str; 4] = ["org", "run", "params", "home_region"];
/// The run-wide values held by the run's global context (see [`global_context`]).
const IN_GLOBAL_CONTEXT: [&str; 3] = ["org", "run", "home_region"];

/// The bound-evidence cache's prefix for a control-wide map over every
/// account (see [`is_control_wide_map`]), kept only while controls are
/// planned. Maps that follow the item's region are cached under `all:` for
/// the run.
const CONTROL_WIDE: &str = "control-wide:";

/// The names the item-level defines and the assertions of `control` read.
fn names_read_per_item(control: &Control, shared: &Bindings) -> BTreeSet<String> {
    control
        .defines
        .iter()
        .filter(|d| !is_shared(d, shared))
        .map(|d| &d.expr)
        .chain(control.assertions.iter().flat_map(|a| a.expressions()))
        .flat_map(|e| e.free_variables().iter().cloned())
        .collect()
}

/// True when `define` was computed once for the control (a value or a reason).
fn is_shared(define: &Define, shared: &Bindings) -> bool {
    shared.unavailable.contains_key(&define.name)
        || shared.values.iter().any(|(name, _)| *name == define.name)
}

/// Evaluates `defines` in order into `ctx`; a define reading an unavailable
/// name, or failing, is unavailable itself, with the reason.
fn compute_defines(defines: Vec<&Define>, bindings: &mut Bindings, ctx: &mut Context<'_, 'static>) {
    for define in defines {
        let missing = bindings.missing_reasons(define.expr.free_variables());
        if !missing.is_empty() {
            bindings
                .unavailable
                .insert(define.name.clone(), missing.join("; "));
            continue;
        }
        match define.expr.eval(ctx) {
            Ok(value) => {
                bindings.values.push((define.name.clone(), value.clone()));
                ctx.add_variable_from_value(define.name.clone(), value);
            }
            Err(e) => {
                bindings.unavailable.insert(
                    define.name.clone(),
                    format!("could not compute '{}': {e}", define.name),
                );
            }
        }
    }
}

/// The run's global context (see `Evaluator::global`): the run-wide values
/// but `params`, which is each control's own.
fn global_context(globals: &Globals) -> Context<'static, 'static> {
    let mut ctx = Context::default();
    register_functions(&mut ctx);
    ctx.add_variable_from_value("org", globals.org.clone());
    ctx.add_variable_from_value("run", globals.run.clone());
    let home_region = Value::String(Arc::new(globals.home_region.clone()));
    ctx.add_variable_from_value("home_region", home_region);
    ctx
}

/// A scope under `global` with the `values` the control's expressions read
/// (`used`), and no others: converting unused values, such as the whole
/// organization, costs more than the evaluation itself. The run's own values
/// are left out too: `global` holds them already (the same values: see
/// `Evaluator::run_wide_values`).
fn scope_with<'g>(
    global: &'g Context<'static, 'static>,
    values: &[(String, Value)],
    used: &BTreeSet<String>,
) -> Context<'g, 'static> {
    let mut ctx = global.new_inner_scope();
    let read = |name: &str| used.contains(name) && !IN_GLOBAL_CONTEXT.contains(&name);
    for (name, value) in values.iter().filter(|(name, _)| read(name)) {
        ctx.add_variable_from_value(name.clone(), value.clone());
    }
    ctx
}

fn control_header(control: &Control, params: BTreeMap<String, Json>) -> ControlResult {
    ControlResult {
        id: control.id.clone(),
        title: control.title.clone(),
        tsc: control.tsc.clone(),
        severity: control.severity,
        status: Verdict::NotAssessed,
        message: None,
        objective: control.objective.trim().to_string(),
        procedure: control.procedure.trim().to_string(),
        remediation: control.remediation.trim().to_string(),
        scope_accounts: match control.accounts {
            AccountSelector::All => "all".into(),
            AccountSelector::Role(role) => role.to_string(),
        },
        scope_regions: serde_json::to_value(control.regions)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        params,
        assertions: control
            .assertions
            .iter()
            .map(|a| AssertionInfo {
                id: a.id.clone(),
                requirement: a.requirement.clone(),
                for_each: a.for_each.as_ref().map(|e| e.source.clone()),
                expect: a.expect.source.clone(),
            })
            .chain(period::period_assertion_info(control))
            .collect(),
        file: control
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        origin: Some(control.origin),
        file_sha256: Some(hex::encode(Sha256::digest(control.source_text.as_bytes()))),
        results: Vec::new(),
        out_of_scope: Vec::new(),
        matrix: control.matrix,
    }
}

/// A control that ran out of its budget: which of its items were decided
/// before it did depends on thread scheduling, so none is reported; the
/// control is NOT_ASSESSED with the reason, the same on every run.
fn over_budget(mut result: ControlResult) -> ControlResult {
    result.results.clear();
    result.status = Verdict::NotAssessed;
    result.message = Some(format!("Not assessed: {}.", OverBudget::Control));
    result
}

fn disabled_result(control: &Control, reason: String) -> ControlResult {
    let mut result = control_header(control, control.params.clone());
    result.status = Verdict::Disabled;
    result.message = Some(format!("Disabled in auditpack.toml: {reason}"));
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{load_control_set, ControlSet};
    use crate::evidence::read_json_file;

    /// The samples' evidence folder, organization and the bundled controls.
    fn samples() -> (std::path::PathBuf, Org, Vec<Control>) {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let folder = repo.join("evidence-samples");
        let org: Org = read_json_file(&folder.join("org.json")).unwrap();
        let controls = load_control_set(&ControlSet::only(&repo.join("controls"))).unwrap();
        (folder, org, controls)
    }

    /// A control's maps over every account are held, once it is planned,
    /// only as its root scope's converted copy: its plan keeps nulls, the
    /// run's cache drops them once every control is planned, and its items
    /// neither build nor fetch them again.
    #[test]
    fn control_wide_maps_are_held_only_converted_in_the_plans_root_scope() {
        let (folder, org, controls) = samples();
        let store = EvidenceStore::open(&folder).unwrap();
        let run = store.run_info().unwrap();
        let config = Config::default();
        let evaluator = Evaluator::new(&store, &config, &org, &run);
        let control = (controls.iter())
            .find(|c| c.evidence.iter().any(is_control_wide_map))
            .expect("a control reads a map over every account");
        let Planned::Items(mut plan) = evaluator.plan(control, BTreeMap::new()) else {
            panic!("{} has scope items", control.id);
        };
        assert!(!plan.shared.evidence_maps.is_empty());
        let values = (plan.shared.evidence_maps.iter()).chain(&plan.shared.bindings.values);
        assert!(
            values.clone().all(|(_, v)| *v == Value::Null),
            "the plan keeps a value its root holds: {:?}",
            values.map(|(n, _)| n).collect::<Vec<_>>()
        );
        evaluator.forget_documents();
        let cached: Vec<String> = evaluator.bound_cache().keys().cloned().collect();
        assert!(
            cached.iter().all(|k| !k.starts_with(CONTROL_WIDE)),
            "kept after planning: {cached:?}"
        );
        let accounts: BTreeSet<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
        evaluator.evaluate_items(&mut plan, &accounts);
        assert_eq!(plan.result.results.len(), plan.items.len());
        assert!(
            (evaluator.bound_cache().keys()).all(|k| !k.starts_with(CONTROL_WIDE)),
            "an item built the map again"
        );
    }

    /// Evaluating the accounts a pass at a time gives the same results
    /// whatever the pass size (one account, a few, all at once), and leaves
    /// no account's document in memory afterwards.
    #[test]
    fn results_do_not_depend_on_how_many_accounts_a_pass_holds() {
        let (folder, org, controls) = samples();
        let evaluated = |per_pass: usize| {
            let store = EvidenceStore::open(&folder).unwrap();
            let run = store.run_info().unwrap();
            let results = evaluate_in_passes(
                &controls,
                &Config::default(),
                &store,
                &org,
                &run,
                per_pass,
                None,
            )
            .unwrap()
            .0;
            (
                serde_json::to_string(&results).unwrap(),
                store.cached_documents(),
            )
        };
        let (whole, left) = evaluated(org.accounts.len());
        assert!(org.accounts.len() > 3, "the samples have several accounts");
        assert_eq!(
            left,
            Vec::<String>::new(),
            "documents kept after the last pass"
        );
        for per_pass in [1, 3] {
            let (passed, left) = evaluated(per_pass);
            assert!(
                passed == whole,
                "{per_pass} account(s) per pass changed the results"
            );
            assert_eq!(
                left,
                Vec::<String>::new(),
                "documents kept after the last pass"
            );
        }
    }
}
