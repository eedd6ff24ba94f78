//! ELF facts: what the dynamic loader reads from a file, read without running it.
//!
//! Only the ELF header, the program headers, PT_INTERP, PT_DYNAMIC and the
//! dynamic string table are read, through `object`'s `ReadCache`, which reads
//! just the byte ranges asked for, at their offsets (no seeking) and through a
//! small window, so that ranges that lie together (the headers, the dynamic
//! strings) take one read. Everything is located through program headers, as
//! the loader does, so stripped files and files without section headers are
//! handled the same way.
//!
//! `object` is used rather than `goblin`: goblin's `Elf::parse` fails a whole
//! file when one dynamic string is not UTF-8, keeps PT_INTERP padding on some
//! targets, and parses symbol tables eagerly.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::Arc;

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{Endianness, ReadCache, ReadCacheOps, ReadRef};

use crate::error::{Error, Result};

/// Raw values of the ELF constants this crate compares header fields with
/// (`object` wraps them in newtypes).
pub mod consts {
    use object::elf;

    pub const ELFCLASS32: u8 = elf::ELFCLASS32.0;
    pub const ELFCLASS64: u8 = elf::ELFCLASS64.0;
    pub const ELFDATA2LSB: u8 = elf::ELFDATA2LSB.0;
    pub const ELFDATA2MSB: u8 = elf::ELFDATA2MSB.0;
    pub const ELFOSABI_SYSV: u8 = elf::ELFOSABI_SYSV.0;
    pub const ELFOSABI_GNU: u8 = elf::ELFOSABI_GNU.0;
    /// ARM's EABI OS ABI value, which glibc's ARM loader also accepts.
    pub const ELFOSABI_ARM_AEABI: u8 = 64;
    pub const ET_REL: u16 = elf::ET_REL.0;
    pub const ET_EXEC: u16 = elf::ET_EXEC.0;
    pub const ET_DYN: u16 = elf::ET_DYN.0;
    pub const EM_386: u16 = elf::EM_386.0;
    pub const EM_ARM: u16 = elf::EM_ARM.0;
    pub const EM_X86_64: u16 = elf::EM_X86_64.0;
    pub const EM_AARCH64: u16 = elf::EM_AARCH64.0;
    pub const EM_PPC64: u16 = elf::EM_PPC64.0;
    pub const EM_S390: u16 = elf::EM_S390.0;
    pub const EM_RISCV: u16 = elf::EM_RISCV.0;
    pub const EM_MIPS: u16 = elf::EM_MIPS.0;
    pub const EM_LOONGARCH: u16 = elf::EM_LOONGARCH.0;
    pub const EF_ARM_ABI_FLOAT_HARD: u32 = elf::EF_ARM_ABI_FLOAT_HARD;
    pub const EF_ARM_ABI_FLOAT_SOFT: u32 = elf::EF_ARM_ABI_FLOAT_SOFT;
    pub const EF_RISCV_FLOAT_ABI: u32 = 0x0006;
    pub const EF_RISCV_FLOAT_ABI_SOFT: u32 = 0x0000;
    pub const DF_1_NODEFLIB: u64 = elf::DF_1_NODEFLIB.0;
}

use consts::*;

/// Size of the 64-bit ELF header, enough for the identification and the
/// fields the loader checks (`e_type`, `e_machine`, `e_version`, `e_flags`).
const HEADER_PROBE: u64 = 64;

/// The identification and header fields the loader checks on every candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `ELFCLASS32` (1) or `ELFCLASS64` (2).
    pub class: u8,
    /// `ELFDATA2LSB` (1) or `ELFDATA2MSB` (2).
    pub data: u8,
    pub osabi: u8,
    pub abi_version: u8,
    /// `e_type`: `ET_EXEC`, `ET_DYN`, ...
    pub kind: u16,
    pub machine: u16,
    pub flags: u32,
}

/// What the loader needs to know about one ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    pub header: Header,
    /// PT_INTERP, without its terminating NUL.
    pub interp: Option<OsString>,
    /// Whether the file has a PT_DYNAMIC segment.
    pub dynamic: bool,
    /// DT_NEEDED entries in file order.
    pub needed: Vec<OsString>,
    /// DT_RPATH as written (DSTs unexpanded). Ignored by glibc when DT_RUNPATH is present.
    pub rpath: Option<OsString>,
    /// DT_RUNPATH as written.
    pub runpath: Option<OsString>,
    pub soname: Option<OsString>,
    /// DF_1_NODEFLIB: the object's dependencies skip the cache and default dirs.
    pub nodeflib: bool,
}

impl Header {
    /// Whether this is a 64-bit file.
    pub fn is_64(&self) -> bool {
        self.class == ELFCLASS64
    }

    /// Whether this is a big-endian file.
    pub fn is_big_endian(&self) -> bool {
        self.data == ELFDATA2MSB
    }
}

impl ElfFacts {
    /// DT_RPATH as glibc uses it: discarded when the object also has DT_RUNPATH.
    pub fn effective_rpath(&self) -> Option<&OsStr> {
        match self.runpath {
            Some(_) => None,
            None => self.rpath.as_deref(),
        }
    }

    /// A program that needs no loader: no PT_INTERP and nothing in DT_NEEDED.
    pub fn is_static(&self) -> bool {
        self.interp.is_none() && self.needed.is_empty()
    }
}

/// What one reading of an ELF file gave.
#[derive(Debug, Clone)]
pub struct ElfFile {
    pub header: Header,
    /// The facts, or why they cannot be read although the header can.
    pub facts: Result<Arc<ElfFacts>>,
    /// Device and inode of the file read.
    pub id: (u64, u64),
}

/// Reads only the ELF header fields the loader checks on a candidate library.
pub fn read_header(path: &Path) -> Result<Header> {
    let (window, len, _) = open(path)?;
    header_of(&ReadCache::new(window), len, path)
}

/// Reads the ELF facts of the file at `path`.
pub fn read_facts(path: &Path) -> Result<ElfFacts> {
    read(path)?.facts.map(Arc::unwrap_or_clone)
}

/// Reads the header, the facts and the identity of the file at `path`, in
/// one opening. Fails as [`read_header`] does; the facts fail as
/// [`read_facts`] does.
pub fn read(path: &Path) -> Result<ElfFile> {
    let (window, len, id) = open(path)?;
    let cache = ReadCache::new(window);
    let header = header_of(&cache, len, path)?;
    let facts = if header.is_64() {
        parse::<elf::FileHeader64<Endianness>>(&cache, len, header)
    } else {
        parse::<elf::FileHeader32<Endianness>>(&cache, len, header)
    };
    Ok(ElfFile {
        header,
        facts: facts
            .map(Arc::new)
            .map_err(|reason| Error::malformed(path, reason)),
        id,
    })
}

/// How many bytes one read fetches at least: the ELF header, the program
/// headers and PT_INTERP usually lie within the first of them, and the
/// dynamic strings a file needs within one more.
const WINDOW: usize = 4096;

/// An open file read at offsets (no seeking), through a window holding the
/// last bytes read: a small range inside it is served without another read.
struct Window {
    file: File,
    len: u64,
    /// Where the next read starts.
    pos: u64,
    /// The offset of `bytes` in the file.
    start: u64,
    bytes: Vec<u8>,
}

impl Window {
    /// Moves the window to `pos` unless it holds `[pos, pos + n)`; `n` is at
    /// most `WINDOW`.
    fn hold(&mut self, n: usize) -> std::result::Result<(), ()> {
        let end = self.pos.checked_add(n as u64).ok_or(())?;
        let held = self.start + self.bytes.len() as u64;
        if self.pos >= self.start && end <= held {
            return Ok(());
        }
        // A whole window when the file has one; a range past the end fails.
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let mut bytes = vec![0; n.max(WINDOW.min(left))];
        self.bytes.clear();
        self.file
            .read_exact_at(&mut bytes, self.pos)
            .map_err(|_| ())?;
        self.bytes = bytes;
        self.start = self.pos;
        Ok(())
    }
}

impl ReadCacheOps for Window {
    fn len(&mut self) -> std::result::Result<u64, ()> {
        Ok(self.len)
    }

    fn seek(&mut self, pos: u64) -> std::result::Result<u64, ()> {
        self.pos = pos;
        Ok(pos)
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, ()> {
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        self.read_exact(&mut buf[..n])?;
        Ok(n)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> std::result::Result<(), ()> {
        let n = buf.len();
        if n > WINDOW {
            self.file.read_exact_at(buf, self.pos).map_err(|_| ())?;
        } else {
            self.hold(n)?;
            let at = (self.pos - self.start) as usize;
            buf.copy_from_slice(&self.bytes[at..at + n]);
        }
        self.pos += n as u64;
        Ok(())
    }
}

/// Opens a regular file for reading: the window over it, its length and its
/// device and inode.
fn open(path: &Path) -> Result<(Window, u64, (u64, u64))> {
    // Checked before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(Error::Invalid(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    let window = Window {
        file,
        len: meta.len(),
        pos: 0,
        start: 0,
        bytes: Vec::new(),
    };
    Ok((window, meta.len(), (meta.dev(), meta.ino())))
}

fn header_of(cache: &ReadCache<Window>, len: u64, path: &Path) -> Result<Header> {
    let probe = cache
        .read_bytes_at(0, HEADER_PROBE.min(len))
        .map_err(|()| Error::malformed(path, "cannot read the ELF header"))?;
    if probe.len() < 4 || probe[..4] != elf::ELFMAG {
        return Err(Error::NotElf {
            path: path.to_path_buf(),
        });
    }
    let short = || Error::malformed(path, format!("file too short ({len} bytes)"));
    if probe.len() < 16 {
        return Err(short());
    }
    let class = probe[4];
    let data = probe[5];
    let need = match class {
        ELFCLASS32 => 52,
        ELFCLASS64 => 64,
        other => return Err(Error::malformed(path, format!("unknown ELF class {other}"))),
    };
    if probe.len() < need {
        return Err(short());
    }
    let big = match data {
        ELFDATA2LSB => false,
        ELFDATA2MSB => true,
        other => {
            return Err(Error::malformed(
                path,
                format!("unknown ELF data encoding {other}"),
            ));
        }
    };
    let u16_at = |at: usize| {
        let b = [probe[at], probe[at + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32_at = |at: usize| {
        let b = [probe[at], probe[at + 1], probe[at + 2], probe[at + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    // e_flags sits after e_entry, e_phoff and e_shoff, whose width depends on the class.
    let flags_at = if class == ELFCLASS64 { 48 } else { 36 };
    Ok(Header {
        class,
        data,
        osabi: probe[7],
        abi_version: probe[8],
        kind: u16_at(16),
        machine: u16_at(18),
        flags: u32_at(flags_at),
    })
}

/// A PT_LOAD mapping, to turn the dynamic section's addresses into file offsets.
struct Load {
    vaddr: u64,
    offset: u64,
    filesz: u64,
}

fn parse<H: FileHeader<Endian = Endianness>>(
    data: &ReadCache<Window>,
    len: u64,
    header: Header,
) -> std::result::Result<ElfFacts, String> {
    let ehdr = H::parse(data).map_err(|e| e.to_string())?;
    let endian = ehdr.endian().map_err(|e| e.to_string())?;
    let phnum = ehdr.e_phnum(endian);
    let phentsize = u64::from(ehdr.e_phentsize(endian));
    let phoff: u64 = ehdr.e_phoff(endian).into();
    if phnum > 0 && phoff.saturating_add(phentsize.saturating_mul(u64::from(phnum))) > len {
        return Err("program headers lie beyond the end of the file".into());
    }
    let phdrs = ehdr
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?;

    let mut facts = ElfFacts {
        header,
        interp: None,
        dynamic: false,
        needed: Vec::new(),
        rpath: None,
        runpath: None,
        soname: None,
        nodeflib: false,
    };
    let mut loads = Vec::new();
    let mut dynamic = None;
    for ph in phdrs {
        let offset: u64 = ph.p_offset(endian).into();
        let filesz: u64 = ph.p_filesz(endian).into();
        let in_file = offset.checked_add(filesz).is_some_and(|end| end <= len);
        match ph.p_type(endian) {
            elf::PT_INTERP if facts.interp.is_none() => {
                if !in_file {
                    return Err("PT_INTERP lies beyond the end of the file".into());
                }
                let interp = ph
                    .interpreter(endian, data)
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                if interp.is_empty() {
                    return Err("empty PT_INTERP".into());
                }
                facts.interp = Some(OsStr::from_bytes(interp).to_os_string());
            }
            elf::PT_DYNAMIC if dynamic.is_none() => {
                if !in_file {
                    return Err("PT_DYNAMIC lies beyond the end of the file".into());
                }
                dynamic = ph.dynamic(endian, data).map_err(|e| e.to_string())?;
            }
            elf::PT_LOAD => loads.push(Load {
                vaddr: ph.p_vaddr(endian).into(),
                offset,
                filesz,
            }),
            _ => {}
        }
    }
    let Some(dynamic) = dynamic else {
        return Ok(facts);
    };
    facts.dynamic = true;

    let mut strtab = None;
    let mut strsz = None;
    let mut needed = Vec::new();
    let (mut rpath, mut runpath, mut soname) = (None, None, None);
    for entry in dynamic {
        let tag = entry.tag(endian);
        let val = entry.val(endian);
        match tag {
            elf::DT_NULL => break,
            elf::DT_STRTAB => strtab = Some(val),
            elf::DT_STRSZ => strsz = Some(val),
            elf::DT_NEEDED => needed.push(val),
            elf::DT_RPATH => rpath = Some(val),
            elf::DT_RUNPATH => runpath = Some(val),
            elf::DT_SONAME => soname = Some(val),
            elf::DT_FLAGS_1 => facts.nodeflib = val & DF_1_NODEFLIB != 0,
            _ => {}
        }
    }
    if needed.is_empty() && rpath.is_none() && runpath.is_none() && soname.is_none() {
        return Ok(facts);
    }
    let strtab = strtab.ok_or("dynamic section has strings but no DT_STRTAB")?;
    let start = loads
        .iter()
        .find(|l| strtab >= l.vaddr && strtab - l.vaddr < l.filesz)
        .ok_or("DT_STRTAB is not inside a loaded segment")?;
    let start = start
        .offset
        .checked_add(strtab - start.vaddr)
        .filter(|start| *start < len)
        .ok_or("DT_STRTAB lies beyond the end of the file")?;
    let end = match strsz {
        Some(size) => start.saturating_add(size).min(len),
        None => len,
    };
    // Strings are copied out, so their total is bounded by the table's size:
    // entries that all point at one long string cannot multiply memory.
    let mut budget = (end - start).saturating_mul(2).saturating_add(4096);
    let mut string = |offset: u64| -> std::result::Result<OsString, String> {
        let at = start
            .checked_add(offset)
            .filter(|at| *at < end)
            .ok_or_else(|| format!("dynamic string offset {offset} is outside the string table"))?;
        let bytes = c_string(data, at, end)
            .ok_or_else(|| format!("unterminated dynamic string at offset {offset}"))?;
        budget = budget
            .checked_sub(bytes.len() as u64 + 1)
            .ok_or("dynamic strings repeat beyond the size of their table")?;
        Ok(OsStr::from_bytes(bytes).to_os_string())
    };
    facts.needed = needed
        .into_iter()
        .map(&mut string)
        .collect::<std::result::Result<_, _>>()?;
    facts.rpath = rpath.map(&mut string).transpose()?;
    facts.runpath = runpath.map(&mut string).transpose()?;
    facts.soname = soname.map(&mut string).transpose()?;
    Ok(facts)
}

/// The NUL-terminated string at `at`, which must end before `end`. Read in
/// growing chunks: no length limit (glibc has none for DT_RUNPATH), and only
/// the bytes up to the NUL, give or take a chunk, are read.
fn c_string(data: &ReadCache<Window>, at: u64, end: u64) -> Option<&[u8]> {
    let mut chunk = 256u64;
    loop {
        let n = chunk.min(end - at);
        let bytes = data.read_bytes_at(at, n).ok()?;
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            return Some(&bytes[..nul]);
        }
        if n == end - at {
            return None;
        }
        chunk = chunk.saturating_mul(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn reads_a_real_program() {
        let facts = read_facts(Path::new("/bin/sh")).unwrap();
        assert!(facts.interp.is_some(), "{facts:?}");
        assert!(facts.needed.iter().any(|n| n == "libc.so.6"), "{facts:?}");
    }

    #[test]
    fn classifies_bad_input() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not an ELF file"),
            (b"#!/bin/sh\necho hi\n", "not an ELF file"),
            (b"\x7fELF\x02\x01\x01", "file too short"),
            (
                b"\x7fELF\x07\x01\x01\0\0\0\0\0\0\0\0\0",
                "unknown ELF class",
            ),
        ];
        for (bytes, want) in cases {
            let file = temp_with(bytes);
            let err = read_facts(file.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{bytes:?}: {err}");
            assert!(err.contains(&file.path().display().to_string()), "{err}");
        }
    }

    #[test]
    fn the_window_reads_what_the_file_holds() {
        let content: Vec<u8> = (0..3 * WINDOW + 100).map(|i| (i * 7 % 251) as u8).collect();
        let file = temp_with(&content);
        let (mut window, len, _) = open(file.path()).unwrap();
        assert_eq!(len, content.len() as u64);
        // Inside one window, across its end, backwards, larger than a window, up to the end.
        let ranges = [
            (0, 64),
            (64, 700),
            (4000, 200),
            (10, 5),
            (WINDOW * 2 - 1, WINDOW + 2),
            (content.len() - 30, 30),
        ];
        for (at, n) in ranges {
            let mut buf = vec![0; n];
            ReadCacheOps::seek(&mut window, at as u64).unwrap();
            window.read_exact(&mut buf).unwrap();
            assert_eq!(buf, content[at..at + n], "{at}+{n}");
        }
        let mut buf = vec![0; 64];
        ReadCacheOps::seek(&mut window, content.len() as u64 - 10).unwrap();
        assert_eq!(ReadCacheOps::read(&mut window, &mut buf), Ok(10));
        assert_eq!(buf[..10], content[content.len() - 10..]);
        assert_eq!(ReadCacheOps::read(&mut window, &mut buf), Ok(0));
        ReadCacheOps::seek(&mut window, content.len() as u64 - 10).unwrap();
        assert!(window.read_exact(&mut buf).is_err(), "read past the end");
    }

    #[test]
    fn truncated_and_corrupted_copies_of_a_real_file_fail_cleanly() {
        let real = std::fs::read("/bin/sh").unwrap();
        for cut in [20, 52, 63, 64, 100, 500, 4096] {
            let file = temp_with(&real[..cut.min(real.len())]);
            assert!(read_facts(file.path()).is_err(), "cut at {cut}");
        }
        // A program-header offset far past the end of the file.
        let mut bad = real.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        let file = temp_with(&bad);
        let err = read_facts(file.path()).unwrap_err().to_string();
        assert!(err.contains("malformed"), "{err}");
    }
}
