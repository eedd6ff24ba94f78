//! The image of a planned run: the layers, configuration and manifest
//! written as blobs, handed to the transport (a layout directory, an
//! archive, or a registry).

use std::path::Path;

use super::blob::{self, Blob, Store};
use super::config::{self, Compression, Settings};
use super::error::ImageError;
use super::layers::{self, Layer};
use super::oci::{self, Descriptor, History, Manifest, Platform, RootFs};
use super::reference::Reference;
use super::registry::{self, Pushed};
use super::{docker_archive, layout};
use crate::plan::Planned;

/// An image whose blobs are in a store.
#[derive(Debug, Clone)]
pub struct Image {
    pub layers: Vec<Layer>,
    pub config: Blob,
    pub manifest: Blob,
    pub manifest_bytes: Vec<u8>,
    pub platform: Platform,
}

impl Image {
    /// Every blob of the image, layers first, the configuration last.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.layers
            .iter()
            .map(|l| &l.blob)
            .chain(std::iter::once(&self.config))
    }

    /// Compressed bytes of all layers.
    pub fn layer_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.blob.size).sum()
    }
}

/// What writing or pushing an image did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reference: Reference,
    pub image: Image,
    /// What a push to a registry did.
    pub pushed: Option<Pushed>,
}

/// Writes the image of a planned run where `settings` says, or pushes it.
/// `program` is the first input's place in the image (the default
/// entrypoint), `epoch` the image's time, `level` the gzip level.
pub fn write_image(
    planned: &Planned,
    settings: &Settings,
    program: Option<&Path>,
    epoch: u64,
    level: u32,
) -> Result<Outcome, ImageError> {
    let platform = config::platform(planned)?;
    let build = |store: &Store| -> Result<Image, ImageError> {
        let shape = Shape {
            platform: platform.clone(),
            program,
            epoch,
            level,
        };
        build(planned, settings, shape, store)
    };
    let mut pushed = None;
    let image = match &settings.reference {
        Reference::OciDir { dir, tag } => layout::write_dir(dir, tag, build)?,
        Reference::OciArchive { file, tag } => {
            let staging = staging_beside(file)?;
            let image = build(&Store::staging(staging.path()))?;
            layout::write_archive(file, tag, &image, staging.path())?;
            image
        }
        Reference::DockerArchive { file, name } => {
            let staging = staging_beside(file)?;
            let image = build(&Store::staging(staging.path()))?;
            docker_archive::write(
                file,
                name.as_deref(),
                &image,
                settings.compression,
                staging.path(),
            )?;
            image
        }
        Reference::Registry(target) => {
            let staging = tempfile::Builder::new()
                .prefix("extract-elf-so-image-")
                .tempdir()
                .map_err(|e| ImageError::io(std::env::temp_dir(), e))?;
            blob::track(staging.path());
            let store = Store::staging(staging.path());
            let image = build(&store)?;
            pushed = Some(registry::push(&image, &store, target, settings)?);
            image
        }
    };
    Ok(Outcome {
        reference: settings.reference.clone(),
        image,
        pushed,
    })
}

/// A temporary directory beside an output file, for its blobs.
fn staging_beside(file: &Path) -> Result<tempfile::TempDir, ImageError> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".extract-elf-so-")
        .tempdir_in(dir)
        .map_err(|e| ImageError::io(dir, e))?;
    blob::track(staging.path());
    Ok(staging)
}

/// What shapes an image besides the flags.
pub struct Shape<'a> {
    pub platform: Platform,
    pub program: Option<&'a Path>,
    /// Seconds since 1970 for `created` and every layer entry.
    pub epoch: u64,
    /// gzip level.
    pub level: u32,
}

/// Writes the layers, the configuration and the manifest into `store`.
pub fn build(
    planned: &Planned,
    settings: &Settings,
    shape: Shape<'_>,
    store: &Store,
) -> Result<Image, ImageError> {
    let layers = layers::write_all(
        layers::split(planned, shape.epoch),
        settings.compression,
        shape.level,
        store,
    )?;
    let created = oci::rfc3339(shape.epoch);
    let config = oci::Config {
        created: created.clone(),
        architecture: shape.platform.architecture,
        os: shape.platform.os,
        variant: shape.platform.variant,
        config: settings.run_config(shape.program),
        rootfs: RootFs {
            kind: "layers",
            diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
        },
        history: layers
            .iter()
            .map(|l| History {
                created: created.clone(),
                created_by: format!("extract-elf-so: {}", l.part.what()),
            })
            .collect(),
    };
    let config = store.put(&oci::to_bytes(&config))?;
    let media_type = match settings.compression {
        Compression::Gzip => oci::LAYER_GZIP,
        Compression::Zstd => oci::LAYER_ZSTD,
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: oci::MANIFEST,
        config: Descriptor::new(oci::CONFIG, &config.digest, config.size),
        layers: layers
            .iter()
            .map(|l| Descriptor::new(media_type, &l.blob.digest, l.blob.size))
            .collect(),
    };
    let manifest_bytes = oci::to_bytes(&manifest);
    let manifest = store.put(&manifest_bytes)?;
    Ok(Image {
        layers,
        config,
        manifest,
        manifest_bytes,
        platform: shape.platform,
    })
}
