//! `.note.dlopen` notes: the libraries an object says it loads with `dlopen`.
//!
//! The format is the freedesktop "ELF dlopen metadata" one (systemd's
//! `docs/ELF_DLOPEN_METADATA.md`): a note of owner `FDO` and type
//! `0x407c0c0a` whose descriptor is a NUL-terminated UTF-8 JSON array of
//! objects, each with `soname` (alternatives, most preferred first),
//! `feature`, `description` and `priority` (`required`, `recommended`, the
//! default, or `suggested`).
//!
//! GNU ld does not give the notes a segment of their own: it merges
//! `.note.dlopen` into the PT_NOTE that holds the build ID and ABI tag. So
//! every note of every PT_NOTE is walked, the descriptor and the next note
//! starting at the segment's alignment (8 for an 8-aligned segment, else 4,
//! counted from the note's start as binutils' `ELF_NOTE_DESC_OFFSET` does).
//! A note that cannot be read is reported with why, never fatal.

use object::elf;
use object::{ReadCache, ReadRef};

use super::layout::Layout;
use super::window::Window;

/// The note type of a dlopen note.
pub const NT_FDO_DLOPEN: u32 = 0x407c_0c0a;
/// Bytes of one PT_NOTE read, at most: real ones hold a few hundred.
const MAX_NOTE_SEGMENT: u64 = 1 << 20;

/// How much an object wants a library it names in a dlopen note; the
/// order is from most to least wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Required,
    Recommended,
    Suggested,
}

impl Priority {
    /// The word the note uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Required => "required",
            Priority::Recommended => "recommended",
            Priority::Suggested => "suggested",
        }
    }
}

/// One library a dlopen note names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlopenEntry {
    /// Alternatives, most preferred first: the first one found is loaded.
    pub sonames: Vec<String>,
    pub feature: Option<String>,
    pub description: Option<String>,
    pub priority: Priority,
}

/// An entry of a dlopen note, or why a note or an entry cannot be read.
pub type NoteEntry = Result<DlopenEntry, String>;

/// Every entry of every dlopen note of the file, in file order.
pub(super) fn dlopen_notes(data: &ReadCache<Window>, layout: &Layout) -> Vec<NoteEntry> {
    let mut out = Vec::new();
    for segment in layout.of_kind(elf::PT_NOTE.0) {
        if segment.end_in(layout.len).is_none() {
            continue; // Not in the file: the loader never maps it either.
        }
        if segment.filesz > MAX_NOTE_SEGMENT {
            out.push(Err(format!(
                "a note segment of {} bytes is too large to read",
                segment.filesz
            )));
            continue;
        }
        let Ok(bytes) = data.read_bytes_at(segment.offset, segment.filesz) else {
            continue;
        };
        let align = if segment.align == 8 { 8 } else { 4 };
        walk(bytes, align, layout.header.is_big_endian(), &mut out);
    }
    out
}

/// Walks the notes of one segment's `bytes`.
fn walk(bytes: &[u8], align: usize, big: bool, out: &mut Vec<NoteEntry>) {
    let pad = |n: usize| n.checked_add(align - 1).map(|n| n & !(align - 1));
    let mut at = 0usize;
    while at + 12 <= bytes.len() {
        let word = |i: usize| super::layout::uint(bytes, at + 4 * i, 4, big).unwrap_or(0) as usize;
        let (namesz, descsz, kind) = (word(0), word(1), word(2) as u32);
        let name_at = at + 12;
        // Offsets from the note's start are padded, the 12-byte header
        // included (binutils' ELF_NOTE_DESC_OFFSET, ELF_NOTE_NEXT_OFFSET).
        let desc_at = namesz
            .checked_add(12)
            .and_then(pad)
            .and_then(|d| d.checked_add(at));
        let next = desc_at.and_then(|d| {
            let end = (d - at).checked_add(descsz)?;
            pad(end)?.checked_add(at)
        });
        let (Some(desc_at), Some(next)) = (desc_at, next) else {
            if kind == NT_FDO_DLOPEN {
                out.push(Err("a note overruns its segment".into()));
            }
            return;
        };
        if desc_at.saturating_add(descsz) > bytes.len() || name_at + namesz > bytes.len() {
            if kind == NT_FDO_DLOPEN {
                out.push(Err("a note overruns its segment".into()));
            }
            return;
        }
        if kind == NT_FDO_DLOPEN && &bytes[name_at..name_at + namesz] == b"FDO\0" {
            out.extend(descriptor(&bytes[desc_at..desc_at + descsz]));
        }
        if next <= at {
            return;
        }
        at = next;
    }
}

/// The entries of one descriptor: NUL-terminated JSON, an array of objects.
pub fn descriptor(desc: &[u8]) -> Vec<NoteEntry> {
    let Some(nul) = desc.iter().position(|&b| b == 0) else {
        return vec![Err("the note's text is not NUL-terminated".into())];
    };
    let Ok(text) = std::str::from_utf8(&desc[..nul]) else {
        return vec![Err("the note's text is not UTF-8".into())];
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return vec![Err(format!("the note is not JSON: {e}"))],
    };
    let Some(items) = value.as_array() else {
        return vec![Err("the note is not a JSON array".into())];
    };
    items.iter().map(entry).collect()
}

/// One object of a note's array.
fn entry(item: &serde_json::Value) -> NoteEntry {
    let item = item
        .as_object()
        .ok_or("an entry of the note is not a JSON object")?;
    let sonames = item
        .get("soname")
        .and_then(|s| s.as_array())
        .filter(|s| !s.is_empty())
        .ok_or("an entry of the note has no soname list")?
        .iter()
        .map(|s| {
            s.as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("an entry of the note has a soname that is not a name: {s}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match item.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| format!("the {key} of a note entry is not a string")),
        }
    };
    let priority = match text("priority")?.as_deref() {
        None | Some("recommended") => Priority::Recommended,
        Some("required") => Priority::Required,
        Some("suggested") => Priority::Suggested,
        Some(other) => return Err(format!("unknown priority {other:?} in a note entry")),
    };
    Ok(DlopenEntry {
        sonames,
        feature: text("feature")?,
        description: text("description")?,
        priority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note as GNU ld lays it out: header, name and descriptor, padded.
    fn note(name: &[u8], kind: u32, desc: &[u8], align: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((name.len() as u32).to_le_bytes());
        out.extend((desc.len() as u32).to_le_bytes());
        out.extend(kind.to_le_bytes());
        for part in [name, desc] {
            out.extend(part);
            while out.len() % align != 0 {
                out.push(0);
            }
        }
        out
    }

    fn entries(bytes: &[u8], align: usize) -> Vec<NoteEntry> {
        let mut out = Vec::new();
        walk(bytes, align, false, &mut out);
        out
    }

    #[test]
    fn dlopen_notes_among_other_notes() {
        let json = br#"[{"soname":["libplug.so.1"],"feature":"plug","priority":"required"},{"soname":["liblz4.so.1","liblz4.so.0"]}]"#;
        for align in [4, 8] {
            let mut desc = json.to_vec();
            desc.push(0);
            let mut bytes = note(b"GNU\0", 3, &[7; 20], align);
            bytes.extend(note(b"FDO\0", NT_FDO_DLOPEN, &desc, align));
            bytes.extend(note(b"GNU\0", 1, &[0; 16], align));
            // Another owner with the same type is not ours.
            bytes.extend(note(b"XYZ\0", NT_FDO_DLOPEN, &desc, align));
            let got = entries(&bytes, align);
            assert_eq!(got.len(), 2, "align {align}: {got:?}");
            let first = got[0].as_ref().unwrap();
            assert_eq!(first.sonames, ["libplug.so.1"]);
            assert_eq!(first.feature.as_deref(), Some("plug"));
            assert_eq!(first.priority, Priority::Required);
            let second = got[1].as_ref().unwrap();
            assert_eq!(second.sonames, ["liblz4.so.1", "liblz4.so.0"]);
            assert_eq!(second.priority, Priority::Recommended, "the default");
        }
    }

    #[test]
    fn malformed_descriptors_are_reported_with_why() {
        let cases: &[(&[u8], &str)] = &[
            (b"[]", "not NUL-terminated"),
            (b"\xff[]\0", "not UTF-8"),
            (b"[{\0", "not JSON"),
            (b"{\"soname\":\"libx.so.1\"}\0", "not a JSON array"),
            (b"[1]\0", "not a JSON object"),
            (b"[{\"soname\":[]}]\0", "no soname list"),
            (b"[{\"soname\":[3]}]\0", "not a name"),
            (
                b"[{\"soname\":[\"a\"],\"priority\":\"maybe\"}]\0",
                "unknown priority",
            ),
            (b"[{\"soname\":[\"a\"],\"feature\":7}]\0", "feature"),
        ];
        for (desc, want) in cases {
            let got = descriptor(desc);
            assert_eq!(got.len(), 1, "{desc:?}");
            let err = got[0].as_ref().unwrap_err();
            assert!(err.contains(want), "{desc:?}: {err}");
        }
        // A bad entry does not hide a good one beside it.
        let got = descriptor(b"[{\"soname\":[\"liba.so\"]},{\"x\":1}]\0");
        assert!(got[0].is_ok() && got[1].is_err(), "{got:?}");
    }

    #[test]
    fn a_note_that_overruns_its_segment_ends_the_walk() {
        let mut bytes = note(b"FDO\0", NT_FDO_DLOPEN, b"[]\0", 4);
        bytes[4..8].copy_from_slice(&1000u32.to_le_bytes());
        let got = entries(&bytes, 4);
        assert_eq!(got, [Err("a note overruns its segment".to_string())]);
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(entries(&bytes, 4).len(), 1);
        bytes[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(entries(&bytes, 8).len(), 1);
        // Other notes that overrun are not ours to report.
        let mut other = note(b"GNU\0", 3, &[1; 8], 4);
        other[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(entries(&other, 4).is_empty());
    }
}
