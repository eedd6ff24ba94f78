//! Copies of errors, for failures kept for the rest of a run.

use std::io;

use super::Error;

/// A copy of an error, so that a failure kept for the rest of a run can be
/// reported again. `io::Error` has no `Clone`: an OS error is rebuilt from its
/// code, any other from its kind and text, so both read the same.
impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::Io { path, cause } => Error::Io {
                path: path.clone(),
                cause: copy_io(cause),
            },
            Error::NotElf { path } => Error::NotElf { path: path.clone() },
            Error::Malformed { path, reason } => Error::Malformed {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::NotLoadable { path, reason } => Error::NotLoadable {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::IsDirectory { path } => Error::IsDirectory { path: path.clone() },
            Error::NotRegularFile { path } => Error::NotRegularFile { path: path.clone() },
            Error::UnsupportedFileType { path } => {
                Error::UnsupportedFileType { path: path.clone() }
            }
            Error::SymlinkLoop { path } => Error::SymlinkLoop { path: path.clone() },
            Error::NotAFileName { path } => Error::NotAFileName { path: path.clone() },
            Error::NotAFilePath { path } => Error::NotAFilePath { path: path.clone() },
            Error::ArchivePathEscapes { path } => Error::ArchivePathEscapes { path: path.clone() },
            Error::Conflict {
                path,
                first,
                second,
            } => Error::Conflict {
                path: path.clone(),
                first: first.clone(),
                second: second.clone(),
            },
            Error::DanglingLinks(links) => Error::DanglingLinks(links.clone()),
            Error::Unavailable(what) => Error::Unavailable(what.clone()),
            Error::WouldNotLoad(problems) => Error::WouldNotLoad(problems.clone()),
            Error::NssModulesMissing { lacking, libc } => Error::NssModulesMissing {
                lacking: lacking.clone(),
                libc: libc.clone(),
            },
            Error::NetFileMissing { file, cause } => Error::NetFileMissing {
                file: file.clone(),
                cause: cause.clone(),
            },
            Error::NoCaBundle { root, looked } => Error::NoCaBundle {
                root: root.clone(),
                looked: looked.clone(),
            },
            Error::BadIncludePattern { path, reason } => Error::BadIncludePattern {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::StdoutIsTerminal => Error::StdoutIsTerminal,
            Error::OutputIsTerminal { path } => Error::OutputIsTerminal { path: path.clone() },
            Error::OutputIsDirectory { path } => Error::OutputIsDirectory { path: path.clone() },
            Error::OutputIsPacked { path, packed } => Error::OutputIsPacked {
                path: path.clone(),
                packed: packed.clone(),
            },
            Error::OutputInPackedDir { path, dir } => Error::OutputInPackedDir {
                path: path.clone(),
                dir: dir.clone(),
            },
            Error::BadRoot { path, cause } => Error::BadRoot {
                path: path.clone(),
                cause: copy_io(cause),
            },
            Error::SourceNotRegular { path } => Error::SourceNotRegular { path: path.clone() },
        }
    }
}

/// A copy of an I/O error: an OS error from its code, any other from its
/// kind and text.
fn copy_io(cause: &io::Error) -> io::Error {
    match cause.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(cause.kind(), cause.to_string()),
    }
}
