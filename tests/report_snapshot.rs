//! The report as people read it, end to end through the real binary:
//!
//! * snapshots of the samples' report (the copy inside the bundle, whose links
//!   are bag-relative and so the same on every machine): the whole HTML with
//!   the embedded stylesheet and script left out (they are files in
//!   `templates/`, reviewed as such), and the same page as plain text, the
//!   short, readable diff of what an auditor sees;
//! * the copy in the `--out` folder links to the real evidence and control
//!   files, the bundled copy to the bag's own;
//! * names, tags, error messages and resource names carrying HTML or script are
//!   shown as text. That report is kept in `target/test-artifacts/injection/`
//!   for the browser check of `scripts/test.sh`, which proves in Chromium that
//!   nothing in it runs.

use std::path::Path;

use serde_json::Value;

use crate::common::{
    copy_tree, find_zip, kept_artifacts, read_json, repo, report, samples, unzip, write_json,
};

/// `data/report.html` from the bundle zip in `out`.
fn bundled_report(out: &Path) -> String {
    let zip_path = find_zip(out);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let name = (zip.file_names())
        .map(|n| n.unwrap().into_owned())
        .find(|n| n.ends_with("/data/report.html"))
        .expect("data/report.html in the bag");
    std::io::read_to_string(zip.by_name(&name).unwrap()).unwrap()
}

/// The page without the bodies of its `<style>` and `<script>` elements.
fn without_style_and_script(html: &str) -> String {
    let mut out = html.to_string();
    for (tag, note) in [
        ("style", "/* templates/report.css */"),
        ("script", "/* templates/report.js */"),
    ] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let start = out.find(&open).expect("an embedded element") + open.len();
        let end = start + out[start..].find(&close).expect("its end");
        out.replace_range(start..end, note);
    }
    out
}

/// What a reader sees, as text: one line per heading, paragraph, list item and
/// table row (cells separated by ` | `), other elements apart by a space,
/// entities decoded, runs of spaces and blank lines removed.
fn visible_text(html: &str) -> String {
    let html = without_style_and_script(html);
    let body = &html[html.find("<body").unwrap()..];
    let mut text = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let close = open + rest[open..].find('>').expect("tags close");
        let tag = rest[open + 1..close].trim_start_matches('/');
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match name.as_str() {
            "td" | "th" if !rest[open..].starts_with("</") => text.push_str(" | "),
            "tr" | "p" | "li" | "h1" | "h2" | "h3" | "h4" | "div" | "section" | "article"
            | "header" | "summary" | "table" | "br" | "nav" | "footer" | "ul" | "ol" => {
                text.push('\n')
            }
            // Inline elements inside sentences join their text; others are apart.
            "a" | "strong" | "em" | "code" => {}
            _ => text.push(' '),
        }
        rest = &rest[close + 1..];
    }
    text.push_str(rest);
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|l| l.trim_start_matches("| ").to_string())
        .filter(|l| !l.is_empty() && l != "|")
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn samples_report_matches_its_snapshots() {
    let out = tempfile::tempdir().unwrap();
    report(Path::new("evidence-samples"), out.path(), &[]);
    let html = bundled_report(out.path());
    let page = without_style_and_script(&html);
    assert!(page.contains("o-p6w0erv871") && page.contains("2026-11-26 06:34:19 UTC"));
    insta::assert_snapshot!("samples_report_html", page);
    insta::assert_snapshot!("samples_report_text", visible_text(&html));
}

/// Every `href="…"` of the page that is not an in-page anchor.
fn file_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].replace("&amp;", "&"))
        .filter(|h| !h.starts_with('#'))
        .collect()
}

fn decode_percent(href: &str) -> String {
    let bytes = href.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&href[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn every_file_link_resolves_in_the_out_folder_and_in_the_bundle() {
    // The evidence lives in a folder whose name needs percent-encoding, away from out/.
    let work = tempfile::tempdir().unwrap();
    let evidence = work.path().join("evidence #1");
    copy_tree(&samples(), &evidence);
    // One custom control beside the built-in catalog, in a folder whose name
    // needs percent-encoding too.
    let custom = work.path().join("my controls #2");
    std::fs::create_dir(&custom).unwrap();
    let trail = std::fs::read_to_string(repo().join("controls/cloudtrail.org-trail.toml")).unwrap();
    let own = trail.replacen(
        "id = \"cloudtrail.org-trail\"",
        "id = \"acme.org-trail\"",
        1,
    );
    std::fs::write(custom.join("acme.org-trail.toml"), own).unwrap();
    let out = report(
        &evidence,
        &work.path().join("reports/q4"),
        &["--controls", custom.to_str().unwrap()],
    )
    .out;

    let beside = std::fs::read_to_string(out.join("report.html")).unwrap();
    let links = file_links(&beside);
    assert!(links
        .iter()
        .any(|l| l.starts_with("../../evidence%20%231/")));
    // Beside the bundle only the custom control has a file to link to; a
    // built-in one is named with its place in the bundle instead.
    // (Attachments' metadata files, cited by manual controls, are .toml too.)
    let control_links: Vec<_> = (links.iter())
        .filter(|l| l.ends_with(".toml") && !l.contains("/attachments/"))
        .collect();
    assert_eq!(
        control_links,
        ["../../my%20controls%20%232/acme.org-trail.toml"],
        "{control_links:?}"
    );
    assert!(beside.contains(
        "(in the bundle: <span class=\"mono\">data/controls/cloudtrail.org-trail.toml</span>)"
    ));
    for link in &links {
        let target = out.join(decode_percent(link));
        assert!(target.exists(), "{link} → {} is missing", target.display());
    }

    let bundled = bundled_report(&out);
    let data = unzip(&find_zip(&out), &work.path().join("unzipped")).join("data");
    let links = file_links(&bundled);
    // Inside the bag every control file is there to link to.
    let controls_in_bag = links.iter().filter(|l| l.starts_with("controls/")).count();
    assert_eq!(
        controls_in_bag,
        std::fs::read_dir(data.join("controls")).unwrap().count()
    );
    for link in &links {
        assert!(
            link.starts_with("evidence/") || link.starts_with("controls/"),
            "bag-relative: {link}"
        );
        assert!(
            data.join(decode_percent(link)).exists(),
            "{link} in the bag"
        );
    }
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value = read_json(path);
    edit(&mut value);
    write_json(path, &value);
}

/// Hostile strings, each where an attacker controls text in a real organization.
const NAME: &str = "acme-dev <img src=x onerror=alert('name')>";
const TAG_VALUE: &str = "\"onmouseover=\"alert('tag')\" x=\"";
const TAG_KEY: &str = "<script>alert('tag-key')</script>";
const ERROR: &str = "</td></tr><script>alert('error')</script>\"onmouseover=\"alert('error')";
const USER: &str = "ci<svg onload=alert('user')>";
const PAYLOADS: [&str; 5] = [NAME, TAG_VALUE, TAG_KEY, ERROR, USER];

#[test]
fn hostile_names_tags_errors_and_resources_are_text() {
    let dir = kept_artifacts("injection");
    let evidence = dir.join("evidence");
    copy_tree(&samples(), &evidence);
    let (dev, prod) = ("700823212694", "845062585454");
    edit_json(&evidence.join("org.json"), |org| {
        for account in org["accounts"].as_array_mut().unwrap() {
            if account["id"] == dev {
                account["name"] = NAME.into();
            }
            if account["id"] == prod {
                account["tags"] = serde_json::json!({ "owner": TAG_VALUE, TAG_KEY: "v" });
            }
        }
    });
    // An AWS error message shown in the report: the prod account's account
    // Block Public Access call, made a failed one carrying the payload, as
    // the collector writes a failed call.
    edit_json(
        &evidence.join(format!("{prod}/global/s3control/GetPublicAccessBlock.json")),
        |envelope| {
            envelope["status"] = "error".into();
            envelope["data"] = serde_json::json!({});
            envelope["error"] = serde_json::json!({"code": "AccessDenied", "message": ERROR, "class": "access_denied"});
            envelope["pagination"] = serde_json::json!({"pages": 0, "complete": false});
            envelope["item_count"] = 0.into();
        },
    );
    edit_json(
        &evidence.join(format!("{dev}/global/iam/ListUsers.json")),
        |envelope| {
            for user in envelope["data"]["Users"].as_array_mut().unwrap() {
                user["UserName"] = USER.into();
            }
        },
    );
    let out = report(&evidence, &dir.join("out"), &[]).out;
    std::fs::write(
        out.join("payloads.json"),
        serde_json::to_vec_pretty(&PAYLOADS).unwrap(),
    )
    .unwrap();

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let text = visible_text(&html);
    for payload in PAYLOADS {
        assert!(!html.contains(payload), "raw in the page: {payload}");
        assert!(text.contains(payload), "not shown as text: {payload}");
    }
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert!(!html.contains("<img") && !html.contains("<svg onload"));
    // Escaped text holds no quote, so an injected attribute cannot exist.
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        for name in attribute_names(tag) {
            assert!(!name.starts_with("on"), "an event handler: <{tag}>");
        }
    }
}

/// The attribute names of a start tag's text (`a href="…" title='…'`).
fn attribute_names(tag: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| !c.is_whitespace());
    loop {
        rest = rest.trim_start();
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if end == 0 {
            match rest.chars().next() {
                Some(_) => rest = &rest[1..],
                None => return names,
            }
            continue;
        }
        names.push(rest[..end].to_ascii_lowercase());
        rest = &rest[end..];
        if let Some(value) = rest.strip_prefix('=') {
            rest = match value.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = value[1..].find(q).map_or(value.len(), |i| i + 2);
                    &value[close..]
                }
                _ => value.trim_start_matches(|c: char| !c.is_whitespace()),
            };
        }
    }
}

#[test]
fn attribute_names_skip_quoted_values() {
    assert_eq!(
        attribute_names(r##"a href="#x" title="runs on every account" data-x='on y'"##),
        ["href", "title", "data-x"]
    );
    assert_eq!(
        attribute_names("img src=x onerror=alert(1)"),
        ["src", "onerror"]
    );
    assert_eq!(attribute_names("br"), Vec::<String>::new());
}
