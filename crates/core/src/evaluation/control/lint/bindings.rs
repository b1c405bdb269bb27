//! Validating a control's `[evidence]` table: each binding names a catalog
//! operation, whose account, region and qualifier are checked against the
//! operation's scope.

use super::*;

pub(super) fn bind_evidence(
    l: &mut Linter<'_>,
    raw: &BTreeMap<String, Spanned<EvidenceFile>>,
    regions: RegionSelector,
    known: &mut BTreeSet<String>,
) -> Option<Vec<EvidenceBinding>> {
    let mut bindings = Vec::new();
    let mut ok = true;
    for (name, spec) in raw {
        let field = format!("evidence.{name}");
        if !check_new_name(l, name, spec.span(), &field, known) {
            ok = false;
            continue;
        }
        known.insert(name.clone());
        match bind_one(l, name, spec.get_ref(), regions, &field) {
            Some(binding) => bindings.push(binding),
            None => ok = false,
        }
    }
    ok.then_some(bindings)
}

pub(super) fn bind_one(
    l: &mut Linter<'_>,
    name: &str,
    spec: &EvidenceFile,
    regions: RegionSelector,
    field: &str,
) -> Option<EvidenceBinding> {
    let Some(operation) = find_operation(spec.source.get_ref()) else {
        l.error(
            spec.source.span(),
            format!("{field}.source"),
            format!(
                "unknown evidence source '{}' (run `auditpack controls sources` for the list)",
                spec.source.get_ref()
            ),
        );
        return None;
    };
    let account = match spec.account.as_ref() {
        None => Some(AccountRef::Scope),
        Some(v) if v.get_ref() == "scope" => Some(AccountRef::Scope),
        Some(v) if v.get_ref() == "all" => match operation.qualified_by {
            None => Some(AccountRef::All),
            Some(what) => {
                l.error(
                    v.span(),
                    format!("{field}.account"),
                    format!(
                        "account = \"all\" binds one document per account; {} is called once per {what}",
                        operation.source_name()
                    ),
                );
                None
            }
        },
        Some(v) => match v.get_ref().parse::<Role>() {
            Ok(role) => Some(AccountRef::Role(role)),
            Err(message) => {
                l.error(
                    v.span(),
                    format!("{field}.account"),
                    format!("{message}, 'scope' or 'all'"),
                );
                None
            }
        },
    };
    let region = bind_region(l, spec, operation, regions, field);
    let qualifier = match (&spec.qualifier, operation.qualified_by) {
        (None, None) => Some(QualifierRef::None),
        (Some(q), Some(_)) if q.get_ref() == "*" => Some(QualifierRef::All),
        (Some(q), Some("account id")) if q.get_ref() == "account" => {
            Some(QualifierRef::ScopeAccount)
        }
        (Some(q), Some(what)) => {
            let account = if what == "account id" {
                " or \"account\" (the scope item's own account)"
            } else {
                ""
            };
            l.error(
                q.span(),
                format!("{field}.qualifier"),
                format!("only \"*\" (every {what}){account} is supported"),
            );
            None
        }
        (Some(q), None) => {
            l.error(
                q.span(),
                format!("{field}.qualifier"),
                format!(
                    "{} is called once; it takes no qualifier",
                    operation.source_name()
                ),
            );
            None
        }
        (None, Some(what)) => {
            l.error(
                spec.source.span(),
                format!("{field}.qualifier"),
                format!(
                    "{} is called once per {what}: add qualifier = \"*\"",
                    operation.source_name()
                ),
            );
            None
        }
    };
    Some(EvidenceBinding {
        name: name.to_string(),
        operation,
        account: account?,
        region: region?,
        qualifier: qualifier?,
    })
}

pub(super) fn bind_region(
    l: &mut Linter<'_>,
    spec: &EvidenceFile,
    op: &OperationSpec,
    regions: RegionSelector,
    field: &str,
) -> Option<RegionRef> {
    let field = format!("{field}.region");
    match (op.scope, spec.region.as_ref().map(|r| r.get_ref().as_str())) {
        (CallScope::Global, None | Some("global")) => Some(RegionRef::Global),
        (CallScope::Global, Some(_)) => {
            let span = spec.region.as_ref().map(|r| r.span()).unwrap_or_default();
            l.error(
                span,
                field,
                format!(
                    "{} is a global call; its region is 'global'",
                    op.source_name()
                ),
            );
            None
        }
        (CallScope::Regional, Some("home")) => Some(RegionRef::Home),
        (CallScope::Regional, None | Some("scope")) if regions != RegionSelector::Global => {
            Some(RegionRef::Scope)
        }
        (CallScope::Regional, None | Some("scope")) => {
            l.error(
                spec.source.span(),
                field,
                format!(
                    "{} is regional but the control's scope has no region: set region = \"home\"",
                    op.source_name()
                ),
            );
            None
        }
        (CallScope::Regional, Some(other)) => {
            let span = spec.region.as_ref().map(|r| r.span()).unwrap_or_default();
            l.error(
                span,
                field,
                format!("'{other}' is not a region reference ('scope' or 'home')"),
            );
            None
        }
    }
}
