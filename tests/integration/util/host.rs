//! The host: whether the tests run as root, which tools it has, free ports,
//! the lock on its CA store, and the policy for tests that need something
//! optional.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::fixtures::have;

/// Whether the tests run as root (effective uid 0), e.g. to skip permission tests.
pub fn is_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
    {
        // "Uid:\treal\teffective\tsaved\tfs"
        return line.split_whitespace().nth(2) == Some("0");
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The policy for tests that need something optional (musl or aarch64
/// fixtures, qemu, redis, root): returns `true` when `ok`; otherwise panics
/// when `CI` is set (CI must run every test) and else prints why the test is
/// skipped and returns `false`.
pub fn require(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {what} (CI is set, so this test may not be skipped)");
    }
    eprintln!("SKIPPED {test}: {what}");
    false
}

/// `cmd` on `PATH`, or in the sbin and bin directories (a user's `PATH` may
/// lack the sbin ones).
pub fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(cmd))
        .find(|p| have(&p.to_string_lossy()))
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The host's CA store. Readers: tests that pack or compare the host's CA
/// bundle (`--cert`). Writer: the curl test in `extras`, which trusts a
/// throwaway CA on the host for its duration. The tests of this process
/// share a lock, and so do test runs of other checkouts on the same machine
/// (an advisory lock on a file in the temporary directory), so no reader
/// sees the store while it is changed.
static CA_STORE: RwLock<()> = RwLock::new(());

/// The lock file every test run on this machine shares.
fn ca_lock_file() -> File {
    let path = std::env::temp_dir().join("extract-elf-so-tests-ca-store.lock");
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}

/// Keeps the host's CA store from changing while alive.
pub struct CaRead {
    _file: File,
    _thread: RwLockReadGuard<'static, ()>,
}

/// Keeps everyone else away from the host's CA store while alive.
pub struct CaWrite {
    _file: File,
    _thread: RwLockWriteGuard<'static, ()>,
}

/// Holds off the test that changes the host's CA store while alive.
pub fn ca_read() -> CaRead {
    let thread = CA_STORE.read().unwrap_or_else(|e| e.into_inner());
    let file = ca_lock_file();
    file.lock_shared()
        .expect("locking the CA store for reading");
    CaRead {
        _file: file,
        _thread: thread,
    }
}

/// Waits for every reader of the host's CA store, then keeps them out while alive.
pub fn ca_write() -> CaWrite {
    let thread = CA_STORE.write().unwrap_or_else(|e| e.into_inner());
    let file = ca_lock_file();
    file.lock().expect("locking the CA store for writing");
    CaWrite {
        _file: file,
        _thread: thread,
    }
}
