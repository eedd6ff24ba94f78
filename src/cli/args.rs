//! The flags: the clap definitions, the only place a flag is named besides
//! the messages that suggest one.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use extract_elf_so::Priority;

/// The value an optional list flag (`--users`, `--gconv`, `--tzdata`) takes
/// when given bare: a NUL, which no argument can hold.
pub const BARE: &str = "\0";

const EXAMPLES: &str = "\
Examples:
  Pack redis-server and its libraries into rootfs.tar.gz:
    extract-elf-so -z /usr/bin/redis-server

  Put the program in /app and stream the archive straight into Docker:
    extract-elf-so -d /app -o - ./server | docker import - server

  A scratch image of wrk that can resolve host names and verify TLS peers:
    extract-elf-so -z --nss-net --cert /usr/bin/wrk

  nginx with its configuration, users, time zones, modules and the directories it writes:
    extract-elf-so --users=www-data --tzdata --add-file /etc/nginx --add-file /usr/share/nginx \\
      --add-file /usr/lib/nginx/modules --mkdir /run --mkdir /var/lib/nginx \\
      --mkdir /var/log/nginx /usr/sbin/nginx

  Add a config file at its place in the image:
    extract-elf-so --add-file redis.conf:/etc/redis/redis.conf /usr/bin/redis-server

  Pack a program built for aarch64 from its sysroot:
    extract-elf-so --root /usr/aarch64-linux-gnu ./hello

  Push an image of redis-server to a registry, with no Dockerfile or daemon:
    extract-elf-so --image docker://localhost:5000/redis:scratch /usr/bin/redis-server

Exit status: 0 success, 1 failure (nothing written, unless a file changed as it was
read), 2 usage error, 130 interrupted.";

/// Pack ELF programs and the shared libraries they load into a tarball for FROM scratch images.
///
/// Dependencies are read from the ELF files and the loader's own configuration;
/// nothing is executed. The archive holds each input under --dest, every library
/// at the path the target's loader will find it, and the loader itself.
#[derive(Debug, Parser)]
#[command(
    name = "extract-elf-so",
    version,
    about,
    long_about = None,
    after_help = EXAMPLES,
    override_usage = "extract-elf-so [OPTIONS] [(--add <SO_FILE>)...] <ELF_FILE>...",
    infer_long_args = true,
    max_term_width = 100
)]
pub struct Cli {
    /// ELF programs or shared libraries to pack, or directories to pack whole
    #[arg(value_name = "ELF_FILE", required_unless_present_any = ["generate_completions", "generate_man"])]
    pub inputs: Vec<PathBuf>,

    /// Where the ELF inputs go in the archive (relative means from the archive root)
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = "/usr/local/bin",
        help_heading = "Archive layout"
    )]
    pub dest: PathBuf,

    /// Extra shared library to pack, with its own libraries (repeatable)
    #[arg(short, long, value_name = "SO_FILE", help_heading = "Archive layout")]
    pub add: Vec<PathBuf>,

    /// Where --add files go in the archive
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = "/usr/lib",
        help_heading = "Archive layout"
    )]
    pub sodir: PathBuf,

    /// Keep setuid and setgid bits of files not owned by root (stored as root's, they gain its rights)
    #[arg(long = "keep-setid", help_heading = "Archive layout")]
    pub keep_setid: bool,

    /// Output name without .tar/.tar.gz; may include a directory
    #[arg(
        short,
        long,
        value_name = "NAME",
        default_value = "rootfs",
        help_heading = "Output"
    )]
    pub name: String,

    /// Write the archive exactly to PATH ("-" for standard output); a link is written through
    #[arg(
        short,
        long,
        value_name = "PATH",
        conflicts_with = "name",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,

    /// Compress the archive with gzip
    #[arg(short = 'z', long = "gzip", help_heading = "Output")]
    pub gzip: bool,

    /// gzip compression level, 1 fastest to 9 smallest (libdeflate's levels; 6 is a little smaller than `gzip -6`)
    #[arg(long, value_name = "1-9", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9), help_heading = "Output")]
    pub level: u32,

    /// Resolve inside this sysroot: loader, ld.so.cache, ld.so.conf and default dirs
    #[arg(long, value_name = "DIR", help_heading = "Resolution")]
    pub root: Option<PathBuf>,

    /// Also search DIR, where LD_LIBRARY_PATH would be (repeatable; the environment's is ignored)
    #[arg(long = "library-path", value_name = "DIR", help_heading = "Resolution")]
    pub library_path: Vec<PathBuf>,

    /// Warn about libraries the loader would not find, and write the archive anyway
    #[arg(long, help_heading = "Resolution")]
    pub allow_missing: bool,

    /// Add what host name lookup needs: NSS modules, nsswitch.conf, hosts, services, protocols
    #[arg(long = "nss-net", help_heading = "Extra files")]
    pub nss_net: bool,

    /// Add the root CA bundle, linked at every well-known path
    #[arg(long, help_heading = "Extra files")]
    pub cert: bool,

    /// Add a file, link or directory at DEST (default: its own path; a DEST ending in / is a directory to put it in); ELF files get their libraries (repeatable)
    #[arg(
        long = "add-file",
        value_name = "SRC[:DEST]",
        help_heading = "Extra files"
    )]
    pub add_file: Vec<OsString>,

    /// Write /etc/passwd and /etc/group: root, nobody, nonroot, and the root's NAMEs
    #[arg(
        long,
        value_name = "NAME,...",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = BARE,
        value_delimiter = ',',
        help_heading = "Run-time needs"
    )]
    pub users: Option<Vec<String>>,

    /// Add glibc's gconv configuration and modules: all, or what the CHARSETs need
    #[arg(
        long,
        value_name = "CHARSET,...",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = BARE,
        value_delimiter = ',',
        help_heading = "Run-time needs"
    )]
    pub gconv: Option<Vec<String>>,

    /// Add the root's time zones: all of /usr/share/zoneinfo, or the ZONEs and UTC
    #[arg(
        long,
        value_name = "ZONE,...",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = BARE,
        value_delimiter = ',',
        help_heading = "Run-time needs"
    )]
    pub tzdata: Option<Vec<String>>,

    /// Add the root's compiled locale NAME from /usr/lib/locale, e.g. C.utf8 (repeatable)
    #[arg(long, value_name = "NAME", help_heading = "Run-time needs")]
    pub locale: Vec<String>,

    /// Add the root's /bin/sh through its links, with its libraries (for system, popen)
    #[arg(long, help_heading = "Run-time needs")]
    pub shell: bool,

    /// Make an empty directory, mode octal (default 0755), e.g. /tmp:1777 (repeatable)
    #[arg(long, value_name = "PATH[:MODE]", help_heading = "Run-time needs")]
    pub mkdir: Vec<OsString>,

    /// Add a library by name, found as dlopen from the first input would find it (repeatable)
    #[arg(long, value_name = "SONAME", help_heading = "Run-time needs")]
    pub dlopen: Vec<OsString>,

    /// Also pack the libraries .note.dlopen notes name down to LEVEL (required ones always are)
    #[arg(
        long = "dlopen-notes",
        value_name = "LEVEL",
        help_heading = "Run-time needs"
    )]
    pub dlopen_notes: Option<NoteLevel>,

    /// Fail (exit 1, nothing written) when a run-time need that gets a hint is not met
    #[arg(long, help_heading = "Run-time needs")]
    pub strict: bool,

    /// Print what would be written (path, kind, source or target; names escaped), and write nothing
    #[arg(long, help_heading = "Inspect without writing")]
    pub list: bool,

    /// Print the dependency tree of each input, with where and how each library was found and what each object needs at run time
    #[arg(long, conflicts_with_all = ["list", "json", "report"], help_heading = "Inspect without writing")]
    pub tree: bool,

    /// Print the plan as JSON for scripts (entries, sizes, which objects need them, run-time needs), and write nothing
    #[arg(long, help_heading = "Inspect without writing")]
    pub json: bool,

    /// Print the archive's size by what brought each file in (after writing, or instead with --list)
    #[arg(long, help_heading = "Inspect without writing")]
    pub report: bool,

    #[command(flatten)]
    pub image: ImageFlags,

    /// Print a shell completion script and exit
    #[arg(long, value_name = "SHELL", hide = true, exclusive = true)]
    pub generate_completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit
    #[arg(long, hide = true, exclusive = true)]
    pub generate_man: bool,

    /// List each archive entry and its source on standard error
    #[arg(short, long, conflicts_with = "quiet", help_heading = "Messages")]
    pub verbose: bool,

    /// Print nothing on success (no hints either)
    #[arg(short, long, help_heading = "Messages")]
    pub quiet: bool,
}

/// The flags of `--image`: an image written or pushed with no daemon.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Image")]
pub struct ImageFlags {
    /// Write an image instead of a tarball (with -o, both): oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or docker://HOST[:PORT]/REPO[:TAG]
    #[arg(long, value_name = "TRANSPORT:REF", conflicts_with_all = ["list", "tree", "name"])]
    pub image: Option<String>,

    /// Image entrypoint, one argument per flag (default: the first input at its place in the image)
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "image"
    )]
    pub entrypoint: Vec<String>,

    /// Image command (arguments to the entrypoint), one argument per flag: --cmd=--port --cmd 7000
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "image"
    )]
    pub cmd: Vec<String>,

    /// Image environment variable (default PATH: Docker's, with the inputs' directory) (repeatable)
    #[arg(long, value_name = "KEY=VALUE", requires = "image")]
    pub env: Vec<String>,

    /// Image working directory (absolute)
    #[arg(long, value_name = "DIR", requires = "image")]
    pub workdir: Option<String>,

    /// User (and group) the image runs as, by name or number
    #[arg(long = "run-as", value_name = "USER[:GROUP]", requires = "image")]
    pub run_as: Option<String>,

    /// Port the image listens on, stored as PORT/PROTO (tcp when omitted) (repeatable)
    #[arg(long, value_name = "PORT[/PROTO]", requires = "image")]
    pub expose: Vec<String>,

    /// Image label (repeatable)
    #[arg(long, value_name = "KEY=VALUE", requires = "image")]
    pub label: Vec<String>,

    /// Layer compression: gzip (as -z, at --level) or zstd (Docker 23+, containerd)
    #[arg(
        long = "layer-compression",
        value_name = "gzip|zstd",
        requires = "image"
    )]
    pub layer_compression: Option<String>,

    /// Registry credentials for docker:// (default: the auths of $DOCKER_CONFIG/config.json); without :PASS it is read from standard input
    #[arg(long, value_name = "USER[:PASS]", requires = "image")]
    pub creds: Option<String>,

    /// Allow plain HTTP to a registry that is not on this machine
    #[arg(long, requires = "image")]
    pub insecure: bool,
}

/// How far down `--dlopen-notes` packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoteLevel {
    /// Required and recommended libraries
    Recommended,
    /// Every library a note names
    Suggested,
}

impl NoteLevel {
    /// The lowest priority packed.
    pub fn priority(self) -> Priority {
        match self {
            NoteLevel::Recommended => Priority::Recommended,
            NoteLevel::Suggested => Priority::Suggested,
        }
    }
}
