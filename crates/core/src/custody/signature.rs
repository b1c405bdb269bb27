//! The bag's `signature/` folder: writing it (SSH and/or KMS signatures of the
//! tag manifest, plus `VERIFY.txt`), and checking it, against a trusted key
//! set when the auditor gives one.
//!
//! Without a trusted key, a valid signature only shows the bag is
//! self-consistent (whoever changed it could have re-signed it with their own
//! key), and `verify` says exactly that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::kms::{KmsSignature, PemKeyError, RemoteSigner};
use super::ssh::{AllowedSigner, AllowedSignersError, SshSignature, SshSigner};
use super::*;
use crate::outputs::bagit::{SignError, TagManifestSigner, MANIFEST, TAG_MANIFEST};

/// The signers of one run (either or both).
#[derive(Debug)]
pub struct Signing {
    /// `--sign-key`.
    pub ssh: Option<SshSigner>,
    /// `--kms-key-id` (connected by `auditpack-aws`).
    pub kms: Option<Box<dyn RemoteSigner>>,
    /// RFC 3339 signing time, written to bag-info.txt as `Signed-At`.
    pub signed_at: String,
}

/// Why the requested SSH signing key cannot be used (exit 2: the message names the key).
pub type SigningError = ssh::SshKeyError;

impl Signing {
    /// The signers for `--sign-key` (with `--signer-identity`, and the
    /// passphrase from the environment) and a KMS key already connected by the
    /// caller; `None` when neither was asked for. Keys are loaded and checked
    /// before evaluation starts, so a wrong path or key fails fast.
    pub fn from_options(
        ssh_key: Option<&Path>,
        identity: Option<&str>,
        kms: Option<Box<dyn RemoteSigner>>,
    ) -> Result<Option<Signing>, SigningError> {
        if ssh_key.is_none() && kms.is_none() {
            return Ok(None);
        }
        let passphrase = std::env::var(ssh::PASSPHRASE_ENV).ok();
        let ssh = ssh_key
            .map(|path| SshSigner::load(path, identity, passphrase.as_deref()))
            .transpose()?;
        Ok(Some(Signing {
            ssh,
            kms,
            signed_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }))
    }
}

impl TagManifestSigner for Signing {
    fn bag_info(&self) -> Vec<(String, String)> {
        vec![(SIGNED_AT.to_string(), self.signed_at.clone())]
    }

    fn sign(&self, tag_manifest: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SignError> {
        let mut files = Vec::new();
        let mut ssh_info = None;
        let mut kms_info = None;
        if let Some(ssh) = &self.ssh {
            files.extend(ssh.sign(tag_manifest)?);
            ssh_info = Some(SshInstructions {
                identity: ssh.identity().to_string(),
                fingerprint: ssh.fingerprint(),
            });
        }
        if let Some(kms) = &self.kms {
            files.extend(kms::sign_files(kms.as_ref(), tag_manifest)?);
            kms_info = Some(KmsInstructions {
                key_arn: kms.key_arn().to_string(),
                fingerprint: kms::fingerprint(kms.public_key_der()),
            });
        }
        files.push((
            VERIFY_TXT.to_string(),
            verify_instructions(ssh_info.as_ref(), kms_info.as_ref()).into_bytes(),
        ));
        files.sort();
        Ok(files)
    }
}

/// What `VERIFY.txt` says about an SSH signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshInstructions {
    /// The principal in `allowed_signers`.
    pub identity: String,
    /// `SHA256:…`.
    pub fingerprint: String,
}

/// What `VERIFY.txt` says about a KMS signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KmsInstructions {
    /// Key ARN.
    pub key_arn: String,
    /// `sha256:<hex>` of the public key DER.
    pub fingerprint: String,
}

/// The prefix of every command line in `VERIFY.txt` (tests run exactly those lines).
pub const COMMAND_PREFIX: &str = "  $ ";

/// `VERIFY.txt`: the auditor's commands, run in the unzipped bag folder. A
/// pure function of what was signed, so `verify` can rebuild it and notice an
/// edited copy.
pub(crate) fn verify_instructions(
    ssh: Option<&SshInstructions>,
    kms: Option<&KmsInstructions>,
) -> String {
    let mut t = String::new();
    t.push_str("How to verify this bundle offline, with standard tools\n");
    t.push_str("=======================================================\n\n");
    t.push_str(
        "Run these commands in the unzipped bag folder (the one holding bagit.txt).\n\
         The signature covers tagmanifest-sha256.txt, which hashes bag-info.txt and\n\
         manifest-sha256.txt, which hashes every file under data/. So: check the\n\
         signature, then both manifests.\n\n",
    );
    if let Some(ssh) = ssh {
        t.push_str("1. The SSH signature (OpenSSH 8.1 or later)\n\n");
        t.push_str(&format!(
            "{COMMAND_PREFIX}ssh-keygen -Y verify -f {ALLOWED_SIGNERS} -I {} -n {NAMESPACE} -s {SSH_SIGNATURE} < {TAG_MANIFEST}\n\n",
            ssh.identity
        ));
        t.push_str(&format!(
            "   Signed by {} with key {}.\n   \
             {ALLOWED_SIGNERS} comes with the bundle, so this proves only that the bundle\n   \
             is unchanged since that key signed it. To know WHO signed, check the key against\n   \
             one you trust: use your own allowed_signers file with -f, or compare\n   \
             the fingerprint above with `ssh-keygen -lf {SSH_PUBLIC_KEY}` and the signer's known key.\n\n",
            ssh.identity, ssh.fingerprint
        ));
    }
    if let Some(kms) = kms {
        let n = if ssh.is_some() { 2 } else { 1 };
        t.push_str(&format!("{n}. The AWS KMS signature (OpenSSL)\n\n"));
        t.push_str(&format!(
            "{COMMAND_PREFIX}openssl dgst -sha256 -verify {KMS_PUBLIC_KEY} -signature {KMS_SIGNATURE} {TAG_MANIFEST}\n\n"
        ));
        t.push_str(&format!(
            "   Signed with KMS key {} (ECC_NIST_P256, ECDSA_SHA_256, message type RAW).\n   \
             Public key fingerprint: {} (SHA-256 of its DER form:\n   \
             `openssl pkey -pubin -in {KMS_PUBLIC_KEY} -outform DER | sha256sum`).\n   \
             The key comes with the bundle: compare it with the key's own public key,\n   \
             `aws kms get-public-key --key-id ARN --query PublicKey --output text | base64 -d | sha256sum`,\n   \
             or with the fingerprint your security team published.\n\n",
            kms.key_arn, kms.fingerprint
        ));
    }
    t.push_str("Then every file:\n\n");
    t.push_str(&format!("{COMMAND_PREFIX}sha256sum -c {TAG_MANIFEST}\n"));
    t.push_str(&format!("{COMMAND_PREFIX}sha256sum -c {MANIFEST}\n\n"));
    t.push_str(
        "With auditpack, the same checks and more (coverage, age, re-evaluation):\n\n    \
         auditpack verify --allowed-signers YOUR_ALLOWED_SIGNERS --reevaluate BUNDLE.zip\n",
    );
    t
}

/// Keys the auditor trusts (`--allowed-signers`, `--pubkey`).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// An OpenSSH allowed_signers file and its lines.
    pub allowed_signers: Option<(PathBuf, Vec<AllowedSigner>)>,
    /// Single public keys.
    pub keys: Vec<(PathBuf, TrustedKey)>,
}

/// One trusted public key.
#[derive(Debug, Clone)]
pub enum TrustedKey {
    /// An OpenSSH public key.
    Ssh(ssh_key::PublicKey),
    /// A P-256 public key (KMS), DER.
    P256(Vec<u8>),
}

/// A trust file that cannot be used: `verify` and `diff` stop (exit 2)
/// rather than check signatures against fewer keys than the auditor meant.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct TrustError {
    /// The file (`--allowed-signers` or `--pubkey`).
    pub path: PathBuf,
    /// What is wrong with it.
    #[source]
    pub problem: TrustProblem,
}

/// What is wrong with a trust file (see [`TrustError`]).
#[derive(Debug, thiserror::Error)]
pub enum TrustProblem {
    /// The file cannot be read.
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// An `allowed_signers` line is unreadable (names the file and line).
    #[error(transparent)]
    AllowedSigners(#[from] AllowedSignersError),
    /// The `allowed_signers` file has no key line: it would trust nothing.
    #[error("lists no keys")]
    NoKeys,
    /// A `--pubkey` file is neither an OpenSSH public key nor PEM.
    #[error("not an OpenSSH public key or a PEM public key ({0})")]
    NotAKey(#[source] ssh_key::Error),
    /// A `--pubkey` PEM file is not a P-256 key.
    #[error(transparent)]
    Pem(#[from] PemKeyError),
}

impl Trust {
    /// True when the auditor gave at least one trusted key.
    pub fn is_given(&self) -> bool {
        self.allowed_signers.is_some() || !self.keys.is_empty()
    }

    /// Loads `--allowed-signers` and `--pubkey` files.
    pub fn load(allowed_signers: Option<&Path>, pubkeys: &[PathBuf]) -> Result<Trust, TrustError> {
        let mut trust = Trust::default();
        if let Some(path) = allowed_signers {
            let lines = load_allowed_signers(path).map_err(|problem| TrustError {
                path: path.to_path_buf(),
                problem,
            })?;
            trust.allowed_signers = Some((path.to_path_buf(), lines));
        }
        for path in pubkeys {
            let key = load_trusted_key(path).map_err(|problem| TrustError {
                path: path.clone(),
                problem,
            })?;
            trust.keys.push((path.clone(), key));
        }
        Ok(trust)
    }

    /// Where an SSH key is trusted for a signature made at `signed_at`:
    /// `FILE line N (principal)` or `FILE`. An allowed_signers line's validity
    /// window must hold the signing time.
    fn trusts_ssh(
        &self,
        key: &ssh_key::PublicKey,
        signed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Option<String> {
        if let Some((path, lines)) = &self.allowed_signers {
            if let Some(line) = lines
                .iter()
                .find(|l| l.allows(key.key_data()) && l.valid_at(signed_at))
            {
                return Some(format!(
                    "{} line {} ({})",
                    path.display(),
                    line.line,
                    line.principals.join(",")
                ));
            }
        }
        self.keys.iter().find_map(|(path, k)| match k {
            TrustedKey::Ssh(k) if k.key_data() == key.key_data() => {
                Some(path.display().to_string())
            }
            _ => None,
        })
    }

    /// Lines that list `key` but whose validity window excludes `signed_at`,
    /// for the message that explains why the signature is not trusted.
    fn ssh_windows_missed(
        &self,
        key: &ssh_key::PublicKey,
        signed_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Vec<String> {
        let Some((path, lines)) = &self.allowed_signers else {
            return Vec::new();
        };
        lines
            .iter()
            .filter(|l| l.allows(key.key_data()) && !l.valid_at(signed_at))
            .map(|l| {
                format!(
                    "{} line {} trusts it only {}",
                    path.display(),
                    l.line,
                    l.window()
                )
            })
            .collect()
    }

    fn trusts_p256(&self, der: &[u8]) -> Option<String> {
        self.keys.iter().find_map(|(path, k)| match k {
            TrustedKey::P256(k) if k == der => Some(path.display().to_string()),
            _ => None,
        })
    }
}

/// The lines of an `--allowed-signers` file; a file with none is refused.
fn load_allowed_signers(path: &Path) -> Result<Vec<AllowedSigner>, TrustProblem> {
    let text = std::fs::read_to_string(path).map_err(TrustProblem::Read)?;
    let lines = ssh::parse_allowed_signers(&text, &path.display().to_string())?;
    if lines.is_empty() {
        return Err(TrustProblem::NoKeys);
    }
    Ok(lines)
}

/// A `--pubkey` file: a PEM P-256 key (KMS) or an OpenSSH public key.
fn load_trusted_key(path: &Path) -> Result<TrustedKey, TrustProblem> {
    let text = std::fs::read_to_string(path).map_err(TrustProblem::Read)?;
    if text.trim_start().starts_with("-----BEGIN PUBLIC KEY-----") {
        Ok(TrustedKey::P256(kms::public_key_der_from_pem(&text)?))
    } else {
        ssh_key::PublicKey::from_openssh(text.trim())
            .map(TrustedKey::Ssh)
            .map_err(TrustProblem::NotAKey)
    }
}

/// One signature of a bag, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFinding {
    /// `ssh` or `kms`.
    pub kind: &'static str,
    /// The signing key: `SHA256:…` (SSH) or `sha256:<hex>` (KMS).
    pub fingerprint: String,
    /// The principal (SSH) or key ARN (KMS) the bag names.
    pub signer: String,
    /// Where the auditor's trust set lists the key, when it does.
    pub trusted_by: Option<String>,
}

/// Everything `verify` found about signatures.
#[derive(Debug, Clone, Default)]
pub struct SignatureReport {
    /// Valid signatures.
    pub signatures: Vec<SignatureFinding>,
    /// `Signed-At` from bag-info.txt.
    pub signed_at: Option<String>,
    /// Problems, each naming a file.
    pub problems: Vec<String>,
    /// True when a trusted key set was given.
    pub trust_given: bool,
}

impl SignatureReport {
    /// True when the bag carries at least one signature file.
    pub(crate) fn is_signed(&self) -> bool {
        !self.signatures.is_empty() || !self.problems.is_empty()
    }
}

/// Checks the signature files of a bag whose files are `files` (path → bytes,
/// for tag files). With a trust set, at least one valid signature must be by a
/// trusted key, and an unsigned bag fails.
pub(crate) fn check_signatures(files: &BTreeMap<String, &[u8]>, trust: &Trust) -> SignatureReport {
    let get = |name: &str| files.get(name).copied();
    let mut report = SignatureReport {
        trust_given: trust.is_given(),
        signed_at: get(crate::outputs::bagit::BAG_INFO_TXT)
            .and_then(|b| bag_info_field(&String::from_utf8_lossy(b), SIGNED_AT)),
        ..SignatureReport::default()
    };
    let signed_at = report
        .signed_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let mut windows_missed = Vec::new();
    let tag_manifest = get(TAG_MANIFEST).unwrap_or_default();
    let mut ssh_instr = None;
    let mut kms_instr = None;
    if let Some(sig) = get(SSH_SIGNATURE) {
        match ssh::check_signature(sig, get(SSH_PUBLIC_KEY), get(ALLOWED_SIGNERS), tag_manifest) {
            Ok(SshSignature {
                key,
                fingerprint,
                identity,
            }) => {
                let identity = identity.unwrap_or_default();
                ssh_instr = Some(SshInstructions {
                    identity: identity.clone(),
                    fingerprint: fingerprint.clone(),
                });
                report.signatures.push(SignatureFinding {
                    kind: "ssh",
                    fingerprint,
                    signer: identity,
                    trusted_by: trust.trusts_ssh(&key, signed_at),
                });
                windows_missed.extend(trust.ssh_windows_missed(&key, signed_at));
            }
            Err(problems) => report.problems.extend(problems),
        }
    } else {
        for orphan in [SSH_PUBLIC_KEY, ALLOWED_SIGNERS] {
            if files.contains_key(orphan) {
                report
                    .problems
                    .push(format!("{orphan}: present, but {SSH_SIGNATURE} is missing"));
            }
        }
    }
    if let Some(sig) = get(KMS_SIGNATURE) {
        match kms::check_signature(sig, get(KMS_PUBLIC_KEY), get(KMS_KEY_INFO), tag_manifest) {
            Ok(KmsSignature {
                key_arn,
                public_key_der,
                fingerprint,
            }) => {
                kms_instr = Some(KmsInstructions {
                    key_arn: key_arn.clone(),
                    fingerprint: fingerprint.clone(),
                });
                report.signatures.push(SignatureFinding {
                    kind: "kms",
                    fingerprint,
                    signer: key_arn,
                    trusted_by: trust.trusts_p256(&public_key_der),
                });
            }
            Err(problems) => report.problems.extend(problems),
        }
    } else {
        for orphan in [KMS_PUBLIC_KEY, KMS_KEY_INFO] {
            if files.contains_key(orphan) {
                report
                    .problems
                    .push(format!("{orphan}: present, but {KMS_SIGNATURE} is missing"));
            }
        }
    }
    let signed = files.contains_key(SSH_SIGNATURE) || files.contains_key(KMS_SIGNATURE);
    if signed && report.problems.is_empty() {
        let expected = verify_instructions(ssh_instr.as_ref(), kms_instr.as_ref());
        match get(VERIFY_TXT) {
            None => report.problems.push(format!("{VERIFY_TXT}: missing")),
            Some(actual) if actual != expected.as_bytes() => report.problems.push(format!(
                "{VERIFY_TXT}: differs from the instructions for this bundle's signature (it was edited)"
            )),
            Some(_) => {}
        }
        if report.signed_at.is_none() {
            report.problems.push(format!(
                "{}: has no {SIGNED_AT} line, though the bundle is signed",
                crate::outputs::bagit::BAG_INFO_TXT
            ));
        }
    } else if !signed && files.contains_key(VERIFY_TXT) {
        report.problems.push(format!(
            "{VERIFY_TXT}: present, but the bundle has no signature"
        ));
    }
    if trust.is_given() && report.problems.is_empty() {
        if !signed {
            report.problems.push(
                "the bundle is not signed, but a trusted key was given (--allowed-signers/--pubkey)"
                    .into(),
            );
        } else if report.signatures.iter().all(|s| s.trusted_by.is_none()) {
            let keys: Vec<String> = report
                .signatures
                .iter()
                .map(|s| format!("{} ({})", s.fingerprint, s.signer))
                .collect();
            let problem = if windows_missed.is_empty() {
                format!(
                    "signed by {}, which is not among the trusted keys",
                    keys.join(" and ")
                )
            } else {
                format!(
                    "signed by {} at {}, outside the key's validity: {}",
                    keys.join(" and "),
                    report.signed_at.as_deref().unwrap_or("an unknown time"),
                    windows_missed.join("; ")
                )
            };
            report.problems.push(problem);
        }
    }
    report
}

/// A `Key: value` line of bag-info.txt.
pub fn bag_info_field(bag_info: &str, key: &str) -> Option<String> {
    bag_info.lines().find_map(|line| {
        line.split_once(':')
            .filter(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_hold_the_exact_commands() {
        let ssh = SshInstructions {
            identity: "alice@example.com".into(),
            fingerprint: "SHA256:abc".into(),
        };
        let text = verify_instructions(Some(&ssh), None);
        let commands: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(COMMAND_PREFIX))
            .collect();
        assert_eq!(
            commands,
            [
                "ssh-keygen -Y verify -f signature/allowed_signers -I alice@example.com -n auditpack-evidence -s signature/tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt",
                "sha256sum -c tagmanifest-sha256.txt",
                "sha256sum -c manifest-sha256.txt",
            ]
        );
        assert!(!text.contains("openssl dgst"));
    }

    #[test]
    fn unsigned_bag_with_trust_given_fails() {
        let mut files = BTreeMap::new();
        files.insert(TAG_MANIFEST.to_string(), b"x".as_slice());
        let report = check_signatures(&files, &Trust::default());
        assert!(report.problems.is_empty() && !report.is_signed());
        let trust = Trust {
            keys: vec![("k.pem".into(), TrustedKey::P256(vec![1]))],
            ..Trust::default()
        };
        let report = check_signatures(&files, &trust);
        assert!(report.problems[0].contains("not signed"), "{report:?}");
    }
}
