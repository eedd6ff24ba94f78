//! The JSON documents of an OCI image: configuration, manifest, index and
//! their descriptors, serialised with fixed field order and sorted maps so the
//! same image always gives the same bytes, and so the same digests.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The annotation that tags a manifest in an image layout's index.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// `sha256:` and the hex digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    hex_digest(Sha256::digest(bytes).as_slice())
}

/// `sha256:` and the lower-case hex of a finished SHA-256.
pub fn hex_digest(sum: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in sum {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The hex part of a `sha256:` digest.
pub fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// Operating system, architecture and variant, as Go and the OCI spec name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub architecture: &'static str,
    pub os: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<&'static str>,
}

/// What a manifest or an index says about another blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: &str, size: u64) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size,
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

/// An image manifest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    pub media_type: &'static str,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The run-time part of an image configuration (Docker's names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `{}`, the value of each exposed port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// The layers' uncompressed digests, in order.
#[derive(Debug, Clone, Serialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub diff_ids: Vec<String>,
}

/// One step of the image's history: one per layer.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub created: String,
    pub created_by: String,
}

/// An image configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub created: String,
    pub architecture: &'static str,
    pub os: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<&'static str>,
    pub config: RunConfig,
    pub rootfs: RootFs,
    pub history: Vec<History>,
}

/// JSON bytes of a document: compact, in field order, maps sorted.
pub fn to_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail.
    serde_json::to_vec(doc).unwrap_or_default()
}

/// RFC 3339 UTC time of `secs` since 1970, as `created` holds it.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rest = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(hex("sha256:ab"), "ab");
    }

    #[test]
    fn documents_use_the_spec_field_names_and_leave_out_what_is_empty() {
        let mut ports = BTreeMap::new();
        ports.insert("6379/tcp".to_string(), Empty {});
        let config = Config {
            created: rfc3339(0),
            architecture: "arm",
            os: "linux",
            variant: Some("v7"),
            config: RunConfig {
                exposed_ports: ports,
                env: vec!["PATH=/bin".into()],
                cmd: Some(vec!["x".into()]),
                ..RunConfig::default()
            },
            rootfs: RootFs {
                kind: "layers",
                diff_ids: vec!["sha256:00".into()],
            },
            history: vec![],
        };
        let text = String::from_utf8(to_bytes(&config)).unwrap();
        assert_eq!(
            text,
            r#"{"created":"1970-01-01T00:00:00Z","architecture":"arm","os":"linux","variant":"v7","config":{"ExposedPorts":{"6379/tcp":{}},"Env":["PATH=/bin"],"Cmd":["x"]},"rootfs":{"type":"layers","diff_ids":["sha256:00"]},"history":[]}"#
        );
        let manifest = Manifest {
            schema_version: 2,
            media_type: MANIFEST,
            config: Descriptor::new(CONFIG, "sha256:01", 2),
            layers: vec![Descriptor::new(LAYER_GZIP, "sha256:02", 3)],
        };
        let text = String::from_utf8(to_bytes(&manifest)).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType""#), "{text}");
    }
}
