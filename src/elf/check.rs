//! The loader's checks on a candidate file (glibc's `open_verify`): which
//! files it passes over and which end the search with an error.

use super::consts as elf;
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
    let arm = got.machine == elf::EM_ARM;
    let osabi_ok = matches!(got.osabi, elf::ELFOSABI_SYSV | elf::ELFOSABI_GNU)
        || (arm && got.osabi == elf::ELFOSABI_ARM_AEABI);
    if !osabi_ok {
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
}
