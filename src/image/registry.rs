//! Pushing to a registry with the OCI distribution API, with no daemon.
//!
//! Every blob is checked (`HEAD`) and uploaded only when the registry lacks
//! it (`POST` an upload, `PUT` the bytes with their digest); the manifest
//! goes last (`PUT` under the tag), so a push that fails leaves no tag
//! pointing at missing blobs. [`Client`] speaks HTTP and authenticates.

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
    let (mut uploaded, mut present) = (0, 0);
    for blob in image.blobs() {
        let url = format!("/v2/{}/blobs/{}", target.repo, blob.digest);
        let response = client.send("HEAD", &url, &Body::Empty, None)?;
        match response.status().as_u16() {
            200 => present += 1,
            404 => {
                upload(&mut client, &blob.digest, store.path(&blob.digest))?;
                uploaded += 1;
            }
            _ => return Err(client.refused("HEAD", &url, response)),
        }
    }
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
