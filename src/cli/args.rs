//! The flags: the clap definitions, the only place a flag is named besides
//! the messages that suggest one.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  Pack redis-server and its libraries into rootfs.tar.gz:
    extract-elf-so -z /usr/bin/redis-server

  Put the program in /app and stream the archive straight into Docker:
    extract-elf-so -d /app -o - ./server | docker import - server

  A scratch image of wrk that can resolve host names and verify TLS peers:
    extract-elf-so -z --nss-net --cert /usr/bin/wrk

  Add a config file at its place in the image:
    extract-elf-so --add-file redis.conf:/etc/redis/redis.conf /usr/bin/redis-server

  Pack a program built for aarch64 from its sysroot:
    extract-elf-so --root /usr/aarch64-linux-gnu ./hello

Exit status: 0 success, 1 failure (nothing written), 2 usage error, 130 interrupted.";

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

    /// Output name without .tar/.tar.gz; may include a directory
    #[arg(
        short,
        long,
        value_name = "NAME",
        default_value = "rootfs",
        help_heading = "Output"
    )]
    pub name: String,

    /// Write the archive exactly to PATH ("-" for standard output)
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

    /// Add a file, link or directory at DEST (default: its own path); ELF files get their libraries (repeatable)
    #[arg(
        long = "add-file",
        value_name = "SRC[:DEST]",
        help_heading = "Extra files"
    )]
    pub add_file: Vec<OsString>,

    /// Print what would be written (path, kind, source or target), and write nothing
    #[arg(long, help_heading = "Inspect without writing")]
    pub list: bool,

    /// Print the dependency tree of each input, with where and how each library was found
    #[arg(long, conflicts_with_all = ["list", "json", "report"], help_heading = "Inspect without writing")]
    pub tree: bool,

    /// Print the plan as JSON for scripts (entries, sizes, which objects need them), and write nothing
    #[arg(long, help_heading = "Inspect without writing")]
    pub json: bool,

    /// Print the archive's size by what brought each file in (after writing, or instead with --list)
    #[arg(long, help_heading = "Inspect without writing")]
    pub report: bool,

    /// Print a shell completion script and exit
    #[arg(long, value_name = "SHELL", hide = true, exclusive = true)]
    pub generate_completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit
    #[arg(long, hide = true, exclusive = true)]
    pub generate_man: bool,

    /// List each archive entry and its source on standard error
    #[arg(short, long, conflicts_with = "quiet", help_heading = "Messages")]
    pub verbose: bool,

    /// Print nothing on success
    #[arg(short, long, help_heading = "Messages")]
    pub quiet: bool,
}
