//! The image's configuration: the flags that shape it (`--entrypoint`,
//! `--cmd`, `--env`, `--workdir`, `--run-as`, `--expose`, `--label`, the
//! layer compression and registry access), checked once, and the platform,
//! read from the ELF files that were packed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{ImageError, Setting};
use super::oci::{Empty, Platform, RunConfig};
use super::reference::Reference;
use crate::elf::Header;
use crate::elf::consts as elf;
use crate::plan::Planned;

/// The image flags as given, free of command-line types.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub image: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub run_as: Option<String>,
    pub expose: Vec<String>,
    pub label: Vec<String>,
    pub layer_compression: Option<String>,
    pub creds: Option<String>,
    pub insecure: bool,
    /// The gzip level (`--level`).
    pub level: u32,
}

/// How layers are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// The same compressor and level as `-z`.
    Gzip,
    /// zstd at its default level, as Docker 23 and containerd read it.
    Zstd,
}

/// The directories searched for programs when `--env PATH=...` is not given: Docker's.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Checked image settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub reference: Reference,
    /// `None`: the first input at its place in the image.
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Vec<String>,
    /// `KEY=VALUE` in the order given, later keys replacing earlier ones.
    pub env: Vec<(String, String)>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    /// `PORT/PROTO`.
    pub expose: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub compression: Compression,
    /// `USER[:PASS]` from `--creds`.
    pub creds: Option<String>,
    pub insecure: bool,
}

impl Settings {
    /// Checks the settings; every error names the setting and the value.
    pub fn new(req: &Request) -> Result<Settings, ImageError> {
        let mut env: Vec<(String, String)> = Vec::new();
        for spec in &req.env {
            let (key, value) = key_value(Setting::Env, spec)?;
            env.retain(|(k, _)| *k != key);
            env.push((key, value));
        }
        let mut labels = BTreeMap::new();
        for spec in &req.label {
            let (key, value) = key_value(Setting::Label, spec)?;
            labels.insert(key, value);
        }
        let expose = req
            .expose
            .iter()
            .map(|p| port(p))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(dir) = &req.workdir
            && !dir.starts_with('/')
        {
            return Err(ImageError::value(
                Setting::Workdir,
                dir,
                "expected an absolute path",
            ));
        }
        if let Some(user) = &req.run_as {
            let mut parts = user.split(':');
            let ok = user.split(':').count() <= 2
                && parts.all(|p| !p.is_empty() && !p.contains(char::is_whitespace));
            if !ok {
                return Err(ImageError::value(
                    Setting::RunAs,
                    user,
                    "expected USER[:GROUP]",
                ));
            }
        }
        let compression = match req.layer_compression.as_deref() {
            None | Some("gzip") => Compression::Gzip,
            Some("zstd") => Compression::Zstd,
            Some(other) => {
                return Err(ImageError::value(
                    Setting::LayerCompression,
                    other,
                    "expected gzip or zstd",
                ));
            }
        };
        let reference = Reference::parse(&req.image)?;
        Ok(Settings {
            reference,
            entrypoint: (!req.entrypoint.is_empty()).then(|| req.entrypoint.clone()),
            cmd: req.cmd.clone(),
            env,
            workdir: req.workdir.clone(),
            user: req.run_as.clone(),
            expose,
            labels,
            compression,
            creds: req.creds.clone(),
            insecure: req.insecure,
        })
    }

    /// The run-time configuration; `program` is the first input's place in the image.
    pub fn run_config(&self, program: Option<&Path>) -> RunConfig {
        let mut env = Vec::new();
        if !self.env.iter().any(|(k, _)| k == "PATH") {
            let mut path = DEFAULT_PATH.to_string();
            if let Some(dir) = program.and_then(Path::parent).and_then(Path::to_str)
                && !path.split(':').any(|d| d == dir)
            {
                path = format!("{dir}:{path}");
            }
            env.push(format!("PATH={path}"));
        }
        env.extend(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        let entrypoint = match &self.entrypoint {
            Some(args) => Some(args.clone()),
            None => program.map(|p| vec![p.display().to_string()]),
        };
        RunConfig {
            user: self.user.clone(),
            exposed_ports: self.expose.iter().map(|p| (p.clone(), Empty {})).collect(),
            env,
            entrypoint,
            cmd: (!self.cmd.is_empty()).then(|| self.cmd.clone()),
            working_dir: self.workdir.clone(),
            labels: self.labels.clone(),
        }
    }
}

fn key_value(setting: Setting, spec: &str) -> Result<(String, String), ImageError> {
    match spec.split_once('=') {
        Some((key, value)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
            Ok((key.to_string(), value.to_string()))
        }
        _ => Err(ImageError::value(setting, spec, "expected KEY=VALUE")),
    }
}

/// `PORT[/PROTO]` as `PORT/PROTO`, `tcp` when no protocol is given.
fn port(spec: &str) -> Result<String, ImageError> {
    let (number, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    match number.parse::<u16>() {
        Ok(n) if n > 0 && matches!(proto.as_str(), "tcp" | "udp" | "sctp") => {
            Ok(format!("{n}/{proto}"))
        }
        _ => Err(ImageError::value(
            Setting::Expose,
            spec,
            "expected PORT[/PROTO] with PORT 1-65535 and PROTO tcp, udp or sctp",
        )),
    }
}

/// The platform of an ELF header, as Go names it.
pub fn platform_of(header: &Header) -> Option<Platform> {
    let (architecture, variant) = match (header.machine, header.is_64()) {
        (elf::EM_X86_64, true) => ("amd64", None),
        (elf::EM_386, false) => ("386", None),
        (elf::EM_AARCH64, true) => ("arm64", Some("v8")),
        (elf::EM_ARM, false) if header.flags & elf::EF_ARM_ABI_FLOAT_HARD != 0 => {
            ("arm", Some("v7"))
        }
        (elf::EM_ARM, false) => ("arm", Some("v5")),
        (elf::EM_PPC64, true) if !header.is_big_endian() => ("ppc64le", None),
        (elf::EM_PPC64, true) => ("ppc64", None),
        (elf::EM_S390, true) => ("s390x", None),
        (elf::EM_RISCV, true) => ("riscv64", None),
        (elf::EM_MIPS, true) if !header.is_big_endian() => ("mips64le", None),
        (elf::EM_LOONGARCH, true) => ("loong64", None),
        _ => return None,
    };
    Some(Platform {
        architecture,
        os: "linux",
        variant,
    })
}

/// The one platform of every ELF file packed; files of two machines are an error.
pub fn platform(planned: &Planned) -> Result<Platform, ImageError> {
    let mut found: Option<(Platform, PathBuf)> = None;
    for closure in &planned.closures {
        let Some(first) = closure.objects.first() else {
            continue;
        };
        let path = &first.source;
        let this = platform_of(&closure.loader.header).ok_or_else(|| ImageError::Platform {
            path: path.clone(),
            reason: format!(
                "no container platform for ELF machine {} ({}-bit)",
                closure.loader.header.machine,
                if closure.loader.header.is_64() {
                    64
                } else {
                    32
                }
            ),
        })?;
        match &found {
            None => found = Some((this, path.clone())),
            Some((seen, seen_at)) if *seen != this => {
                return Err(ImageError::Platform {
                    path: path.clone(),
                    reason: format!(
                        "built for {}, but {} is for {}: one image holds one platform",
                        name(&this),
                        seen_at.display(),
                        name(seen)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    found.map(|(p, _)| p).ok_or_else(|| ImageError::Platform {
        path: PathBuf::from("the inputs"),
        reason: "no ELF file to tell the image's platform from".into(),
    })
}

fn name(p: &Platform) -> String {
    match p.variant {
        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
        None => format!("{}/{}", p.os, p.architecture),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(f: impl FnOnce(&mut Request)) -> Result<Settings, ImageError> {
        let mut req = Request {
            image: "oci:out".into(),
            ..Request::default()
        };
        f(&mut req);
        Settings::new(&req)
    }

    #[test]
    fn defaults_run_the_first_input_with_its_directory_on_path() {
        let s = settings(|_| {}).unwrap();
        let run = s.run_config(Some(Path::new("/app/bin/server")));
        assert_eq!(run.entrypoint, Some(vec!["/app/bin/server".to_string()]));
        assert_eq!(run.env, vec![format!("PATH=/app/bin:{DEFAULT_PATH}")]);
        assert_eq!(run.cmd, None);
        let run = s.run_config(Some(Path::new("/usr/local/bin/redis-server")));
        assert_eq!(run.env, vec![format!("PATH={DEFAULT_PATH}")]);
    }

    #[test]
    fn flags_shape_the_configuration() {
        let s = settings(|r| {
            r.entrypoint = vec!["/bin/a".into(), "-x".into()];
            r.cmd = vec!["--port".into(), "7000".into()];
            r.env = vec!["A=1".into(), "PATH=/bin".into(), "A=2=3".into()];
            r.expose = vec!["6379".into(), "53/UDP".into()];
            r.label = vec!["b=2".into(), "a=1".into()];
            r.run_as = Some("1000:1000".into());
            r.workdir = Some("/data".into());
            r.layer_compression = Some("zstd".into());
        })
        .unwrap();
        let run = s.run_config(Some(Path::new("/usr/local/bin/a")));
        assert_eq!(run.entrypoint.unwrap(), ["/bin/a", "-x"]);
        assert_eq!(run.cmd.unwrap(), ["--port", "7000"]);
        assert_eq!(run.env, ["PATH=/bin", "A=2=3"]);
        let ports: Vec<&String> = run.exposed_ports.keys().collect();
        assert_eq!(ports, ["53/udp", "6379/tcp"]);
        assert_eq!(run.labels.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(run.user.as_deref(), Some("1000:1000"));
        assert_eq!(run.working_dir.as_deref(), Some("/data"));
        assert_eq!(s.compression, Compression::Zstd);
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_setting() {
        type Edit = fn(&mut Request);
        let cases: [(Setting, Edit); 8] = [
            (Setting::Env, |r| r.env = vec!["NOVALUE".into()]),
            (Setting::Env, |r| r.env = vec!["=x".into()]),
            (Setting::Label, |r| r.label = vec!["x".into()]),
            (Setting::Expose, |r| r.expose = vec!["0".into()]),
            (Setting::Expose, |r| r.expose = vec!["80/http".into()]),
            (Setting::Workdir, |r| r.workdir = Some("data".into())),
            (Setting::RunAs, |r| r.run_as = Some("a:b:c".into())),
            (Setting::LayerCompression, |r| {
                r.layer_compression = Some("xz".into())
            }),
        ];
        for (want, f) in cases {
            let err = settings(f).unwrap_err();
            assert!(
                matches!(err, ImageError::Value { setting, .. } if setting == want),
                "{err}"
            );
        }
    }

    #[test]
    fn platforms_by_machine() {
        let header = |machine, class, data, flags| Header {
            class,
            data,
            osabi: 0,
            e_type: elf::ET_DYN,
            machine,
            flags,
        };
        let (c32, c64, le, be) = (
            elf::ELFCLASS32,
            elf::ELFCLASS64,
            elf::ELFDATA2LSB,
            elf::ELFDATA2MSB,
        );
        let cases = [
            (header(elf::EM_X86_64, c64, le, 0), "linux/amd64"),
            (header(elf::EM_AARCH64, c64, le, 0), "linux/arm64/v8"),
            (
                header(elf::EM_ARM, c32, le, elf::EF_ARM_ABI_FLOAT_HARD),
                "linux/arm/v7",
            ),
            (header(elf::EM_386, c32, le, 0), "linux/386"),
            (header(elf::EM_PPC64, c64, le, 0), "linux/ppc64le"),
            (header(elf::EM_S390, c64, be, 0), "linux/s390x"),
            (header(elf::EM_RISCV, c64, le, 0), "linux/riscv64"),
        ];
        for (h, want) in cases {
            assert_eq!(name(&platform_of(&h).unwrap()), want);
        }
        assert!(platform_of(&header(elf::EM_X86_64, c32, le, 0)).is_none());
    }
}
