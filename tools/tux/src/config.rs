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
    https: Option<RawHttps>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawHttps {
    port: Option<i64>,
    cert: String,
    key: String,
    handshake_timeout: Option<i64>,
    max_handshakes: Option<i64>,
    pid_file: Option<String>,
    #[serde(default)]
    hosts: Vec<RawHost>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: String,
    cert: String,
    key: String,
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

/// One `[[https.hosts]]` entry: a virtual host's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostConf {
    /// The SNI name, lower case: `a.example` or `*.example` (one label).
    pub name: String,
    /// PEM certificate chain, end entity first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where `tux tlsd` writes its pid unless `https.pid_file` says otherwise.
pub const DEFAULT_TLSD_PID_FILE: &str = "/run/tux/tlsd.pid";

/// The `[https]` table: TUX's HTTPS port and the `tux tlsd` agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpsConf {
    /// `/proc/sys/net/tux/https_port` (0: HTTPS off; default 443).
    pub port: u16,
    /// Default certificate chain: no SNI, or a name not in `hosts`.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
    /// Longest handshake when the kernel does not say (default 10 s).
    pub handshake_timeout: Duration,
    /// Concurrent handshakes: the agent's worker threads (default 64).
    pub max_handshakes: u32,
    /// The agent's pid file (default /run/tux/tlsd.pid).
    pub pid_file: PathBuf,
    /// Virtual hosts.
    pub hosts: Vec<HostConf>,
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
    /// HTTPS: the port and the handshake agent's certificates.
    pub https: Option<HttpsConf>,
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

/// A `[[https.hosts]]` name: a DNS name (letters, digits, `-`, dots; no
/// empty label; at most 253 bytes), optionally `*.` and a parent of at
/// least two labels. Returned lower case.
fn host_name(key: &str, v: &str) -> Result<String, String> {
    let bad = |why: &str| err(key, format!("{v:?}"), why);
    let lower = v.to_ascii_lowercase();
    let rest = lower.strip_prefix("*.").unwrap_or(&lower);
    if rest.is_empty() || rest.len() > 253 {
        return bad("must be a DNS name like a.example or *.example.com");
    }
    for label in rest.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return bad("must be a DNS name like a.example or *.example.com");
        }
    }
    if rest.len() != lower.len() && !rest.contains('.') {
        return bad("a wildcard needs a parent of two labels or more (*.example.com)");
    }
    Ok(lower)
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
        if let Some(h) = &raw.https {
            c.https = Some(Config::https(h, &c)?);
        }
        Ok(c)
    }

    fn https(h: &RawHttps, c: &Config) -> Result<HttpsConf, String> {
        let port = range("https.port", h.port.unwrap_or(443), 0, 65535)? as u16;
        if port != 0 && Some(port) == c.port {
            return err("https.port", port, "must differ from port");
        }
        if port != 0 && Some(port) == c.fallback_port {
            return err("https.port", port, "must differ from fallback.port");
        }
        let mut hosts: Vec<HostConf> = Vec::new();
        for (i, r) in h.hosts.iter().enumerate() {
            let key = format!("https.hosts[{i}].name");
            let name = host_name(&key, &r.name)?;
            if hosts.iter().any(|o| o.name == name) {
                return err(&key, format!("{:?}", r.name), "host named twice");
            }
            hosts.push(HostConf {
                name,
                cert: abs_path(&format!("https.hosts[{i}].cert"), &r.cert)?,
                key: abs_path(&format!("https.hosts[{i}].key"), &r.key)?,
            });
        }
        Ok(HttpsConf {
            port,
            cert: abs_path("https.cert", &h.cert)?,
            key: abs_path("https.key", &h.key)?,
            handshake_timeout: Duration::from_secs(range(
                "https.handshake_timeout",
                h.handshake_timeout.unwrap_or(10),
                1,
                300,
            )? as u64),
            max_handshakes: range(
                "https.max_handshakes",
                h.max_handshakes.unwrap_or(64),
                1,
                1024,
            )? as u32,
            pid_file: abs_path(
                "https.pid_file",
                h.pid_file.as_deref().unwrap_or(DEFAULT_TLSD_PID_FILE),
            )?,
            hosts,
        })
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config: cannot read {}: {e}", path.display()))?;
        let c = Config::parse(&text)?;
        if let Some(h) = &c.https {
            // The files too: missing, bad PEM, a key not the certificate's.
            crate::tlsd::certs::CertStore::load(h, &crate::tlsd::provider())?;
        }
        Ok(c)
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
mod https_tests {
    use super::*;

    const HTTPS: &str = r#"
port = 80
[https]
port = 443
cert = "/etc/tux/tls/default.crt"
key = "/etc/tux/tls/default.key"
handshake_timeout = 5
max_handshakes = 16
pid_file = "/run/tux/ns1-tlsd.pid"
[[https.hosts]]
name = "A.Example"
cert = "/etc/tux/tls/a.crt"
key = "/etc/tux/tls/a.key"
[[https.hosts]]
name = "*.b.example"
cert = "/etc/tux/tls/b.crt"
key = "/etc/tux/tls/b.key"
"#;

    #[test]
    fn https_table() {
        let h = Config::parse(HTTPS).unwrap().https.unwrap();
        assert_eq!(h.port, 443);
        assert_eq!(h.cert, PathBuf::from("/etc/tux/tls/default.crt"));
        assert_eq!(h.handshake_timeout, Duration::from_secs(5));
        assert_eq!(h.max_handshakes, 16);
        assert_eq!(h.pid_file, PathBuf::from("/run/tux/ns1-tlsd.pid"));
        assert_eq!(h.hosts.len(), 2);
        assert_eq!(h.hosts[0].name, "a.example");
        assert_eq!(h.hosts[1].name, "*.b.example");
        assert_eq!(h.hosts[1].key, PathBuf::from("/etc/tux/tls/b.key"));
    }

    #[test]
    fn https_defaults_and_absence() {
        assert_eq!(Config::parse("port = 80").unwrap().https, None);
        let h = Config::parse("[https]\ncert = \"/c\"\nkey = \"/k\"\n")
            .unwrap()
            .https
            .unwrap();
        assert_eq!(
            (h.port, h.handshake_timeout.as_secs(), h.max_handshakes),
            (443, 10, 64)
        );
        assert_eq!(h.pid_file, PathBuf::from(DEFAULT_TLSD_PID_FILE));
        assert!(h.hosts.is_empty());
        let off = Config::parse("[https]\nport = 0\ncert = \"/c\"\nkey = \"/k\"\n").unwrap();
        assert_eq!(off.https.unwrap().port, 0);
    }

    fn fails(text: &str, want: &str) {
        let e = Config::parse(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}");
        assert!(e.starts_with("config: "), "{e}");
    }

    #[test]
    fn https_errors_name_the_key() {
        let base = "[https]\ncert = \"/c\"\nkey = \"/k\"\n";
        fails(
            &format!("{base}port = 70000"),
            "https.port = 70000: must be 0..=65535",
        );
        fails(
            &format!("port = 443\n{base}"),
            "https.port = 443: must differ from port",
        );
        fails(
            &format!("{base}port = 8080\n[fallback]\nport = 8080"),
            "https.port = 8080: must differ from fallback.port",
        );
        fails(
            &format!("{base}handshake_timeout = 0"),
            "https.handshake_timeout = 0: must be 1..=300",
        );
        fails(
            &format!("{base}max_handshakes = 0"),
            "https.max_handshakes = 0: must be 1..=1024",
        );
        fails(
            &format!("{base}max_handshakes = 1025"),
            "https.max_handshakes = 1025: must be 1..=1024",
        );
        fails(
            "[https]\ncert = \"c.pem\"\nkey = \"/k\"\n",
            "https.cert = \"c.pem\": must be an absolute path",
        );
        fails("[https]\ncert = \"/c\"\n", "missing field `key`");
        fails(&format!("{base}ciphers = 1"), "ciphers");
        fails(
            &format!("{base}pid_file = \"run/x\""),
            "https.pid_file = \"run/x\"",
        );
        let host = |name: &str| {
            format!("[[https.hosts]]\nname = \"{name}\"\ncert = \"/a\"\nkey = \"/b\"\n")
        };
        fails(
            &format!("{base}{}{}", host("a.example"), host("A.example")),
            "https.hosts[1].name = \"A.example\": host named twice",
        );
        for bad in ["", "a..b", "-a.b", "a_b.c", "*.com", "a.*.b", "*", "x y"] {
            fails(
                &format!("{base}{}", host(bad)),
                &format!("https.hosts[0].name = {bad:?}"),
            );
        }
        fails(
            &format!("{base}[[https.hosts]]\nname = \"a.b\"\ncert = \"a\"\nkey = \"/b\"\n"),
            "https.hosts[0].cert = \"a\": must be an absolute path",
        );
    }

    #[test]
    fn load_checks_the_certificate_files() {
        let dir = crate::tlsd::certs::testcerts::tempdir("config-load");
        let (cert, key, _) = crate::tlsd::certs::testcerts::make(&dir, "d", &["d.test"]);
        let (_, other_key, _) = crate::tlsd::certs::testcerts::make(&dir, "o", &["o.test"]);
        let write = |k: &std::path::Path| {
            let f = dir.join("tux.toml");
            std::fs::write(
                &f,
                format!(
                    "[https]\ncert = {:?}\nkey = {:?}\n",
                    cert.display().to_string(),
                    k.display().to_string()
                ),
            )
            .unwrap();
            f
        };
        assert!(Config::load(&write(&key)).unwrap().https.is_some());
        let e = Config::load(&write(&other_key)).unwrap_err();
        assert!(
            e.contains("https.key = ") && e.contains("does not match"),
            "{e}"
        );
        let e = Config::load(&write(&dir.join("nope.key"))).unwrap_err();
        assert!(e.contains("nope.key\": cannot read"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
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
        let h = c.https.unwrap();
        assert_eq!((h.port, h.hosts.len()), (443, 1));
    }
}
