//! Reading the evidence locker back for `auditpack period --bundles
//! s3://BUCKET/PREFIX`: the bundle keys are listed once (ListObjectsV2), and
//! each bundle is downloaded into a temporary file only when it is read, so
//! one bundle at a time is on disk and none is held in memory. Read-only:
//! `s3:ListBucket` and `s3:GetObject` on the locker (docs/period.md).

use std::io::Write;

use auditpack_core::custody::locker::LockerTarget;
use auditpack_core::period::intake::{BundleSource, Fetched};

use crate::locker::{describe, s3_client};

/// The locker as a source of bundles.
pub struct LockerSource {
    target: LockerTarget,
    keys: Vec<String>,
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
}

impl LockerSource {
    /// Lists every `*.zip` key under the prefix; the error names the call.
    pub fn open(
        target: LockerTarget,
        profile: Option<&str>,
        path_style: bool,
    ) -> Result<LockerSource, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let client = runtime.block_on(s3_client(profile, path_style));
        let prefix = if target.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", target.prefix)
        };
        let keys = runtime.block_on(async {
            let mut keys = Vec::new();
            let mut pages = client
                .list_objects_v2()
                .bucket(&target.bucket)
                .prefix(&prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    format!(
                        "s3:ListObjectsV2 on s3://{}/{prefix} failed: {}",
                        target.bucket,
                        describe(&e)
                    )
                })?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key())
                        .filter(|k| k.ends_with(".zip"))
                        .map(String::from),
                );
            }
            keys.sort();
            Ok::<_, String>(keys)
        })?;
        Ok(LockerSource {
            target,
            keys,
            client,
            runtime,
        })
    }
}

impl BundleSource for LockerSource {
    fn labels(&self) -> Vec<String> {
        self.keys.clone()
    }

    /// The locker's layout is `PREFIX/<organization>/<yyyy>/<mm>/<dd>/<file>`.
    fn organization_hint(&self, label: &str) -> Option<String> {
        auditpack_core::custody::locker::organization_in_layout(label).map(String::from)
    }

    fn fetch(&self, label: &str) -> Result<Fetched, String> {
        let location = format!("s3://{}/{label}", self.target.bucket);
        let mut file = tempfile::Builder::new()
            .prefix("auditpack-locker-")
            .suffix(".zip")
            .tempfile()
            .map_err(|e| format!("{location}: cannot create a temporary file: {e}"))?;
        self.runtime.block_on(async {
            let answer = self
                .client
                .get_object()
                .bucket(&self.target.bucket)
                .key(label)
                .send()
                .await
                .map_err(|e| format!("{location}: s3:GetObject failed: {}", describe(&e)))?;
            let mut body = answer.body;
            while let Some(chunk) = body
                .try_next()
                .await
                .map_err(|e| format!("{location}: download interrupted: {e}"))?
            {
                file.write_all(&chunk)
                    .map_err(|e| format!("{location}: writing the temporary copy: {e}"))?;
            }
            Ok::<_, String>(())
        })?;
        let path = file.into_temp_path();
        Ok(Fetched {
            label: label.to_string(),
            locker_key: Some(label.to_string()),
            path: path.to_path_buf(),
            _temporary: Some(path),
        })
    }
}
