//! The command line: flags ([`args`]), the library's options from them
//! ([`options`]), and what is printed ([`print`]).
//!
//! Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted. On
//! success standard output stays empty (unless it carries the archive, with
//! `-o -`, or a view was asked for) and standard error gets one summary line,
//! then one `hint:` line per run-time need worth one that is not met.
//! Nothing printed can panic: a view's reader that went away (`| head`) ends
//! it quietly, and a standard error that cannot be written is let be.

mod args;
mod hints;
mod image;
mod options;
mod print;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use extract_elf_so::{Error, ImageSettings, Need, Options, Output, Report};

use args::Cli;

/// A usage error of ours (exit code 2): a value clap cannot check.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Libraries the loader would not find, refused without `--allow-missing`.
#[derive(Debug, thiserror::Error)]
#[error("{}", print::missing_list(.0))]
struct MissingLibraries(Vec<extract_elf_so::Missing>);

/// Run-time needs worth a hint that the plan does not meet, refused with `--strict`.
#[derive(Debug, thiserror::Error)]
#[error("{}", hints::unmet_list(.0))]
struct UnmetNeeds(Vec<Need>);

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // A panic is a bug: say so in one line, without the runtime's backtrace,
    // whose capture needs memory and can deadlock when memory is what ran out.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "extract-elf-so: internal error: {info}");
    }));
    // Ctrl-C or SIGTERM while writing: remove the partial archive, then exit.
    let _ = ctrlc::set_handler(|| {
        extract_elf_so::remove_partial();
        extract_elf_so::remove_partial_image();
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
        Ok(code) => code,
        Err(err) => {
            print::say(&format!("extract-elf-so: error: {}\n", print::error(&err)));
            ExitCode::from(if is_usage(&err) { 2 } else { 1 })
        }
    }
}

/// Whether an error is the user's way of asking (exit code 2).
fn is_usage(err: &anyhow::Error) -> bool {
    err.is::<Usage>()
        || matches!(
            err.downcast_ref::<Error>(),
            Some(Error::StdoutIsTerminal | Error::OutputIsTerminal { .. } | Error::BadRoot { .. })
        )
        || err
            .downcast_ref::<extract_elf_so::ImageError>()
            .is_some_and(|e| e.is_usage())
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    if let Some(shell) = cli.generate_completions {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "extract-elf-so", &mut text);
        print::emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    if cli.generate_man {
        let mut text = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut text)?;
        print::emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let opts = options::options(cli)?;
    let image = image::request(cli);
    if image.is_none() && (cli.list || cli.tree || (cli.json && !cli.report)) {
        inspect(cli, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    if image.is_some() && cli.json && !cli.report {
        let why = "--json prints the plan and writes nothing; with --image, give --report --json";
        return Err(Usage(why.into()).into());
    }
    let settings = image.as_ref().map(ImageSettings::new).transpose()?;
    let planned = extract_elf_so::plan(&opts)?;
    if !planned.missing.is_empty() && !cli.allow_missing {
        return Err(MissingLibraries(planned.missing).into());
    }
    strict(cli, &planned.needs)?;
    // The archive, unless only an image was asked for.
    let (output, gzip) = options::output_of(cli);
    let written = match settings.is_none() || cli.output.is_some() {
        true => Some(extract_elf_so::write(
            &planned,
            &output,
            gzip.then_some(cli.level),
        )?),
        false => None,
    };
    let done = match &settings {
        Some(settings) => Some(image::write(cli, &opts, &planned, settings)?),
        None => None,
    };
    print::warn_missing(&planned.missing);
    print::warn_setid(&planned.dropped_setid);
    let changed = written.as_ref().map_or(&[][..], |w| &w.changed[..]);
    print::warn_changed(changed);
    // Standard output carries the archive with -o -; what is printed goes
    // to standard error then.
    let archive_on_stdout = written.is_some() && output == Output::Stdout;
    let show = |text: &str| match archive_on_stdout {
        true => {
            print::say(text);
            Ok(())
        }
        false => print::emit(text.as_bytes()),
    };
    if cli.report {
        let compressed = written.as_ref().and_then(|w| w.gzip_bytes);
        let report = Report::new(&planned.plan, compressed);
        let text = match &done {
            Some(done) => image::report(cli, &report, done),
            None if cli.json => report.json(),
            None => report.text(),
        };
        show(&text)?;
    }
    if let Some(pushed) = done.as_ref().and_then(|d| d.pushed.as_ref()) {
        show(&format!("{}\n", pushed.reference))?;
    }
    if !cli.quiet {
        if cli.verbose {
            print::say(&extract_elf_so::verbose(&planned.plan));
        }
        if let Some(written) = &written {
            let line = print::summary(&output, &planned.plan, written);
            print::say(&format!("{line}\n"));
        }
        if let Some(done) = &done {
            print::say(&format!("{}\n", extract_elf_so::image_summary(done)));
        }
        hints::print(&planned.needs);
    }
    // A file changed while it was read: the archive is written and valid,
    // but not the snapshot asked for. GNU tar exits 1 for this too.
    Ok(if changed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// With `--strict`, refuses a plan that leaves a need worth a hint unmet.
fn strict(cli: &Cli, needs: &[Need]) -> anyhow::Result<()> {
    if cli.strict && needs.iter().any(Need::unmet_hint) {
        return Err(UnmetNeeds(needs.to_vec()).into());
    }
    Ok(())
}

/// `--list`, `--tree`, `--json`: show the plan on standard output, write nothing.
fn inspect(cli: &Cli, opts: &Options) -> anyhow::Result<()> {
    let planned = extract_elf_so::plan(opts)?;
    let mut text = String::new();
    if cli.tree {
        text.push_str(&extract_elf_so::tree(&planned, &hints::flag));
    }
    if cli.report {
        let report = Report::new(&planned.plan, None);
        if cli.json {
            text.push_str(&report.json());
        } else {
            text.push_str(&report.text());
        }
    } else if cli.json {
        text.push_str(&extract_elf_so::json(&planned, &hints::flag));
    } else if cli.list {
        text.push_str(&extract_elf_so::list(&planned.plan));
    }
    print::emit(text.as_bytes())?;
    if !planned.missing.is_empty() && !cli.allow_missing {
        return Err(MissingLibraries(planned.missing).into());
    }
    strict(cli, &planned.needs)?;
    print::warn_missing(&planned.missing);
    print::warn_setid(&planned.dropped_setid);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("extract-elf-so").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn original_flags_and_prefixes() {
        use std::path::PathBuf;
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
}
