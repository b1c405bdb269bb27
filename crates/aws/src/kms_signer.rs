//! Signing the tag manifest with an asymmetric AWS KMS key (ECC_NIST_P256,
//! ECDSA_SHA_256): connects, fetches the public key once, and signs through
//! `auditpack_core::custody::kms::RemoteSigner`, which writes the bag's files.
//!
//! The tag manifest is sent as `MessageType=RAW`: KMS hashes it with SHA-256
//! and signs. (It is a few hundred bytes, far under KMS's 4096-byte RAW limit;
//! `DIGEST` would also be correct on real KMS, but emulators disagree on it.)
//! The caller needs `kms:Sign` and `kms:GetPublicKey` on the key.

use auditpack_core::custody::kms::RemoteSigner;
use auditpack_core::outputs::bagit::{RemoteFailure, SignError};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, MessageType, SigningAlgorithmSpec};
use p256::pkcs8::DecodePublicKey;

/// A KMS key ready to sign, with its public key fetched once.
pub struct KmsSigner {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_kms::Client,
    key_id: String,
    key_arn: String,
    public_key_der: Vec<u8>,
}

impl std::fmt::Debug for KmsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSigner")
            .field("key_arn", &self.key_arn)
            .finish()
    }
}

/// Why KMS cannot sign; the message names the key and the failing call.
#[derive(Debug, thiserror::Error)]
#[error("KMS key {key_id}: {message}")]
pub struct KmsError {
    /// The key as given.
    pub key_id: String,
    /// What failed.
    pub message: String,
}

impl KmsSigner {
    /// Connects with the SDK's default credential chain (or `profile`, and
    /// `AWS_ENDPOINT_URL`), in the key ARN's region when an ARN is given, and
    /// fetches the public key, refusing keys that are not ECC_NIST_P256 signing keys.
    pub fn connect(key_id: &str, profile: Option<&str>) -> Result<KmsSigner, KmsError> {
        let fail = |message: String| KmsError {
            key_id: key_id.to_string(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the async runtime: {e}")))?;
        let region = key_id
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').nth(2))
            .filter(|r| !r.is_empty())
            .map(|r| Region::new(r.to_string()));
        let client = runtime.block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(profile) = profile {
                loader = loader.profile_name(profile);
            }
            if let Some(region) = region {
                loader = loader.region(region);
            }
            aws_sdk_kms::Client::new(&loader.load().await)
        });
        let answer = runtime
            .block_on(client.get_public_key().key_id(key_id).send())
            .map_err(|e| fail(format!("kms:GetPublicKey failed: {}", describe(&e))))?;
        // The key spec field is not always filled in (emulators report only the
        // deprecated CustomerMasterKeySpec); the algorithms and the public key
        // itself (parsed as P-256 below) are what matter.
        let spec_ok = answer.key_spec().is_none_or(|s| s == &KeySpec::EccNistP256)
            && answer
                .signing_algorithms()
                .contains(&SigningAlgorithmSpec::EcdsaSha256);
        if !spec_ok {
            return Err(fail(format!(
                "key spec {:?} with algorithms {:?}; auditpack signs with ECC_NIST_P256 (ECDSA_SHA_256) keys",
                answer.key_spec(),
                answer.signing_algorithms()
            )));
        }
        let der = answer
            .public_key()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| fail("kms:GetPublicKey returned no public key".into()))?;
        p256::PublicKey::from_public_key_der(&der)
            .map_err(|e| fail(format!("the public key is not a P-256 key ({e})")))?;
        let key_arn = answer
            .key_id()
            .filter(|k| k.starts_with("arn:"))
            .unwrap_or(key_id)
            .to_string();
        Ok(KmsSigner {
            runtime,
            client,
            key_id: key_id.to_string(),
            key_arn,
            public_key_der: der,
        })
    }
}

impl RemoteSigner for KmsSigner {
    fn key_arn(&self) -> &str {
        &self.key_arn
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    fn sign_raw(&self, message: &[u8]) -> Result<(Vec<u8>, Option<String>), SignError> {
        let answer = self
            .runtime
            .block_on(
                self.client
                    .sign()
                    .key_id(&self.key_id)
                    .message(Blob::new(message))
                    .message_type(MessageType::Raw)
                    .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                    .send(),
            )
            .map_err(|e| {
                self.sign_error(RemoteFailure::Failed {
                    detail: describe(&e),
                })
            })?;
        let signature = answer
            .signature()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| self.sign_error(RemoteFailure::NoSignature))?;
        Ok((signature, answer.key_id().map(String::from)))
    }
}

impl KmsSigner {
    /// A `kms:Sign` failure, naming the key as the user gave it.
    fn sign_error(&self, failure: RemoteFailure) -> SignError {
        SignError::Remote {
            key_id: self.key_id.clone(),
            operation: "kms:Sign",
            failure,
        }
    }
}

/// The SDK error's code and message, never its request (which may carry headers).
fn describe<E, R>(error: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("no message")
        ),
        None => aws_smithy_types::error::display::DisplayErrorContext(error).to_string(),
    }
}
