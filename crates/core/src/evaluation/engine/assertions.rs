//! Checking one assertion over one scope item: its failures and gaps, the
//! quoted values, and the messages results.json and the report show.

use super::*;

/// The outcome of checking one assertion: failures found and gaps met.
#[derive(Default)]
pub(super) struct Findings {
    pub(super) failures: Vec<String>,
    pub(super) gaps: Vec<String>,
    pub(super) checked: usize,
}

pub(super) fn check_assertion(
    assertion: &Assertion,
    bindings: &Bindings,
    ctx: &Context,
    place: &str,
) -> AssertionResult {
    let names: BTreeSet<String> = assertion
        .expressions()
        .flat_map(|e| e.free_variables().iter().cloned())
        .collect();
    let missing = bindings.missing_reasons(&names);
    let findings = if missing.is_empty() {
        run_assertion(assertion, ctx, place)
    } else {
        Findings {
            gaps: missing,
            ..Default::default()
        }
    };
    let status = if !findings.failures.is_empty() {
        Verdict::Fail
    } else if !findings.gaps.is_empty() {
        Verdict::NotAssessed
    } else {
        Verdict::Pass
    };
    AssertionResult {
        id: assertion.id.clone(),
        status,
        message: assertion_message(assertion, status, &findings),
    }
}

pub(super) fn run_assertion(assertion: &Assertion, ctx: &Context, place: &str) -> Findings {
    let mut findings = Findings::default();
    let Some(for_each) = &assertion.for_each else {
        check_one(assertion, ctx, None, place, &mut findings);
        return findings;
    };
    let items = match for_each.eval(ctx) {
        Ok(Value::List(items)) => items.iter().cloned().collect::<Vec<_>>(),
        Ok(Value::Map(map)) => map.map.keys().map(|k| Value::from(k.clone())).collect(),
        Ok(other) => {
            findings.gaps.push(format!(
                "for_each gave {}, not a list",
                display_value(&other)
            ));
            return findings;
        }
        Err(e) => {
            findings
                .gaps
                .push(format!("could not list the resources to check: {e}"));
            return findings;
        }
    };
    if items.is_empty() {
        match assertion.when_empty {
            WhenEmpty::Pass => {}
            WhenEmpty::Fail => findings.failures.push(format!(
                "in {place}: there is nothing to check ({})",
                for_each.source
            )),
            WhenEmpty::NotAssessed => findings.gaps.push(format!(
                "in {place}: there is nothing to check ({})",
                for_each.source
            )),
        }
    }
    for item in items {
        let mut inner = ctx.new_inner_scope();
        inner.add_variable_from_value(assertion.item_var.clone(), item.clone());
        check_one(assertion, &inner, Some(&item), place, &mut findings);
    }
    findings
}

pub(super) fn check_one(
    assertion: &Assertion,
    ctx: &Context,
    item: Option<&Value>,
    place: &str,
    findings: &mut Findings,
) {
    findings.checked += 1;
    let resource = resource_name(assertion, ctx, item);
    let subject = match &resource {
        Some(r) => format!("{r} in {place}"),
        None => place.to_string(),
    };
    match assertion.expect.eval(ctx) {
        Ok(Value::Bool(true)) => {}
        Ok(Value::Bool(false)) => {
            let finding = format!("{subject}{}", quotes(assertion, ctx));
            match assertion.when_false {
                WhenFalse::Fail => findings.failures.push(finding),
                WhenFalse::NotAssessed => findings.gaps.push(finding),
            }
        }
        Ok(other) => findings.gaps.push(format!(
            "{subject}: the test gave {}, not true or false",
            display_value(&other)
        )),
        Err(e) => findings.gaps.push(format!("{subject}: {e}")),
    }
}

pub(super) fn resource_name(
    assertion: &Assertion,
    ctx: &Context,
    item: Option<&Value>,
) -> Option<String> {
    match (&assertion.resource, item) {
        (Some(expr), _) => Some(match expr.eval(ctx) {
            Ok(Value::String(s)) => s.to_string(),
            Ok(other) => display_value(&other),
            Err(_) => item.map(display_value).unwrap_or_else(|| "?".into()),
        }),
        (None, Some(Value::String(s))) => Some(s.to_string()),
        (None, Some(other)) => Some(display_value(other)),
        (None, None) => None,
    }
}

/// ` (Mode = 'GOVERNANCE', Days = 30)`: the offending values, quoted.
pub(super) fn quotes(assertion: &Assertion, ctx: &Context) -> String {
    if assertion.quote.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = assertion
        .quote
        .iter()
        .map(|(label, expr): &(String, Expr)| match expr.eval(ctx) {
            Ok(v) => format!("{label} = {}", display_value(&v)),
            Err(_) => format!("{label} is absent"),
        })
        .collect();
    format!(" ({})", parts.join(", "))
}

pub(super) fn assertion_message(
    assertion: &Assertion,
    status: Verdict,
    findings: &Findings,
) -> String {
    let list = |items: &[String]| {
        let mut shown: Vec<String> = items.iter().take(MAX_LISTED_FINDINGS).cloned().collect();
        if items.len() > MAX_LISTED_FINDINGS {
            shown.push(format!("and {} more", items.len() - MAX_LISTED_FINDINGS));
        }
        shown.join("; ")
    };
    match status {
        Verdict::Pass => String::new(),
        Verdict::Fail => {
            let mut m = format!(
                "{} — not met for {}",
                assertion.requirement,
                list(&findings.failures)
            );
            if let Some(why) = &assertion.message {
                m.push_str(&format!(". {}", why.trim()));
            }
            if !findings.gaps.is_empty() {
                m.push_str(&format!(". Also not assessed: {}", list(&findings.gaps)));
            }
            m
        }
        _ => format!(
            "{} — not assessed: {}",
            assertion.requirement,
            list(&findings.gaps)
        ),
    }
}

pub(super) fn item_message(status: Verdict, assertions: &[AssertionResult]) -> String {
    let with = |s: Verdict| {
        assertions
            .iter()
            .filter(|a| a.status == s)
            .map(|a| a.message.clone())
            .collect::<Vec<_>>()
    };
    match status {
        Verdict::Pass => format!("All {} requirement(s) met.", assertions.len()),
        Verdict::Fail => {
            let mut parts = with(Verdict::Fail);
            parts.extend(with(Verdict::NotAssessed));
            parts.join("\n")
        }
        _ => with(Verdict::NotAssessed).join("\n"),
    }
}
