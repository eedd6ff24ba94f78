//! The `extract-elf-so` binary: parses the command line and reports; the work is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    extract_elf_so::cli::main()
}
