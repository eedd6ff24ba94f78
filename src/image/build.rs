//! One run with `--image`: plan, write the archive when `-o` asks for one,
//! write the layers, configuration and manifest as blobs, and hand them to
//! the transport (a layout directory, an archive, or a registry).

use std::path::{Path, PathBuf};

use super::blob::{self, Blob, Store};
use super::config::{self, Compression, Request, Settings};
use super::error::ImageError;
use super::layers::{self, Layer};
use super::oci::{self, Descriptor, History, Manifest, Platform, RootFs};
use super::reference::Reference;
use super::registry::{self, Pushed};
use super::{docker_archive, layout};
use crate::writer::Written;
use crate::{Error, Options, Planned};

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

/// What a run with `--image` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub planned: Planned,
    /// The archive, when `-o` was given too.
    pub written: Option<Written>,
    pub reference: Reference,
    pub image: Image,
    /// What a push to a registry did.
    pub pushed: Option<Pushed>,
}

/// Plans, writes the archive when `write_tar`, and writes or pushes the image.
pub fn run(opts: &Options, request: &Request, write_tar: bool) -> crate::Result<Outcome> {
    let settings = Settings::new(request)?;
    let planned = crate::plan(opts)?;
    if !planned.missing.is_empty() && !opts.allow_missing {
        return Err(Error::Missing(planned.missing));
    }
    let platform = config::platform(&planned)?;
    let written = match write_tar {
        true => Some(crate::writer::write(
            &planned.plan,
            &opts.output,
            opts.gzip,
        )?),
        false => None,
    };
    let program = program(opts)?;
    let build = |store: &Store| -> crate::Result<Image> {
        build(
            &planned,
            &settings,
            Shape {
                platform: platform.clone(),
                program: program.as_deref(),
                epoch: opts.source_date_epoch.unwrap_or(0),
                level: request.level,
            },
            store,
        )
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
            pushed = Some(registry::push(&image, &store, target, &settings)?);
            image
        }
    };
    Ok(Outcome {
        planned,
        written,
        reference: settings.reference.clone(),
        image,
        pushed,
    })
}

/// A temporary directory beside an output file, for its blobs.
fn staging_beside(file: &Path) -> crate::Result<tempfile::TempDir> {
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

/// The first input's place in the image, the default entrypoint; none when
/// the first input is a directory.
fn program(opts: &Options) -> crate::Result<Option<PathBuf>> {
    let Some(first) = opts.inputs.first() else {
        return Ok(None);
    };
    if std::fs::metadata(first).is_ok_and(|m| m.is_dir()) {
        return Ok(None);
    }
    let dest = crate::plan::archive_dir("--dest", &opts.dest)?;
    Ok(first.file_name().map(|name| dest.join(name)))
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
) -> crate::Result<Image> {
    let mut layers = Vec::new();
    for (part, plan, own) in layers::split(planned, shape.epoch) {
        layers.push(layers::write(
            part,
            &plan,
            own,
            settings.compression,
            shape.level,
            store,
        )?);
    }
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
