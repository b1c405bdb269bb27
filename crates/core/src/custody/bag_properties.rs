//! Property tests of the bundle (#15), where examples would only cover the
//! names someone thought of: any evidence tree, bagged by the writer `report`
//! uses ([`Bag`]), verifies intact, as a zip and unzipped; any single-byte
//! change to one of its files makes `verify` fail naming that file.
//!
//! Names are drawn from what an evidence tree can hold and the bag must carry
//! through its manifest encoding (RFC 8493: LF, CR and `%` percent-encoded):
//! unicode, spaces, percent signs (alone and before hex digits, `%0A`),
//! newlines and carriage returns. Cases are bounded (48 each, small trees)
//! so the module runs in a few seconds (`PROPTEST_CASES` runs more); a
//! failure is shrunk to a minimal tree and kept in `proptest-regressions/`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::bag_check::{verify_path, Problem, Verification};
use crate::outputs::bagit::{zip_time, Bag, BagInfo, Content, BAGIT_TXT, BAG_INFO_TXT, MANIFEST};

/// Cases per property: enough to meet every kind of name several times,
/// few enough to keep `cargo test` fast. `PROPTEST_CASES=5000` runs more
/// (docs/testing.md).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

/// One path component: letters, digits, unicode (accents, CJK, an emoji),
/// spaces, `%` and the hex digits it could be mistaken to encode, `\n`, `\r`.
/// Never `/` or NUL (no file name holds them), a backslash (verify refuses it
/// as a possible escape, by design), `.` or `..`.
fn component() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 %_.éß日本🔒\n\r-]{1,10}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

/// An evidence tree: `evidence/<account>/<region>/<source>/<file>` → bytes,
/// the accounts and regions sometimes real-looking, sometimes anything.
fn evidence_tree() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    let account = prop_oneof!["[0-9]{12}", component()];
    let region = prop_oneof![
        Just("global".to_string()),
        Just("us-east-1".to_string()),
        component()
    ];
    let file = (account, region, component(), component())
        .prop_map(|(a, r, s, f)| format!("evidence/{a}/{r}/{s}/{f}.json"));
    let contents = proptest::collection::vec(any::<u8>(), 1..200);
    proptest::collection::btree_map(file, contents, 1..12)
}

/// The tree written under `root`, bagged into `<root>/bag.zip`: evidence files
/// streamed from disk (as `report` adds them), org.json and results.json as
/// bytes made in memory.
fn bag_tree(root: &Path, tree: &BTreeMap<String, Vec<u8>>) -> PathBuf {
    let mut bag = Bag::default();
    for (path, bytes) in tree {
        let file = root.join("tree").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, bytes).unwrap();
        bag.add(path, Content::File(file));
    }
    bag.add(
        "org.json",
        Content::Bytes(br#"{"organization":{}}"#.to_vec()),
    );
    bag.add("results.json", Content::Bytes(b"{}\n".to_vec()));
    let info = BagInfo {
        name: "auditpack-o-properties-2026-Q4".into(),
        organization_id: "o-properties".into(),
        period: "2026-Q4".into(),
        period_dates: None,
        bagging_date: "2026-12-31".into(),
        collection_window: "2026-12-31T00:00:00Z/2026-12-31T01:00:00Z".into(),
        extra: Vec::new(),
        description: None,
    };
    let zip = root.join("bag.zip");
    let time = zip_time("2026-12-31T01:00:00Z").unwrap();
    bag.write_zip_signed(&info, time, std::fs::File::create(&zip).unwrap(), None)
        .unwrap();
    zip
}

/// Unzips `zip` into `into` (every entry as named, which `verify` has just
/// found safe); returns the bag folder.
fn unzip(zip: &Path, into: &Path) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let target = into.join(entry.enclosed_name().unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    into.join("auditpack-o-properties-2026-Q4")
}

/// The bag-relative path a problem names, if it names one.
fn named(problem: &Problem) -> Option<&str> {
    match problem {
        Problem::Changed { path, .. } | Problem::Missing { path, .. } => Some(path),
        Problem::Extra(path) => Some(path),
        _ => None,
    }
}

fn describe(v: &Verification) -> String {
    let problems: Vec<String> = v.problems.iter().map(|p| format!("{p:?}")).collect();
    problems.join("; ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any evidence tree → bundle → verify is OK, the zip and the folder it
    /// unzips to, with every evidence file listed.
    #[test]
    fn any_evidence_tree_bags_and_verifies(tree in evidence_tree()) {
        let work = tempfile::tempdir().unwrap();
        let zip = bag_tree(work.path(), &tree);
        let zipped = verify_path(&zip).unwrap();
        prop_assert!(zipped.is_intact(), "{}", describe(&zipped));
        // The evidence files, org.json and results.json.
        prop_assert_eq!(zipped.payload_files, tree.len() + 2);
        for path in tree.keys() {
            let entry = format!("data/{path}");
            prop_assert!(zipped.contents.entries.contains_key(&entry), "{:?} not in the bag", entry);
        }
        let folder = unzip(&zip, &work.path().join("unzipped"));
        let unzipped = verify_path(&folder).unwrap();
        prop_assert!(unzipped.is_intact(), "{}", describe(&unzipped));
        prop_assert_eq!(unzipped.payload_files, tree.len() + 2);
    }

    /// Any single-byte change to one file of an unzipped bag (an evidence
    /// file, a file made in memory, or a tag file the tag manifest covers)
    /// fails verify, naming that file.
    #[test]
    fn any_one_byte_change_is_named(
        tree in evidence_tree(),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let work = tempfile::tempdir().unwrap();
        let zip = bag_tree(work.path(), &tree);
        let folder = unzip(&zip, &work.path().join("unzipped"));
        let mut files: Vec<String> = tree.keys().map(|p| format!("data/{p}")).collect();
        files.extend(["data/org.json", "data/results.json"].map(String::from));
        files.extend([BAGIT_TXT, BAG_INFO_TXT, MANIFEST].map(String::from));
        let changed = which.get(&files).clone();
        let file = folder.join(&changed);
        let mut bytes = std::fs::read(&file).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        std::fs::write(&file, &bytes).unwrap();

        let verified = verify_path(&folder).unwrap();
        prop_assert!(!verified.is_intact(), "byte {} of {:?} changed, yet intact", i, changed);
        prop_assert!(
            verified.problems.iter().any(|p| named(p) == Some(changed.as_str())
                && p.to_string().contains(changed.as_str())),
            "byte {} of {:?} changed; verify said: {}", i, changed, describe(&verified)
        );
    }
}
