//! Bundles signed with an asymmetric AWS KMS key (ECC_NIST_P256,
//! ECDSA_SHA_256), for teams whose signing keys must never leave the security
//! account: the files such a signature puts in the bag, and checking it offline.
//!
//! The signing call itself is made by `auditpack-aws` (`kms_signer`), through
//! [`RemoteSigner`], so this crate never depends on the AWS SDK. The tag
//! manifest is sent as `MessageType=RAW`: KMS hashes it with SHA-256 and signs,
//! which is exactly what `openssl dgst -sha256 -verify` checks. The bag gets the
//! DER signature, the public key as PEM and the key's ARN; no credentials.

use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

use super::{sha256_hex, KMS_KEY_INFO, KMS_PUBLIC_KEY, KMS_SIGNATURE};
use crate::outputs::bagit::{SignError, TAG_MANIFEST};

/// A trusted-key file (`--pubkey`) that is not a P-256 public key in PEM form.
#[derive(Debug, thiserror::Error)]
#[error("not a P-256 public key in PEM ({0})")]
pub struct PemKeyError(#[source] pub p256::pkcs8::spki::Error);

/// KMS's limit for `MessageType=RAW`.
pub(crate) const RAW_LIMIT: usize = 4096;

/// What `signature/kms-key.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KmsKeyInfo {
    /// The key's ARN (as KMS reported it).
    pub key_arn: String,
    /// Always `ECC_NIST_P256`.
    pub key_spec: String,
    /// Always `ECDSA_SHA_256`.
    pub signing_algorithm: String,
    /// Always `RAW`: KMS hashed the file itself.
    pub message_type: String,
    /// The file signed (`tagmanifest-sha256.txt`).
    pub signed_file: String,
    /// SHA-256 of the public key's DER (SubjectPublicKeyInfo), hex.
    pub public_key_sha256: String,
}

/// A key held by a remote service (AWS KMS) that signs the tag manifest.
/// `auditpack-aws` implements it; the bag's files are written here.
pub trait RemoteSigner: std::fmt::Debug + Send + Sync {
    /// The key's ARN (or id, when the service did not report an ARN).
    fn key_arn(&self) -> &str;
    /// The public key's DER (SubjectPublicKeyInfo), fetched once.
    fn public_key_der(&self) -> &[u8];
    /// An ECDSA_SHA_256 DER signature of `message` (RAW), and the key ARN the
    /// service reported with it, if any. A failure is a
    /// [`SignError::Remote`] naming the key and the call.
    fn sign_raw(&self, message: &[u8]) -> Result<(Vec<u8>, Option<String>), SignError>;
}

/// `sha256:<hex>` of a public key's DER, as `VERIFY.txt` prints it.
pub(crate) fn fingerprint(public_key_der: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(public_key_der))
}

/// Signs `message` with `signer` and returns the signature, the public key PEM
/// and the key record, by path inside the bag.
pub(crate) fn sign_files(
    signer: &dyn RemoteSigner,
    message: &[u8],
) -> Result<Vec<(String, Vec<u8>)>, SignError> {
    if message.len() > RAW_LIMIT {
        return Err(SignError::TooLargeForKms {
            size: message.len(),
            limit: RAW_LIMIT,
        });
    }
    let (signature, reported_arn) = signer.sign_raw(message)?;
    let key_arn = reported_arn
        .filter(|k| k.starts_with("arn:"))
        .unwrap_or_else(|| signer.key_arn().to_string());
    let info = KmsKeyInfo {
        key_arn,
        key_spec: "ECC_NIST_P256".into(),
        signing_algorithm: "ECDSA_SHA_256".into(),
        message_type: "RAW".into(),
        signed_file: TAG_MANIFEST.into(),
        public_key_sha256: sha256_hex(signer.public_key_der()),
    };
    let mut info_json = serde_json::to_vec_pretty(&info).expect("key info serialises");
    info_json.push(b'\n');
    Ok(vec![
        (KMS_SIGNATURE.to_string(), signature),
        (
            KMS_PUBLIC_KEY.to_string(),
            public_key_pem(signer.public_key_der())?.into_bytes(),
        ),
        (KMS_KEY_INFO.to_string(), info_json),
    ])
}

/// DER SubjectPublicKeyInfo → PEM, checking it is a P-256 key.
pub(crate) fn public_key_pem(der: &[u8]) -> Result<String, SignError> {
    p256::PublicKey::from_public_key_der(der)
        .and_then(|k| k.to_public_key_pem(LineEnding::LF))
        .map_err(SignError::KmsPublicKey)
}

/// A P-256 public key from PEM (`-----BEGIN PUBLIC KEY-----`), as DER.
pub(crate) fn public_key_der_from_pem(pem: &str) -> Result<Vec<u8>, PemKeyError> {
    p256::PublicKey::from_public_key_pem(pem.trim())
        .and_then(|k| k.to_public_key_der())
        .map(|d| d.as_bytes().to_vec())
        .map_err(PemKeyError)
}

/// A KMS signature as found in a bag, checked against its own public key.
#[derive(Debug, Clone)]
pub(crate) struct KmsSignature {
    /// From `kms-key.json`.
    pub key_arn: String,
    /// The public key, DER.
    pub public_key_der: Vec<u8>,
    /// `sha256:<hex>` of the DER.
    pub fingerprint: String,
}

/// Checks the bag's KMS signature files against the tag manifest. Each error
/// names the file at fault.
pub(crate) fn check_signature(
    signature: &[u8],
    public_key_pem: Option<&[u8]>,
    key_info: Option<&[u8]>,
    tag_manifest: &[u8],
) -> Result<KmsSignature, Vec<String>> {
    use p256::ecdsa::signature::Verifier;
    let pem = public_key_pem.ok_or_else(|| vec![format!("{KMS_PUBLIC_KEY}: missing")])?;
    let der = public_key_der_from_pem(&String::from_utf8_lossy(pem))
        .map_err(|e| vec![format!("{KMS_PUBLIC_KEY}: {e}")])?;
    let mut problems = Vec::new();
    let verifying = p256::ecdsa::VerifyingKey::from_public_key_der(&der)
        .map_err(|e| vec![format!("{KMS_PUBLIC_KEY}: {e}")])?;
    match p256::ecdsa::Signature::from_der(signature) {
        Err(_) => problems.push(format!(
            "{KMS_SIGNATURE}: not a DER-encoded ECDSA signature"
        )),
        Ok(sig) => {
            if verifying.verify(tag_manifest, &sig).is_err() {
                problems.push(format!(
                    "{KMS_SIGNATURE}: the signature does not match {TAG_MANIFEST} with the key in {KMS_PUBLIC_KEY} (the tag manifest or the signature was changed)"
                ));
            }
        }
    }
    let fingerprint = sha256_hex(&der);
    let info: Option<KmsKeyInfo> = match key_info.map(serde_json::from_slice::<KmsKeyInfo>) {
        None => {
            problems.push(format!("{KMS_KEY_INFO}: missing"));
            None
        }
        Some(Err(e)) => {
            problems.push(format!("{KMS_KEY_INFO}: unreadable ({e})"));
            None
        }
        Some(Ok(info)) => {
            if info.public_key_sha256 != fingerprint {
                problems.push(format!(
                    "{KMS_KEY_INFO}: public_key_sha256 {} is not the key in {KMS_PUBLIC_KEY} ({fingerprint})",
                    info.public_key_sha256
                ));
            }
            if info.signing_algorithm != "ECDSA_SHA_256" || info.message_type != "RAW" {
                problems.push(format!(
                    "{KMS_KEY_INFO}: algorithm {} / message type {} is not ECDSA_SHA_256 / RAW",
                    info.signing_algorithm, info.message_type
                ));
            }
            Some(info)
        }
    };
    if problems.is_empty() {
        Ok(KmsSignature {
            key_arn: info.map(|i| i.key_arn).unwrap_or_default(),
            public_key_der: der,
            fingerprint: format!("sha256:{fingerprint}"),
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn bag_files(message: &[u8]) -> (Vec<u8>, String, Vec<u8>) {
        let signing = key();
        let sig: p256::ecdsa::Signature = signing.sign(message);
        let der = signing
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let info = KmsKeyInfo {
            key_arn: "arn:aws:kms:us-east-1:111111111111:key/test".into(),
            key_spec: "ECC_NIST_P256".into(),
            signing_algorithm: "ECDSA_SHA_256".into(),
            message_type: "RAW".into(),
            signed_file: TAG_MANIFEST.into(),
            public_key_sha256: sha256_hex(&der),
        };
        (
            sig.to_der().as_bytes().to_vec(),
            public_key_pem(&der).unwrap(),
            serde_json::to_vec(&info).unwrap(),
        )
    }

    #[test]
    fn a_kms_style_signature_checks_and_a_changed_manifest_does_not() {
        let manifest = b"abc  bagit.txt\n";
        let (sig, pem, info) = bag_files(manifest);
        let ok = check_signature(&sig, Some(pem.as_bytes()), Some(&info), manifest).unwrap();
        assert_eq!(ok.key_arn, "arn:aws:kms:us-east-1:111111111111:key/test");
        assert!(ok.fingerprint.starts_with("sha256:"));
        let bad = check_signature(&sig, Some(pem.as_bytes()), Some(&info), b"abd  bagit.txt\n")
            .unwrap_err();
        assert!(bad[0].starts_with(KMS_SIGNATURE), "{bad:?}");
        let bad =
            check_signature(&sig[1..], Some(pem.as_bytes()), Some(&info), manifest).unwrap_err();
        assert!(bad[0].contains("not a DER-encoded"), "{bad:?}");
    }

    #[test]
    fn a_manifest_over_the_raw_limit_is_refused_before_calling_kms() {
        #[derive(Debug)]
        struct Unreachable;
        impl RemoteSigner for Unreachable {
            fn key_arn(&self) -> &str {
                "arn:aws:kms:us-east-1:111111111111:key/test"
            }
            fn public_key_der(&self) -> &[u8] {
                &[]
            }
            fn sign_raw(&self, _: &[u8]) -> Result<(Vec<u8>, Option<String>), SignError> {
                unreachable!("KMS is not called for an oversized manifest")
            }
        }
        let err = sign_files(&Unreachable, &[b'x'; RAW_LIMIT + 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tagmanifest-sha256.txt is 4097 bytes, over KMS's 4096-byte limit for RAW signing"
        );
    }

    #[test]
    fn a_pem_that_is_not_a_p256_key_is_named() {
        let err =
            public_key_der_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a P-256 public key in PEM ("),
            "{err}"
        );
    }
}
