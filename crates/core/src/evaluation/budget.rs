//! The cost budget of CEL evaluation.
//!
//! CEL always terminates, but not always soon: comprehensions nest, so
//! `l.all(a, l.all(b, l.all(c, …)))` over a 300-item list is 27 million
//! steps, and `verify --reevaluate` runs the control files of a bundle someone
//! else made. The `cel` crate has no cost hook, so every compiled expression is
//! instrumented instead ([`instrument`]): each value an operator, a function or
//! a comprehension consumes passes through [`COST_FUNCTION`], which charges its
//! size to the meter of the running evaluation and hands the same value on.
//! The map of a lookup (`m[k]`, `k in m`) passes through
//! [`LOOKUP_COST_FUNCTION`] instead, which charges one unit: a lookup is a
//! hash lookup, as cheap as `m.k` (never charged), and charging it the map's
//! size made a linear pass with one lookup per account quadratic in the
//! budget (`baseline.consistency`'s per-role tally at 1,000 accounts).
//!
//! The charge is deterministic (a count, never a clock), so a re-evaluation
//! stops at the same place as the original run and gives the same results.
//! Two limits apply (documented in docs/limits.md):
//! [`MAX_EVALUATION_COST`] per evaluation of one expression, and
//! [`MAX_CONTROL_COST`] over every evaluation of one control.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cel::common::ast::operators;
use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use cel::common::types::{CelBytes, CelMap, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, FunctionContext};

/// The most cost units one evaluation of one expression (a define, a
/// `for_each`, an `expect`, a quote) may spend. The shipped controls spend
/// at most a few units per account of the organization in one evaluation
/// (about 60,000 for `org.inventory` at 10,000 accounts); a million is about
/// a third of a second of one core in a debug build.
pub const MAX_EVALUATION_COST: u64 = 1_000_000;

/// The most cost units one control may spend over all its scope items and
/// evaluations. `org.inventory` at 10,000 accounts spends about 600 million
/// (a `for_each` over the Organizations listing, each checking the whole
/// inventory), so this is set for a real organization of that size; it
/// bounds a crafted control spread over many `for_each` elements, re-evaluated
/// from an untrusted bundle, to minutes of one core, not hours.
pub const MAX_CONTROL_COST: u64 = 1_000_000_000;

/// The function [`instrument`] wraps values in. A name beginning with `@`
/// cannot be written in CEL source, so no control can call or shadow it.
pub(crate) const COST_FUNCTION: &str = "@cost";

/// The function [`instrument`] wraps the container of `m[k]` and `k in m`
/// in: one unit for a map (a hash lookup), the size for anything else (`in`
/// walks a list). Unwritable in CEL source, like [`COST_FUNCTION`].
pub(crate) const LOOKUP_COST_FUNCTION: &str = "@cost_lookup";

/// Which budget an evaluation ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    /// One evaluation spent more than [`MAX_EVALUATION_COST`].
    #[error("evaluation stopped: the expression exceeded its cost budget of {MAX_EVALUATION_COST} units (see docs/limits.md)")]
    Evaluation,
    /// The control's evaluations together spent more than [`MAX_CONTROL_COST`].
    #[error("evaluation stopped: the control exceeded its cost budget of {MAX_CONTROL_COST} units over all its scope items (see docs/limits.md)")]
    Control,
}

/// What one control has spent so far, shared by the threads evaluating it.
#[derive(Debug)]
pub(crate) struct ControlBudget {
    limit: u64,
    spent: AtomicU64,
}

impl Default for ControlBudget {
    /// A budget of [`MAX_CONTROL_COST`].
    fn default() -> Self {
        ControlBudget::of(MAX_CONTROL_COST)
    }
}

impl ControlBudget {
    /// A budget of `limit` units (the engine uses [`MAX_CONTROL_COST`]).
    pub(crate) fn of(limit: u64) -> Self {
        ControlBudget {
            limit,
            spent: AtomicU64::new(0),
        }
    }

    /// Whether the control as a whole ran out. The total is a sum of
    /// deterministic charges, so this does not depend on thread scheduling
    /// once every evaluation has run (or stopped because it was already true).
    pub(crate) fn exceeded(&self) -> bool {
        self.spent.load(Ordering::Relaxed) > self.limit
    }

    /// Adds `units`; true when the total is now over the limit.
    fn charge(&self, units: u64) -> bool {
        self.spent.fetch_add(units, Ordering::Relaxed) + units > self.limit
    }
}

/// The meter of the evaluation running on this thread.
#[derive(Default)]
struct Meter {
    spent: u64,
    stopped: Option<OverBudget>,
    control: Option<Arc<ControlBudget>>,
}

thread_local! {
    static METER: RefCell<Meter> = RefCell::default();
}

/// Runs `f` with every evaluation on this thread charged to `control` too.
/// Evaluation of one scope item runs on one thread (rayon splits items, not
/// expressions), so a thread-local is the control's meter for that item.
pub(crate) fn charging<T>(control: &Arc<ControlBudget>, f: impl FnOnce() -> T) -> T {
    let previous = METER.with(|m| m.borrow_mut().control.replace(control.clone()));
    let value = f();
    METER.with(|m| m.borrow_mut().control = previous);
    value
}

/// Runs one evaluation under a fresh per-evaluation budget; `Err` when it ran
/// out (of its own budget or of the control's), whatever `run` returned: an
/// exhausted comprehension step can be absorbed by `&&`/`||` into a value,
/// which must not become a verdict.
pub(crate) fn metered<T>(run: impl FnOnce() -> T) -> Result<T, OverBudget> {
    let already_over = METER.with(|m| {
        let mut m = m.borrow_mut();
        m.spent = 0;
        m.stopped = None;
        m.control.as_ref().is_some_and(|c| c.exceeded())
    });
    if already_over {
        return Err(OverBudget::Control);
    }
    let value = run();
    match METER.with(|m| m.borrow_mut().stopped.take()) {
        Some(over) => Err(over),
        None => Ok(value),
    }
}

/// Charges `units` to the running evaluation (and its control).
fn charge(units: u64) -> Result<(), ExecutionError> {
    METER
        .with(|m| {
            let mut m = m.borrow_mut();
            if let Some(over) = m.stopped {
                return Err(over);
            }
            m.spent += units;
            let control_over = m.control.as_ref().is_some_and(|c| c.charge(units));
            let over = if m.spent > MAX_EVALUATION_COST {
                Some(OverBudget::Evaluation)
            } else if control_over {
                Some(OverBudget::Control)
            } else {
                None
            };
            m.stopped = over;
            over.map_or(Ok(()), Err)
        })
        .map_err(|over| ExecutionError::function_error(COST_FUNCTION, over))
}

/// The units a value costs when an operation consumes it: the elements of a
/// list or map (a comprehension steps through each; `in`, `==` and `+` walk
/// them), one per 64 bytes of a string or bytes, one for anything else.
fn units(value: &dyn Val) -> u64 {
    if let Some(text) = value.downcast_ref::<CelString>() {
        return 1 + text.inner().len() as u64 / 64;
    }
    if let Some(bytes) = value.downcast_ref::<CelBytes>() {
        return 1 + bytes.inner().len() as u64 / 64;
    }
    value
        .as_sizer()
        .map_or(1, |sizer| (*sizer.size().inner()).max(1) as u64)
}

/// The units the container of a lookup costs: one for a map, whose lookup
/// is a hash lookup; [`units`] for anything else.
fn lookup_units(value: &dyn Val) -> u64 {
    if value.downcast_ref::<CelMap>().is_some() {
        1
    } else {
        units(value)
    }
}

/// Registers [`COST_FUNCTION`] and [`LOOKUP_COST_FUNCTION`] on a root
/// context: each charges its one argument and returns it as it came
/// (borrowed stays borrowed: nothing is copied).
pub(crate) fn register(ctx: &mut Context) {
    let cost: RawFunction = Box::new(cost);
    ctx.add_function(COST_FUNCTION, cost)
        .expect("@cost cannot clash with a CEL name");
    let lookup: RawFunction = Box::new(lookup_cost);
    ctx.add_function(LOOKUP_COST_FUNCTION, lookup)
        .expect("@cost_lookup cannot clash with a CEL name");
}

/// A function over the `cel` crate's own values (its `Function` type, which
/// it does not export): it receives its arguments as resolved, borrowed where
/// they were, and can return one of them without a copy.
type RawFunction = Box<
    dyn for<'context, 'call> Fn(
            &mut FunctionContext<'context, 'call>,
        ) -> Result<CowVal<'context, 'call>, ExecutionError>
        + Send
        + Sync,
>;

/// [`COST_FUNCTION`] itself.
fn cost<'context, 'call>(
    ftx: &mut FunctionContext<'context, 'call>,
) -> Result<CowVal<'context, 'call>, ExecutionError> {
    charge_argument(ftx, units)
}

/// [`LOOKUP_COST_FUNCTION`] itself.
fn lookup_cost<'context, 'call>(
    ftx: &mut FunctionContext<'context, 'call>,
) -> Result<CowVal<'context, 'call>, ExecutionError> {
    charge_argument(ftx, lookup_units)
}

/// Charges the one argument's cost, as `units_of` counts it, and returns it.
fn charge_argument<'context, 'call>(
    ftx: &mut FunctionContext<'context, 'call>,
    units_of: fn(&dyn Val) -> u64,
) -> Result<CowVal<'context, 'call>, ExecutionError> {
    let value = ftx
        .args
        .pop()
        .ok_or_else(|| ExecutionError::invalid_argument_count(1, 0))?;
    charge(units_of(value.as_ref()))?;
    Ok(value)
}

/// Wraps, in `expr`, each value an operation consumes in a [`COST_FUNCTION`]
/// call: every comprehension's range, every argument and receiver of a call,
/// every element of a list or map literal; the container of `m[k]` and
/// `k in m` in [`LOOKUP_COST_FUNCTION`] instead. Left as they are: literals (they
/// cost nothing to read), the macros' own accumulator (`@result`, which the
/// `cel` crate recognises to run `all`/`exists`/`map`/`filter` without
/// copying), list literal arguments (their elements are wrapped instead), and
/// receivers naming a function namespace (`optional.of`), and a macro's
/// append to its accumulator ([`is_accumulator_append`]).
pub(crate) fn instrument(expr: &mut IdedExpr) {
    let mut next_id = max_id(expr) + 1;
    instrument_node(expr, &mut next_id);
}

fn instrument_node(node: &mut IdedExpr, next_id: &mut u64) {
    match &mut node.expr {
        Ast::Call(call) => {
            let container = lookup_container(&call.func_name);
            for (at, arg) in call.args.iter_mut().enumerate() {
                instrument_node(arg, next_id);
                let charge = if container == Some(at) {
                    LOOKUP_COST_FUNCTION
                } else {
                    COST_FUNCTION
                };
                wrap_if_costly_with(charge, arg, next_id);
            }
            if let Some(target) = &mut call.target {
                instrument_node(target, next_id);
                if !names_namespace(target) {
                    wrap_if_costly(target, next_id);
                }
            }
        }
        Ast::Comprehension(comp) => {
            instrument_node(&mut comp.iter_range, next_id);
            wrap(&mut comp.iter_range, next_id);
            for part in [
                &mut comp.accu_init,
                &mut comp.loop_cond,
                &mut comp.loop_step,
                &mut comp.result,
            ] {
                instrument_node(part, next_id);
            }
        }
        Ast::Select(select) => instrument_node(&mut select.operand, next_id),
        Ast::List(list) => {
            for element in &mut list.elements {
                instrument_node(element, next_id);
                wrap_if_costly(element, next_id);
            }
        }
        Ast::Map(map) => {
            for entry in &mut map.entries {
                instrument_entry(&mut entry.expr, next_id);
            }
        }
        Ast::Struct(st) => {
            for entry in &mut st.entries {
                instrument_entry(&mut entry.expr, next_id);
            }
        }
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => {}
    }
}

fn instrument_entry(entry: &mut EntryExpr, next_id: &mut u64) {
    match entry {
        EntryExpr::StructField(field) => instrument_node(&mut field.value, next_id),
        EntryExpr::MapEntry(entry) => {
            instrument_node(&mut entry.key, next_id);
            instrument_node(&mut entry.value, next_id);
            wrap_if_costly(&mut entry.value, next_id);
        }
    }
}

/// `@result + [x]`: the step by which `filter` (inside its `cond ? … :
/// @result`) and `map` append to their result. The `cel` crate appends in
/// place only when it sees this shape as written; wrapped, every step of a
/// `filter` copied the whole result so far (deep copies of every element)
/// and charged its size, quadratic in time and in the budget (the profile
/// of `baseline.consistency` at 1,000 accounts: most of its time in
/// `DefaultList::add` cloning account maps). The appended elements are
/// still charged.
fn is_accumulator_append(call: &cel::common::ast::CallExpr) -> bool {
    call.func_name == operators::ADD
        && call.target.is_none()
        && matches!(call.args.as_slice(),
            [IdedExpr { expr: Ast::Ident(accu), .. }, IdedExpr { expr: Ast::List(_), .. }]
                if accu.starts_with('@'))
}

/// Which argument of a call to `func_name` is the container it looks a key
/// up in: the map or list of `m[k]` (and `m[?k]`), the right side of `k in m`.
fn lookup_container(func_name: &str) -> Option<usize> {
    match func_name {
        operators::INDEX | operators::OPT_INDEX => Some(0),
        operators::IN => Some(1),
        _ => None,
    }
}

/// Wraps `node` unless reading it is free or the `cel` crate must see it as
/// written (see [`instrument`]).
fn wrap_if_costly(node: &mut IdedExpr, next_id: &mut u64) {
    wrap_if_costly_with(COST_FUNCTION, node, next_id);
}

/// [`wrap_if_costly`], charging through `function`.
fn wrap_if_costly_with(function: &str, node: &mut IdedExpr, next_id: &mut u64) {
    let as_written = match &node.expr {
        Ast::Literal(_) | Ast::List(_) => true,
        Ast::Ident(name) => name.starts_with('@'),
        Ast::Call(call) => is_accumulator_append(call),
        _ => false,
    };
    if !as_written {
        wrap_with(function, node, next_id);
    }
}

fn wrap(node: &mut IdedExpr, next_id: &mut u64) {
    wrap_with(COST_FUNCTION, node, next_id);
}

fn wrap_with(function: &str, node: &mut IdedExpr, next_id: &mut u64) {
    let inner = std::mem::take(node);
    *node = IdedExpr {
        id: *next_id,
        expr: Ast::Call(cel::common::ast::CallExpr {
            func_name: function.to_string(),
            target: None,
            args: vec![inner],
        }),
    };
    *next_id += 1;
}

/// `optional` in `optional.of(x)` names the standard library's namespace,
/// not a value: wrapped, it would be looked up as a variable.
fn names_namespace(target: &IdedExpr) -> bool {
    matches!(&target.expr, Ast::Ident(name) if name == "optional")
}

/// The largest node id in `expr`, so the wrappers' ids are new.
fn max_id(node: &IdedExpr) -> u64 {
    let children: Vec<&IdedExpr> = match &node.expr {
        Ast::Call(call) => call.args.iter().chain(call.target.as_deref()).collect(),
        Ast::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Ast::Select(select) => vec![&select.operand],
        Ast::List(list) => list.elements.iter().collect(),
        Ast::Map(map) => map
            .entries
            .iter()
            .flat_map(|e| entry_parts(&e.expr))
            .collect(),
        Ast::Struct(st) => st
            .entries
            .iter()
            .flat_map(|e| entry_parts(&e.expr))
            .collect(),
        Ast::Ident(_) | Ast::Literal(_) | Ast::Unspecified => Vec::new(),
    };
    children.into_iter().map(max_id).fold(node.id, u64::max)
}

fn entry_parts(entry: &EntryExpr) -> Vec<&IdedExpr> {
    match entry {
        EntryExpr::StructField(field) => vec![&field.value],
        EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::expr::{
        display_value, json_to_cel, register_functions, Expr, ExprError,
    };

    /// A context with `l`, a list of `n` integers.
    fn with_list(n: i64) -> Context<'static, 'static> {
        let mut ctx = Context::default();
        register_functions(&mut ctx);
        let items: Vec<serde_json::Value> = (0..n).map(serde_json::Value::from).collect();
        ctx.add_variable_from_value("l", json_to_cel(&serde_json::Value::from(items)));
        ctx
    }

    #[test]
    fn nested_comprehensions_stop_at_the_evaluation_budget() {
        let ctx = with_list(300);
        let cubic = Expr::compile("l.all(a, l.all(b, l.all(c, a + b + c >= 0)))").unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            cubic.eval(&ctx),
            Err(ExprError::OverBudget(OverBudget::Evaluation))
        ));
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        // The next evaluation has a budget of its own.
        let square = Expr::compile("l.all(a, l.exists(b, b == a))").unwrap();
        assert_eq!(square.eval(&ctx).unwrap(), cel::Value::Bool(true));
    }

    #[test]
    fn an_error_absorbed_by_a_boolean_operator_is_still_over_budget() {
        // `error || true` is true in CEL: the budget's error must not be.
        let ctx = with_list(300);
        let absorbed = Expr::compile("l.all(a, l.all(b, l.all(c, c >= 0))) || true").unwrap();
        assert!(matches!(
            absorbed.eval(&ctx),
            Err(ExprError::OverBudget(OverBudget::Evaluation))
        ));
    }

    #[test]
    fn a_control_stops_when_its_evaluations_together_exceed_its_budget() {
        let ctx = with_list(100);
        let each = Expr::compile("l.all(a, l.exists(b, b == a))").unwrap();
        let budget = Arc::new(ControlBudget::of(100_000));
        let outcomes: Vec<bool> = (0..20)
            .map(|_| charging(&budget, || each.eval(&ctx).is_ok()))
            .collect();
        assert!(budget.exceeded());
        assert!(outcomes[0], "the first evaluations are within the budget");
        assert!(matches!(
            charging(&budget, || each.eval(&ctx)),
            Err(ExprError::OverBudget(OverBudget::Control))
        ));
        // Outside the control, the same expression evaluates.
        assert!(each.eval(&ctx).is_ok());
    }

    #[test]
    fn a_filter_appends_in_place_and_is_charged_per_element() {
        // 3,000 elements kept: copying the result at every step was ~4.5
        // million units (over the budget) and as many element copies.
        let ctx = with_list(3000);
        let filter = Expr::compile("size(l.filter(x, x >= 0)) == 3000").unwrap();
        assert_eq!(filter.eval(&ctx).unwrap(), cel::Value::Bool(true));
        let mapped = Expr::compile("l.filter(x, x < 3).map(x, x * 10)").unwrap();
        assert_eq!(display_value(&mapped.eval(&ctx).unwrap()), "[0, 10, 20]");
    }

    #[test]
    fn a_lookup_in_a_map_costs_one_unit_and_in_a_list_its_size() {
        // 2,000 elements, each looked up twice in a map of 2,000 entries:
        // 8 million units, over the budget, if the map were charged its size.
        let mut ctx = with_list(2000);
        let map: serde_json::Map<String, serde_json::Value> = (0..2000)
            .map(|i| (i.to_string(), serde_json::Value::from(i)))
            .collect();
        ctx.add_variable_from_value("m", json_to_cel(&serde_json::Value::Object(map)));
        let lookups = Expr::compile("l.all(x, string(x) in m && m[string(x)] == x)").unwrap();
        assert_eq!(lookups.eval(&ctx).unwrap(), cel::Value::Bool(true));
        // `in` walks a list: charged its size, the same pass is over budget.
        let walks = Expr::compile("l.all(x, x in l)").unwrap();
        assert!(matches!(
            walks.eval(&ctx),
            Err(ExprError::OverBudget(OverBudget::Evaluation))
        ));
        // A list's index is charged as before (its size); both still work.
        let indexed = Expr::compile("l[1999] == 1999 && m['7'] == 7").unwrap();
        assert_eq!(indexed.eval(&ctx).unwrap(), cel::Value::Bool(true));
    }

    #[test]
    fn instrumentation_keeps_results_and_errors() {
        let ctx = with_list(5);
        for (source, expected) in [
            ("l.map(x, x * 2).filter(y, y > 4)", "[6, 8]"),
            ("l.exists_one(x, x == 3)", "true"),
            ("[l, [1]].size() + size({'a': l})", "3"),
            ("optional.of(1).hasValue()", "true"),
            ("'abc'.startsWith('a') && 2 in l", "true"),
        ] {
            let value = Expr::compile(source).unwrap().eval(&ctx).unwrap();
            assert_eq!(display_value(&value), expected, "{source}");
        }
        let err = Expr::compile("l.all(x, x.Missing == 1)")
            .unwrap()
            .eval(&ctx);
        assert!(matches!(err, Err(ExprError::Eval(_))), "{err:?}");
    }
}
