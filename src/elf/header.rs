//! The ELF identification and header fields the loader checks on every candidate.

use std::path::Path;

use object::{ReadCache, ReadRef};

use super::consts::*;
use super::window::Window;
use crate::error::{Error, Result};

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
    /// `ET_EXEC`, `ET_DYN`, ...
    pub e_type: u16,
    pub machine: u16,
    pub flags: u32,
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

    /// Reads the header of the file behind `cache`, `len` bytes long, at `path`.
    pub(super) fn read(cache: &ReadCache<Window>, len: u64, path: &Path) -> Result<Header> {
        let probe = cache
            .read_bytes_at(0, HEADER_PROBE.min(len))
            .map_err(|()| Error::malformed(path, "cannot read the ELF header"))?;
        if probe.len() < 4 || probe[..4] != object::elf::ELFMAG {
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
            e_type: u16_at(16),
            machine: u16_at(18),
            flags: u32_at(flags_at),
        })
    }
}
