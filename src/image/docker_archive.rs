//! `docker-archive:FILE[:NAME:TAG]`: what `docker save` writes and
//! `docker load` and `podman load` read. `manifest.json` lists the
//! configuration and the layers; layers are stored compressed, as both
//! loaders accept, and the configuration's diff IDs name their contents.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::build::Image;
use super::config::Compression;
use super::error::ImageError;
use super::layout::write_tar;
use super::oci::{self, hex};
use crate::fsroot::Node;

/// One image of `manifest.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// Writes the image, named `name` (`NAME:TAG`) when given, as a docker archive.
pub fn write(
    file: &Path,
    name: Option<&str>,
    image: &Image,
    compression: Compression,
    staging: &Path,
) -> Result<(), ImageError> {
    let suffix = match compression {
        Compression::Gzip => "tar.gz",
        Compression::Zstd => "tar.zst",
    };
    let config = format!("{}.json", hex(&image.config.digest));
    let layers: Vec<String> = image
        .layers
        .iter()
        .map(|l| format!("{}.{suffix}", hex(&l.blob.digest)))
        .collect();
    let mut files: BTreeMap<PathBuf, Node> = BTreeMap::new();
    let source = |digest: &str| staging.join(hex(digest));
    files.insert(
        config.clone().into(),
        Node::File {
            source: source(&image.config.digest),
            size: image.config.size,
        },
    );
    for (layer, path) in image.layers.iter().zip(&layers) {
        files.insert(
            path.into(),
            Node::File {
                source: source(&layer.blob.digest),
                size: layer.blob.size,
            },
        );
    }
    let manifest = [Entry {
        config,
        repo_tags: name.map(str::to_string).into_iter().collect(),
        layers,
    }];
    files.insert(
        "manifest.json".into(),
        Node::Generated {
            content: oci::to_bytes(&manifest),
        },
    );
    write_tar(file, files)
}
