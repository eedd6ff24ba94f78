//! How errors and paths read in messages.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A path as messages and views show it: repeated `/`, a trailing `/` and
/// `.` components left out, so `/opt/a////libc.so.6` reads
/// `/opt/a/libc.so.6`. Nothing else changes (`..` stays, no link is
/// followed), so it names the same file.
pub fn tidy(path: &Path) -> PathBuf {
    path.components().collect()
}

/// Shows a path [`tidy`].
pub(super) struct Shown<'a>(pub(super) &'a Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tidy(self.0).display().fmt(f)
    }
}

/// An error and its causes as one line: each joined to the one before by
/// ": ", I/O errors as [`describe_io`] words them.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        if !text.is_empty() {
            text.push_str(": ");
        }
        match err.downcast_ref::<io::Error>() {
            Some(io) => text.push_str(&describe_io(io)),
            None => text.push_str(&err.to_string()),
        }
        next = err.source();
    }
    text
}

/// `io::Error`'s text without the trailing "(os error N)" and lower-cased,
/// so messages read as one sentence.
pub fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}
