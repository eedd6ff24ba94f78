//! Raw values of the ELF constants this crate compares header fields with
//! (`object` wraps them in newtypes).

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
pub const ET_CORE: u16 = elf::ET_CORE.0;
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
