//! The `extract-elf-so` binary: parses the command line and reports; the work is in the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
