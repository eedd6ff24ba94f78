//! The command line: flags, turning them into [`Options`], and what is printed.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error. On success standard
//! output stays empty (unless it carries the archive, with `-o -`) and
//! standard error gets one summary line.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::listing::json_text;
use crate::plan::{Kind, Plan};
use crate::report::{Report, human};
use crate::root::Root;
use crate::writer::{Output, Written};
use crate::{Error, Options, Outcome};

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

  Push an image of redis-server to a registry, with no Dockerfile or daemon:
    extract-elf-so --image docker://localhost:5000/redis:scratch /usr/bin/redis-server

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

    /// gzip compression level: 4 to 9 compress as `gzip -N` does, 1 to 3 faster
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

    /// Print nothing on success
    #[arg(short, long, help_heading = "Messages")]
    pub quiet: bool,
}

/// The flags of `--image`: an image written or pushed with no daemon.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Image")]
pub struct ImageFlags {
    /// Also write an image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or docker://HOST[:PORT]/REPO[:TAG]; without -o no tarball is written
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

impl ImageFlags {
    /// The image request, when `--image` was given.
    fn request(&self, level: u32) -> Option<crate::image::Request> {
        Some(crate::image::Request {
            image: self.image.clone()?,
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
            env: self.env.clone(),
            workdir: self.workdir.clone(),
            run_as: self.run_as.clone(),
            expose: self.expose.clone(),
            label: self.label.clone(),
            layer_compression: self.layer_compression.clone(),
            creds: self.creds.clone(),
            insecure: self.insecure,
            level,
        })
    }
}

/// Runs `--image`: the archive too with `-o`, then the image; prints what was done.
fn run_image(cli: &Cli, opts: &Options, request: &crate::image::Request) -> anyhow::Result<()> {
    if cli.json && !cli.report {
        let why = "--json prints the plan and writes nothing; with --image, give --report --json";
        return Err(Error::Usage(why.into()).into());
    }
    let done = crate::image::run(opts, request, cli.output.is_some())?;
    // Standard output carries the archive with -o -.
    let to_stdout = opts.output != Output::Stdout;
    for missing in &done.planned.missing {
        eprintln!("extract-elf-so: warning: not found: {missing}");
    }
    if cli.report {
        let written = done.written.map_or(
            Written {
                tar_bytes: 0,
                gzip_bytes: None,
            },
            |w| w,
        );
        let report = Report::new(&done.planned.plan, written.gzip_bytes);
        let text = match cli.json {
            true => json_text(&serde_json::json!({
                "archive": report.json(),
                "image": crate::image::report_json(&done),
            })),
            false => format!("{}\n{}", report.text(), crate::image::report_text(&done)),
        };
        if to_stdout {
            print!("{text}")
        } else {
            eprint!("{text}")
        }
    }
    if let Some(pushed) = &done.pushed {
        if to_stdout {
            println!("{}", pushed.reference)
        } else {
            eprintln!("{}", pushed.reference)
        }
    }
    if cli.quiet {
        return Ok(());
    }
    if cli.verbose {
        list(&done.planned.plan);
    }
    if let Some(written) = &done.written {
        eprintln!("{}", summary(&opts.output, &done.planned.plan, written));
    }
    eprintln!("{}", crate::image::summary(&done));
    Ok(())
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // Ctrl-C or SIGTERM while writing: remove the partial archive, then exit.
    let _ = ctrlc::set_handler(|| {
        crate::writer::remove_partial();
        crate::image::remove_partial();
        std::process::exit(130);
    });
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("extract-elf-so: error: {err:#}");
            let usage = err
                .downcast_ref::<Error>()
                .is_some_and(|e| matches!(e, Error::Usage(_)));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    if let Some(shell) = cli.generate_completions {
        let mut cmd = Cli::command();
        clap_complete::generate(shell, &mut cmd, "extract-elf-so", &mut std::io::stdout());
        return Ok(());
    }
    if cli.generate_man {
        clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
        return Ok(());
    }
    let opts = options(cli)?;
    if let Some(request) = cli.image.request(cli.level) {
        return run_image(cli, &opts, &request);
    }
    if cli.list || cli.tree || (cli.json && !cli.report) {
        return inspect(cli, &opts);
    }
    let outcome = crate::run(&opts).map_err(anyhow::Error::from)?;
    report(cli, &opts, &outcome);
    Ok(())
}

/// `--list`, `--tree`, `--json`: show the plan on standard output, write nothing.
fn inspect(cli: &Cli, opts: &Options) -> anyhow::Result<()> {
    use std::io::Write as _;
    let planned = crate::plan(opts)?;
    let mut text = String::new();
    if cli.tree {
        text.push_str(&crate::listing::tree(&planned));
    }
    if cli.report {
        let report = Report::new(&planned.plan, None);
        if cli.json {
            text.push_str(&json_text(&report.json()));
        } else {
            text.push_str(&report.text());
        }
    } else if cli.json {
        text.push_str(&crate::listing::json(&planned));
    } else if cli.list {
        text.push_str(&crate::listing::list(&planned));
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    if !planned.missing.is_empty() && !opts.allow_missing {
        return Err(Error::Missing(planned.missing).into());
    }
    for missing in &planned.missing {
        eprintln!("extract-elf-so: warning: not found: {missing}");
    }
    Ok(())
}

/// Turns parsed flags into library options.
pub fn options(cli: &Cli) -> crate::Result<Options> {
    let add_files = cli
        .add_file
        .iter()
        .map(|spec| crate::addfile::AddFile::parse(spec))
        .collect::<crate::Result<Vec<_>>>()?;
    let (output, gzip) = output_of(cli);
    let source_date_epoch = match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => None,
        Some(v) if v.is_empty() => None,
        Some(v) => Some(
            v.to_str()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "SOURCE_DATE_EPOCH={}: expected seconds since 1970",
                        v.to_string_lossy()
                    ))
                })?,
        ),
    };
    Ok(Options {
        inputs: cli.inputs.clone(),
        dest: cli.dest.clone(),
        add: cli.add.clone(),
        sodir: cli.sodir.clone(),
        root: cli.root.as_ref().map_or_else(Root::host, Root::new),
        library_path: cli.library_path.clone(),
        add_files,
        nss_net: cli.nss_net,
        cert: cli.cert,
        allow_missing: cli.allow_missing,
        output,
        gzip: gzip.then_some(cli.level),
        source_date_epoch,
    })
}

/// The output and whether to compress: `-o` is taken as given (gzip with `-z`
/// or a `.gz`/`.tgz` name); `-n NAME` gets `.tar` or `.tar.gz`, and a name
/// that already ends in one is not doubled (`.tar.gz` turns gzip on).
pub fn output_of(cli: &Cli) -> (Output, bool) {
    if let Some(path) = &cli.output {
        if path.as_os_str() == "-" {
            return (Output::Stdout, cli.gzip);
        }
        let name = path.to_string_lossy();
        let gz = cli.gzip || name.ends_with(".gz") || name.ends_with(".tgz");
        return (Output::File(path.clone()), gz);
    }
    let name = cli.name.as_str();
    let (base, gz) = if let Some(base) = name.strip_suffix(".tar.gz") {
        (base, true)
    } else if let Some(base) = name.strip_suffix(".tgz") {
        (base, true)
    } else if let Some(base) = name.strip_suffix(".tar") {
        (base, cli.gzip)
    } else {
        (name, cli.gzip)
    };
    let gz = gz || cli.gzip;
    let mut file = OsString::from(base);
    file.push(if gz { ".tar.gz" } else { ".tar" });
    (Output::File(PathBuf::from(file)), gz)
}

fn report(cli: &Cli, opts: &Options, outcome: &Outcome) {
    for missing in &outcome.planned.missing {
        eprintln!("extract-elf-so: warning: not found: {missing}");
    }
    let plan = &outcome.planned.plan;
    if cli.report {
        let report = Report::new(plan, outcome.written.gzip_bytes);
        let text = if cli.json {
            json_text(&report.json())
        } else {
            report.text()
        };
        // Standard output carries the archive with -o -.
        if opts.output == Output::Stdout {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
    if cli.quiet {
        return;
    }
    if cli.verbose {
        list(plan);
    }
    eprintln!("{}", summary(&opts.output, plan, &outcome.written));
}

fn list(plan: &Plan) {
    for entry in &plan.entries {
        let path = entry.path.display();
        match &entry.kind {
            Kind::Dir => eprintln!("  {path}/"),
            Kind::File { source, .. } => {
                eprintln!(
                    "  {path}  <- {} ({})",
                    source.display(),
                    entry.role.as_str()
                )
            }
            Kind::Generated { .. } => eprintln!("  {path}  (generated, {})", entry.role.as_str()),
            Kind::Symlink { target } => eprintln!("  {path} -> {}", target.display()),
        }
    }
}

/// The one line printed on success.
pub fn summary(output: &Output, plan: &Plan, written: &Written) -> String {
    let files = plan.file_count();
    let links = plan
        .entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::Symlink { .. }))
        .count();
    let mut line = format!(
        "extract-elf-so: wrote {}: {files} {}, {links} {}, {}",
        output.display(),
        if files == 1 { "file" } else { "files" },
        if links == 1 { "link" } else { "links" },
        human(plan.content_size()),
    );
    if let Some(gz) = written.gzip_bytes {
        line.push_str(&format!(" ({} gzipped)", human(gz)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("extract-elf-so").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn output_names() {
        let cases: &[(&[&str], Output, bool)] = &[
            (&["a"], Output::File("rootfs.tar".into()), false),
            (&["-z", "a"], Output::File("rootfs.tar.gz".into()), true),
            (
                &["-n", "out/x", "a"],
                Output::File("out/x.tar".into()),
                false,
            ),
            (&["-n", "x.tar", "a"], Output::File("x.tar".into()), false),
            (
                &["-n", "x.tar", "-z", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (
                &["-n", "x.tar.gz", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (
                &["-n", "x.tar.gz", "-z", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (&["-o", "-", "a"], Output::Stdout, false),
            (&["-o", "-", "-z", "a"], Output::Stdout, true),
            (
                &["-o", "img.tgz", "a"],
                Output::File("img.tgz".into()),
                true,
            ),
            (&["-o", "img", "a"], Output::File("img".into()), false),
        ];
        for (args, want, gz) in cases {
            assert_eq!(output_of(&parse(args)), (want.clone(), *gz), "{args:?}");
        }
    }

    #[test]
    fn original_flags_and_prefixes() {
        let cli = parse(&[
            "./a", "-d", "bin", "--add", "x.so", "-a", "y.so", "-s", "lib", "-z", "./b",
        ]);
        assert_eq!(cli.inputs, vec![PathBuf::from("./a"), "./b".into()]);
        assert_eq!(cli.add, vec![PathBuf::from("x.so"), "y.so".into()]);
        assert_eq!(cli.dest, PathBuf::from("bin"));
        assert!(cli.gzip);
        assert!(parse(&["--nss", "a"]).nss_net);
        assert!(parse(&["--allow", "a"]).allow_missing);
        let cli = parse(&["a"]);
        assert_eq!(cli.dest, PathBuf::from("/usr/local/bin"));
        assert_eq!(cli.sodir, PathBuf::from("/usr/lib"));
        assert_eq!(cli.name, "rootfs");
    }

    #[test]
    fn sizes() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(7_730_000), "7.7 MB");
        assert_eq!(human(1_500), "1.5 kB");
    }
}
