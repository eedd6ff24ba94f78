//! What a run with `--image` prints: the summary line, and the layer split
//! for `--report` (text and JSON).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::build::Outcome;
use crate::view::human;

/// The one line printed on success.
pub fn summary(done: &Outcome) -> String {
    let image = &done.image;
    let layers = image.layers.len();
    let layers = format!("{layers} {}", if layers == 1 { "layer" } else { "layers" });
    let size = human(image.layer_bytes());
    let short = short(&image.manifest.digest);
    match &done.pushed {
        Some(p) => format!(
            "extract-elf-so: pushed {}: {layers}, {size} ({} {} uploaded, {} already there), manifest {short}",
            done.reference,
            p.uploaded,
            if p.uploaded == 1 { "blob" } else { "blobs" },
            p.present
        ),
        None => format!(
            "extract-elf-so: wrote {}: {layers}, {size}, manifest {short}",
            done.reference
        ),
    }
}

/// The layer split as a table of at most 80 columns.
pub fn report_text(done: &Outcome) -> String {
    let image = &done.image;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>7} {:>10} {:>10}  digest",
        "layer", "entries", "size", "compressed"
    );
    for layer in &image.layers {
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>10} {:>10}  {}",
            layer.part.name(),
            layer.entries,
            human(layer.content),
            human(layer.blob.size),
            short(&layer.blob.digest)
        );
        let _ = writeln!(out, "  {}", layer.part.what());
    }
    let platform = &image.platform;
    let _ = writeln!(
        out,
        "image {}/{}{}, manifest:\n  {}",
        platform.os,
        platform.architecture,
        platform
            .variant
            .map(|v| format!("/{v}"))
            .unwrap_or_default(),
        image.manifest.digest
    );
    out
}

/// The same as JSON.
pub fn report_json(done: &Outcome) -> Value {
    let image = &done.image;
    json!({
        "reference": done.reference.to_string(),
        "manifest": image.manifest.digest,
        "config": image.config.digest,
        "platform": image.platform,
        "pushed": done.pushed.as_ref().map(|p| &p.reference),
        "layers": image.layers.iter().map(|l| json!({
            "name": l.part.name(),
            "what": l.part.what(),
            "entries": l.entries,
            "size": l.content,
            "tar_size": l.tar_bytes,
            "compressed": l.blob.size,
            "digest": l.blob.digest,
            "diff_id": l.diff_id,
        })).collect::<Vec<_>>(),
    })
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> String {
    digest.chars().take(7 + 12).collect()
}
