//! `--image`: the image request from the flags, the image written or pushed,
//! its part of `--report`, and its errors worded with the flags.

use std::path::PathBuf;

use extract_elf_so::{
    CredsSource, ImageError, ImageOutcome, ImageRequest, ImageSetting, ImageSettings, Login,
    Options, Planned, Report, chain,
};

use super::args::Cli;

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

/// Writes or pushes the image of `planned`.
pub fn write(
    cli: &Cli,
    opts: &Options,
    planned: &Planned,
    settings: &ImageSettings,
) -> anyhow::Result<ImageOutcome> {
    let program = program(opts);
    let epoch = opts.source_date_epoch.unwrap_or(0);
    Ok(extract_elf_so::write_image(
        planned,
        settings,
        program.as_deref(),
        epoch,
        cli.level,
    )?)
}

/// `--report` with `--image`: the archive's report and the image's layers.
pub fn report(cli: &Cli, report: &Report, done: &ImageOutcome) -> String {
    match cli.json {
        true => format!(
            "{{\"archive\":{},\"image\":{}}}\n",
            report.json().trim_end(),
            extract_elf_so::image_report_json(done)
        ),
        false => format!(
            "{}\n{}",
            report.text(),
            extract_elf_so::image_report_text(done)
        ),
    }
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
