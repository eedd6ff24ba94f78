//! Where a file's run-time facts lie: its segments and its dynamic table,
//! read from the program headers only, as the loader sees the file.
//!
//! The imported symbols ([`symbols`](super::symbols)), the `.note.dlopen`
//! notes ([`notes`](super::notes)) and the strings of the read-only data
//! ([`strings`](super::strings)) are all found from here. Every offset and
//! size is checked against the file's length before it is used.

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{Endianness, ReadCache};

use super::header::Header;
use super::window::Window;

/// How many dynamic entries are looked at, at most: real files have a few
/// dozen.
const MAX_DYNAMIC: usize = 1 << 16;

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub align: u64,
}

impl Segment {
    /// The end of its bytes in the file, when they all lie inside it.
    pub fn end_in(&self, len: u64) -> Option<u64> {
        self.offset
            .checked_add(self.filesz)
            .filter(|end| *end <= len)
    }
}

/// The segments and the dynamic table of one file.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub header: Header,
    /// The file's length.
    pub len: u64,
    pub segments: Vec<Segment>,
    /// `(d_tag, d_val)` up to DT_NULL, in file order.
    pub dynamic: Vec<(i64, u64)>,
}

impl Layout {
    /// Reads the program headers and PT_DYNAMIC of the file behind `data`.
    pub fn read(
        data: &ReadCache<Window>,
        len: u64,
        header: Header,
    ) -> std::result::Result<Layout, String> {
        if header.is_64() {
            read::<elf::FileHeader64<Endianness>>(data, len, header)
        } else {
            read::<elf::FileHeader32<Endianness>>(data, len, header)
        }
    }

    /// The value of the first dynamic entry tagged `tag`.
    pub fn tag(&self, tag: i64) -> Option<u64> {
        self.dynamic
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| *v)
    }

    /// The file offset of the address `vaddr`, and how many bytes of its
    /// PT_LOAD segment follow it in the file.
    pub fn offset_of(&self, vaddr: u64) -> Option<(u64, u64)> {
        self.segments
            .iter()
            .filter(|s| s.kind == elf::PT_LOAD.0)
            .find(|s| vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz)
            .and_then(|s| {
                let end = s.end_in(self.len)?;
                let at = s.offset.checked_add(vaddr - s.vaddr)?;
                (at < end).then_some((at, end - at))
            })
    }

    /// Segments of one kind, in file order.
    pub fn of_kind(&self, kind: u32) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(move |s| s.kind == kind)
    }

    /// Reads an unsigned integer of `width` bytes (2, 4 or 8) at `at` of
    /// `bytes`, in the file's byte order.
    pub fn uint(&self, bytes: &[u8], at: usize, width: usize) -> Option<u64> {
        uint(bytes, at, width, self.header.is_big_endian())
    }

    /// The size of an address (and of a class-sized word): 4 or 8.
    pub fn word(&self) -> usize {
        if self.header.is_64() { 8 } else { 4 }
    }
}

/// An unsigned integer of `width` bytes at `at` of `bytes`.
pub(super) fn uint(bytes: &[u8], at: usize, width: usize, big: bool) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(width)?)?;
    let mut value = 0u64;
    for i in 0..width {
        let byte = if big { b[i] } else { b[width - 1 - i] };
        value = (value << 8) | u64::from(byte);
    }
    Some(value)
}

fn read<H: FileHeader<Endian = Endianness>>(
    data: &ReadCache<Window>,
    len: u64,
    header: Header,
) -> std::result::Result<Layout, String> {
    let ehdr = H::parse(data).map_err(|e| e.to_string())?;
    let endian = ehdr.endian().map_err(|e| e.to_string())?;
    let phnum = u64::from(ehdr.e_phnum(endian));
    let phentsize = u64::from(ehdr.e_phentsize(endian));
    let phoff: u64 = ehdr.e_phoff(endian).into();
    if phnum > 0 && phoff.saturating_add(phentsize.saturating_mul(phnum)) > len {
        return Err("program headers lie beyond the end of the file".into());
    }
    let phdrs = ehdr
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?;
    let mut layout = Layout {
        header,
        len,
        segments: Vec::with_capacity(phdrs.len()),
        dynamic: Vec::new(),
    };
    let mut dynamic = None;
    for ph in phdrs {
        let segment = Segment {
            kind: ph.p_type(endian).0,
            flags: ph.p_flags(endian).0,
            offset: ph.p_offset(endian).into(),
            vaddr: ph.p_vaddr(endian).into(),
            filesz: ph.p_filesz(endian).into(),
            align: ph.p_align(endian).into(),
        };
        if segment.kind == elf::PT_DYNAMIC.0 && dynamic.is_none() {
            if segment.end_in(len).is_none() {
                return Err("PT_DYNAMIC lies beyond the end of the file".into());
            }
            dynamic = ph.dynamic(endian, data).map_err(|e| e.to_string())?;
        }
        layout.segments.push(segment);
    }
    for entry in dynamic.unwrap_or_default().iter().take(MAX_DYNAMIC) {
        let tag = entry.tag(endian).0;
        if tag == elf::DT_NULL.0 {
            break;
        }
        layout.dynamic.push((tag, entry.val(endian)));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_both_byte_orders() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(uint(&bytes, 0, 2, false), Some(0x0201));
        assert_eq!(uint(&bytes, 0, 2, true), Some(0x0102));
        assert_eq!(uint(&bytes, 4, 4, false), Some(0x0807_0605));
        assert_eq!(uint(&bytes, 0, 8, true), Some(0x0102_0304_0506_0708));
        assert_eq!(uint(&bytes, 5, 4, false), None, "past the end");
        assert_eq!(uint(&bytes, usize::MAX, 4, false), None, "overflow");
    }
}
