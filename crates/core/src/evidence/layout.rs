//! Where a piece of evidence lives on disk.
//!
//! The path is a locator, not the truth: the envelope inside repeats account,
//! region, service, operation and the original qualifier. File names are kept to
//! `[A-Za-z0-9._-]` so that `sha256sum -c` and BagIt manifests need no escaping;
//! any other byte of a qualifier is written as `~HH`.

use std::fmt;

/// The folder name used instead of a region for global services.
pub const GLOBAL_DIR: &str = "global";

/// A region folder: a region name, or `global`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionDir {
    /// Global services (IAM, Organizations, S3 bucket-level calls).
    Global,
    /// A regional call.
    Region(String),
}

impl RegionDir {
    /// The region name, or `None` for global.
    pub fn region(&self) -> Option<&str> {
        match self {
            RegionDir::Global => None,
            RegionDir::Region(r) => Some(r),
        }
    }

    /// Builds from an envelope's `region` field.
    pub fn from_region(region: Option<&str>) -> Self {
        region.map_or(RegionDir::Global, |r| RegionDir::Region(r.to_string()))
    }
}

impl fmt::Display for RegionDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.region().unwrap_or(GLOBAL_DIR))
    }
}

/// Identifies one evidence document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EvidenceKey {
    /// 12-digit account id.
    pub account_id: String,
    /// Region folder.
    pub region: RegionDir,
    /// Service prefix, e.g. `s3`.
    pub service: String,
    /// Operation, e.g. `GetObjectLockConfiguration`.
    pub operation: String,
    /// Qualifier (bucket name, trail ARN…), if the operation is called once per resource.
    pub qualifier: Option<String>,
}

impl EvidenceKey {
    /// The path relative to the evidence root, always with `/` separators.
    pub fn relative_path(&self) -> String {
        let file = match &self.qualifier {
            Some(q) => format!("{}.{}.json", self.operation, qualifier_to_file_stem(q)),
            None => format!("{}.json", self.operation),
        };
        format!(
            "{}/{}/{}/{}",
            self.account_id, self.region, self.service, file
        )
    }

    /// The folder (relative) that holds every qualified document of this operation.
    pub(crate) fn service_dir(&self) -> String {
        format!("{}/{}/{}", self.account_id, self.region, self.service)
    }
}

/// Encodes a qualifier for use in a file name: `[A-Za-z0-9_-]` and inner dots
/// stay, every other byte becomes `~HH` (uppercase hex).
pub fn qualifier_to_file_stem(qualifier: &str) -> String {
    let mut out = String::with_capacity(qualifier.len());
    for (i, byte) in qualifier.bytes().enumerate() {
        let plain =
            byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || (byte == b'.' && i > 0);
        if plain {
            out.push(byte as char);
        } else {
            out.push_str(&format!("~{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_and_regional_paths() {
        let mut key = EvidenceKey {
            account_id: "111111111111".into(),
            region: RegionDir::Global,
            service: "s3".into(),
            operation: "GetObjectLockConfiguration".into(),
            qualifier: Some("acme-cloudtrail-logs".into()),
        };
        assert_eq!(
            key.relative_path(),
            "111111111111/global/s3/GetObjectLockConfiguration.acme-cloudtrail-logs.json"
        );
        key.region = RegionDir::Region("eu-west-1".into());
        key.qualifier = None;
        assert_eq!(
            key.relative_path(),
            "111111111111/eu-west-1/s3/GetObjectLockConfiguration.json"
        );
    }

    #[test]
    fn qualifiers_never_escape_their_folder() {
        assert_eq!(
            qualifier_to_file_stem("../../etc/passwd"),
            "~2E.~2F..~2Fetc~2Fpasswd"
        );
        assert_eq!(
            qualifier_to_file_stem("arn:aws:cloudtrail:us-east-1:1:trail/org"),
            "arn~3Aaws~3Acloudtrail~3Aus-east-1~3A1~3Atrail~2Forg"
        );
        assert_eq!(qualifier_to_file_stem("a b%"), "a~20b~25");
    }
}
