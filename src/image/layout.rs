//! OCI image layouts: a directory (`oci:DIR[:TAG]`) or the same as one tar
//! file (`oci-archive:FILE[:TAG]`).
//!
//! A directory gets its blobs first, each renamed into `blobs/sha256/` when
//! complete, and its `index.json` last, replaced in one rename: a failed run
//! leaves the layout's tags as they were, and a new layout not there at all.
//! A tag added to an existing layout replaces only the entry that had the
//! same tag; everything else the index holds is kept.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::blob::Store;
use super::build::Image;
use super::error::ImageError;
use super::oci::{self, hex};
use crate::fsroot::{ArchivePath, Node};
use crate::plan::{Entry, Plan, Planned, Role};
use crate::write::Output;

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Writes the image into the layout directory `dir` (made when missing) and tags it.
pub fn write_dir(
    dir: &Path,
    tag: &str,
    build: impl FnOnce(&Store) -> Result<Image, ImageError>,
) -> Result<Image, ImageError> {
    let index_path = dir.join("index.json");
    let layout_file = dir.join("oci-layout");
    let existing = match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(ImageError::io(dir, e)),
    };
    if existing && !layout_file.is_file() {
        return Err(ImageError::Unusable {
            path: dir.to_path_buf(),
            reason: "not an OCI image layout (no oci-layout file); give a new or empty directory"
                .into(),
        });
    }
    let index = match existing {
        true => read_index(&index_path)?,
        false => json!({"schemaVersion": 2, "mediaType": oci::INDEX, "manifests": []}),
    };
    let made_dir = !dir.exists();
    let blobs = dir.join("blobs/sha256");
    let written = fs::create_dir_all(&blobs)
        .map_err(|e| ImageError::io(&blobs, e))
        .and_then(|()| build(&Store::new(&blobs, dir)))
        .and_then(|image| {
            if !layout_file.is_file() {
                replace(&layout_file, OCI_LAYOUT)?;
            }
            replace(&index_path, &oci::to_bytes(&tagged(index, &image, tag)))?;
            Ok(image)
        });
    if written.is_err() && !existing {
        // A new layout that failed leaves nothing: what this run made goes.
        let _ = match made_dir {
            true => fs::remove_dir_all(dir),
            false => {
                fs::remove_dir_all(dir.join("blobs")).and_then(|()| remove_if_there(&layout_file))
            }
        };
    }
    written
}

fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes the image as an OCI layout in one tar file; its blobs are in `staging`.
pub fn write_archive(
    file: &Path,
    tag: &str,
    image: &Image,
    staging: &Path,
) -> Result<(), ImageError> {
    let index = tagged(
        json!({"schemaVersion": 2, "mediaType": oci::INDEX, "manifests": []}),
        image,
        tag,
    );
    let mut files: BTreeMap<PathBuf, Node> = BTreeMap::new();
    files.insert("blobs".into(), Node::Dir);
    files.insert("blobs/sha256".into(), Node::Dir);
    for blob in image.blobs().chain(std::iter::once(&image.manifest)) {
        files.insert(
            Path::new("blobs/sha256").join(hex(&blob.digest)),
            Node::File {
                source: staging.join(hex(&blob.digest)),
                size: blob.size,
            },
        );
    }
    files.insert(
        "index.json".into(),
        Node::Generated {
            content: oci::to_bytes(&index),
        },
    );
    files.insert(
        "oci-layout".into(),
        Node::Generated {
            content: OCI_LAYOUT.to_vec(),
        },
    );
    write_tar(file, files)
}

/// Writes `files` (archive paths, sorted) as a tar file with the archive
/// writer: written beside `file` and renamed into place when complete.
pub fn write_tar(file: &Path, files: BTreeMap<PathBuf, Node>) -> Result<(), ImageError> {
    let mut entries = Vec::new();
    for (path, node) in files {
        entries.push(Entry {
            mode: if node == Node::Dir { 0o755 } else { 0o644 },
            path: ArchivePath::parse(&path)?,
            node,
            mtime: 0,
            role: Role::Extra,
        });
    }
    let planned = Planned::of_plan(Plan { entries });
    crate::write::write(&planned, &Output::File(file.to_path_buf()), None)?;
    Ok(())
}

/// The index with the image's manifest under `tag`, replacing an entry
/// with the same tag and keeping every other.
fn tagged(mut index: Value, image: &Image, tag: &str) -> Value {
    let mut descriptor =
        oci::Descriptor::new(oci::MANIFEST, &image.manifest.digest, image.manifest.size);
    descriptor
        .annotations
        .insert(oci::REF_NAME.to_string(), tag.to_string());
    let descriptor = serde_json::to_value(descriptor).unwrap_or(Value::Null);
    if let Some(manifests) = index.get_mut("manifests").and_then(Value::as_array_mut) {
        manifests.retain(|m| m["annotations"][oci::REF_NAME].as_str() != Some(tag));
        manifests.push(descriptor);
    }
    index
}

/// An existing layout's index, which must have a list of manifests.
fn read_index(path: &Path) -> Result<Value, ImageError> {
    let bytes = fs::read(path).map_err(|e| ImageError::io(path, e))?;
    let unusable = |reason: String| ImageError::Unusable {
        path: path.to_path_buf(),
        reason,
    };
    let index: Value = serde_json::from_slice(&bytes)
        .map_err(|e| unusable(format!("not a JSON image index: {e}")))?;
    if !index["manifests"].is_array() {
        return Err(unusable("an image index without a manifests list".into()));
    }
    Ok(index)
}

/// Replaces `path` with `bytes` in one rename, synced first.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |e| ImageError::io(path, e);
    let mut temp = tempfile::Builder::new()
        .prefix(".index-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(bytes).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o644)).map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::blob::Blob;
    use super::super::oci::Platform;
    use super::*;

    fn image(digest: &str) -> Image {
        Image {
            layers: Vec::new(),
            config: Blob {
                digest: "sha256:c".into(),
                size: 1,
            },
            manifest: Blob {
                digest: digest.into(),
                size: 2,
            },
            manifest_bytes: Vec::new(),
            platform: Platform {
                architecture: "amd64",
                os: "linux",
                variant: None,
            },
        }
    }

    #[test]
    fn a_tag_replaces_only_its_own_entry() {
        let index = json!({
            "schemaVersion": 2,
            "manifests": [
                {"digest": "sha256:old", "annotations": {oci::REF_NAME: "v1"}},
                {"digest": "sha256:other", "annotations": {oci::REF_NAME: "v2"}},
                {"digest": "sha256:untagged"}
            ],
            "annotations": {"kept": "yes"}
        });
        let index = tagged(index, &image("sha256:new"), "v1");
        let digests: Vec<&str> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap())
            .collect();
        assert_eq!(digests, ["sha256:other", "sha256:untagged", "sha256:new"]);
        assert_eq!(index["annotations"]["kept"], "yes");
        assert_eq!(index["manifests"][2]["annotations"][oci::REF_NAME], "v1");
        assert_eq!(index["manifests"][2]["mediaType"], oci::MANIFEST);
    }

    #[test]
    fn a_directory_that_is_not_a_layout_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("file"), b"x").unwrap();
        let err = write_dir(tmp.path(), "t", |_| unreachable!()).unwrap_err();
        assert!(err.to_string().contains("not an OCI image layout"), "{err}");
        fs::write(tmp.path().join("oci-layout"), OCI_LAYOUT).unwrap();
        fs::write(tmp.path().join("index.json"), b"[]").unwrap();
        let err = write_dir(tmp.path(), "t", |_| unreachable!()).unwrap_err();
        assert!(
            err.to_string().contains("without a manifests list"),
            "{err}"
        );
    }
}
