//! Pushing to a registry with the OCI distribution API, with no daemon.
//!
//! Every blob is checked (`HEAD`) and uploaded only when the registry lacks
//! it (`POST` an upload, `PUT` the bytes with their digest), all blobs at
//! the same time. The manifest goes last (`PUT` under the tag), once every
//! blob is there, so a push that fails leaves no tag pointing at missing
//! blobs. [`Client`] speaks HTTP and authenticates.

use std::path::PathBuf;

use super::auth;
use super::blob::Store;
use super::build::Image;
use super::client::{Body, Client, header};
use super::config::Settings;
use super::error::ImageError;
use super::oci;
use super::reference::RegistryRef;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// `HOST/REPO@sha256:...`, which pulls exactly this image.
    pub reference: String,
    /// Blobs sent.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub present: usize,
}

/// Pushes every blob the registry lacks, then the manifest under the tag.
pub fn push(
    image: &Image,
    store: &Store,
    target: &RegistryRef,
    settings: &Settings,
) -> Result<Pushed, ImageError> {
    let creds = auth::creds_for(&target.host, settings.creds.as_deref())?;
    let mut client = Client::connect(target, creds, settings.insecure)?;
    // Blobs go at the same time, as skopeo sends them; the manifest waits for all.
    let sent = std::thread::scope(|scope| {
        let jobs: Vec<_> = image
            .blobs()
            .map(|blob| {
                let mut client = client.clone();
                scope.spawn(move || send_blob(&mut client, &blob.digest, store))
            })
            .collect();
        jobs.into_iter()
            .map(|job| {
                job.join().unwrap_or_else(|_| {
                    Err(ImageError::Protocol {
                        registry: target.host.clone(),
                        reason: "an upload thread failed".into(),
                    })
                })
            })
            .collect::<Result<Vec<bool>, ImageError>>()
    })?;
    let uploaded = sent.iter().filter(|&&sent| sent).count();
    let present = sent.len() - uploaded;
    let url = format!("/v2/{}/manifests/{}", target.repo, target.tag);
    let body = Body::Bytes(&image.manifest_bytes);
    let response = client.send("PUT", &url, &body, Some(oci::MANIFEST))?;
    if response.status().as_u16() != 201 {
        return Err(client.refused("PUT", &url, response));
    }
    let answered = header(&response, "docker-content-digest");
    if let Some(digest) = answered.filter(|d| *d != image.manifest.digest) {
        return Err(ImageError::Protocol {
            registry: target.host.clone(),
            reason: format!(
                "stored the manifest as {digest}, but its digest is {}",
                image.manifest.digest
            ),
        });
    }
    Ok(Pushed {
        reference: format!("{}/{}@{}", target.host, target.repo, image.manifest.digest),
        uploaded,
        present,
    })
}

/// Sends one blob unless the registry has it; returns whether it was sent.
fn send_blob(client: &mut Client<'_>, digest: &str, store: &Store) -> Result<bool, ImageError> {
    let url = format!("/v2/{}/blobs/{digest}", client.target.repo);
    let response = client.send("HEAD", &url, &Body::Empty, None)?;
    match response.status().as_u16() {
        200 => Ok(false),
        404 => upload(client, digest, store.path(digest)).map(|()| true),
        _ => Err(client.refused("HEAD", &url, response)),
    }
}

/// Uploads one blob from its file: starts an upload, then puts the bytes with their digest.
fn upload(client: &mut Client<'_>, digest: &str, path: PathBuf) -> Result<(), ImageError> {
    let start = format!("/v2/{}/blobs/uploads/", client.target.repo);
    let response = client.send("POST", &start, &Body::Bytes(&[]), None)?;
    let location = match response.status().as_u16() {
        202 => header(&response, "location").map(str::to_string),
        _ => None,
    };
    let Some(location) = location else {
        return Err(client.refused("POST", &start, response));
    };
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{separator}digest={}", digest.replace(':', "%3A"));
    let response = client.send(
        "PUT",
        &url,
        &Body::File(path),
        Some("application/octet-stream"),
    )?;
    match response.status().as_u16() {
        201 => Ok(()),
        _ => Err(client.refused("PUT", &url, response)),
    }
}
