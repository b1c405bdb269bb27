//! SSH signatures (OpenSSH's SSHSIG format) over the tag manifest.
//!
//! Why SSH keys: engineers already have them, and every auditor's laptop has
//! `ssh-keygen -Y verify`. The signature is exactly what `ssh-keygen -Y sign
//! -n auditpack-evidence` would write (armored PEM, SHA-512 message hash), so
//! stock OpenSSH checks it.
//!
//! The private key is read from disk, used for one signature and dropped; it is
//! never written anywhere. Supported: ed25519 and ecdsa-sha2-nistp256 keys
//! (RSA is left out: RustCrypto's `rsa` crate has an open timing advisory for
//! private-key operations). Encrypted keys are decrypted with the passphrase
//! from `AUDITPACK_SIGN_KEY_PASSPHRASE`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use super::NAMESPACE;
use crate::outputs::bagit::SignError;

/// The environment variable holding an encrypted key's passphrase.
pub(crate) const PASSPHRASE_ENV: &str = "AUDITPACK_SIGN_KEY_PASSPHRASE";

/// Why an SSH key cannot sign.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SshKeyError {
    /// The key file.
    pub path: PathBuf,
    /// What is wrong, and what to do.
    pub message: String,
}

/// A loaded private key and the identity it signs as.
pub struct SshSigner {
    key: PrivateKey,
    identity: String,
}

impl std::fmt::Debug for SshSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.debug_struct("SshSigner")
            .field("fingerprint", &self.fingerprint())
            .field("identity", &self.identity)
            .finish()
    }
}

impl SshSigner {
    /// Reads an OpenSSH private key. `identity` is the principal written to
    /// `allowed_signers` (default: the key's comment when it is a usable
    /// principal, else `auditpack-signer`).
    pub fn load(
        path: &Path,
        identity: Option<&str>,
        passphrase: Option<&str>,
    ) -> Result<SshSigner, SshKeyError> {
        let fail = |message: String| SshKeyError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let mut key = PrivateKey::from_openssh(&text).map_err(|e| {
            fail(format!(
                "not an OpenSSH private key ({e}); give the private key file (e.g. ~/.ssh/id_ed25519), not the .pub"
            ))
        })?;
        if key.is_encrypted() {
            let passphrase = passphrase.ok_or_else(|| {
                fail(format!(
                    "the key is encrypted; set {PASSPHRASE_ENV} to its passphrase"
                ))
            })?;
            key = key
                .decrypt(passphrase)
                .map_err(|_| fail(format!("cannot decrypt the key with {PASSPHRASE_ENV}")))?;
        }
        match key.algorithm() {
            Algorithm::Ed25519 => {}
            Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            } => {}
            other => {
                return Err(fail(format!(
                    "{other} keys cannot sign bundles; use an ed25519 or ecdsa-sha2-nistp256 key (ssh-keygen -t ed25519)"
                )))
            }
        }
        let identity = match identity {
            Some(given) if is_principal(given) => given.to_string(),
            Some(given) => {
                return Err(fail(format!(
                    "signer identity '{given}' cannot be an allowed_signers principal (use letters, digits and @._+-)"
                )))
            }
            None if is_principal(key.comment()) => key.comment().to_string(),
            None => "auditpack-signer".to_string(),
        };
        Ok(SshSigner { key, identity })
    }

    /// The principal named in `allowed_signers` and `VERIFY.txt`.
    pub(crate) fn identity(&self) -> &str {
        &self.identity
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub(crate) fn fingerprint(&self) -> String {
        self.key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// Signs `message`, returning the signature file, the public key and the
    /// `allowed_signers` file, by path inside the bag.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SignError> {
        let signature = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, message)
            .and_then(|s| s.to_pem(LineEnding::LF))
            .map_err(SignError::Ssh)?;
        let public = self.key.public_key();
        let openssh = public.to_openssh().map_err(SignError::SshPublicKey)?;
        Ok(vec![
            (super::SSH_SIGNATURE.to_string(), signature.into_bytes()),
            (
                super::SSH_PUBLIC_KEY.to_string(),
                format!("{openssh}\n").into_bytes(),
            ),
            (
                super::ALLOWED_SIGNERS.to_string(),
                allowed_signers_line(&self.identity, public)?.into_bytes(),
            ),
        ])
    }
}

/// One line of `allowed_signers`: the principal, restricted to auditpack's
/// namespace, and the key.
pub(crate) fn allowed_signers_line(identity: &str, key: &PublicKey) -> Result<String, SignError> {
    let mut key = key.clone();
    key.set_comment("");
    let openssh = key.to_openssh().map_err(SignError::SshPublicKey)?;
    Ok(format!(
        "{identity} namespaces=\"{NAMESPACE}\" {}\n",
        openssh.trim_end()
    ))
}

/// A principal safe in an `allowed_signers` file and on a command line.
fn is_principal(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c))
}

/// An `allowed_signers` line auditpack cannot read. A trust file with a bad
/// line is refused as a whole (a skipped line could be the one that should
/// have matched), so the error names the file and line to fix.
#[derive(Debug, thiserror::Error)]
#[error("{file} line {line}: {problem}")]
pub struct AllowedSignersError {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with the line.
    #[source]
    pub problem: SignersLineProblem,
}

/// What is wrong with one `allowed_signers` line.
#[derive(Debug, thiserror::Error)]
pub enum SignersLineProblem {
    /// The key part is not an OpenSSH public key.
    #[error("not a public key ({0})")]
    NotAKey(#[source] ssh_key::Error),
    /// A `valid-after`/`valid-before` value is not a time ssh-keygen accepts.
    #[error(
        "{option}={value} is not a time (YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally with Z)"
    )]
    BadTime {
        /// `valid-after` or `valid-before`.
        option: &'static str,
        /// The value as written.
        value: String,
    },
}

/// One usable line of an OpenSSH `allowed_signers` file.
#[derive(Debug, Clone)]
pub struct AllowedSigner {
    /// Comma-separated principals of the line.
    pub principals: Vec<String>,
    /// `namespaces="…"`, when restricted.
    pub namespaces: Option<Vec<String>>,
    /// `valid-after="…"`: the key is trusted for signatures made at or after this time.
    pub valid_after: Option<DateTime<Utc>>,
    /// `valid-before="…"`: …and at or before this time.
    pub valid_before: Option<DateTime<Utc>>,
    /// The key.
    pub key: PublicKey,
    /// 1-based line number, for messages.
    pub line: usize,
}

impl AllowedSigner {
    /// True when this line lets `key` sign in auditpack's namespace (at any time).
    pub(crate) fn allows(&self, key: &ssh_key::public::KeyData) -> bool {
        self.key.key_data() == key
            && self
                .namespaces
                .as_ref()
                .is_none_or(|ns| ns.iter().any(|n| n == NAMESPACE || n == "*"))
    }

    /// Whether a signature made at `signed_at` falls inside the line's
    /// `valid-after`/`valid-before` window. A line with a window does not trust
    /// a signature whose time is unknown (fail closed).
    pub(crate) fn valid_at(&self, signed_at: Option<DateTime<Utc>>) -> bool {
        if self.valid_after.is_none() && self.valid_before.is_none() {
            return true;
        }
        let Some(at) = signed_at else {
            return false;
        };
        self.valid_after.is_none_or(|after| at >= after)
            && self.valid_before.is_none_or(|before| at <= before)
    }

    /// The window, for messages: `from 2026-01-01T00:00:00Z to 2026-12-31T00:00:00Z`.
    pub(crate) fn window(&self) -> String {
        let show = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        match (show(self.valid_after), show(self.valid_before)) {
            (Some(a), Some(b)) => format!("from {a} to {b}"),
            (Some(a), None) => format!("from {a}"),
            (None, Some(b)) => format!("until {b}"),
            (None, None) => "always".into(),
        }
    }
}

/// An `allowed_signers` time: `YYYYMMDD[HHMM[SS]]`, optionally ending in `Z`.
/// OpenSSH reads a time without `Z` as local time; auditpack reads every time
/// as UTC, so a file meant for both should write the `Z`.
fn parse_signers_time(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.trim_matches('"').trim_end_matches(['Z', 'z']);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = match digits.len() {
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        14 => digits.to_string(),
        _ => return None,
    };
    NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Parses an `allowed_signers` file (ssh-keygen(1) "ALLOWED SIGNERS"). Lines
/// with `cert-authority` are skipped (auditpack does not sign with
/// certificates); an unreadable line is an error naming it.
pub(crate) fn parse_allowed_signers(
    text: &str,
    file: &str,
) -> Result<Vec<AllowedSigner>, AllowedSignersError> {
    let mut signers = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let tokens = tokenize(line);
        let unreadable = |problem| AllowedSignersError {
            file: file.to_string(),
            line: i + 1,
            problem,
        };
        let Some(principals) = tokens.first() else {
            continue;
        };
        let key_at = if tokens.get(1).is_some_and(|t| looks_like_key_type(t)) {
            1
        } else {
            2
        };
        let options = if key_at == 2 {
            tokens.get(1).map(String::as_str)
        } else {
            None
        };
        let options = options.map(split_options).unwrap_or_default();
        if options.iter().any(|opt| opt == "cert-authority") {
            continue;
        }
        let key_text = tokens.get(key_at..).unwrap_or_default().join(" ");
        let key = PublicKey::from_openssh(&key_text)
            .map_err(|e| unreadable(SignersLineProblem::NotAKey(e)))?;
        let namespaces = options
            .iter()
            .find_map(|opt| opt.strip_prefix("namespaces="))
            .map(|v| {
                v.trim_matches('"')
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect()
            });
        let time_option = |option: &'static str| {
            let prefix = format!("{option}=");
            match options
                .iter()
                .find_map(|opt| opt.strip_prefix(prefix.as_str()))
            {
                None => Ok(None),
                Some(value) => parse_signers_time(value).map(Some).ok_or_else(|| {
                    unreadable(SignersLineProblem::BadTime {
                        option,
                        value: value.to_string(),
                    })
                }),
            }
        };
        let valid_after = time_option("valid-after")?;
        let valid_before = time_option("valid-before")?;
        signers.push(AllowedSigner {
            principals: principals.split(',').map(str::to_string).collect(),
            namespaces,
            valid_after,
            valid_before,
            key,
            line: i + 1,
        });
    }
    Ok(signers)
}

/// Splits `opt1,opt2="a,b"` on commas outside double quotes.
fn split_options(options: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out
}

fn looks_like_key_type(token: &str) -> bool {
    token.starts_with("ssh-") || token.starts_with("ecdsa-sha2-") || token.starts_with("sk-")
}

/// Splits on whitespace outside double quotes (options may quote commas and spaces).
fn tokenize(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// An SSH signature as found in a bag, checked against its own public key.
#[derive(Debug, Clone)]
pub(crate) struct SshSignature {
    /// The signing key.
    pub key: PublicKey,
    /// `SHA256:…`.
    pub fingerprint: String,
    /// The principal in the bag's `allowed_signers`.
    pub identity: Option<String>,
}

/// Checks the bag's SSH signature files against the tag manifest: the
/// signature parses, is in auditpack's namespace, was made by the key in
/// `signer.pub` (which `allowed_signers` lists) and matches the manifest.
/// Each error names the file at fault.
pub(crate) fn check_signature(
    signature: &[u8],
    public_key: Option<&[u8]>,
    allowed_signers: Option<&[u8]>,
    tag_manifest: &[u8],
) -> Result<SshSignature, Vec<String>> {
    let sig_file = super::SSH_SIGNATURE;
    let sig = std::str::from_utf8(signature)
        .ok()
        .and_then(|text| SshSig::from_pem(text).ok())
        .ok_or_else(|| vec![format!("{sig_file}: not a readable SSH signature")])?;
    if sig.namespace() != NAMESPACE {
        return Err(vec![format!(
            "{sig_file}: signed for namespace '{}', not '{NAMESPACE}'",
            sig.namespace()
        )]);
    }
    let key = PublicKey::new(sig.public_key().clone(), "");
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let mut problems = Vec::new();
    if key.verify(NAMESPACE, tag_manifest, &sig).is_err() {
        problems.push(format!(
            "{sig_file}: the signature does not match {} (the tag manifest or the signature was changed)",
            crate::outputs::bagit::TAG_MANIFEST
        ));
    }
    let pub_file = super::SSH_PUBLIC_KEY;
    match public_key.map(|b| PublicKey::from_openssh(String::from_utf8_lossy(b).trim())) {
        None => problems.push(format!("{pub_file}: missing")),
        Some(Err(e)) => problems.push(format!("{pub_file}: not a public key ({e})")),
        Some(Ok(stated)) if stated.key_data() != key.key_data() => problems.push(format!(
            "{pub_file}: names key {}, but the signature was made by {fingerprint}",
            stated.fingerprint(HashAlg::Sha256)
        )),
        Some(Ok(_)) => {}
    }
    let allowed_file = super::ALLOWED_SIGNERS;
    let identity = match allowed_signers
        .map(|b| parse_allowed_signers(&String::from_utf8_lossy(b), allowed_file))
    {
        None => {
            problems.push(format!("{allowed_file}: missing"));
            None
        }
        Some(Err(e)) => {
            problems.push(e.to_string());
            None
        }
        Some(Ok(lines)) => {
            let found = lines.iter().find(|l| l.allows(key.key_data()));
            if found.is_none() {
                problems.push(format!(
                    "{allowed_file}: does not list the signing key {fingerprint} for namespace {NAMESPACE}"
                ));
            }
            found.and_then(|l| l.principals.first().cloned())
        }
    };
    if problems.is_empty() {
        Ok(SshSignature {
            key,
            fingerprint,
            identity,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti user@example.com";

    #[test]
    fn allowed_signers_lines_with_and_without_options() {
        let text = format!(
            "# team\nalice@example.com {KEY}\nbob,carol namespaces=\"git,auditpack-evidence\" {KEY}\n\
             ca@example.com cert-authority {KEY}\nold namespaces=\"git\" {KEY}\n"
        );
        let lines = parse_allowed_signers(&text, "team_signers").unwrap();
        assert_eq!(lines.len(), 3, "the cert-authority line is skipped");
        assert_eq!(lines[0].principals, ["alice@example.com"]);
        assert!(lines[0].namespaces.is_none());
        assert_eq!(lines[1].principals, ["bob", "carol"]);
        let key = PublicKey::from_openssh(KEY).unwrap();
        assert!(lines[1].allows(key.key_data()));
        assert!(
            !lines[2].allows(key.key_data()),
            "a key restricted to git signatures is not trusted for bundles"
        );
        let bad = parse_allowed_signers("alice ssh-ed25519 AAAA-not-base64\n", "x").unwrap_err();
        assert!(
            matches!(bad.problem, SignersLineProblem::NotAKey(_)),
            "{bad}"
        );
        assert!(bad.to_string().starts_with("x line 1: not a public key ("));
    }

    #[test]
    fn validity_windows_bound_the_signing_time() {
        let text = format!(
            "a valid-after=\"20260101\",valid-before=\"20261231235959Z\" {KEY}\n\
             b valid-after=\"202607011200\" {KEY}\nc {KEY}\n"
        );
        let lines = parse_allowed_signers(&text, "team_signers").unwrap();
        let at = |t: &str| Some(DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
        assert!(lines[0].valid_at(at("2026-11-23T09:00:00Z")));
        assert!(
            lines[0].valid_at(at("2026-01-01T00:00:00Z")),
            "valid-after is inclusive"
        );
        assert!(!lines[0].valid_at(at("2025-12-31T23:59:59Z")));
        assert!(!lines[0].valid_at(at("2027-01-01T00:00:00Z")));
        assert!(
            !lines[0].valid_at(None),
            "an unknown signing time fails closed"
        );
        assert!(!lines[1].valid_at(at("2026-07-01T11:59:59Z")));
        assert!(lines[1].valid_at(at("2026-07-01T12:00:00Z")));
        assert!(lines[2].valid_at(None), "no window: any time");
        assert_eq!(
            lines[0].window(),
            "from 2026-01-01T00:00:00Z to 2026-12-31T23:59:59Z"
        );
        let bad = parse_allowed_signers(&format!("a valid-before=\"2026-12-31\" {KEY}\n"), "x")
            .unwrap_err();
        assert_eq!(
            bad.to_string(),
            "x line 1: valid-before=\"2026-12-31\" is not a time (YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally with Z)"
        );
    }

    #[test]
    fn principals_are_safe_on_a_command_line() {
        assert!(is_principal("alice@example.com"));
        for bad in ["", "a b", "a,b", "a\"b", "$(rm)", "a;b"] {
            assert!(!is_principal(bad), "{bad}");
        }
    }
}
