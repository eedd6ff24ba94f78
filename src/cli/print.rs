//! What the command line prints: the summary, warnings, and errors with the
//! flag that would help.

use extract_elf_so::{
    CredsSource, Error, ImageError, ImageSetting, Login, Missing, Output, Plan, Written, chain,
    human,
};

/// The one line printed on success.
pub fn summary(output: &Output, plan: &Plan, written: &Written) -> String {
    let files = plan.file_count();
    let links = plan.link_count();
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

/// One warning per library the loader would not find (with `--allow-missing`).
pub fn warn_missing(missing: &[Missing]) {
    for missing in missing {
        eprintln!("extract-elf-so: warning: not found: {missing}");
    }
}

/// The refusal when libraries are missing.
pub fn missing_list(missing: &[Missing]) -> String {
    let n = missing.len();
    let mut text = format!(
        "{n} {} the loader would not find (use --allow-missing to pack anyway):",
        if n == 1 { "library" } else { "libraries" }
    );
    for missing in missing {
        text.push_str(&format!("\n  {missing}"));
    }
    text
}

/// An error as one message: the library's with its causes and, where a flag
/// would help, the flag.
pub fn error(err: &anyhow::Error) -> String {
    if let Some(image) = err.downcast_ref::<ImageError>() {
        return image_error(image);
    }
    let Some(lib) = err.downcast_ref::<Error>() else {
        return format!("{err:#}");
    };
    let text = chain(lib);
    match lib {
        Error::NssModulesMissing { .. } => format!("--nss-net: {text}"),
        Error::NetFileMissing { file, .. } => format!(
            "--nss-net: {text} (install netbase in the root, or give one with --add-file {})",
            file.display()
        ),
        Error::NoCaBundle { .. } => {
            format!("--cert: {text} (Debian and Ubuntu: install ca-certificates)")
        }
        Error::LinkLeavesTree { .. } => format!("{text}; add its target with --add-file"),
        _ => text,
    }
}

/// An image error, with the flag that gives the setting it names.
fn image_error(err: &ImageError) -> String {
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
    fn sizes() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(7_730_000), "7.7 MB");
        assert_eq!(human(1_500), "1.5 kB");
    }

    #[test]
    fn errors_that_a_flag_would_help_name_it() {
        let err = anyhow::Error::from(Error::LinkLeavesTree {
            link: "/t/link".into(),
        });
        assert_eq!(
            error(&err),
            "/t/link: the link leads out of the directory input to something the archive does not hold; add its target with --add-file"
        );
        let err = anyhow::Error::from(Error::NoCaBundle {
            root: Some("/r".into()),
            looked: vec!["/a", "/b"],
        });
        assert_eq!(
            error(&err),
            "--cert: no CA bundle found in the root /r; looked for /a, /b (Debian and Ubuntu: install ca-certificates)"
        );
    }

    #[test]
    fn image_errors_name_the_flag() {
        let err = anyhow::Error::from(ImageError::Value {
            setting: ImageSetting::Expose,
            value: "http".into(),
            reason: "expected PORT[/PROTO]".into(),
        });
        assert_eq!(error(&err), "--expose http: expected PORT[/PROTO]");
        let err = anyhow::Error::from(ImageError::NoCredentials {
            registry: "r:5000".into(),
            login: Box::new(Login::Missing {
                host: "r:5000".into(),
            }),
        });
        assert_eq!(
            error(&err),
            "registry r:5000: authentication required; give --creds USER[:PASS] or an auths entry for r:5000 in $DOCKER_CONFIG/config.json"
        );
    }
}
