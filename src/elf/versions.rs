//! Symbol versions: the versions an object requires of the libraries it
//! needs (DT_VERNEED) and the versions it defines (DT_VERDEF), read as glibc
//! reads them once every object is mapped (`elf/dl-version.c`
//! `_dl_check_map_versions`, `match_symbol`; LOADER.md §11).
//!
//! Both tables are found through the dynamic section: their addresses are
//! turned into file offsets through the PT_LOAD segments, and names come
//! from DT_STRTAB. Records are chained by their `vn_next`, `vna_next` and
//! `vd_next` offsets until a zero one, as glibc follows them; it does not
//! use the DT_VERNEEDNUM and DT_VERDEFNUM counts, and neither does this
//! reader. The offsets only go forward, and at most [`MAX_RECORDS`] records
//! are read, so a hostile chain ends. A record version other than 1 is
//! refused, as glibc refuses it.

use std::ffi::OsString;

use object::read::ReadRef;
use object::{Endian, Endianness, ReadCache};

use super::facts::Load;
use super::window::Window;

/// How many version records one file may have, all tables together: glibc's
/// libc defines about 50 versions, and a large program needs a few hundred.
const MAX_RECORDS: usize = 1 << 16;

/// glibc's VER_FLG_WEAK: a missing version is then not an error.
const VER_FLG_WEAK: u16 = 0x2;

/// One version: its name and the ELF hash of the name that the file
/// records, which glibc compares along with the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub name: OsString,
    pub hash: u32,
}

/// A version required of a library (one `Vernaux` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededVersion {
    pub version: Version,
    /// VER_FLG_WEAK: a library that lacks it is still loaded.
    pub weak: bool,
}

/// The versions required of one library (one `Verneed` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionsNeeded {
    /// The library, by the name it is needed under (its DT_NEEDED name).
    pub file: OsString,
    pub versions: Vec<NeededVersion>,
}

/// The symbol versions of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    /// DT_VERNEED, in file order.
    pub needed: Vec<VersionsNeeded>,
    /// DT_VERDEF: the first name of each definition (the object's own base
    /// version first), or `None` when the object has no DT_VERDEF.
    pub defined: Option<Vec<Version>>,
}

impl Versions {
    /// Whether this object, as the library that satisfied a need, defines
    /// `version`; an object with no DT_VERDEF satisfies any (glibc only
    /// notes "no version information available").
    pub fn defines(&self, version: &Version) -> bool {
        self.defined.as_ref().is_none_or(|defined| {
            defined
                .iter()
                .any(|d| d.hash == version.hash && d.name == version.name)
        })
    }
}

/// Reads the tables at the addresses DT_VERNEED and DT_VERDEF give, with
/// names from `string` (an offset into DT_STRTAB); on failure, why.
pub(super) fn read(
    data: &ReadCache<Window>,
    endian: Endianness,
    loads: &[Load],
    verneed: Option<u64>,
    verdef: Option<u64>,
    string: &mut dyn FnMut(u64) -> Result<OsString, String>,
) -> Result<Versions, String> {
    let mut records = Records {
        data,
        endian,
        left: MAX_RECORDS,
    };
    let mut versions = Versions::default();
    if let Some(addr) = verneed {
        let mut at = file_offset(loads, addr).ok_or("DT_VERNEED is not inside a loaded segment")?;
        loop {
            let ent = records.read_v1(at, 16, "Verneed")?;
            let file = string(u64::from(records.u32(&ent, 4)))?;
            let mut needed = Vec::new();
            let mut aux_at = next(at, records.u32(&ent, 8))?;
            loop {
                let aux = records.read(aux_at, 16, "Vernaux")?;
                needed.push(NeededVersion {
                    version: Version {
                        name: string(u64::from(records.u32(&aux, 8)))?,
                        hash: records.u32(&aux, 0),
                    },
                    weak: records.u16(&aux, 4) & VER_FLG_WEAK != 0,
                });
                match records.u32(&aux, 12) {
                    0 => break,
                    step => aux_at = next(aux_at, step)?,
                }
            }
            versions.needed.push(VersionsNeeded {
                file,
                versions: needed,
            });
            match records.u32(&ent, 12) {
                0 => break,
                step => at = next(at, step)?,
            }
        }
    }
    if let Some(addr) = verdef {
        let mut at = file_offset(loads, addr).ok_or("DT_VERDEF is not inside a loaded segment")?;
        let mut defined = Vec::new();
        loop {
            let def = records.read_v1(at, 20, "Verdef")?;
            // glibc compares the first Verdaux name only.
            let aux = records.read(next(at, records.u32(&def, 12))?, 8, "Verdaux")?;
            defined.push(Version {
                name: string(u64::from(records.u32(&aux, 0)))?,
                hash: records.u32(&def, 8),
            });
            match records.u32(&def, 16) {
                0 => break,
                step => at = next(at, step)?,
            }
        }
        versions.defined = Some(defined);
    }
    Ok(versions)
}

/// The file offset of the address `addr`, through the PT_LOAD segments.
fn file_offset(loads: &[Load], addr: u64) -> Option<u64> {
    let load = loads
        .iter()
        .find(|l| addr >= l.vaddr && addr - l.vaddr < l.filesz)?;
    load.offset.checked_add(addr - load.vaddr)
}

/// The offset `step` bytes after `at`.
fn next(at: u64, step: u32) -> Result<u64, String> {
    at.checked_add(u64::from(step))
        .ok_or_else(|| "a version record offset overflows".to_string())
}

/// Fixed-size records read from the file, at most `left` more of them.
struct Records<'a> {
    data: &'a ReadCache<Window>,
    endian: Endianness,
    left: usize,
}

impl Records<'_> {
    /// The `size` bytes of a `what` record at `at`.
    fn read(&mut self, at: u64, size: u64, what: &str) -> Result<Vec<u8>, String> {
        self.left = self
            .left
            .checked_sub(1)
            .ok_or_else(|| format!("more than {MAX_RECORDS} symbol version records"))?;
        self.data
            .read_bytes_at(at, size)
            .map(<[u8]>::to_vec)
            .map_err(|()| format!("{what} record at offset {at} lies beyond the end of the file"))
    }

    /// A `what` record (Verneed, Verdef) of `size` bytes at `at`, whose
    /// first field, its version, must be 1 (glibc's elf/dl-version.c refuses
    /// any other).
    fn read_v1(&mut self, at: u64, size: u64, what: &str) -> Result<Vec<u8>, String> {
        let record = self.read(at, size, what)?;
        match self.u16(&record, 0) {
            1 => Ok(record),
            version => Err(format!("unsupported version {version} of {what} record")),
        }
    }

    fn u16(&self, bytes: &[u8], at: usize) -> u16 {
        self.endian.read_u16([bytes[at], bytes[at + 1]])
    }

    fn u32(&self, bytes: &[u8], at: usize) -> u32 {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        self.endian.read_u32(b)
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_elf;
    use super::*;
    use crate::test_fixtures::fixtures;

    fn versions_of(rel: &str) -> Versions {
        let facts = read_elf(&fixtures().join(rel)).unwrap().facts.unwrap();
        facts.versions.clone()
    }

    fn names(list: &[Version]) -> Vec<String> {
        list.iter()
            .map(|v| v.name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn reads_what_a_program_needs_and_a_library_defines() {
        let app = versions_of("versions/bin/app");
        let ver = app.needed.iter().find(|n| n.file == "libver.so.1").unwrap();
        let needed: Vec<Version> = ver.versions.iter().map(|v| v.version.clone()).collect();
        let mut sorted = names(&needed);
        sorted.sort();
        assert_eq!(sorted, ["V1", "V2"]);
        assert!(ver.versions.iter().all(|v| !v.weak));
        assert!(app.needed.iter().any(|n| n.file == "libc.so.6"));
        assert_eq!(app.defined, None);

        let one = versions_of("versions/lib1/libver.so.1");
        let two = versions_of("versions/lib2/libver.so.1");
        // The base version, named after the SONAME, comes first.
        assert_eq!(names(one.defined.as_ref().unwrap()), ["libver.so.1", "V1"]);
        assert_eq!(
            names(two.defined.as_ref().unwrap()),
            ["libver.so.1", "V1", "V2"]
        );
        let v2 = needed.iter().find(|v| v.name == "V2").unwrap();
        assert!(two.defines(v2));
        assert!(!one.defines(v2));
        // The hash is compared too, as glibc compares it.
        let wrong_hash = Version {
            hash: v2.hash ^ 1,
            ..v2.clone()
        };
        assert!(!two.defines(&wrong_hash));
        // No DT_VERDEF at all: nothing to check against.
        assert!(Versions::default().defines(v2));
    }
}
