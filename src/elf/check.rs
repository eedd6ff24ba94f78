//! The loader's checks on a candidate file (glibc's `open_verify`): which
//! files it passes over and which end the search with an error; and whether
//! a file given as an input is one the kernel would run or the loader would
//! load at all.

use super::consts as elf;
use super::facts::ElfFacts;
use super::header::Header;

/// The verdict of the loader's checks on one candidate.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Ok,
    /// glibc passes over the file and tries the next candidate.
    Skip(String),
    /// glibc stops the search with an error.
    Fatal(String),
}

/// `open_verify`'s checks, in its order, for a candidate against the program.
pub fn check(want: &Header, got: &Header) -> Check {
    if got.class != want.class {
        let bits = |h: &Header| if h.is_64() { 64 } else { 32 };
        return Check::Skip(format!(
            "wrong ELF class ({}-bit, the program is {}-bit)",
            bits(got),
            bits(want)
        ));
    }
    if got.data != want.data {
        return Check::Fatal("ELF file data encoding does not match the program".into());
    }
    if !osabi_ok(got) {
        return Check::Fatal(format!("ELF file OS ABI invalid ({})", got.osabi));
    }
    if got.machine != want.machine {
        return Check::Skip(format!(
            "wrong machine (e_machine {}, the program has {})",
            got.machine, want.machine
        ));
    }
    let abi_mismatch = match got.machine {
        elf::EM_PPC64 => {
            got.flags & 3 != 0 && want.flags & 3 != 0 && got.flags & 3 != want.flags & 3
        }
        elf::EM_RISCV => {
            got.flags & elf::EF_RISCV_FLOAT_ABI != want.flags & elf::EF_RISCV_FLOAT_ABI
        }
        elf::EM_ARM => {
            let float = elf::EF_ARM_ABI_FLOAT_HARD | elf::EF_ARM_ABI_FLOAT_SOFT;
            got.flags & float != 0
                && want.flags & float != 0
                && got.flags & float != want.flags & float
        }
        _ => false,
    };
    if abi_mismatch {
        return Check::Skip("ABI flags differ from the program's".into());
    }
    if !matches!(got.e_type, elf::ET_DYN | elf::ET_EXEC) {
        return Check::Fatal(format!(
            "not a shared object or executable (e_type {})",
            got.e_type
        ));
    }
    Check::Ok
}

/// Whether glibc's loader accepts the file's OS ABI: System V or GNU, and
/// ARM's EABI on ARM (`VALID_ELF_OSABI`).
fn osabi_ok(header: &Header) -> bool {
    matches!(header.osabi, elf::ELFOSABI_SYSV | elf::ELFOSABI_GNU)
        || (header.machine == elf::EM_ARM && header.osabi == elf::ELFOSABI_ARM_AEABI)
}

/// Why the file `facts` describes is neither a program the kernel would run
/// nor an object the loader would load, if it is not: the kernel takes only
/// ET_EXEC and ET_DYN and maps PT_LOAD segments (`fs/binfmt_elf.c`
/// `load_elf_binary`); glibc's loader also refuses an OS ABI it does not
/// know (`open_verify`; LOADER.md §6).
pub fn unloadable(facts: &ElfFacts) -> Option<String> {
    let header = &facts.header;
    let not_a_program = match header.e_type {
        elf::ET_EXEC | elf::ET_DYN => None,
        elf::ET_REL => Some("a relocatable object (ET_REL)".to_string()),
        elf::ET_CORE => Some("a core file (ET_CORE)".to_string()),
        other => Some(format!("ELF type {other}")),
    };
    if let Some(what) = not_a_program {
        return Some(format!("{what}, not a program or shared library"));
    }
    if !osabi_ok(header) {
        return Some(format!("OS ABI {}, which the loader rejects", header.osabi));
    }
    if !facts.has_load {
        return Some("no PT_LOAD segment, nothing to map".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(class: u8, machine: u16) -> Header {
        Header {
            class,
            data: 1,
            osabi: 0,
            e_type: elf::ET_DYN,
            machine,
            flags: 0,
        }
    }

    #[test]
    fn candidate_checks() {
        let want = header(2, elf::EM_X86_64);
        assert_eq!(check(&want, &want), Check::Ok);
        assert!(matches!(
            check(&want, &header(1, elf::EM_386)),
            Check::Skip(_)
        ));
        assert!(matches!(
            check(&want, &header(2, elf::EM_AARCH64)),
            Check::Skip(_)
        ));
        let mut big = want;
        big.data = 2;
        assert!(matches!(check(&want, &big), Check::Fatal(_)));
        let mut osabi = want;
        osabi.osabi = 9;
        assert!(matches!(check(&want, &osabi), Check::Fatal(_)));
        let mut gnu = want;
        gnu.osabi = elf::ELFOSABI_GNU;
        assert_eq!(check(&want, &gnu), Check::Ok);
        let mut rel = want;
        rel.e_type = elf::ET_REL;
        assert!(matches!(check(&want, &rel), Check::Fatal(_)));
    }

    #[test]
    fn what_neither_the_kernel_nor_the_loader_takes() {
        let facts = |e_type, osabi, has_load| ElfFacts {
            has_load,
            ..ElfFacts::bare(Header {
                e_type,
                osabi,
                ..header(2, elf::EM_X86_64)
            })
        };
        let cases = [
            (facts(elf::ET_DYN, 0, true), None),
            (facts(elf::ET_EXEC, elf::ELFOSABI_GNU, true), None),
            (
                facts(elf::ET_REL, 0, false),
                Some("a relocatable object (ET_REL)"),
            ),
            (facts(elf::ET_CORE, 0, true), Some("a core file (ET_CORE)")),
            (facts(0, 0, true), Some("ELF type 0")),
            (facts(elf::ET_DYN, 9, true), Some("OS ABI 9")),
            (facts(elf::ET_DYN, 0, false), Some("no PT_LOAD")),
        ];
        for (facts, want) in cases {
            let got = unloadable(&facts);
            match want {
                None => assert_eq!(got, None),
                Some(want) => assert!(got.as_deref().unwrap().starts_with(want), "{got:?}"),
            }
        }
    }
}
