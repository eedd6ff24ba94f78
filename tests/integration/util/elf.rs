//! Facts about ELF files read without the crate's own code: by hand from
//! the bytes, or from binutils' `readelf`, an independent oracle.

use std::fs;
use std::path::Path;
use std::process::Command;

/// ELF e_machine values used by the tests.
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// `PT_INTERP` of an ELF file (ELF32 or ELF64, little or big endian), without a leading `/`.
pub fn interp(path: &Path) -> Option<String> {
    let b = fs::read(path).ok()?;
    if b.len() < 52 || &b[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = b[4] == 2;
    let le = b[5] == 1;
    let u16_at = |o: usize| -> Option<u64> {
        let s: [u8; 2] = b.get(o..o + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        } as u64)
    };
    let u32_at = |o: usize| -> Option<u64> {
        let s: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        } as u64)
    };
    let u64_at = |o: usize| -> Option<u64> {
        let s: [u8; 8] = b.get(o..o + 8)?.try_into().ok()?;
        Some(if le {
            u64::from_le_bytes(s)
        } else {
            u64::from_be_bytes(s)
        })
    };
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(32)?, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)?, u16_at(42)?, u16_at(44)?)
    };
    for i in 0..phnum {
        let ph = usize::try_from(phoff + i * phentsize).ok()?;
        if u32_at(ph)? != 3 {
            continue;
        }
        let (off, size) = if is64 {
            (u64_at(ph + 8)?, u64_at(ph + 32)?)
        } else {
            (u32_at(ph + 4)?, u32_at(ph + 16)?)
        };
        let s = b.get(usize::try_from(off).ok()?..usize::try_from(off + size).ok()?)?;
        let s = s.split(|&c| c == 0).next()?;
        return Some(
            String::from_utf8_lossy(s)
                .trim_start_matches('/')
                .to_string(),
        );
    }
    None
}

/// (EI_CLASS, e_machine) of ELF bytes, or `None` if they are not ELF.
pub fn elf_header(data: &[u8]) -> Option<(u8, u16)> {
    if data.len() < 20 || &data[..4] != b"\x7fELF" {
        return None;
    }
    let raw = [data[18], data[19]];
    let machine = match data[5] {
        2 => u16::from_be_bytes(raw),
        _ => u16::from_le_bytes(raw),
    };
    Some((data[4], machine))
}

/// `DT_NEEDED` names of an ELF file according to `readelf -d` (binutils, an
/// oracle independent of the crate).
pub fn readelf_needed(file: &Path) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-dW")
        .arg(file)
        .output()
        .expect("running readelf (binutils)");
    assert!(
        out.status.success(),
        "readelf -d {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l.rfind(']')?;
            Some(l[start..end].to_string())
        })
        .collect()
}
