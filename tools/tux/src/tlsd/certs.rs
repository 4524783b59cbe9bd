// SPDX-License-Identifier: GPL-2.0

//! The certificates: one per virtual host, chosen by SNI, and a default for
//! a ClientHello without SNI or with a name we do not serve.

use crate::config::HttpsConf;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

fn fail<T>(key: &str, path: &Path, why: impl std::fmt::Display) -> Result<T, String> {
    Err(format!(
        "config: {key} = {:?}: {why}",
        path.display().to_string()
    ))
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).or_else(|e| fail(key, path, format_args!("cannot read: {e}")))
}

/// Reads a PEM certificate chain (end entity first).
pub fn load_chain(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(key, path)?;
    let mut chain = Vec::new();
    for c in CertificateDer::pem_slice_iter(&pem) {
        match c {
            Ok(c) => chain.push(c),
            Err(e) => return fail(key, path, format_args!("bad PEM: {e}")),
        }
    }
    if chain.is_empty() {
        return fail(key, path, "no CERTIFICATE in this PEM file");
    }
    Ok(chain)
}

/// Reads a PEM private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
pub fn load_key(key: &str, path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem).or_else(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => fail(
            key,
            path,
            "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY in this PEM file",
        ),
        e => fail(key, path, format_args!("bad PEM: {e}")),
    })
}

/// A chain and its key, checked to belong together.
pub fn load_pair(
    what: &str,
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, String> {
    let chain = load_chain(&format!("{what}cert"), cert)?;
    let der = load_key(&format!("{what}key"), key)?;
    match CertifiedKey::from_der(chain, der, provider) {
        Ok(ck) => Ok(Arc::new(ck)),
        Err(rustls::Error::InconsistentKeys(_)) => fail(
            &format!("{what}key"),
            key,
            format_args!("does not match the certificate in {}", cert.display()),
        ),
        Err(e) => fail(
            &format!("{what}key"),
            key,
            format_args!("unusable key: {e}"),
        ),
    }
}

/// The certificates of one configuration.
#[derive(Debug)]
pub struct CertStore {
    default: Arc<CertifiedKey>,
    /// Exact names, lower case.
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` entries, keyed by `example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
}

impl CertStore {
    /// Loads every certificate `h` names; errors name the config key.
    pub fn load(h: &HttpsConf, provider: &CryptoProvider) -> Result<CertStore, String> {
        let default = load_pair("https.", &h.cert, &h.key, provider)?;
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        for (i, host) in h.hosts.iter().enumerate() {
            let ck = load_pair(
                &format!("https.hosts[{i}]."),
                &host.cert,
                &host.key,
                provider,
            )?;
            let name = host.name.to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(parent) => wildcard.insert(parent.to_string(), ck),
                None => exact.insert(name, ck),
            };
        }
        Ok(CertStore {
            default,
            exact,
            wildcard,
        })
    }

    /// The certificate for an SNI name (`None`: no SNI): the exact name,
    /// else a `*.` entry for its parent, else the default.
    pub fn pick(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = sni else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(c) = self.exact.get(&name) {
            return c.clone();
        }
        if let Some((_, parent)) = name.split_once('.') {
            if let Some(c) = self.wildcard.get(parent) {
                return c.clone();
            }
        }
        self.default.clone()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.pick(hello.server_name()))
    }
}

#[cfg(test)]
pub(crate) mod testcerts {
    //! Certificates made in the tests (rcgen, ring).

    use std::path::{Path, PathBuf};

    /// A self-signed certificate for `names` (rcgen's default key, ECDSA
    /// P-256, PKCS#8), written as PEM files in `dir`; returns (cert path,
    /// key path, cert DER).
    pub fn make(dir: &Path, stem: &str, names: &[&str]) -> (PathBuf, PathBuf, Vec<u8>) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names).unwrap();
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        (cert, key, ck.cert.der().to_vec())
    }

    /// A fresh empty directory under the target's temp dir.
    pub fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tux-tlsd-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::testcerts::{make, tempdir};
    use super::*;
    use crate::config::HostConf;
    use std::time::Duration;

    fn conf(dir: &Path) -> (HttpsConf, [Vec<u8>; 4]) {
        let (dc, dk, dd) = make(dir, "default", &["default.test"]);
        let (ac, ak, ad) = make(dir, "a", &["a.example"]);
        let (bc, bk, bd) = make(dir, "b", &["b.example"]);
        let (wc, wk, wd) = make(dir, "w", &["*.w.example"]);
        let h = HttpsConf {
            port: 443,
            cert: dc,
            key: dk,
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 4,
            pid_file: dir.join("tlsd.pid"),
            hosts: vec![
                HostConf {
                    name: "a.example".into(),
                    cert: ac,
                    key: ak,
                },
                HostConf {
                    name: "B.Example".into(),
                    cert: bc,
                    key: bk,
                },
                HostConf {
                    name: "*.w.example".into(),
                    cert: wc,
                    key: wk,
                },
            ],
        };
        (h, [dd, ad, bd, wd])
    }

    #[test]
    fn sni_picks_the_host_and_falls_back_to_the_default() {
        let dir = tempdir("sni");
        let (h, [dd, ad, bd, wd]) = conf(&dir);
        let p = rustls::crypto::ring::default_provider();
        let s = CertStore::load(&h, &p).unwrap();
        let leaf = |sni: Option<&str>| s.pick(sni).cert[0].to_vec();
        assert_eq!(leaf(Some("a.example")), ad);
        assert_eq!(leaf(Some("b.example")), bd);
        assert_eq!(leaf(Some("A.EXAMPLE.")), ad);
        assert_eq!(leaf(Some("x.w.example")), wd);
        assert_eq!(leaf(Some("w.example")), dd);
        assert_eq!(leaf(Some("y.x.w.example")), dd);
        assert_eq!(leaf(Some("c.example")), dd);
        assert_eq!(leaf(None), dd);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn load_errors_name_the_key_and_the_problem() {
        let dir = tempdir("errors");
        let p = rustls::crypto::ring::default_provider();
        let (h, _) = conf(&dir);
        let e = |h: &HttpsConf| CertStore::load(h, &p).unwrap_err();

        let mut m = h.clone();
        m.hosts[1].cert = dir.join("missing.crt");
        let got = e(&m);
        assert!(got.starts_with("config: https.hosts[1].cert = \""), "{got}");
        assert!(
            got.contains("missing.crt\": cannot read: No such file"),
            "{got}"
        );

        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "hello\n").unwrap();
        let mut m = h.clone();
        m.cert = garbage.clone();
        assert!(e(&m).contains("https.cert = ") && e(&m).contains("no CERTIFICATE"));
        let mut m = h.clone();
        m.key = garbage;
        assert!(e(&m).contains("https.key = ") && e(&m).contains("no PRIVATE KEY"));

        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let mut m = h.clone();
        m.cert = broken;
        assert!(e(&m).contains("bad PEM"), "{}", e(&m));

        // A key from another pair.
        let mut m = h.clone();
        m.hosts[0].key = h.hosts[1].key.clone();
        let got = e(&m);
        assert!(
            got.starts_with("config: https.hosts[0].key = ")
                && got.contains("does not match the certificate in"),
            "{got}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
