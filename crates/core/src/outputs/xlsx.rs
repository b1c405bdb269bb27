//! `results.xlsx`: the package as an Excel workbook, because auditors work in
//! workpapers. One sheet per subject (summary, controls, one per control, the
//! exceptions, waivers, the change population, the population and the
//! evidence index), each a real Excel table (filters, banded rows, a frozen
//! header), not a CSV renamed.
//!
//! What it must never do:
//!
//! * **evaluate anything it shows.** Every text cell is written as a string
//!   (`write_string`), never as a formula; a cell whose text starts like one
//!   (`=`, `+`, `-`, `@`, tab, carriage return) also carries Excel's quote
//!   prefix, so editing it in Excel keeps it text. Names, tags, messages and
//!   resource names come from AWS and are untrusted.
//! * **depend on when it was written.** The document's dates come from
//!   `run.json` (`finished_at`), and rust_xlsxwriter zips its parts with a
//!   fixed 1980 timestamp, so the same evidence gives the same bytes, as the
//!   bundle around it requires (checked by a test).
//!
//! Nothing here decides a verdict: every value comes from [`Results`], the
//! organization, the run and the evidence index.

use std::collections::BTreeSet;

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Table, TableColumn, Url, Workbook,
    Worksheet, XlsxError,
};

use super::changes_csv::{change_row, CHANGES_HEADER};
use super::ReportInput;
use crate::evaluation::ResultsSource;
use crate::evaluation::{ControlResult, ItemResult, Verdict};

mod items;
use items::{tallies, ChangeItem, ExceptionItem, Tally};

/// Excel's limit for one cell's text, in UTF-16 units; longer text (a
/// message quoting a whole policy) is cut, saying where the full text is.
const CELL_MAX: usize = 32_767;
/// Excel's limit for a sheet name.
const SHEET_NAME_MAX: usize = 31;

/// Why the workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("results.xlsx: {0}")]
pub struct WorkbookError(#[from] XlsxError);

/// One cell of a table row.
enum Cell {
    Text(String),
    Number(f64),
    /// Text shown as an internal link to another sheet (`'sheet'!A1`).
    Link {
        text: String,
        sheet: String,
    },
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Cell {
        Cell::Number(n as f64)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Cell {
        Cell::Number(n as f64)
    }
}

/// A column of a table: its header and width (in characters).
type Column = (String, f64);

fn col(header: &str, width: f64) -> Column {
    (header.to_string(), width)
}

/// Excel's rows in one sheet: a table longer than a sheet holds goes on in
/// continuation sheets (`Evidence index (2)`, …): at 10,000 accounts × 17
/// regions the evidence index alone has over three million rows.
const SHEET_ROWS: u32 = 1_048_576;
/// The longest table written as an Excel table; a longer one is a filtered
/// range (the same header, filters and frozen header row, without the
/// table's banding and name). rust_xlsxwriter keeps an entry for every cell
/// of every table until the workbook is saved (its check that tables do not
/// overlap): ~520 MB for the tables of a 10,000 × 4 organization, against a
/// few MB for tables of this length.
const TABLE_ROWS_MAX: usize = 2_000;

/// Where the workbook's sheets change shape: Excel's and this module's
/// limits, smaller in the tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Rows in one sheet, the title and facts included (see [`SHEET_ROWS`]).
    pub sheet_rows: u32,
    /// Rows of the longest Excel table (see [`TABLE_ROWS_MAX`]).
    pub table_rows: usize,
}

impl Limits {
    /// Excel's.
    pub(crate) const EXCEL: Limits = Limits {
        sheet_rows: SHEET_ROWS,
        table_rows: TABLE_ROWS_MAX,
    };
}

/// What every sheet shares: the formats, the limits, and the sheet names
/// taken (a continuation sheet's name must be new).
struct Formats {
    /// Top-aligned, wrapped text (multi-line messages stay readable).
    text: Format,
    /// The same, with Excel's quote prefix: for text that starts like a formula.
    quoted: Format,
    /// A fact's label, and the sheet's title.
    label: Format,
    title: Format,
    link: Format,
    limits: Limits,
    /// Every sheet name given or reserved, lowercased (Excel's names are
    /// case-insensitive).
    taken: std::cell::RefCell<BTreeSet<String>>,
}

impl Formats {
    fn new(limits: Limits, names: &[String]) -> Formats {
        let text = Format::new().set_align(FormatAlign::Top).set_text_wrap();
        Formats {
            quoted: text.clone().set_quote_prefix(),
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            title: Format::new().set_bold().set_font_size(14),
            link: text
                .clone()
                .set_font_color("#0563C1")
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
            text,
            limits,
            taken: std::cell::RefCell::new(names.iter().map(|n| n.to_lowercase()).collect()),
        }
    }

    /// A new name for part `part` of sheet `name`: `name (part)`, cut to
    /// Excel's 31 characters, and never one taken.
    fn continuation_name(&self, name: &str, part: usize) -> String {
        let mut taken = self.taken.borrow_mut();
        let free = (part..)
            .map(|k| {
                let suffix = format!(" ({k})");
                let stem: String = name.chars().take(SHEET_NAME_MAX - suffix.len()).collect();
                stem + &suffix
            })
            .find(|n| !taken.contains(&n.to_lowercase()))
            .expect("an unbounded range has a free name");
        taken.insert(free.to_lowercase());
        free
    }
}

/// A sheet being written top to bottom: a title, facts (label, value), then
/// one table whose header row is frozen (going on in continuation sheets
/// when it is longer than a sheet).
struct Sheet<'w, 'f> {
    workbook: &'w mut Workbook,
    /// The worksheet's index in `workbook`.
    index: usize,
    name: String,
    title: String,
    /// The next row to write.
    row: u32,
    formats: &'f Formats,
    /// The last column a fact's value spans (merged cells), so a paragraph
    /// above a table of narrow columns stays readable.
    span: u16,
}

impl<'w, 'f> Sheet<'w, 'f> {
    /// A new sheet of `workbook`, in constant-memory mode: each row goes to a
    /// temporary file once the next row is begun, so the workbook's memory
    /// does not grow with the rows (the evidence index has a row per
    /// evidence file: 84,000 at 1,000 accounts × 4 regions). Rows must then
    /// be written top to bottom, which every sheet here does.
    fn new(
        workbook: &'w mut Workbook,
        name: &str,
        title: &str,
        span: u16,
        formats: &'f Formats,
    ) -> Result<Sheet<'w, 'f>, XlsxError> {
        let index = workbook.worksheets().len();
        let ws = workbook.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        ws.write_string_with_format(0, 0, clip(title), &formats.title)?;
        Ok(Sheet {
            workbook,
            index,
            name: name.to_string(),
            title: title.to_string(),
            row: 2,
            formats,
            span,
        })
    }

    /// The worksheet being written.
    fn ws(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.workbook.worksheet_from_index(self.index)
    }

    fn text(&mut self, row: u32, col: u16, text: &str) -> Result<(), XlsxError> {
        let format = match looks_like_formula(text) {
            true => &self.formats.quoted,
            false => &self.formats.text,
        };
        self.ws()?
            .write_string_with_format(row, col, clip(text), format)?;
        Ok(())
    }

    /// A label and its value on one row.
    fn fact(&mut self, label: &str, value: &str) -> Result<(), XlsxError> {
        let (row, span, formats) = (self.row, self.span, self.formats);
        self.ws()?
            .write_string_with_format(row, 0, label, &formats.label)?;
        if span > 1 {
            let format = match looks_like_formula(value) {
                true => &formats.quoted,
                false => &formats.text,
            };
            let ws = self.ws()?;
            ws.merge_range(row, 1, row, span, &clip(value), format)?;
            // Merged cells are never auto-fitted: size the row for the text.
            let lines = value.len() / 160 + value.lines().count().max(1);
            ws.set_row_height(row, 15.0 * lines as f64)?;
        } else {
            self.text(row, 1, value)?;
        }
        self.row += 1;
        Ok(())
    }

    /// A line of text across the sheet (a note before a table).
    fn note(&mut self, text: &str) -> Result<(), XlsxError> {
        self.text(self.row, 0, text)?;
        self.row += 1;
        Ok(())
    }

    /// The sheet's table: `columns` and `rows`, named `name`, with filters
    /// and its header frozen. An empty table is a header and a note (Excel
    /// tables need a data row, and an invented one would be read as data).
    fn table(self, name: &str, columns: &[Column], rows: Vec<Vec<Cell>>) -> Result<(), XlsxError> {
        self.table_of(name, columns, rows.into_iter())
    }

    /// [`Sheet::table`] of rows made as they are written (the large tables).
    /// Rows a sheet cannot hold go on in continuation sheets, each with the
    /// header again and a table of its own (`name_2`, …).
    fn table_of(
        mut self,
        name: &str,
        columns: &[Column],
        mut rows: impl ExactSizeIterator<Item = Vec<Cell>>,
    ) -> Result<(), XlsxError> {
        if self.row > 2 {
            self.row += 1;
        }
        let total = rows.len();
        if total == 0 {
            let header = self.header(columns)?;
            self.ws()?.write_string(header + 1, 0, "None.")?;
            return Ok(());
        }
        let (mut written, mut part) = (0, 1);
        loop {
            let header = self.header(columns)?;
            let room = (self.formats.limits.sheet_rows - header - 1) as usize;
            let here = room.min(total - written);
            let table = match part {
                1 => name.to_string(),
                _ => format!("{name}_{part}"),
            };
            self.declare(&table, columns, header, here)?;
            for (r, cells) in rows.by_ref().take(here).enumerate() {
                self.write_row(header + 1 + r as u32, &cells)?;
            }
            written += here;
            if written == total {
                return Ok(());
            }
            part += 1;
            self = self.continuation(part, written, total)?;
        }
    }

    /// The header row of a table at the next row, frozen; its row.
    fn header(&mut self, columns: &[Column]) -> Result<u32, XlsxError> {
        let (header, formats) = (self.row, self.formats);
        let ws = self.ws()?;
        for (i, (title, width)) in columns.iter().enumerate() {
            ws.set_column_width(i as u16, *width)?;
            ws.write_string_with_format(header, i as u16, title, &formats.label)?;
        }
        ws.set_freeze_panes(header + 1, 0)?;
        Ok(header)
    }

    /// Declares the `rows` data rows under `header` an Excel table named
    /// `name`, or a filtered range when longer than [`Limits::table_rows`].
    /// A table is declared before its rows are written: it rewrites the
    /// header row, which constant-memory mode allows only while that row is
    /// the current one.
    fn declare(
        &mut self,
        name: &str,
        columns: &[Column],
        header: u32,
        rows: usize,
    ) -> Result<(), XlsxError> {
        let (last_row, last_col) = (header + rows as u32, columns.len() as u16 - 1);
        let long = rows > self.formats.limits.table_rows;
        let ws = self.ws()?;
        if long {
            ws.autofilter(header, 0, last_row, last_col)?;
            return Ok(());
        }
        let table = Table::new().set_name(name).set_columns(
            &(columns.iter())
                .map(|(title, _)| TableColumn::new().set_header(title))
                .collect::<Vec<_>>(),
        );
        ws.add_table(header, 0, last_row, last_col, &table)?;
        Ok(())
    }

    fn write_row(&mut self, row: u32, cells: &[Cell]) -> Result<(), XlsxError> {
        for (c, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Text(text) => self.text(row, c as u16, text)?,
                Cell::Number(n) => {
                    self.ws()?.write_number(row, c as u16, *n)?;
                }
                Cell::Link { text, sheet } => {
                    let url = Url::new(format!("internal:'{sheet}'!A1")).set_text(clip(text));
                    let formats = self.formats;
                    self.ws()?
                        .write_url_with_format(row, c as u16, url, &formats.link)?;
                }
            }
        }
        Ok(())
    }

    /// The sheet that goes on with this one's table after its first
    /// `written` of `total` rows: part `part`, named and titled for it.
    fn continuation(
        self,
        part: usize,
        written: usize,
        total: usize,
    ) -> Result<Sheet<'w, 'f>, XlsxError> {
        let name = self.formats.continuation_name(&self.name, part);
        let title = format!(
            "{} (continued, part {part}: rows from {} of {total})",
            self.title,
            written + 1
        );
        let mut next = Sheet::new(self.workbook, &name, &title, 0, self.formats)?;
        next.name = self.name;
        next.title = self.title;
        Ok(next)
    }
}

/// Whether a spreadsheet would read `text`, typed into a cell, as a formula.
fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `text`, cut to fit one cell.
fn clip(text: &str) -> String {
    const NOTE: &str = " … [cut at Excel's cell limit; the whole text is in results.json]";
    if text.encode_utf16().count() <= CELL_MAX {
        return text.to_string();
    }
    let budget = CELL_MAX - NOTE.encode_utf16().count();
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        out.push(c);
    }
    out + NOTE
}

/// A sheet name for each control id: cut to Excel's 31 characters, made
/// unique (`~2`) when two long ids share their first 31.
fn sheet_names(controls: &[ControlResult], reserved: &[&str]) -> Vec<String> {
    let mut taken: BTreeSet<String> = reserved.iter().map(|s| s.to_lowercase()).collect();
    let mut names = Vec::new();
    for c in controls {
        let clean: String = (c.id.chars())
            .map(|ch| if "[]:*?/\\'".contains(ch) { '_' } else { ch })
            .collect();
        let mut name: String = clean.chars().take(SHEET_NAME_MAX).collect();
        let mut n = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!("~{n}");
            name = clean
                .chars()
                .take(SHEET_NAME_MAX - suffix.len())
                .collect::<String>()
                + &suffix;
            n += 1;
        }
        taken.insert(name.to_lowercase());
        names.push(name);
    }
    names
}

/// The fixed sheets, in order after the control sheets.
const SUMMARY: &str = "Summary";
const IPE: &str = "IPE";
const CRITERIA: &str = "Criteria";
const ATTACHMENTS: &str = "Attachments";
const CONTROLS: &str = "Controls";
const EXCEPTIONS: &str = "Exceptions";
const WAIVERS: &str = "Waivers";
const CHANGES: &str = "Changes";
const POPULATION: &str = "Population";
const EVIDENCE: &str = "Evidence index";

/// `results.xlsx` of the run, in memory (see [`write_xlsx`]).
#[cfg(test)]
pub(crate) fn results_xlsx(input: &ReportInput<'_>) -> Result<Vec<u8>, WorkbookError> {
    let mut bytes = Vec::new();
    write_xlsx(input, &mut bytes)?;
    Ok(bytes)
}

/// Writes `results.xlsx` of the run to `out`, byte for byte the same for the
/// same input; the zip is written as it is made, never held.
pub(crate) fn write_xlsx(
    input: &ReportInput<'_>,
    out: impl std::io::Write + Send,
) -> Result<(), WorkbookError> {
    write_xlsx_within(input, out, Limits::EXCEL)
}

/// [`write_xlsx`] with `limits` (the tests' are small).
pub(crate) fn write_xlsx_within(
    input: &ReportInput<'_>,
    out: impl std::io::Write + Send,
    limits: Limits,
) -> Result<(), WorkbookError> {
    let controls = &input.results.head().controls;
    let fixed = [
        SUMMARY,
        CRITERIA,
        CONTROLS,
        IPE,
        ATTACHMENTS,
        EXCEPTIONS,
        WAIVERS,
        CHANGES,
        POPULATION,
        EVIDENCE,
    ];
    let names = sheet_names(controls, &fixed);
    let taken: Vec<String> = (fixed.iter().map(|n| n.to_string()))
        .chain(names.iter().cloned())
        .collect();
    let formats = Formats::new(limits, &taken);
    let mut workbook = Workbook::new();
    // Deflated at level 2, not rust_xlsxwriter's 6: at 3,000 accounts × 4
    // regions the workbook took 15.9 s instead of 20.4 s and is 75 MB
    // instead of 59 MB (level 1: 14.6 s, 103 MB); the bundle deflates it
    // again (its zip: 447 MB instead of 437 MB).
    workbook.set_zip_compression_level(2);
    workbook.set_properties(&properties(input)?);
    // Every large sheet's rows counted first, in one pass over the items.
    let tallies = tallies(input.results);
    summary(&mut workbook, input, &formats)?;
    criteria(&mut workbook, input, &formats)?;
    controls_sheet(&mut workbook, input, &names, &tallies, &formats)?;
    ipe(&mut workbook, input, &formats)?;
    attachments(&mut workbook, input, &formats)?;
    // A control at a time, its items read from the results' file in pieces.
    for (i, name) in names.iter().enumerate() {
        let table = format!("T_control_{}", i + 1);
        control_sheet(&mut workbook, input, i, tallies[i], name, &table, &formats)?;
    }
    exceptions(&mut workbook, input, &tallies, &formats)?;
    waivers(&mut workbook, input, &formats)?;
    changes(&mut workbook, input, &tallies, &formats)?;
    population(&mut workbook, input, &formats)?;
    evidence(&mut workbook, input, &formats)?;
    Ok(workbook.save_to_writer(out)?)
}

/// Title, author and the creation date from `run.json`, never the clock.
fn properties(input: &ReportInput<'_>) -> Result<DocProperties, XlsxError> {
    let created = chrono::DateTime::parse_from_rfc3339(&input.run.finished_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    use chrono::{Datelike, Timelike};
    let date = ExcelDateTime::from_ymd(
        created.year() as u16,
        created.month() as u8,
        created.day() as u8,
    )?
    .and_hms(
        created.hour() as u16,
        created.minute() as u8,
        created.second(),
    )?;
    Ok(DocProperties::new()
        .set_title(format!(
            "SOC 2 evidence package — {} — {}",
            input.results.head().organization_id,
            input.results.head().period
        ))
        .set_subject(input.bundle_name)
        .set_author(format!(
            "{} {}",
            input.run.tool.name, input.run.tool.version
        ))
        .set_creation_datetime(&date))
}

/// The cover: organization, period, window, who collected, how to verify, counts.
fn summary(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let (results, run, org) = (input.results.head(), input.run, input.org);
    let mut s = Sheet::new(
        workbook,
        SUMMARY,
        "SOC 2 evidence package · AWS Organizations",
        1,
        formats,
    )?;
    s.fact("Organization", &results.organization_id)?;
    s.fact("Management account", &results.management_account_id)?;
    let dates = (results.period_dates.as_ref())
        .map_or(String::new(), |d| format!(" ({} to {})", d.start, d.end));
    let to_date = if results.period_to_date {
        "; not ended when collected: the period to date"
    } else {
        ""
    };
    s.fact(
        "Audit period",
        &format!("{}{dates}{to_date}", results.period),
    )?;
    s.fact(
        "Collection window",
        &format!("{} to {}", run.started_at, run.finished_at),
    )?;
    s.fact("Collected by", &run.caller_arn)?;
    s.fact("Tool", &format!("{} {}", run.tool.name, run.tool.version))?;
    s.fact("Command line", &run.command_line.join(" "))?;
    s.fact(
        "Home region; regions",
        &format!("{}; {}", run.home_region, run.regions.join(", ")),
    )?;
    let active = org.active_accounts().count();
    s.fact(
        "Accounts",
        &format!(
            "{active} active of {} in the organization",
            org.accounts.len()
        ),
    )?;
    s.fact("Bundle", &format!("{}.zip", input.bundle_name))?;
    s.fact(
        "How to verify",
        &format!(
            "sha256sum -c manifest-sha256.txt inside the bag, or auditpack verify {}.zip",
            input.bundle_name
        ),
    )?;
    let counts = |c: &crate::evaluation::Counts| {
        format!(
            "{} PASS, {} FAIL, {} NOT ASSESSED, {} WAIVED, {} DISABLED",
            c.pass, c.fail, c.not_assessed, c.waived, c.disabled
        )
    };
    s.fact("Controls", &counts(&results.summary.controls))?;
    s.fact(
        "Results (control × account × region)",
        &counts(&results.summary.items),
    )?;
    s.note("A control passes only when every account (and region) in its scope passes. Evidence that could not be collected is NOT ASSESSED, never a pass. Dates come from the evidence (run.json), not from when this file was written.")?;
    s.ws()?.set_column_width(0, 34)?;
    s.ws()?.set_column_width(1, 110)?;
    Ok(())
}

/// One row per control, linking to its sheet.
fn controls_sheet(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    names: &[String],
    tallies: &[Tally],
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Control", 30.0),
        col("Title", 50.0),
        col("Status", 14.0),
        col("Severity", 10.0),
        col("Criteria", 18.0),
        col("Items", 8.0),
        col("PASS", 8.0),
        col("FAIL", 8.0),
        col("NOT ASSESSED", 10.0),
        col("WAIVED", 9.0),
        col("Note", 40.0),
        col("Remediation", 70.0),
    ];
    let stored = input.results;
    let rows = (stored.head().controls.iter().zip(names).enumerate())
        .map(|(i, (c, sheet))| {
            // The remediation shows where an item failed, before a waiver
            // or after it.
            let n = stored.counts(i);
            let remediation = remediation_if_failed(c, tallies[i]);
            vec![
                Cell::Link {
                    text: c.id.clone(),
                    sheet: sheet.clone(),
                },
                c.title.as_str().into(),
                c.status.label().into(),
                c.severity.as_str().into(),
                c.tsc.join(", ").into(),
                stored.item_count(i).into(),
                n.pass.into(),
                n.fail.into(),
                n.not_assessed.into(),
                n.waived.into(),
                c.message.clone().unwrap_or_default().into(),
                remediation.into(),
            ]
        })
        .collect();
    let s = Sheet::new(
        workbook,
        CONTROLS,
        "Controls: one row per control (the control's id opens its sheet)",
        0,
        formats,
    )?;
    s.table("T_controls", &columns, rows)
}

/// The remediation text where some item failed (before or after a waiver).
fn remediation_if_failed(c: &ControlResult, tally: Tally) -> String {
    match tally.failed {
        true => one_paragraph(&c.remediation),
        false => String::new(),
    }
}

/// A hard-wrapped TOML text block as one line per paragraph.
fn one_paragraph(text: &str) -> String {
    (text.split("\n\n"))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One control: its facts, then one row per result and evidence file read
/// (an item's columns repeat on each of its files), with every requirement's
/// verdict for the item.
fn control_sheet(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    i: usize,
    tally: Tally,
    name: &str,
    table: &str,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let stored = input.results;
    let c = &stored.head().controls[i];
    let mut columns = vec![
        col("Item", 6.0),
        col("Account id", 15.0),
        col("Account name", 24.0),
        col("Region", 13.0),
        col("Status", 14.0),
        col("Was (before waiver)", 14.0),
    ];
    columns.extend(
        c.assertions
            .iter()
            .map(|a| col(&format!("req: {}", a.id), 14.0)),
    );
    columns.extend([
        col("Message", 70.0),
        col("Waiver", 36.0),
        col("Evidence file", 60.0),
        col("SHA-256", 66.0),
    ]);
    let mut s = Sheet::new(
        workbook,
        name,
        &format!("{} — {}", c.id, c.title),
        columns.len() as u16 - 1,
        formats,
    )?;
    s.fact(
        "Verdict",
        &format!(
            "{} · severity {} · criteria {}",
            c.status.label(),
            c.severity.as_str(),
            c.tsc.join(", ")
        ),
    )?;
    s.fact(
        "Population",
        &format!(
            "accounts: {}; regions: {}; {} item(s)",
            c.scope_accounts,
            c.scope_regions,
            stored.item_count(i)
        ),
    )?;
    if let Some(message) = &c.message {
        s.fact("Note", message)?;
    }
    s.fact("Objective", &one_paragraph(&c.objective))?;
    let fix = remediation_if_failed(c, tally);
    if !fix.is_empty() {
        s.fact("Remediation", &fix)?;
    }
    s.fact(
        "Control file",
        &format!(
            "controls/{} (in the bundle: data/controls/{})",
            c.file, c.file
        ),
    )?;
    // One row per item and evidence file (one for an item with none), made
    // a piece of items at a time as they are written.
    let mut number = 0;
    let rows = stored.made_per_item(i, move |item: &ItemResult| {
        number += 1;
        item_rows(number, item, c)
    });
    s.table_of(table, &columns, Counted::new(tally.evidence_rows, rows))
}

/// Item `n`'s rows of its control's sheet: one per evidence file it cites
/// (one if none), the item's columns repeated on each.
fn item_rows(n: usize, item: &ItemResult, c: &ControlResult) -> Vec<Vec<Cell>> {
    let files: Vec<(&str, &str)> = match item.evidence.is_empty() {
        true => vec![("", "")],
        false => (item.evidence.iter())
            .map(|e| (e.path.as_str(), e.sha256.as_str()))
            .collect(),
    };
    (files.into_iter())
        .map(|(path, sha256)| {
            let mut row = item_cells(n, item);
            row.extend(c.assertions.iter().map(|a| {
                let status = item.assertions.iter().find(|r| r.id == a.id);
                Cell::from(status.map_or("", |r| r.status.label()))
            }));
            row.push(item.message.as_str().into());
            row.push(waiver_text(item).into());
            row.push(path.into());
            row.push(sha256.into());
            row
        })
        .collect()
}

/// Rows made as they are written, their number known first: a table is
/// declared, with its last row, before its rows are written.
struct Counted<I> {
    left: usize,
    rows: I,
}

impl<I: Iterator> Counted<I> {
    /// `rows`, which must yield exactly `count` rows (checked as they go).
    fn new(count: usize, rows: I) -> Counted<I> {
        Counted { left: count, rows }
    }
}

impl<I: Iterator<Item: Default>> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        match self.rows.next() {
            Some(row) => {
                self.left = self.left.checked_sub(1).expect("more rows than counted");
                Some(row)
            }
            // Rows come short only when reading the items back failed part
            // way: `report` then fails before it publishes anything
            // (`StoredResults::check`), and the table is ended with empty rows.
            None if self.left > 0 => {
                self.left -= 1;
                Some(I::Item::default())
            }
            None => None,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator<Item: Default>> ExactSizeIterator for Counted<I> {}

/// The columns of an item that come before its requirements.
fn item_cells(n: usize, item: &ItemResult) -> Vec<Cell> {
    vec![
        n.into(),
        item.account_id.as_str().into(),
        item.account_name.as_str().into(),
        item.region.as_deref().unwrap_or("global").into(),
        item.status.label().into(),
        (item.waiver.as_ref())
            .map_or("", |w| w.original_status.label())
            .into(),
    ]
}

fn waiver_text(item: &ItemResult) -> String {
    (item.waiver.as_ref())
        .map(|w| {
            format!(
                "{} ({}), until {}: {}",
                w.ticket, w.approver, w.expires, w.reason
            )
        })
        .unwrap_or_default()
}

/// Every Trust Services Criterion in scope, with the controls and
/// attachments that evidence it, and those nothing evidences yet.
fn criteria(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Criterion", 11.0),
        col("Name", 50.0),
        col("Status", 16.0),
        col("Controls (verdict)", 60.0),
        col("Attachments", 50.0),
    ];
    let rows = (input.results.head().criteria.iter())
        .map(|c| {
            let controls: Vec<String> = (c.controls.iter())
                .map(|x| format!("{} ({})", x.id, x.status.label()))
                .collect();
            vec![
                c.id.as_str().into(),
                c.name.as_str().into(),
                c.status.replace('_', " ").into(),
                controls.join("\n").into(),
                c.attachments.join("\n").into(),
            ]
        })
        .collect();
    let s = Sheet::new(
        workbook,
        CRITERIA,
        "Trust Services Criteria in scope: what evidences each (NOT EVIDENCED: nothing yet)",
        0,
        formats,
    )?;
    s.table("T_criteria", &columns, rows)
}

/// Evidence no API gives: each attachment with its metadata and hashes.
fn attachments(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("File", 44.0),
        col("Controls", 34.0),
        col("Criteria", 18.0),
        col("Description", 60.0),
        col("Owner", 26.0),
        col("Date", 12.0),
        col("Period covered", 24.0),
        col("Reviewed by", 26.0),
        col("Reviewed on", 12.0),
        col("SHA-256", 66.0),
        col("Metadata file", 44.0),
        col("Metadata SHA-256", 66.0),
    ];
    let rows = (input.results.head().attachments.iter())
        .map(|a| {
            vec![
                a.file.as_str().into(),
                a.controls.join(", ").into(),
                a.criteria.join(", ").into(),
                a.description.as_str().into(),
                a.owner.as_str().into(),
                a.date.as_str().into(),
                (a.period.as_ref())
                    .map_or(String::new(), |p| format!("{} to {}", p.start, p.end))
                    .into(),
                a.reviewed_by.as_str().into(),
                a.reviewed_on.clone().unwrap_or_default().into(),
                a.sha256.as_str().into(),
                a.metadata_file.as_str().into(),
                a.metadata_sha256.as_str().into(),
            ]
        })
        .collect();
    let s = Sheet::new(
        workbook,
        ATTACHMENTS,
        "Attachments: evidence no API gives (in the bundle under data/evidence/attachments/)",
        0,
        formats,
    )?;
    s.table("T_attachments", &columns, rows)
}

/// The IPE sheets: one row per control and API operation read, with the
/// control's population reconciliation and accuracy statements beside it.
fn ipe(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Control", 30.0),
        col("Call", 40.0),
        col("Files", 8.0),
        col("Accounts", 9.0),
        col("Regions", 22.0),
        col("Request parameters", 50.0),
        col("Answers", 26.0),
        col("Errors", 22.0),
        col("Pagination", 24.0),
        col("With request ids", 10.0),
        col("Collected", 42.0),
        col("Population and completeness", 90.0),
        col("Accuracy", 90.0),
        col("Collected by; calls made as", 60.0),
    ];
    let mut rows = Vec::new();
    for s in input.ipe_sheets() {
        let population = s.population.join("\n");
        let accuracy = s.accuracy.join("\n");
        let who = format!("{}; {}", s.collected_by, s.callers.join(", "));
        let mut control_rows: Vec<Vec<Cell>> = (s.operations.iter())
            .map(|o| {
                let pagination = match o.complete {
                    true => "complete".to_string(),
                    false => format!("incomplete: {}", o.incomplete.join(", ")),
                };
                vec![
                    s.control.as_str().into(),
                    o.call.as_str().into(),
                    o.files.into(),
                    o.accounts.into(),
                    o.regions.join(", ").into(),
                    o.parameters.join("\n").into(),
                    o.answers.as_str().into(),
                    o.errors.join(", ").into(),
                    pagination.into(),
                    o.with_request_ids.into(),
                    o.collected.as_str().into(),
                    population.as_str().into(),
                    accuracy.as_str().into(),
                    who.as_str().into(),
                ]
            })
            .collect();
        if control_rows.is_empty() {
            let mut row: Vec<Cell> =
                vec![s.control.as_str().into(), "(no evidence file read)".into()];
            row.extend((0..9).map(|_| Cell::from("")));
            row.extend([
                population.as_str().into(),
                accuracy.as_str().into(),
                who.as_str().into(),
            ]);
            control_rows.push(row);
        }
        rows.extend(control_rows);
    }
    let s = Sheet::new(
        workbook,
        IPE,
        "IPE: information produced by the entity, per control and API operation (the report's section 7, ipe.json)",
        0,
        formats,
    )?;
    s.table("T_ipe", &columns, rows)
}

/// Every requirement not assessed (with the reason), and controls disabled
/// or without a population: the gaps in the evidence, not passes.
fn exceptions(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    tallies: &[Tally],
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Control", 30.0),
        col("Requirement", 28.0),
        col("Account id", 15.0),
        col("Account name", 24.0),
        col("Region", 13.0),
        col("Reason", 100.0),
    ];
    // Counted first: the table is declared with its last row.
    let count = (input.results.head().controls.iter())
        .zip(tallies)
        .enumerate()
        .map(|(i, (c, tally))| {
            usize::from(whole_control_row(input, i, c).is_some()) + tally.not_assessed
        })
        .sum();
    let rows = Counted::new(count, exception_rows(input));
    let s = Sheet::new(
        workbook,
        EXCEPTIONS,
        "Exceptions and limits: every requirement not assessed, with the reason; disabled controls",
        0,
        formats,
    )?;
    s.table_of("T_exceptions", &columns, rows)
}

/// The rows of the exceptions sheet, made as they are written (one per
/// requirement not assessed: most of a large organization's gaps), a piece
/// of a control's items at a time.
fn exception_rows<'a>(input: &'a ReportInput<'_>) -> impl Iterator<Item = Vec<Cell>> + 'a {
    let stored = input.results;
    (stored.head().controls.iter().enumerate()).flat_map(move |(i, c)| {
        let items = stored.made_per_item(i, move |item: &ExceptionItem| {
            exception_item_rows(c, item).collect::<Vec<_>>()
        });
        whole_control_row(input, i, c).into_iter().chain(items)
    })
}

/// The row of a control without items that says why (disabled, or no
/// population).
fn whole_control_row(input: &ReportInput<'_>, i: usize, c: &ControlResult) -> Option<Vec<Cell>> {
    let message = c
        .message
        .as_ref()
        .filter(|_| input.results.item_count(i) == 0)?;
    Some(vec![
        c.id.as_str().into(),
        "(the whole control)".into(),
        "".into(),
        "".into(),
        "".into(),
        message.as_str().into(),
    ])
}

/// An item's rows of the exceptions sheet: one per requirement not assessed.
fn exception_item_rows<'a>(
    c: &'a ControlResult,
    item: &'a ExceptionItem,
) -> impl Iterator<Item = Vec<Cell>> + 'a {
    (item.assertions.iter())
        .filter(|a| a.status == Verdict::NotAssessed)
        .map(move |a| {
            vec![
                c.id.as_str().into(),
                a.id.as_str().into(),
                item.account_id.as_str().into(),
                item.account_name.as_str().into(),
                item.region.as_deref().unwrap_or("global").into(),
                a.message.as_str().into(),
            ]
        })
}

/// The exceptions register as applied.
fn waivers(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Control", 30.0),
        col("Account", 15.0),
        col("Region", 13.0),
        col("Event id", 38.0),
        col("Reason", 60.0),
        col("Approver", 24.0),
        col("Ticket", 16.0),
        col("Expires", 12.0),
        col("State", 10.0),
        col("Items", 8.0),
        col("Source", 18.0),
    ];
    let rows = (input.results.head().waivers.iter())
        .map(|w| {
            let state = serde_json::to_value(w.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            vec![
                w.control.as_str().into(),
                w.account
                    .clone()
                    .unwrap_or_else(|| "every account".into())
                    .into(),
                w.region
                    .clone()
                    .unwrap_or_else(|| "every region".into())
                    .into(),
                w.event_id.clone().unwrap_or_default().into(),
                w.reason.as_str().into(),
                w.approver.as_str().into(),
                w.ticket.as_str().into(),
                w.expires.as_str().into(),
                state.into(),
                w.items.into(),
                w.source.as_str().into(),
            ]
        })
        .collect();
    let s = Sheet::new(workbook, WAIVERS, "Waivers: the exceptions register (expired ones waived nothing; stale ones matched nothing)", 0, formats)?;
    s.table("T_waivers", &columns, rows)
}

/// The change population of the period (the columns of `changes.csv`).
fn changes(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    tallies: &[Tally],
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns: Vec<Column> = CHANGES_HEADER.iter().map(|h| col(h, 18.0)).collect();
    let count = tallies.iter().map(|t| t.changes).sum();
    let rows = Counted::new(count, change_rows(input));
    let s = Sheet::new(
        workbook,
        CHANGES,
        "Changes during the period: each change a control declares (exceptions, managed, refused)",
        0,
        formats,
    )?;
    s.table_of("T_changes", &columns, rows)
}

/// The rows of the changes sheet, made as they are written.
fn change_rows<'a>(input: &'a ReportInput<'_>) -> impl Iterator<Item = Vec<Cell>> + 'a {
    let stored = input.results;
    (stored.head().controls.iter().enumerate()).flat_map(move |(i, c)| {
        stored.made_per_item(i, move |item: &ChangeItem| {
            control_change_rows(c, item).collect::<Vec<_>>()
        })
    })
}

/// One item's rows of the changes sheet.
fn control_change_rows<'a>(
    c: &'a ControlResult,
    item: &'a ChangeItem,
) -> impl Iterator<Item = Vec<Cell>> + 'a {
    std::iter::once((c, item)).flat_map(|(c, item)| {
        let region = item.region.clone().unwrap_or_else(|| "global".into());
        let period = item.period.iter();
        period.flat_map(move |period| {
            let region = region.clone();
            [
                ("exception", &period.exceptions),
                ("managed", &period.managed),
                ("refused", &period.refused),
            ]
            .into_iter()
            .flat_map(move |(kind, records)| {
                let region = region.clone();
                records.iter().map(move |r| {
                    let row = change_row(
                        &c.id,
                        &item.account_id,
                        &item.account_name,
                        &region,
                        kind,
                        r,
                    );
                    row.into_iter().map(Cell::Text).collect()
                })
            })
        })
    })
}

/// Every account Organizations reported.
fn population(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("Account id", 15.0),
        col("Name", 26.0),
        col("Email", 30.0),
        col("Status", 16.0),
        col("In scope", 9.0),
        col("Reached", 9.0),
        col("OU path", 30.0),
        col("Role", 16.0),
        col("Joined", 22.0),
        col("Tags", 50.0),
    ];
    let rows = (input.org.accounts.iter())
        .map(|a| {
            let status = serde_json::to_value(a.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let reached = match a.reachable {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            let tags: Vec<String> = a.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            vec![
                a.id.as_str().into(),
                a.name.as_str().into(),
                a.email.as_str().into(),
                status.into(),
                if a.is_active() { "yes" } else { "no" }.into(),
                reached.into(),
                a.ou_path.as_str().into(),
                a.role.map(|r| r.to_string()).unwrap_or_default().into(),
                a.joined_at.as_str().into(),
                tags.join("; ").into(),
            ]
        })
        .collect();
    let s = Sheet::new(
        workbook,
        POPULATION,
        "Population: every account AWS Organizations reported (active accounts are in scope)",
        0,
        formats,
    )?;
    s.table("T_population", &columns, rows)
}

/// Every evidence file with its SHA-256 (the bag's manifest says the same).
fn evidence(
    workbook: &mut Workbook,
    input: &ReportInput<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        col("File", 70.0),
        col("Account", 15.0),
        col("Region", 13.0),
        col("Call", 46.0),
        col("Qualifier", 30.0),
        col("Answer", 10.0),
        col("Error code", 22.0),
        col("Collected at", 22.0),
        col("Bytes", 10.0),
        col("SHA-256", 66.0),
    ];
    // Made as they are written: at 10,000 accounts the index has most of a
    // million rows.
    let rows = (input.evidence.iter()).map(|e| {
        vec![
            e.path.as_str().into(),
            e.account_id.as_str().into(),
            e.region.as_deref().unwrap_or("global").into(),
            format!("{}:{}", e.service, e.operation).into(),
            e.qualifier.clone().unwrap_or_default().into(),
            e.status.as_str().into(),
            e.error_code.clone().unwrap_or_default().into(),
            e.collected_at.clone().unwrap_or_default().into(),
            e.size.into(),
            e.sha256.as_str().into(),
        ]
    });
    let s = Sheet::new(
        workbook,
        EVIDENCE,
        "Evidence index: every evidence file (in the bundle under data/evidence/) and its SHA-256",
        0,
        formats,
    )?;
    s.table_of("T_evidence", &columns, rows)
}

#[cfg(test)]
mod tests;
