//! The collection benchmark's server (`bench/collect/server.py`) must answer the
//! collector as the moto emulator does, or the benchmark measures something else.
//! This test collects the seeded organization twice with the real binary, once
//! from moto (behind the fault proxy) and once from the bench server mirroring
//! the same organization with no latency and no throttling, and compares the two
//! evidence trees: the same files, and in each envelope the same call, status,
//! error code, pagination, item count and `data`, once the values that
//! legitimately differ between two runs are normalised (account, OU, root,
//! policy and detector ids, timestamps, request ids).
//!
//! When it fails after a change to the collector, the seed or moto, re-record:
//! `bench/collect/record.sh`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::emulator::{auditpack_at, collect_seed_org, write_config, Emulator, Running};
use crate::common::{files_under, relative, repo};

fn collect(mut cmd: Command, out: &Path, config: &Path) {
    let done = collect_seed_org(&mut cmd, out, config).output().unwrap();
    assert!(
        done.status.success(),
        "collect failed:\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// Starts the bench server mirroring the seed organization; returns it and its endpoint.
fn bench_server() -> (Running, String) {
    let mut child = Command::new("python3")
        .arg(repo().join("bench/collect/server.py"))
        .args([
            "--mirror",
            "--latency",
            "0",
            "--throttle",
            "0",
            "--workers",
            "1",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs bench/collect/server.py");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from the bench server: {line:?}"))
        .to_string();
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// Every file of an evidence tree, keyed by its normalised path.
fn normalised_tree(root: &Path) -> BTreeMap<String, Value> {
    let files: Vec<(String, String)> = files_under(root)
        .into_iter()
        .filter(|path| !path.ends_with("run.json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (relative(root, &path), text)
        })
        .collect();
    // Ids that differ between two runs of the same organization, by what they name.
    let mut names: Vec<(String, String)> = Vec::new();
    let org: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("org.json")).unwrap()).unwrap();
    for a in org["accounts"].as_array().unwrap() {
        names.push((
            a["id"].as_str().unwrap().into(),
            format!("<{}>", a["name"].as_str().unwrap()),
        ));
    }
    for (_, text) in &files {
        collect_named_ids(&serde_json::from_str(text).unwrap(), &mut names);
    }
    let id_pattern = fresh_values;
    let mut tree = BTreeMap::new();
    for (rel, text) in files {
        let mut rel = rel;
        let mut text = text;
        for (id, name) in &names {
            rel = rel.replace(id, name);
            text = text.replace(id, name);
        }
        let mut value: Value = serde_json::from_str(&id_pattern(&text)).unwrap();
        if let Some(envelope) = value.as_object_mut() {
            for volatile in ["collected_at", "request_ids"] {
                envelope.remove(volatile);
            }
            if let Some(error) = envelope.get_mut("error").and_then(Value::as_object_mut) {
                error.remove("message");
            }
        }
        sort_arrays(&mut value);
        tree.insert(id_pattern(&rel), value);
    }
    tree
}

/// OU, root and policy ids, with the names their listings give them.
fn collect_named_ids(value: &Value, names: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(id)), Some(Value::String(name))) =
                (map.get("Id"), map.get("Name"))
            {
                if ["ou-", "r-", "p-"].iter().any(|p| id.starts_with(p))
                    && !names.iter().any(|(i, _)| i == id)
                {
                    names.push((id.clone(), format!("<{name}>")));
                }
            }
            map.values().for_each(|v| collect_named_ids(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_named_ids(v, names)),
        _ => {}
    }
}

/// Values generated afresh by every emulator run: timestamps, GuardDuty
/// detector ids (32 hex digits), KMS key ids (UUIDs), assumed-role,
/// organization, VPC, flow log, Transit Gateway, Resolver and Identity Center
/// instance ids.
fn fresh_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if boundary
            && hex == 32
            && rest.as_bytes()[..32]
                .iter()
                .all(|b| !b.is_ascii_uppercase())
        {
            out.push_str("<detector>");
            i += 32;
        } else if boundary && is_timestamp(rest) {
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || b"-:T.Z+".contains(b))
                .count();
            out.push_str("<time>");
            i += len;
        } else if boundary && is_uuid(rest) {
            out.push_str("<uuid>");
            i += 36;
        } else if let Some((prefix, placeholder)) = FRESH_PREFIXES
            .into_iter()
            .find(|(p, _)| boundary && rest.starts_with(p))
        {
            // Resource ids of the emulator: the prefix, then letters, digits
            // and dashes (`rslvr-qlc-0a1b…`).
            let tail = &rest[prefix.len()..];
            out.push_str(placeholder);
            i += prefix.len()
                + tail
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
                    .count();
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Id prefixes of values the emulator makes afresh, with their placeholders.
const FRESH_PREFIXES: [(&str, &str); 7] = [
    ("AROA", "<role-id>"),
    ("o-", "<org>"),
    ("vpc-", "<vpc>"),
    ("fl-", "<flow-log>"),
    ("tgw-", "<tgw>"),
    ("rslvr-", "<resolver-id>"),
    ("ssoins-", "<sso-instance>"),
];

/// A lowercase UUID (KMS key ids).
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 36
        && b[..36].iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b.get(36).is_none_or(|c| !c.is_ascii_alphanumeric())
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
}

/// Fields moto fills with a fresh random value on every run.
const RANDOM_PER_RUN: [&str; 3] = ["UserId", "ConfigurationAggregatorArn", "IdentityStoreId"];

/// Sorts arrays (listing order is not part of the contract) and blanks
/// [`RANDOM_PER_RUN`] fields.
fn sort_arrays(value: &mut Value) {
    match value {
        Value::Array(items) => {
            items.iter_mut().for_each(sort_arrays);
            items.sort_by_key(|v| v.to_string());
        }
        Value::Object(map) => {
            for key in RANDOM_PER_RUN {
                if let Some(v) = map.get_mut(key) {
                    *v = Value::String("<random>".into());
                }
            }
            map.values_mut().for_each(sort_arrays)
        }
        _ => {}
    }
}

#[test]
fn bench_server_answers_as_the_emulator_does() {
    let work = tempfile::tempdir().unwrap();
    let config = write_config(work.path());

    let emu = Emulator::start();
    assert_eq!(
        emu.account("management"),
        "123456789012",
        "the bench server's mirror gives the management account moto's default id"
    );
    let from_moto = work.path().join("moto");
    collect(emu.auditpack("bench-drift-secret"), &from_moto, &config);
    drop(emu);

    let (_server, endpoint) = bench_server();
    let from_bench = work.path().join("bench");
    collect(
        auditpack_at(&endpoint, "AKIABENCHDRIFTTEST00", "bench-drift-secret"),
        &from_bench,
        &config,
    );

    let moto = normalised_tree(&from_moto);
    let bench = normalised_tree(&from_bench);
    let only_moto: Vec<&String> = moto.keys().filter(|k| !bench.contains_key(*k)).collect();
    let only_bench: Vec<&String> = bench.keys().filter(|k| !moto.contains_key(*k)).collect();
    let differ: Vec<String> = moto
        .iter()
        .filter_map(|(k, v)| match bench.get(k) {
            Some(b) if b != v => Some(format!(
                "{k}\n  moto:  {}\n  bench: {}",
                serde_json::to_string(v).unwrap(),
                serde_json::to_string(b).unwrap()
            )),
            _ => None,
        })
        .collect();
    assert!(
        only_moto.is_empty() && only_bench.is_empty() && differ.is_empty(),
        "the bench server no longer answers as moto does (re-record: bench/collect/record.sh)\n\
         only from moto: {only_moto:?}\nonly from the bench server: {only_bench:?}\ndiffering:\n{}",
        differ.join("\n")
    );
    assert!(
        moto.len() > 100,
        "only {} evidence files compared",
        moto.len()
    );
}
