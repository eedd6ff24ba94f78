//! The undefined dynamic symbols an object imports, found as the loader
//! finds them: through PT_DYNAMIC, never through section headers.
//!
//! DT_SYMTAB gives the table, DT_STRTAB and DT_STRSZ its names, DT_SYMENT
//! the size of an entry. No tag gives the number of symbols, so it is the
//! largest of what the tables that index them say (as bfd's `elf.c` and
//! musl's `count_syms` do, with the traps of GNU ld's output covered):
//!
//! - DT_HASH: `nchain` is the number of symbols (64-bit s390 and Alpha use
//!   8-byte hash entries);
//! - DT_GNU_HASH: one past the last symbol of the chain that starts at the
//!   highest bucket, or `symoffset` when every bucket is empty (a file that
//!   exports nothing still has imports below `symoffset`);
//! - 1 + the highest symbol index a DT_RELA, DT_REL or DT_JMPREL relocation
//!   names (every import that is bound is relocated), read only when the
//!   hash tables cannot say: no table, or a GNU one with every bucket empty
//!   (GNU ld hashes every symbol from `symoffset` on, so the end of the
//!   last chain is the end of the table);
//! - on MIPS, DT_MIPS_SYMTABNO, which is the count itself.
//!
//! The count is bounded by the bytes of the segment that holds the table, so
//! a hostile file cannot make it read more than it holds.

use object::elf;
use object::{ReadCache, ReadRef};

use super::consts::{EM_MIPS, EM_S390};
use super::layout::Layout;
use super::window::Window;

/// DT_MIPS_SYMTABNO: the number of dynamic symbols, on MIPS.
const DT_MIPS_SYMTABNO: i64 = 0x7000_0011;
/// EM_ALPHA, whose 64-bit hash table has 8-byte entries.
const EM_ALPHA: u16 = 0x9026;
/// Symbols whose names are kept from one table, at most: more cannot be
/// imports a loader would bind in reasonable time.
const MAX_SYMBOLS: u64 = 1 << 22;
/// The most bytes read at once for the tables (real ones take a few hundred
/// kilobytes).
const MAX_SPAN: u64 = 8 << 20;

/// What the dynamic symbol table gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbols {
    /// How many entries the table has (the null entry included).
    pub count: u64,
    /// The names asked about that the object imports, in the order asked.
    pub imports: Vec<&'static str>,
}

/// Of `wanted`, the names the object imports: undefined (`st_shndx` 0),
/// global or weak, named dynamic symbols.
pub(super) fn imports(
    data: &ReadCache<Window>,
    layout: &Layout,
    wanted: &[&'static str],
) -> Result<Symbols, String> {
    let none = Symbols {
        count: 0,
        imports: Vec::new(),
    };
    let Some(symtab) = layout.tag(elf::DT_SYMTAB.0) else {
        return Ok(none);
    };
    let entry = if layout.header.is_64() { 24 } else { 16 };
    let syment = layout.tag(elf::DT_SYMENT.0).unwrap_or(entry);
    if syment < entry || syment > 1 << 16 {
        return Err(format!("DT_SYMENT {syment} is not a symbol size"));
    }
    let (at, room) = layout
        .offset_of(symtab)
        .ok_or("DT_SYMTAB is not inside a loaded segment")?;
    let data = &Bytes::around(data, layout);
    let count = count(data, layout)?.min(room / syment).min(MAX_SYMBOLS);
    if count <= 1 {
        return Ok(Symbols { count, ..none });
    }
    let table = read(data, at, count * syment)?;
    let strtab = layout
        .tag(elf::DT_STRTAB.0)
        .ok_or("dynamic symbols but no DT_STRTAB")?;
    let (str_at, str_room) = layout
        .offset_of(strtab)
        .ok_or("DT_STRTAB is not inside a loaded segment")?;
    let str_len = layout
        .tag(elf::DT_STRSZ.0)
        .map_or(str_room, |size| size.min(str_room));
    let names = read(data, str_at, str_len)?;
    let big = layout.header.is_big_endian();
    let field = |sym: &[u8], at: usize, width: usize| super::layout::uint(sym, at, width, big);
    // Where st_info and st_shndx sit: after st_value and st_size on ELF32.
    let (info_at, shndx_at) = if layout.header.is_64() {
        (4, 6)
    } else {
        (12, 14)
    };
    let mut found = vec![false; wanted.len()];
    for sym in table.chunks_exact(syment as usize).skip(1) {
        let undefined = field(sym, shndx_at, 2) == Some(0);
        let bind = sym[info_at] >> 4;
        let name = field(sym, 0, 4).unwrap_or(0) as usize;
        if !undefined || bind == elf::STB_LOCAL.0 || name == 0 || name >= names.len() {
            continue;
        }
        let rest = &names[name..];
        let name = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
        if let Some(i) = wanted.iter().position(|w| w.as_bytes() == name) {
            found[i] = true;
        }
    }
    let imports = wanted
        .iter()
        .zip(found)
        .filter_map(|(w, f)| f.then_some(*w))
        .collect();
    Ok(Symbols { count, imports })
}

/// The file's bytes, with the tables symbols are found through read at
/// once when they lie together, as GNU ld lays them out (`.gnu.hash`,
/// `.dynsym`, `.dynstr`): one read instead of one each.
struct Bytes<'a> {
    data: &'a ReadCache<Window>,
    /// The offset and bytes read at once, if they were.
    span: Option<(u64, &'a [u8])>,
}

impl<'a> Bytes<'a> {
    /// The bytes of `data`, from the first hash or symbol table up to the
    /// end of the string table read at once when that is at most [`MAX_SPAN`].
    fn around(data: &'a ReadCache<Window>, layout: &Layout) -> Self {
        let start =
            |tag: object::elf::DynamicTag| layout.tag(tag.0).and_then(|a| layout.offset_of(a));
        let tables = [
            elf::DT_HASH,
            elf::DT_GNU_HASH,
            elf::DT_SYMTAB,
            elf::DT_STRTAB,
        ];
        let lo = tables.into_iter().filter_map(start).map(|(at, _)| at).min();
        let hi = start(elf::DT_STRTAB).map(|(at, room)| {
            let size = layout.tag(elf::DT_STRSZ.0).unwrap_or(room);
            at + size.min(room)
        });
        let span = match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi && hi - lo <= MAX_SPAN => data
                .read_bytes_at(lo, hi - lo)
                .ok()
                .map(|bytes| (lo, bytes)),
            _ => None,
        };
        Bytes { data, span }
    }
}

/// `n` bytes at `at`, which the caller has bounded by the file.
fn read<'a>(data: &Bytes<'a>, at: u64, n: u64) -> Result<&'a [u8], String> {
    if let Some((base, bytes)) = data.span
        && at >= base
        && at.saturating_add(n) <= base + bytes.len() as u64
    {
        let from = (at - base) as usize;
        return Ok(&bytes[from..from + n as usize]);
    }
    data.data
        .read_bytes_at(at, n)
        .map_err(|()| format!("cannot read {n} bytes at offset {at}"))
}

/// The number of dynamic symbols: the largest of what the hash tables and
/// the relocations say.
fn count(data: &Bytes, layout: &Layout) -> Result<u64, String> {
    let machine = layout.header.machine;
    if machine == EM_MIPS
        && let Some(n) = layout.tag(DT_MIPS_SYMTABNO)
    {
        return Ok(n);
    }
    // Whether the hash tables give the count by themselves: DT_HASH does;
    // DT_GNU_HASH does unless every bucket is empty (then only symoffset is
    // known, and imports may lie above it).
    let mut exact = false;
    let mut n = 0;
    if let Some(hash) = layout.tag(elf::DT_HASH.0) {
        let (at, room) = layout
            .offset_of(hash)
            .ok_or("DT_HASH is not inside a loaded segment")?;
        let wide = layout.header.is_64() && (machine == EM_S390 || machine == EM_ALPHA);
        let width = if wide { 8 } else { 4 };
        let head = read(data, at, (2 * width as u64).min(room))?;
        let nchain = layout.uint(head, width, width);
        n = n.max(nchain.ok_or("DT_HASH is cut short")?);
        exact = true;
    }
    if let Some(gnu) = layout.tag(elf::DT_GNU_HASH.0) {
        let (count, walked) = gnu_count(data, layout, gnu)?;
        n = n.max(count);
        exact |= walked;
    }
    if !exact && machine != EM_MIPS {
        n = n.max(relocated(data, layout)?);
    }
    Ok(n)
}

/// The count DT_GNU_HASH gives: one past the end of the chain of the highest
/// bucket (`true`: every symbol from `symoffset` on is hashed, so that is
/// all of them), or `symoffset` when every bucket is empty (`false`).
fn gnu_count(data: &Bytes, layout: &Layout, gnu: u64) -> Result<(u64, bool), String> {
    let short = || "DT_GNU_HASH is cut short".to_string();
    let (at, room) = layout
        .offset_of(gnu)
        .ok_or("DT_GNU_HASH is not inside a loaded segment")?;
    let head = read(data, at, 16.min(room))?;
    let word = |i: usize| layout.uint(head, 4 * i, 4).ok_or_else(short);
    let (nbuckets, symoffset, bloom) = (word(0)?, word(1)?, word(2)?);
    let buckets_at = 16u64
        .checked_add(bloom.checked_mul(layout.word() as u64).ok_or_else(short)?)
        .filter(|b| b.saturating_add(nbuckets.saturating_mul(4)) <= room)
        .ok_or_else(short)?;
    let buckets = read(data, at + buckets_at, nbuckets * 4)?;
    let top = (0..nbuckets as usize)
        .filter_map(|i| layout.uint(buckets, 4 * i, 4))
        .max()
        .unwrap_or(0);
    if top < symoffset {
        return Ok((symoffset, false));
    }
    // Walk the last chain to its end (bit 0 set), inside the segment, a
    // page of chain values at a time.
    let past = || "a DT_GNU_HASH chain runs past its segment".to_string();
    let mut off = (top - symoffset)
        .checked_mul(4)
        .and_then(|o| o.checked_add(buckets_at + nbuckets * 4))
        .ok_or_else(past)?;
    let mut i = top;
    loop {
        let n = room.saturating_sub(off).min(4096) / 4 * 4;
        if n == 0 {
            return Err(past());
        }
        let values = read(data, at + off, n)?;
        for value in values.chunks_exact(4) {
            i += 1;
            if layout.uint(value, 0, 4).ok_or_else(short)? & 1 == 1 {
                return Ok((i.max(symoffset), true));
            }
        }
        off += n;
    }
}

/// 1 + the highest symbol index named by DT_RELA, DT_REL and DT_JMPREL
/// relocations (0 when none names one).
fn relocated(data: &Bytes, layout: &Layout) -> Result<u64, String> {
    let w = layout.word() as u64;
    let (rela, rel) = (3 * w, 2 * w);
    let plt = match layout.tag(elf::DT_PLTREL.0) {
        Some(t) if t == elf::DT_REL.0 as u64 => rel,
        _ => rela,
    };
    let tables = [
        (elf::DT_RELA, elf::DT_RELASZ, rela),
        (elf::DT_REL, elf::DT_RELSZ, rel),
        (elf::DT_JMPREL, elf::DT_PLTRELSZ, plt),
    ];
    let mut top = 0;
    for (addr, size, entry) in tables {
        let (Some(addr), Some(size)) = (layout.tag(addr.0), layout.tag(size.0)) else {
            continue;
        };
        let (at, room) = layout
            .offset_of(addr)
            .ok_or("a relocation table is not inside a loaded segment")?;
        let bytes = read(data, at, size.min(room) / entry * entry)?;
        for r in bytes.chunks_exact(entry as usize) {
            // r_info follows r_offset; the symbol is its high half (ELF64)
            // or all but its low byte (ELF32).
            let info = layout.uint(r, w as usize, w as usize).unwrap_or(0);
            let sym = if w == 8 { info >> 32 } else { info >> 8 };
            top = top.max(sym + 1);
        }
    }
    Ok(top)
}
