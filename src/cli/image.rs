//! `--image`: the image request from the flags, and the run that plans,
//! writes the archive too when `-o` names one, writes or pushes the image,
//! and prints what it did.

use std::path::PathBuf;

use extract_elf_so::{
    CredsSource, ImageError, ImageRequest, ImageSetting, ImageSettings, Login, Options, Output,
    Report, Written, chain,
};

use super::args::Cli;
use super::{MissingLibraries, Usage, options, print};

/// The image request, when `--image` was given.
pub fn request(cli: &Cli) -> Option<ImageRequest> {
    let flags = &cli.image;
    Some(ImageRequest {
        image: flags.image.clone()?,
        entrypoint: flags.entrypoint.clone(),
        cmd: flags.cmd.clone(),
        env: flags.env.clone(),
        workdir: flags.workdir.clone(),
        run_as: flags.run_as.clone(),
        expose: flags.expose.clone(),
        label: flags.label.clone(),
        layer_compression: flags.layer_compression.clone(),
        creds: flags.creds.clone(),
        insecure: flags.insecure,
        level: cli.level,
    })
}

/// Plans; writes the archive when `-o` is given; writes or pushes the image.
pub fn run(cli: &Cli, opts: &Options, request: &ImageRequest) -> anyhow::Result<()> {
    if cli.json && !cli.report {
        let why = "--json prints the plan and writes nothing; with --image, give --report --json";
        return Err(Usage(why.into()).into());
    }
    let settings = ImageSettings::new(request)?;
    let planned = extract_elf_so::plan(opts)?;
    if !planned.missing.is_empty() && !cli.allow_missing {
        return Err(MissingLibraries(planned.missing).into());
    }
    let (output, gzip) = options::output_of(cli);
    let written = match cli.output.is_some() {
        true => Some(extract_elf_so::write(
            &planned.plan,
            &output,
            gzip.then_some(cli.level),
        )?),
        false => None,
    };
    let program = program(opts);
    let epoch = opts.source_date_epoch.unwrap_or(0);
    let done =
        extract_elf_so::write_image(&planned, &settings, program.as_deref(), epoch, cli.level)?;
    print::warn_missing(&planned.missing);
    // Standard output carries the archive with -o -.
    let to_stdout = !(written.is_some() && output == Output::Stdout);
    let say = |text: &str| match to_stdout {
        true => print!("{text}"),
        false => eprint!("{text}"),
    };
    if cli.report {
        let compressed = written.and_then(|w: Written| w.gzip_bytes);
        let report = Report::new(&planned.plan, compressed);
        let text = match cli.json {
            true => format!(
                "{{\"archive\":{},\"image\":{}}}\n",
                report.json().trim_end(),
                extract_elf_so::image_report_json(&done)
            ),
            false => format!(
                "{}\n{}",
                report.text(),
                extract_elf_so::image_report_text(&done)
            ),
        };
        say(&text);
    }
    if let Some(pushed) = &done.pushed {
        say(&format!("{}\n", pushed.reference));
    }
    if cli.quiet {
        return Ok(());
    }
    if cli.verbose {
        eprint!("{}", extract_elf_so::verbose(&planned.plan));
    }
    if let Some(written) = &written {
        eprintln!("{}", print::summary(&output, &planned.plan, written));
    }
    eprintln!("{}", extract_elf_so::image_summary(&done));
    Ok(())
}

/// The first input's place in the image, the default entrypoint; none when
/// the first input is a directory.
fn program(opts: &Options) -> Option<PathBuf> {
    let first = opts.inputs.first()?;
    if std::fs::metadata(first).is_ok_and(|m| m.is_dir()) {
        return None;
    }
    Some(opts.dest.join(first.file_name()?).as_path().to_path_buf())
}

/// An image error, with the flag that gives the setting it names.
pub fn error(err: &ImageError) -> String {
    match err {
        ImageError::Value {
            setting,
            value,
            reason,
        } => format!("{} {value}: {reason}", setting_flag(*setting)),
        ImageError::Status {
            registry,
            method,
            url,
            status,
            detail,
            login: Some(login),
        } => format!(
            "registry {registry}: {method} {url}: {status}{detail}; {}",
            login_advice(login)
        ),
        ImageError::HttpsOnly {
            registry,
            method,
            url,
            reason,
        } => format!(
            "registry {registry}: {method} {url}: {reason} (plain HTTP is used only with --insecure)"
        ),
        ImageError::PlainTokenRealm { .. } => format!("{}; use --insecure to allow it", chain(err)),
        ImageError::NoCredentials { registry, login } => format!(
            "registry {registry}: authentication required; {}",
            login_advice(login)
        ),
        _ => chain(err),
    }
}

/// The flag that sets an image setting.
fn setting_flag(setting: ImageSetting) -> &'static str {
    match setting {
        ImageSetting::Image => "--image",
        ImageSetting::Creds => "--creds",
        ImageSetting::Env => "--env",
        ImageSetting::Label => "--label",
        ImageSetting::Workdir => "--workdir",
        ImageSetting::RunAs => "--run-as",
        ImageSetting::Expose => "--expose",
        ImageSetting::LayerCompression => "--layer-compression",
    }
}

/// What to check or give after a registry refused a login.
fn login_advice(login: &Login) -> String {
    match login {
        Login::Check {
            user,
            from: CredsSource::Given,
        } => format!("check the credentials of {user} (from --creds)"),
        Login::Check { .. } => login.to_string(),
        Login::Missing { host } => format!(
            "give --creds USER[:PASS] or an auths entry for {host} in $DOCKER_CONFIG/config.json"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_errors_name_the_flag() {
        let err = anyhow::Error::from(ImageError::Value {
            setting: ImageSetting::Expose,
            value: "http".into(),
            reason: "expected PORT[/PROTO]".into(),
        });
        assert_eq!(
            error(err.downcast_ref().unwrap()),
            "--expose http: expected PORT[/PROTO]"
        );
        let err = anyhow::Error::from(ImageError::NoCredentials {
            registry: "r:5000".into(),
            login: Box::new(Login::Missing {
                host: "r:5000".into(),
            }),
        });
        assert_eq!(
            error(err.downcast_ref().unwrap()),
            "registry r:5000: authentication required; give --creds USER[:PASS] or an auths entry for r:5000 in $DOCKER_CONFIG/config.json"
        );
    }
}
