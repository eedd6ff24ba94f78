//! Archives unpacked into an empty directory, to run programs chrooted
//! there with only what the archive holds: /proc mounted, as a container
//! has one (glibc and musl take `$ORIGIN` from /proc/self/exe), and, when
//! asked, the device nodes a container runtime adds. Needs root (chroot,
//! mount, mknod); the callers check it.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::archive::{Archive, unpack};
use super::host::{require, which};
use super::tool::{Run, run_tool};

/// The device nodes a container runtime adds: name and minor number (of
/// major 1, the memory devices).
const DEVICES: [(&str, &str); 4] = [
    ("null", "3"),
    ("zero", "5"),
    ("random", "8"),
    ("urandom", "9"),
];

/// How long a program run chrooted may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// An unpacked archive with /proc mounted in it; /proc is unmounted on drop,
/// before the directory is removed.
pub struct Chroot {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub listing: Archive,
    /// The tool's run that wrote the archive.
    pub packed: Run,
    proc_mounted: bool,
}

impl Drop for Chroot {
    fn drop(&mut self) {
        if self.proc_mounted {
            let proc = self.dir.join("proc");
            let ok = Command::new("umount")
                .arg(&proc)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount").arg("-l").arg(&proc).status();
            }
        }
    }
}

impl Chroot {
    /// Packs with `args`, unpacks into an empty directory and mounts /proc
    /// there. `None` when /proc cannot be mounted and the test is skipped.
    pub fn pack<I, S>(args: I) -> Option<Chroot>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Chroot::new(args, false)
    }

    /// [`pack`](Chroot::pack), with the device nodes of [`DEVICES`] made in
    /// /dev. `None` when they cannot be made and the test is skipped.
    pub fn pack_with_devices<I, S>(args: I) -> Option<Chroot>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Chroot::new(args, true)
    }

    fn new<I, S>(args: I, devices: bool) -> Option<Chroot>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let packed = run_tool(tmp.path(), args);
        let listing = packed.archive();
        let dir = tmp.path().join("img");
        unpack(&tmp.path().join("out.tar"), &dir);
        let mut img = Chroot {
            dir,
            tmp,
            listing,
            packed,
            proc_mounted: false,
        };
        let proc = img.dir.join("proc");
        assert!(
            !proc.exists(),
            "the archive itself has a /proc entry:\n{}",
            img.listing.dump()
        );
        if devices && !img.make_devices() {
            return None;
        }
        fs::create_dir(&proc).unwrap();
        let out = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc)
            .output()
            .expect("running mount");
        img.proc_mounted = out.status.success();
        let why = format!(
            "cannot mount proc in the chroot: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if !require(img.proc_mounted, &why) {
            return None;
        }
        Some(img)
    }

    /// Makes /dev and its nodes; `false` when the test is skipped.
    fn make_devices(&self) -> bool {
        let dev = self.dir.join("dev");
        assert!(!dev.exists(), "the archive has a /dev");
        fs::create_dir(&dev).unwrap();
        DEVICES.iter().all(|(name, minor)| {
            let made = Command::new("mknod")
                .args(["-m", "666"])
                .arg(dev.join(name))
                .args(["c", "1", minor])
                .status()
                .is_ok_and(|s| s.success());
            require(made, &format!("cannot make /dev/{name} in the chroot"))
        })
    }

    /// `chroot DIR PROG...` with an empty environment, under a time limit.
    pub fn command(&self, prog: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(path_of("chroot"));
        cmd.arg(&self.dir).args(prog).env_clear().timeout(RUN_LIMIT);
        cmd
    }

    /// Starts `prog` chrooted with an empty environment and no input, its
    /// output in the file `log`; it is killed and reaped on drop.
    pub fn spawn(&self, prog: &[&str], log: &Path) -> Server {
        let file = File::create(log).unwrap();
        let child = Command::new(path_of("chroot"))
            .arg(&self.dir)
            .args(prog)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("starting chroot {prog:?}: {e}"));
        let name = Path::new(prog[0]).file_name().unwrap_or_default();
        Server {
            child,
            name: name.to_string_lossy().into_owned(),
            log: log.to_path_buf(),
            archive: self.listing.dump(),
        }
    }

    /// The run of `prog` and the archive, for a failed assertion.
    pub fn report(&self, prog: &[&str], out: &Output, what: &str) -> String {
        format!(
            "chroot {} {prog:?} {what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- archive ---\n{}",
            self.dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.listing.dump()
        )
    }

    /// A path inside the image.
    pub fn path(&self, in_image: &str) -> PathBuf {
        self.dir.join(in_image.trim_start_matches('/'))
    }
}

/// A server started chrooted: killed and reaped on every exit path.
pub struct Server {
    pub child: Child,
    name: String,
    log: PathBuf,
    /// The listing of the archive it runs from, for a failure.
    archive: String,
}

impl Server {
    /// Asks `answer` every 100 ms until it gives something, for up to
    /// `limit`; panics, with the server's log and the archive, if the server
    /// exits first.
    pub fn poll<T>(&mut self, limit: Duration, mut answer: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited with {status}:\n{}\n--- archive ---\n{}",
                    self.name,
                    fs::read_to_string(&self.log).unwrap_or_default(),
                    self.archive
                );
            }
            if let Some(found) = answer() {
                return Some(found);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cmd` as [`which`] finds it (a user's PATH may lack the sbin
/// directories); panics when it is nowhere.
pub fn path_of(cmd: &str) -> PathBuf {
    which(cmd).unwrap_or_else(|| panic!("{cmd} not on PATH"))
}
