// SPDX-License-Identifier: GPL-2.0

//! The daemon's TOML configuration: parsing and validation.
//!
//! Every error names the key and what is wrong with it
//! (`config: threads = 0: must be 1..=64`); unknown keys are errors.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where `tux` looks without `-c`.
pub const DEFAULT_PATH: &str = "/etc/tux.toml";

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    docroot: Option<String>,
    listen: Option<String>,
    port: Option<i64>,
    threads: Option<i64>,
    log_file: Option<String>,
    module_timeout: Option<i64>,
    #[serde(default)]
    modules: Vec<RawModule>,
    cgi: Option<RawCgi>,
    fallback: Option<RawFallback>,
    #[serde(default)]
    mimetypes: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawModule {
    prefix: String,
    kind: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCgi {
    prefix: String,
    root: String,
    uid: Option<i64>,
    gid: Option<i64>,
    timeout_secs: Option<i64>,
    max_output: Option<i64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawFallback {
    port: i64,
}

/// The built-in modules a `[[modules]]` entry can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Answers "Hello from a tux user module".
    Hello,
    /// Answers a JSON object: request counter, time, client, path.
    Json,
    /// Hands the request, with its connection, to the fallback server
    /// (`REDIRECT_REQ`): the configured prefixes a userspace server keeps.
    Redirect,
}

/// One `[[modules]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleConf {
    /// The URL prefix.
    pub prefix: String,
    /// What answers.
    pub kind: Kind,
}

/// The `[cgi]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgiConf {
    /// URL prefix.
    pub prefix: String,
    /// Directory of the programs.
    pub root: PathBuf,
    /// User the programs run as.
    pub uid: u32,
    /// Group the programs run as.
    pub gid: u32,
    /// Longest run.
    pub timeout: Duration,
    /// Most output bytes.
    pub max_output: u64,
}

/// A validated configuration. `None` leaves the kernel's value alone.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// `/proc/sys/net/tux/documentroot`.
    pub docroot: Option<PathBuf>,
    /// `/proc/sys/net/tux/listen`: IPv6 (`::` takes IPv4 clients too) or IPv4.
    pub listen: Option<IpAddr>,
    /// `/proc/sys/net/tux/port`.
    pub port: Option<u16>,
    /// Module threads (default 2).
    pub threads: u32,
    /// Where the access log is appended (enables `logging`).
    pub log_file: Option<PathBuf>,
    /// `/proc/sys/net/tux/module_timeout`, seconds.
    pub module_timeout: Option<u32>,
    /// Built-in modules.
    pub modules: Vec<ModuleConf>,
    /// The CGI module.
    pub cgi: Option<CgiConf>,
    /// `/proc/sys/net/tux/clientport`: the fallback server's port.
    pub fallback_port: Option<u16>,
    /// Extension → MIME type, registered with `REGISTER_MIMETYPE`.
    pub mimetypes: Vec<(String, String)>,
}

fn err<T>(key: &str, value: impl std::fmt::Display, why: &str) -> Result<T, String> {
    Err(format!("config: {key} = {value}: {why}"))
}

/// A `listen` value as the kernel takes it: IPv4 text, or IPv6 text with or
/// without brackets. No port, no zone.
fn listen_addr(s: &str) -> Option<IpAddr> {
    match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        None => s.parse().ok(),
    }
}

fn range(key: &str, v: i64, lo: i64, hi: i64) -> Result<i64, String> {
    if v < lo || v > hi {
        return err(key, v, &format!("must be {lo}..={hi}"));
    }
    Ok(v)
}

fn abs_path(key: &str, v: &str) -> Result<PathBuf, String> {
    if !v.starts_with('/') {
        return err(key, format!("{v:?}"), "must be an absolute path");
    }
    if v.contains('\0') || v.contains('\n') {
        return err(key, format!("{v:?}"), "must not contain NUL or newline");
    }
    Ok(PathBuf::from(v))
}

impl Config {
    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let raw: Raw =
            toml::from_str(text).map_err(|e| format!("config: {}", e.to_string().trim_end()))?;
        let mut c = Config {
            threads: 2,
            ..Config::default()
        };
        if let Some(d) = &raw.docroot {
            c.docroot = Some(abs_path("docroot", d)?);
        }
        if let Some(l) = &raw.listen {
            c.listen = Some(listen_addr(l).map_or_else(
                || {
                    err(
                        "listen",
                        format!("{l:?}"),
                        "must be an IPv4 or IPv6 address like 0.0.0.0, :: or [2001:db8::1]",
                    )
                },
                Ok,
            )?);
        }
        if let Some(p) = raw.port {
            c.port = Some(range("port", p, 1, 65535)? as u16);
        }
        if let Some(t) = raw.threads {
            c.threads = range("threads", t, 1, i64::from(libtux::tux_abi::TUX_MAX_THREADS))? as u32;
        }
        if let Some(f) = &raw.log_file {
            c.log_file = Some(abs_path("log_file", f)?);
        }
        if let Some(t) = raw.module_timeout {
            c.module_timeout = Some(range("module_timeout", t, 1, 3600)? as u32);
        }
        if let Some(fb) = &raw.fallback {
            let p = range("fallback.port", fb.port, 1, 65535)? as u16;
            if Some(p) == c.port {
                return err("fallback.port", p, "must differ from port");
            }
            c.fallback_port = Some(p);
        }
        let mut prefixes: Vec<String> = Vec::new();
        let mut add_prefix = |key: &str, p: &str| -> Result<(), String> {
            if let Err(e) = libtux::admin::validate_prefix(p) {
                return err(key, format!("{p:?}"), &e.to_string());
            }
            if prefixes.iter().any(|q| q == p) {
                return err(key, format!("{p:?}"), "prefix used twice");
            }
            prefixes.push(p.to_string());
            Ok(())
        };
        for (i, m) in raw.modules.iter().enumerate() {
            add_prefix(&format!("modules[{i}].prefix"), &m.prefix)?;
            let kind = match m.kind.as_str() {
                "hello" => Kind::Hello,
                "json" => Kind::Json,
                "redirect" => Kind::Redirect,
                other => {
                    return err(
                        &format!("modules[{i}].kind"),
                        format!("{other:?}"),
                        "must be \"hello\", \"json\" or \"redirect\" (CGI goes in [cgi])",
                    )
                }
            };
            c.modules.push(ModuleConf {
                prefix: m.prefix.clone(),
                kind,
            });
        }
        if let Some(g) = &raw.cgi {
            add_prefix("cgi.prefix", &g.prefix)?;
            let uid = range(
                "cgi.uid",
                g.uid.unwrap_or(65534),
                0,
                i64::from(u32::MAX) - 1,
            )?;
            let gid = range(
                "cgi.gid",
                g.gid.unwrap_or(65534),
                0,
                i64::from(u32::MAX) - 1,
            )?;
            if uid == 0 {
                return err("cgi.uid", 0, "CGI programs must not run as root");
            }
            if gid == 0 {
                return err("cgi.gid", 0, "CGI programs must not run as group root");
            }
            c.cgi = Some(CgiConf {
                prefix: g.prefix.clone(),
                root: abs_path("cgi.root", &g.root)?,
                uid: uid as u32,
                gid: gid as u32,
                timeout: Duration::from_secs(range(
                    "cgi.timeout_secs",
                    g.timeout_secs.unwrap_or(10),
                    1,
                    3600,
                )? as u64),
                max_output: range(
                    "cgi.max_output",
                    g.max_output.unwrap_or(16 << 20),
                    1,
                    1 << 32,
                )? as u64,
            });
        }
        if prefixes.len() > libtux::tux_abi::TUX_MAX_MODULES as usize {
            return err(
                "modules",
                prefixes.len(),
                "at most 16 modules (cgi included)",
            );
        }
        for (ext, ty) in &raw.mimetypes {
            if let Err(e) = libtux::admin::validate_mimetype(ext, ty) {
                return err(
                    &format!("mimetypes.{ext}"),
                    format!("{ty:?}"),
                    &e.to_string(),
                );
            }
            c.mimetypes.push((ext.clone(), ty.clone()));
        }
        Ok(c)
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config: cannot read {}: {e}", path.display()))?;
        Config::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
docroot = "/var/www"
listen = "0.0.0.0"
port = 80
threads = 4
log_file = "/var/log/tux.log"
module_timeout = 30

[[modules]]
prefix = "/hello"
kind = "hello"

[[modules]]
prefix = "/api/stats"
kind = "json"

[cgi]
prefix = "/cgi-bin"
root = "/var/www-cgi"
uid = 1000
gid = 1000
timeout_secs = 5
max_output = 1048576

[fallback]
port = 8080

[mimetypes]
wasm = "application/wasm"
"#;

    #[test]
    fn redirect_modules_keep_prefixes_for_the_fallback_server() {
        let c = Config::parse("[[modules]]\nprefix = \"/legacy\"\nkind = \"redirect\"\n").unwrap();
        assert_eq!(
            c.modules,
            vec![ModuleConf {
                prefix: "/legacy".into(),
                kind: Kind::Redirect
            }]
        );
    }

    #[test]
    fn listen_takes_both_families() {
        let ok = |s: &str, want: &str| {
            let c = Config::parse(&format!("listen = \"{s}\"")).unwrap();
            assert_eq!(c.listen, Some(want.parse().unwrap()), "{s}");
        };
        ok("0.0.0.0", "0.0.0.0");
        ok("::", "::");
        ok("[::]", "::");
        ok("[2001:db8::1]", "2001:db8::1");
        ok("2001:DB8:0::1", "2001:db8::1");
        for bad in [
            "[0.0.0.0]",
            "[::",
            "::]",
            "[::1]:80",
            "fe80::1%eth0",
            "",
            "::1 ",
        ] {
            let e = Config::parse(&format!("listen = \"{bad}\"")).unwrap_err();
            assert!(e.contains("must be an IPv4 or IPv6 address"), "{bad}: {e}");
        }
    }

    #[test]
    fn full_config() {
        let c = Config::parse(FULL).unwrap();
        assert_eq!(c.docroot.as_deref(), Some(std::path::Path::new("/var/www")));
        assert_eq!(c.listen, Some(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(
            (c.port, c.threads, c.module_timeout, c.fallback_port),
            (Some(80), 4, Some(30), Some(8080))
        );
        assert_eq!(c.modules.len(), 2);
        assert_eq!(
            c.modules[1],
            ModuleConf {
                prefix: "/api/stats".into(),
                kind: Kind::Json
            }
        );
        let g = c.cgi.unwrap();
        assert_eq!(
            (g.uid, g.gid, g.timeout, g.max_output),
            (1000, 1000, Duration::from_secs(5), 1 << 20)
        );
        assert_eq!(
            c.mimetypes,
            vec![("wasm".into(), "application/wasm".into())]
        );
    }

    #[test]
    fn empty_config_has_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.threads, 2);
        assert_eq!(c.port, None);
        assert!(c.modules.is_empty() && c.cgi.is_none());
        let g = Config::parse("[cgi]\nprefix = \"/c\"\nroot = \"/srv/c\"\n")
            .unwrap()
            .cgi
            .unwrap();
        assert_eq!((g.uid, g.gid, g.timeout.as_secs()), (65534, 65534, 10));
    }

    fn fails(text: &str, want: &str) {
        let e = Config::parse(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}");
        assert!(e.starts_with("config: "), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        fails("threads = 0", "config: threads = 0: must be 1..=64");
        fails("threads = 65", "threads = 65: must be 1..=64");
        fails("port = 70000", "port = 70000: must be 1..=65535");
        fails("port = -1", "port = -1");
        fails("module_timeout = 0", "module_timeout = 0: must be 1..=3600");
        fails(
            "docroot = \"www\"",
            "docroot = \"www\": must be an absolute path",
        );
        fails(
            "listen = \"localhost\"",
            "listen = \"localhost\": must be an IPv4 or IPv6 address",
        );
        fails("log_file = \"x.log\"", "log_file");
        fails(
            "port = 80\n[fallback]\nport = 80",
            "fallback.port = 80: must differ from port",
        );
        fails("[fallback]\nport = 0", "fallback.port = 0");
        fails(
            "[[modules]]\nprefix = \"hel lo\"\nkind = \"hello\"",
            "modules[0].prefix = \"hel lo\": bad name: module prefix \"hel lo\": must be a canonical URL path",
        );
        fails(
            "[[modules]]\nprefix = \"/h\"\nkind = \"php\"",
            "modules[0].kind = \"php\"",
        );
        fails("[[modules]]\nprefix = \"/h\"\nkind = \"hello\"\n[[modules]]\nprefix = \"/h\"\nkind = \"json\"", "modules[1].prefix = \"/h\": prefix used twice");
        fails(
            "[cgi]\nprefix = \"/c\"\nroot = \"/r\"\nuid = 0",
            "cgi.uid = 0: CGI programs must not run as root",
        );
        fails(
            "[cgi]\nprefix = \"/c\"\nroot = \"/r\"\ngid = 0",
            "cgi.gid = 0",
        );
        fails(
            "[cgi]\nprefix = \"/c\"\nroot = \"/r\"\ntimeout_secs = 0",
            "cgi.timeout_secs = 0: must be 1..=3600",
        );
        fails("[cgi]\nprefix = \"/c\"\nroot = \"r\"", "cgi.root = \"r\"");
        fails(
            "[cgi]\nprefix = \"/c\"\nroot = \"/r\"\nmax_output = 0",
            "cgi.max_output = 0",
        );
        fails(
            "[cgi]\nprefix = \"/h\"\nroot = \"/r\"\n[[modules]]\nprefix = \"/h\"\nkind = \"json\"",
            "cgi.prefix = \"/h\": prefix used twice",
        );
        fails("[mimetypes]\n\"x.y\" = \"a/b\"", "mimetypes.x.y");
        fails("[mimetypes]\nwasm = \"nope\"", "mimetypes.wasm = \"nope\"");
    }

    #[test]
    fn too_many_modules() {
        let mut t = String::new();
        for i in 0..17 {
            t.push_str(&format!(
                "[[modules]]\nprefix = \"/m{i}\"\nkind = \"hello\"\n"
            ));
        }
        fails(&t, "modules = 17: at most 16 modules");
    }

    #[test]
    fn unknown_keys_and_types_are_errors() {
        fails("docroots = \"/x\"", "docroots");
        fails("[cgi]\nprefix = \"/c\"\nroot = \"/r\"\nuser = 5", "user");
        fails(
            "[[modules]]\nprefix = \"/h\"\nkind = \"hello\"\nextra = 1",
            "extra",
        );
        fails("threads = \"two\"", "threads");
        fails("port = ", "config: ");
    }
}

#[cfg(test)]
mod example_file {
    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../tux.toml.example");
        let c = super::Config::parse(text).unwrap();
        assert_eq!(c.modules.len(), 2);
        assert!(c.cgi.is_some());
    }
}
