//! Where the report's file links point. The same page is written twice: as
//! `data/report.html` inside the bag, whose links are relative to `data/`
//! (`evidence/…`, `controls/…`), and as `report.html` in the `--out` folder,
//! whose links must reach the evidence and controls folders the run read, so
//! they are relative paths from the out folder to those folders.
//!
//! Only builds relative hrefs (percent-encoded, so a folder named `a #1` still
//! links); it never reads a file's content and never makes an absolute or
//! network URL, except a `file://` URL where no relative path exists.

use std::path::{Component, Path, PathBuf};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Bytes kept as they are in an href path: RFC 3986 unreserved characters and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The prefixes of evidence and control-definition links, each ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    evidence: String,
    /// Custom control files' folder (`--controls`); none when no folder was read.
    controls: Option<String>,
    /// Built-in controls have a file only inside the bundle (`data/controls/`):
    /// the out folder's page names them without a link.
    builtin_linked: bool,
}

impl Links {
    /// For `data/report.html` inside the bag: `evidence/…` and `controls/…`.
    pub(crate) fn bundle() -> Links {
        Links {
            evidence: "evidence/".into(),
            controls: Some("controls/".into()),
            builtin_linked: true,
        }
    }

    /// For a page written into `page_dir`, linking to the `evidence` and
    /// `controls` folders where they are (relative paths, so the out folder
    /// and the evidence can move together).
    pub(crate) fn beside(page_dir: &Path, evidence: &Path, controls: Option<&Path>) -> Links {
        let page_dir = resolve(page_dir);
        Links {
            evidence: folder_href(&page_dir, &resolve(evidence)),
            controls: controls.map(|c| folder_href(&page_dir, &resolve(c))),
            builtin_linked: false,
        }
    }

    /// The href of an evidence file, by its path relative to the evidence root.
    pub(crate) fn evidence(&self, path: &str) -> String {
        format!("{}{}", self.evidence, encode(path))
    }

    /// The href of an account's evidence folder.
    pub(crate) fn evidence_folder(&self, account_id: &str) -> String {
        format!("{}{}/", self.evidence, encode(account_id))
    }

    /// The href of a control definition, by its file name and origin; none
    /// where the page has no file to link to (a built-in control beside the
    /// bundle).
    pub(crate) fn control(&self, file: &str, builtin: bool) -> Option<String> {
        if builtin && !self.builtin_linked {
            return None;
        }
        let folder = if builtin {
            "controls/"
        } else {
            self.controls.as_deref()?
        };
        Some(format!("{folder}{}", encode(file)))
    }
}

fn encode(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// `path` made absolute, with the symbolic links of its existing part
/// resolved (the out folder may not exist yet when the page is rendered).
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// A path as text with `/` separators.
fn to_text(components: &[Component]) -> String {
    let path: PathBuf = components.iter().collect();
    path.to_string_lossy().replace('\\', "/")
}

/// The href of folder `to` from a page in folder `from` (both absolute),
/// ending in `/`: `../evidence/`, or a `file://` URL when they share no root.
fn folder_href(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let text = |c: &Component| encode(&c.as_os_str().to_string_lossy());
    if common == 0 {
        return format!("file:///{}/", encode(to_text(&to).trim_start_matches('/')));
    }
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(to[common..].iter().map(text));
    if parts.is_empty() {
        return String::new();
    }
    parts.join("/") + "/"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_links_are_relative_to_data() {
        let links = Links::bundle();
        assert_eq!(
            links.evidence("111111111111/global/iam/GetAccountSummary.json"),
            "evidence/111111111111/global/iam/GetAccountSummary.json"
        );
        assert_eq!(
            links.control("iam.mfa.toml", false).as_deref(),
            Some("controls/iam.mfa.toml")
        );
        assert_eq!(
            links.control("iam.mfa.toml", true).as_deref(),
            Some("controls/iam.mfa.toml")
        );
        assert_eq!(
            links.evidence_folder("111111111111"),
            "evidence/111111111111/"
        );
    }

    #[test]
    fn folder_hrefs_climb_to_the_common_folder() {
        let href = |from: &str, to: &str| folder_href(Path::new(from), Path::new(to));
        assert_eq!(href("/work/out", "/work/evidence"), "../evidence/");
        assert_eq!(
            href("/work/a/b/out", "/work/evidence"),
            "../../../evidence/"
        );
        assert_eq!(href("/work", "/work/evidence"), "evidence/");
        assert_eq!(href("/work/out", "/work/out/ev"), "ev/");
        assert_eq!(href("/work/out", "/work/out"), "");
        assert_eq!(
            href("/tmp/x", "/srv/my evidence #1"),
            "../../srv/my%20evidence%20%231/"
        );
    }

    #[test]
    fn out_folder_links_reach_the_real_folders() {
        let root = tempfile::tempdir().unwrap();
        let evidence = root.path().join("evidence samples");
        std::fs::create_dir_all(evidence.join("111111111111")).unwrap();
        std::fs::create_dir_all(root.path().join("controls")).unwrap();
        // The out folder does not exist yet, and is given relative to a symlink.
        let link = root.path().join("via-link");
        std::os::unix::fs::symlink(root.path(), &link).unwrap();
        let links = Links::beside(
            &link.join("reports/out"),
            &evidence,
            Some(&root.path().join("controls")),
        );
        assert_eq!(
            links.evidence("111111111111/global/iam/A.json"),
            "../../evidence%20samples/111111111111/global/iam/A.json"
        );
        assert_eq!(
            links.control("c.toml", false).as_deref(),
            Some("../../controls/c.toml")
        );
        // A built-in control has no file beside the bundle.
        assert_eq!(links.control("c.toml", true), None);
    }

    #[test]
    fn unsafe_bytes_in_paths_are_percent_encoded() {
        let links = Links::bundle();
        assert_eq!(
            links.evidence("1/eu-west-1/s3/GetBucketPolicy.a#b?c%d\"e<f.json"),
            "evidence/1/eu-west-1/s3/GetBucketPolicy.a%23b%3Fc%25d%22e%3Cf.json"
        );
    }
}
