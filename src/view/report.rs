//! The size view (`--report`): what each part of the archive costs.
//!
//! Files are grouped by what brought them in (the inputs, their libraries,
//! NSS, certificates, each flag that packs a run-time need, what libc and
//! dlopen notes load, extra files), each group and each file sorted largest
//! first, with totals, each group's share, and the compressed size when the
//! archive was gzipped. Text fits an 80-column terminal.

use std::fmt::Write as _;

use serde::Serialize;

use super::json::pretty;
use crate::fsroot::Node;
use crate::plan::{Plan, Role};

/// One group of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: &'static str,
    /// Bytes of all files in the group.
    pub size: u64,
    /// Archive path and size of each file, largest first.
    pub files: Vec<(String, u64)>,
}

/// The size view of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Groups, largest first; empty groups left out.
    pub groups: Vec<Group>,
    pub total: u64,
    /// Size of the gzip stream, when the archive was compressed.
    pub compressed: Option<u64>,
}

/// The group a role belongs to.
fn group_of(role: Role) -> &'static str {
    match role {
        Role::Input => "inputs",
        Role::Interpreter | Role::Library | Role::Added | Role::LoaderConfig | Role::Parent => {
            "libraries"
        }
        Role::Dlopen => "dlopen",
        Role::Nss => "nss",
        Role::LibcDlopen => "libc dlopens",
        Role::Note => "dlopen notes",
        Role::Cert => "certificates",
        Role::Users => "users",
        Role::Gconv => "gconv",
        Role::Tzdata => "time zones",
        Role::Locale => "locale",
        Role::Shell => "shell",
        Role::Extra => "extra files",
    }
}

impl Report {
    /// Builds the report of `plan`.
    pub fn new(plan: &Plan, compressed: Option<u64>) -> Report {
        let mut groups: Vec<Group> = Vec::new();
        for entry in &plan.entries {
            let size = match &entry.node {
                Node::File { size, .. } => *size,
                Node::Generated { content } => content.len() as u64,
                _ => continue,
            };
            let name = group_of(entry.role);
            let group = match groups.iter().position(|g| g.name == name) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(Group {
                        name,
                        size: 0,
                        files: Vec::new(),
                    });
                    groups.last_mut().expect("just pushed")
                }
            };
            group.size += size;
            group
                .files
                .push((entry.path.relative().display().to_string(), size));
        }
        for group in &mut groups {
            group
                .files
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        groups.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(b.name)));
        let total = groups.iter().map(|g| g.size).sum();
        Report {
            groups,
            total,
            compressed,
        }
    }

    fn share(&self, size: u64) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            size as f64 * 100.0 / self.total as f64
        }
    }

    /// The report as a table of at most 80 columns.
    pub fn text(&self) -> String {
        const PATH: usize = 56;
        let mut out = String::new();
        let _ = writeln!(out, "{:<PATH$} {:>12} {:>8}", "what", "size", "share");
        for group in &self.groups {
            let title = format!("{} ({})", group.name, files(group.files.len()));
            let _ = writeln!(
                out,
                "{title:<PATH$} {:>12} {:>7.1}%",
                human(group.size),
                self.share(group.size)
            );
            for (path, size) in &group.files {
                let _ = writeln!(
                    out,
                    "  {:<w$} {:>12}",
                    elide(path, PATH - 2),
                    human(*size),
                    w = PATH - 2
                );
            }
        }
        let count: usize = self.groups.iter().map(|g| g.files.len()).sum();
        let title = format!("total ({})", files(count));
        let _ = writeln!(
            out,
            "{title:<PATH$} {:>12} {:>7.1}%",
            human(self.total),
            100.0
        );
        if let Some(gz) = self.compressed {
            let _ = writeln!(out, "{:<PATH$} {:>12}", "gzipped archive", human(gz));
        }
        out
    }

    /// The same data as JSON text (keys in alphabetical order).
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct FileJson<'a> {
            path: &'a str,
            size: u64,
        }
        #[derive(Serialize)]
        struct GroupJson<'a> {
            files: Vec<FileJson<'a>>,
            name: &'a str,
            /// Percent of the total, one decimal.
            share: f64,
            size: u64,
        }
        #[derive(Serialize)]
        struct ReportJson<'a> {
            /// Bytes of the gzip stream, or null.
            compressed: Option<u64>,
            groups: Vec<GroupJson<'a>>,
            total: u64,
        }
        let groups = self
            .groups
            .iter()
            .map(|g| GroupJson {
                files: g
                    .files
                    .iter()
                    .map(|(path, size)| FileJson { path, size: *size })
                    .collect(),
                name: g.name,
                share: (self.share(g.size) * 10.0).round() / 10.0,
                size: g.size,
            })
            .collect();
        pretty(&ReportJson {
            compressed: self.compressed,
            groups,
            total: self.total,
        })
    }
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// Bytes in decimal units, as `docker images` shows sizes.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// Shortens `text` to `width` characters by replacing its middle with `…`.
fn elide(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(1);
    let head = keep / 3;
    let tail = keep - head;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::ArchivePath;
    use crate::plan::Entry;
    use std::path::{Path, PathBuf};

    fn file(path: &str, size: u64, role: Role) -> Entry {
        Entry {
            path: ArchivePath::normalized(&Path::new("/").join(path)),
            node: Node::File {
                source: PathBuf::from("/src").join(path),
                size,
            },
            mode: 0o644,
            mtime: 0,
            role,
        }
    }

    #[test]
    fn groups_sorted_largest_first_with_shares() {
        let plan = Plan {
            entries: vec![
                file("usr/local/bin/app", 100, Role::Input),
                file("lib/libc.so.6", 600, Role::Library),
                file("lib/ld.so", 200, Role::Interpreter),
                file("etc/ssl/cert.pem", 100, Role::Cert),
            ],
        };
        let report = Report::new(&plan, Some(300));
        let names: Vec<&str> = report.groups.iter().map(|g| g.name).collect();
        assert_eq!(names, ["libraries", "certificates", "inputs"]);
        assert_eq!(report.total, 1000);
        assert_eq!(report.groups[0].files[0], ("lib/libc.so.6".into(), 600));
        let text = report.text();
        assert!(text.contains("80.0%"), "{text}");
        assert!(text.contains("gzipped archive"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["groups"][0]["share"], serde_json::json!(80.0));
    }

    #[test]
    fn long_paths_are_elided_to_fit() {
        let long = "usr/lib/x86_64-linux-gnu/".repeat(5) + "libverylongname.so.1";
        let short = elide(&long, 54);
        assert_eq!(short.chars().count(), 54);
        assert!(short.ends_with("libverylongname.so.1"));
    }
}
