//! The samples' IPE sheets: every file a control read is accounted for by
//! operation, the account population is reconciled against Organizations'
//! own listing, incomplete pagination and errors are named, and the tests
//! are the exact expressions.

use std::collections::BTreeSet;

use super::*;
use crate::outputs::test_samples::{input, samples};

#[test]
fn every_file_read_is_in_an_operation_with_its_parameters() {
    let e = samples();
    let sheets = ipe_sheets(&input(&e));
    assert_eq!(sheets.len(), e.results.controls.len());
    for (sheet, c) in sheets.iter().zip(&e.results.controls) {
        assert_eq!(sheet.control, c.id);
        // API evidence (attachments are listed among the sources instead).
        let read: BTreeSet<&str> = (c.results.iter())
            .flat_map(|i| i.evidence.iter().map(|x| x.path.as_str()))
            .filter(|p| !p.starts_with("attachments/"))
            .collect();
        for a in e
            .results
            .attachments
            .iter()
            .filter(|a| a.controls.contains(&c.id))
        {
            assert!(
                sheet
                    .sources
                    .iter()
                    .any(|s| s.contains(&a.file) && s.contains(&a.sha256)),
                "{}",
                c.id
            );
        }
        let counted: usize = sheet.operations.iter().map(|o| o.files).sum();
        assert_eq!(counted, read.len(), "{}: every file read, once", c.id);
        if c.id.starts_with("manual.") {
            assert!(sheet.operations.is_empty(), "{}: no API call", c.id);
        }
        for o in &sheet.operations {
            assert!(
                !o.parameters.is_empty(),
                "{} {}: parameters listed",
                c.id,
                o.call
            );
            assert!(o.answers.contains(" ok, "), "{}", o.answers);
        }
        assert_eq!(sheet.tests.len(), c.assertions.len());
        for (t, a) in sheet.tests.iter().zip(&c.assertions) {
            assert_eq!(t.expect, a.expect, "the exact expression");
        }
        assert!(
            sheet.collected_by.starts_with("arn:aws:"),
            "{}",
            sheet.collected_by
        );
    }
    // A call made per resource shows its parameters (the bucket, the trail).
    let logarchive = sheets
        .iter()
        .find(|s| s.control == "logarchive.immutable")
        .unwrap();
    let lock = (logarchive.operations.iter())
        .find(|o| o.call == "s3:GetObjectLockConfiguration")
        .unwrap();
    assert!(
        lock.qualifiers > 0 && lock.parameters.iter().any(|p| p.contains("\"Bucket\"")),
        "{lock:?}"
    );
}

#[test]
fn the_population_is_reconciled_with_organizations_listing() {
    let e = samples();
    let sheets = ipe_sheets(&input(&e));
    let sheet = &sheets[0];
    let accounts = &sheet.population[0];
    let n = e.org.accounts.len();
    let active = e.org.active_accounts().count();
    assert!(
        accounts.starts_with(&format!(
            "Accounts: AWS Organizations listed {n} (organizations:ListAccounts in {}",
            e.org.organization.management_account_id
        )),
        "{accounts}"
    );
    assert!(
        accounts.contains(&format!(
            ") = {n} in org.json = {active} active, in scope + {} out of scope",
            n - active
        )),
        "{accounts}"
    );
    // The samples have an unreachable account: named.
    let unreached: Vec<&str> = (e.org.active_accounts())
        .filter(|a| a.reachable == Some(false))
        .map(|a| a.id.as_str())
        .collect();
    assert!(!unreached.is_empty());
    assert!(
        sheet.population[1].contains(unreached[0]),
        "{}",
        sheet.population[1]
    );
    // A regional control says which regions it covered.
    let regional = (sheets.iter())
        .find(|s| s.control == "ec2.ebs-default-encryption")
        .unwrap();
    assert!(
        regional
            .population
            .iter()
            .any(|l| l.starts_with("Regions: ")),
        "{:?}",
        regional.population
    );
}

#[test]
fn incomplete_pagination_and_errors_are_named() {
    let mut e = samples();
    let c = (e.results.controls.iter())
        .find(|c| c.id == "org.inventory")
        .unwrap();
    let path = c.results[0].evidence[0].path.clone();
    let entry = e.evidence.iter_mut().find(|x| x.path == path).unwrap();
    entry.facts.as_mut().unwrap().complete = false;
    e.refresh();
    let sheets = ipe_sheets(&input(&e));
    let sheet = sheets
        .iter()
        .find(|s| s.control == "org.inventory")
        .unwrap();
    let op = sheet
        .operations
        .iter()
        .find(|o| o.incomplete.contains(&path))
        .expect("named");
    assert!(!op.complete);
    assert!(
        sheet
            .population
            .iter()
            .any(|l| l.starts_with("Pagination: 1 of ")),
        "{:?}",
        sheet.population
    );
    // A failed call is counted by its code.
    let entry = e.evidence.iter_mut().find(|x| x.path == path).unwrap();
    (entry.status, entry.error_code) = ("error".into(), Some("AccessDenied".into()));
    e.refresh();
    let sheets = ipe_sheets(&input(&e));
    let sheet = sheets
        .iter()
        .find(|s| s.control == "org.inventory")
        .unwrap();
    let op = sheet
        .operations
        .iter()
        .find(|o| o.incomplete.contains(&path))
        .unwrap();
    assert_eq!(op.errors, ["AccessDenied × 1"]);
    assert!(op.answers.ends_with("1 error"), "{}", op.answers);
    // And the JSON form is stable.
    assert_eq!(ipe_json(&sheets), ipe_json(&ipe_sheets(&input(&e))));
}
