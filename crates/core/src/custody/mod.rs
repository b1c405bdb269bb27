//! Chain of custody: what lets an auditor trust a bundle on a laptop, offline,
//! with stock tools, and compare it with last quarter's.
//!
//! * [`ssh`] and [`kms`] sign the bag's `tagmanifest-sha256.txt` (which hashes
//!   `manifest-sha256.txt`, which hashes every payload file), so one signature
//!   covers the whole bag. The signature files live in `signature/`, a tag
//!   folder no manifest lists: a signature cannot be part of what it signs.
//! * [`signature`] writes that folder (with `VERIFY.txt`, the auditor's exact
//!   commands) and checks it, against a trusted key set when one is given.
//! * [`coverage`] records which accounts Organizations listed, which were
//!   collected and which failed, as `data/coverage.json`.
//! * [`reevaluate`] re-runs the bag's own controls over the bag's own evidence
//!   and compares the outcome with its `results.json`.
//! * [`check`] is `auditpack verify`: hashes, signatures, coverage, freshness
//!   and (on request) re-evaluation, in one report.
//! * [`diff`] compares two verified bundles.
//!
//! Nothing here ever writes credentials: the SSH private key is read, used and
//! dropped; KMS keys never leave KMS.

pub mod bag_check;
#[cfg(test)]
mod bag_properties;
pub mod check;
pub mod diff;
mod diff_html;
mod diff_text;
pub mod gate_input;
pub mod kms;
pub mod limits;
pub mod locker;
pub mod reevaluate;
pub mod signature;
pub mod ssh;
pub(crate) mod zip_directory;
pub(crate) mod zip_file;

/// The SSHSIG namespace of auditpack's signatures. `ssh-keygen -Y verify -n`
/// needs it, and a signature made for another purpose (git commits use `git`)
/// can never be passed off as a bundle signature.
pub(crate) const NAMESPACE: &str = "auditpack-evidence";
/// The SSHSIG signature of `tagmanifest-sha256.txt` (armored, as `ssh-keygen -Y sign` writes it).
pub(crate) const SSH_SIGNATURE: &str = "signature/tagmanifest-sha256.txt.sig";
/// The signer's OpenSSH public key.
pub(crate) const SSH_PUBLIC_KEY: &str = "signature/signer.pub";
/// An OpenSSH `allowed_signers` file naming the signer, for `ssh-keygen -Y verify -f`.
pub(crate) const ALLOWED_SIGNERS: &str = "signature/allowed_signers";
/// The KMS ECDSA signature (DER), as `openssl dgst -verify` reads it.
pub(crate) const KMS_SIGNATURE: &str = "signature/tagmanifest-sha256.txt.kms.sig";
/// The KMS key's public key, SubjectPublicKeyInfo PEM.
pub(crate) const KMS_PUBLIC_KEY: &str = "signature/kms-public-key.pem";
/// The KMS key's ARN, key spec and algorithm.
pub(crate) const KMS_KEY_INFO: &str = "signature/kms-key.json";
/// The auditor's verification commands.
pub(crate) const VERIFY_TXT: &str = "signature/VERIFY.txt";

/// Every file `signature/` may hold; any other file there is unexpected.
pub(crate) const SIGNATURE_FILES: [&str; 7] = [
    SSH_SIGNATURE,
    SSH_PUBLIC_KEY,
    ALLOWED_SIGNERS,
    KMS_SIGNATURE,
    KMS_PUBLIC_KEY,
    KMS_KEY_INFO,
    VERIFY_TXT,
];

/// The `bag-info.txt` field holding the signing time (covered by the signature,
/// because bag-info is listed in the signed tag manifest).
pub(crate) const SIGNED_AT: &str = "Signed-At";

/// SHA-256 (lowercase hex) with the crate's hasher.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
