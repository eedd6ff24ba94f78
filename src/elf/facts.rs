//! The facts of one ELF file: what the dynamic loader reads from it.
//!
//! Only the ELF header, the program headers, PT_INTERP, PT_DYNAMIC, the
//! dynamic string table and the symbol version tables are read, through `object`'s `ReadCache`, which reads
//! just the byte ranges asked for. Everything is located through program
//! headers, as the loader does, so stripped files and files without section
//! headers are handled the same way.
//!
//! `object` is used rather than `goblin`: goblin's `Elf::parse` fails a whole
//! file when one dynamic string is not UTF-8, keeps PT_INTERP padding on some
//! targets, and parses symbol tables eagerly.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{Endianness, ReadCache, ReadRef};

use super::consts::DF_1_NODEFLIB;
use super::header::Header;
use super::versions::{self, Versions};
use super::window::Window;

/// What the loader needs to know about one ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    pub header: Header,
    /// PT_INTERP, without its terminating NUL.
    pub interp: Option<OsString>,
    /// DT_NEEDED entries in file order.
    pub needed: Vec<OsString>,
    /// DT_RPATH as written (DSTs unexpanded). Ignored by glibc when DT_RUNPATH is present.
    pub rpath: Option<OsString>,
    /// DT_RUNPATH as written.
    pub runpath: Option<OsString>,
    pub soname: Option<OsString>,
    /// DF_1_NODEFLIB: the object's dependencies skip the cache and default dirs.
    pub nodeflib: bool,
    /// Whether it has a PT_LOAD segment, something to map.
    pub has_load: bool,
    /// DT_VERNEED and DT_VERDEF ([`versions`]).
    pub versions: Versions,
}

impl ElfFacts {
    /// The facts of a file with `header` and nothing else: no PT_INTERP, no
    /// PT_LOAD, no dynamic section.
    pub(super) fn bare(header: Header) -> ElfFacts {
        ElfFacts {
            header,
            interp: None,
            needed: Vec::new(),
            rpath: None,
            runpath: None,
            soname: None,
            nodeflib: false,
            has_load: false,
            versions: Versions::default(),
        }
    }

    /// DT_RPATH as glibc uses it: discarded when the object also has DT_RUNPATH.
    pub fn effective_rpath(&self) -> Option<&OsStr> {
        match self.runpath {
            Some(_) => None,
            None => self.rpath.as_deref(),
        }
    }
}

/// A PT_LOAD mapping, to turn the dynamic section's addresses into file offsets.
pub(super) struct Load {
    pub(super) vaddr: u64,
    pub(super) offset: u64,
    pub(super) filesz: u64,
}

/// Reads the facts of the file behind `data`, `len` bytes long, whose
/// header is `header`; on failure, why (the caller adds the path).
pub(super) fn read(
    data: &ReadCache<Window>,
    len: u64,
    header: Header,
) -> std::result::Result<ElfFacts, String> {
    if header.is_64() {
        parse::<elf::FileHeader64<Endianness>>(data, len, header)
    } else {
        parse::<elf::FileHeader32<Endianness>>(data, len, header)
    }
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

    let mut facts = ElfFacts::bare(header);
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
            elf::PT_LOAD => {
                facts.has_load = true;
                loads.push(Load {
                    vaddr: ph.p_vaddr(endian).into(),
                    offset,
                    filesz,
                });
            }
            _ => {}
        }
    }
    let Some(dynamic) = dynamic else {
        return Ok(facts);
    };

    let mut strtab = None;
    let mut strsz = None;
    let mut needed = Vec::new();
    let (mut rpath, mut runpath, mut soname) = (None, None, None);
    let (mut verneed, mut verdef) = (None, None);
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
            elf::DT_VERNEED => verneed = Some(val),
            elf::DT_VERDEF => verdef = Some(val),
            _ => {}
        }
    }
    let strings = [rpath, runpath, soname, verneed, verdef];
    if needed.is_empty() && strings.iter().all(Option::is_none) {
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
    facts.versions = versions::read(data, endian, &loads, verneed, verdef, &mut string)?;
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
    use std::io::Write;
    use std::path::Path;

    use super::super::read_elf;
    use crate::error::Result;
    use crate::test_fixtures::fixtures;

    fn facts_of(path: &Path) -> Result<super::ElfFacts> {
        read_elf(path)?.facts.map(std::sync::Arc::unwrap_or_clone)
    }

    fn temp_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn reads_a_real_program() {
        let facts = facts_of(&fixtures().join("hello/bin/hello-leaf")).unwrap();
        assert!(facts.interp.is_some(), "{facts:?}");
        assert_eq!(facts.needed, ["libleaf.so.1", "libc.so.6"], "{facts:?}");
        assert_eq!(facts.runpath.as_deref(), Some("$ORIGIN/../lib".as_ref()));
        assert_eq!(facts.rpath, None);
        let lib = facts_of(&fixtures().join("leaf/lib/libleaf.so.1.0.0")).unwrap();
        assert_eq!(lib.soname.as_deref(), Some("libleaf.so.1".as_ref()));
        assert_eq!(lib.interp, None);
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
            let err = facts_of(file.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{bytes:?}: {err}");
            assert!(err.contains(&file.path().display().to_string()), "{err}");
        }
    }

    #[test]
    fn truncated_and_corrupted_copies_of_a_real_file_fail_cleanly() {
        let real = std::fs::read(fixtures().join("hello/bin/hello")).unwrap();
        for cut in [20, 52, 63, 64, 100, 500, 4096] {
            let file = temp_with(&real[..cut.min(real.len())]);
            assert!(facts_of(file.path()).is_err(), "cut at {cut}");
        }
        // A program-header offset far past the end of the file.
        let mut bad = real.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        let file = temp_with(&bad);
        let err = facts_of(file.path()).unwrap_err().to_string();
        assert!(err.contains("malformed"), "{err}");
    }
}
