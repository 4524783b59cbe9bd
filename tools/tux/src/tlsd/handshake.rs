// SPDX-License-Identifier: GPL-2.0

//! One TLS server handshake on a socket, leaving every byte after the
//! client's Finished unread for kernel TLS.
//!
//! While rustls is handshaking, the socket is read one TLS record at a
//! time: its 5-byte header, then exactly its length. The last record the
//! server needs is the one holding the client's Finished; what follows
//! (application data the client may send at once) stays in the socket for
//! the kernel to read through kTLS. Before the secrets are extracted, all
//! rustls output is flushed, TLS 1.3 NewSessionTickets included, so that
//! the TX sequence number handed to the kernel counts them.
//!
//! All socket I/O waits with poll() against one deadline, so a client that
//! stalls or trickles cannot hold a worker beyond the handshake timeout.

use rustls::crypto::CryptoProvider;
use rustls::{
    CipherSuite, ExtractedSecrets, ProtocolVersion, ServerConfig, ServerConnection,
    SupportedCipherSuite,
};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::Instant;

/// The largest TLSCiphertext fragment (RFC 8446 5.2: 2^14 + 256; TLS 1.2
/// allows 2^14 + 2048).
const MAX_RECORD: usize = 16384 + 2048;

/// The cipher suites kernel TLS can take over: AES-128/256-GCM and
/// ChaCha20-Poly1305, TLS 1.3 and TLS 1.2 (ECDHE only).
const KTLS_SUITES: [CipherSuite; 9] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// rustls' ring provider, cut down to the suites kTLS supports.
pub fn provider() -> CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites
        .retain(|s: &SupportedCipherSuite| KTLS_SUITES.contains(&s.suite()));
    p
}

/// The server configuration for a set of certificates: TLS 1.3 and 1.2,
/// ALPN `http/1.1`, secret extraction on.
pub fn server_config(
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
) -> Result<Arc<ServerConfig>, String> {
    let mut c = ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    c.enable_secret_extraction = true;
    // No early data: 0-RTT bytes would be read by us, not by the kernel.
    c.max_early_data_size = 0;
    // TLS 1.3 tickets (resumption through this process's session cache)
    // stay on: they are written before the secrets are taken, and the TX
    // sequence number handed to the kernel counts them.
    Ok(Arc::new(c))
}

/// A socket with a deadline: every read and write polls for at most the
/// time left, then fails with `TimedOut`.
pub struct DeadlineIo<'a> {
    fd: BorrowedFd<'a>,
    deadline: Instant,
}

impl<'a> DeadlineIo<'a> {
    /// I/O on `fd` until `deadline`.
    pub fn new(fd: BorrowedFd<'a>, deadline: Instant) -> DeadlineIo<'a> {
        DeadlineIo { fd, deadline }
    }

    fn wait(&self, events: libc::c_short) -> io::Result<()> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ));
            }
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            let mut p = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if r > 0 {
                // Readable, writable, or an error/hangup the call will report.
                return Ok(());
            }
        }
    }
}

impl Read for DeadlineIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.wait(libc::POLLIN)?;
            // SAFETY: `buf` is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) {
                return Err(e);
            }
        }
    }
}

impl Write for DeadlineIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            self.wait(libc::POLLOUT)?;
            // SAFETY: `buf` is valid for its length.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) {
                return Err(e);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A finished handshake.
pub struct Finished {
    /// TLS 1.3 or 1.2.
    pub version: ProtocolVersion,
    /// The negotiated suite.
    pub suite: CipherSuite,
    /// The client's SNI, if any.
    pub sni: Option<String>,
    /// The keys and next sequence numbers, both directions.
    pub secrets: ExtractedSecrets,
}

/// Why a handshake failed.
#[derive(Debug)]
pub enum Failure {
    /// The deadline passed.
    TimedOut,
    /// The client closed the connection.
    Closed,
    /// A socket error.
    Io(io::Error),
    /// TLS said no (bad message, no common suite, an alert, ...).
    Tls(rustls::Error),
    /// The client broke the record layer or the rules we need for kTLS.
    Protocol(String),
}

impl Failure {
    /// The errno for DONE.
    pub fn errno(&self) -> i32 {
        match self {
            Failure::TimedOut => libc::ETIMEDOUT,
            Failure::Closed => libc::ECONNRESET,
            Failure::Io(e) => e.raw_os_error().unwrap_or(libc::EIO),
            Failure::Tls(_) | Failure::Protocol(_) => libc::EACCES,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::TimedOut => write!(f, "timed out"),
            Failure::Closed => write!(f, "client closed the connection"),
            Failure::Io(e) => write!(f, "{e}"),
            Failure::Tls(e) => write!(f, "TLS: {e}"),
            Failure::Protocol(s) => write!(f, "{s}"),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        match e.kind() {
            io::ErrorKind::TimedOut => Failure::TimedOut,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => Failure::Closed,
            _ => Failure::Io(e),
        }
    }
}

/// Writes everything rustls has queued.
fn flush(conn: &mut ServerConnection, io: &mut impl Write) -> Result<(), Failure> {
    // Each write_tls call makes progress or fails; the queue is finite.
    while conn.wants_write() {
        if conn.write_tls(io)? == 0 {
            return Err(Failure::Closed);
        }
    }
    Ok(())
}

/// Reads exactly one TLS record (header and fragment) into `rec`.
fn read_record(io: &mut impl Read, rec: &mut Vec<u8>) -> Result<(), Failure> {
    let mut hdr = [0u8; 5];
    io.read_exact(&mut hdr)?;
    // ContentType: change_cipher_spec(20), alert(21), handshake(22),
    // application_data(23). Anything else is not TLS (say, plain HTTP).
    if !(20..=23).contains(&hdr[0]) || hdr[1] != 3 {
        return Err(Failure::Protocol(format!(
            "not a TLS record (starts {:02x} {:02x} {:02x})",
            hdr[0], hdr[1], hdr[2]
        )));
    }
    let len = usize::from(u16::from_be_bytes([hdr[3], hdr[4]]));
    if len > MAX_RECORD {
        return Err(Failure::Protocol(format!("TLS record of {len} bytes")));
    }
    rec.clear();
    rec.extend_from_slice(&hdr);
    rec.resize(5 + len, 0);
    io.read_exact(&mut rec[5..])?;
    Ok(())
}

/// Runs the server side of a handshake on `io` and returns the secrets.
/// Reads nothing past the record that completes the handshake. On a TLS
/// error the alert rustls queued is sent, best effort.
pub fn serve(io: &mut (impl Read + Write), config: Arc<ServerConfig>) -> Result<Finished, Failure> {
    let mut conn = ServerConnection::new(config).map_err(Failure::Tls)?;
    let mut rec = Vec::with_capacity(MAX_RECORD + 5);
    loop {
        flush(&mut conn, io)?;
        if !conn.is_handshaking() {
            break;
        }
        read_record(io, &mut rec)?;
        let mut rest = &rec[..];
        while !rest.is_empty() {
            // Bounded: every call consumes bytes (or errs).
            if conn.read_tls(&mut rest)? == 0 {
                return Err(Failure::Closed);
            }
        }
        match conn.process_new_packets() {
            Ok(state) => {
                if state.plaintext_bytes_to_read() > 0 {
                    return Err(Failure::Protocol(
                        "application data inside the handshake".into(),
                    ));
                }
                if state.peer_has_closed() {
                    return Err(Failure::Closed);
                }
            }
            Err(e) => {
                let _ = flush(&mut conn, io); // the alert
                return Err(Failure::Tls(e));
            }
        }
    }
    let version = conn
        .protocol_version()
        .ok_or_else(|| Failure::Protocol("no protocol version after the handshake".into()))?;
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| s.suite())
        .ok_or_else(|| Failure::Protocol("no cipher suite after the handshake".into()))?;
    let sni = conn.server_name().map(str::to_string);
    let secrets = conn.dangerous_extract_secrets().map_err(Failure::Tls)?;
    Ok(Finished {
        version,
        suite,
        sni,
        secrets,
    })
}

#[cfg(test)]
mod tests {
    //! Real handshakes over loopback TCP: a rustls client against
    //! [`serve`], then the extracted secrets used the way the kernel would
    //! (a software record layer built from our kTLS crypto-info structs)
    //! for the request the client sent right after its Finished and for a
    //! response the client must decrypt.

    use super::*;
    use crate::config::{HostConf, HttpsConf};
    use crate::tlsd::certs::testcerts::{make, tempdir};
    use crate::tlsd::certs::CertStore;
    use crate::tlsd::ktls::{CryptoInfo, TLS_1_2_VERSION, TLS_1_3_VERSION};
    use ring::aead;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore, SupportedProtocolVersion};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use std::path::Path;
    use std::time::Duration;

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: b.example\r\n\r\n";
    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    struct Certs {
        tls: Arc<ServerConfig>,
        default_der: Vec<u8>,
        a_der: Vec<u8>,
        b_der: Vec<u8>,
    }

    fn certs(dir: &Path) -> Certs {
        let (dc, dk, default_der) = make(dir, "default", &["default.test"]);
        let (ac, ak, a_der) = make(dir, "a", &["a.example"]);
        let (bc, bk, b_der) = make(dir, "b", &["b.example"]);
        let h = HttpsConf {
            port: 443,
            cert: dc,
            key: dk,
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 2,
            pid_file: dir.join("pid"),
            hosts: vec![
                HostConf {
                    name: "a.example".into(),
                    cert: ac,
                    key: ak,
                },
                HostConf {
                    name: "b.example".into(),
                    cert: bc,
                    key: bk,
                },
            ],
        };
        let store = CertStore::load(&h, &provider()).unwrap();
        Certs {
            tls: server_config(Arc::new(store)).unwrap(),
            default_der,
            a_der,
            b_der,
        }
    }

    fn client_config(
        version: &'static SupportedProtocolVersion,
        suite: CipherSuite,
        roots: &[&Vec<u8>],
    ) -> Arc<ClientConfig> {
        let mut p = rustls::crypto::ring::default_provider();
        p.cipher_suites.retain(|s| s.suite() == suite);
        assert_eq!(p.cipher_suites.len(), 1, "{suite:?}");
        let mut rs = RootCertStore::empty();
        for r in roots {
            rs.add(CertificateDer::from(r.to_vec())).unwrap();
        }
        let mut c = ClientConfig::builder_with_provider(Arc::new(p))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(rs)
            .with_no_client_auth();
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        c.enable_secret_extraction = true;
        Arc::new(c)
    }

    // --- a software TLS record layer driven by the kTLS crypto info ---

    struct Dir {
        alg: &'static aead::Algorithm,
        key: Vec<u8>,
        /// salt || iv for AES-GCM, iv for ChaCha20: 12 bytes.
        iv12: [u8; 12],
        /// TLS 1.2 AES-GCM: explicit nonce in each record.
        explicit: bool,
        tls13: bool,
        seq: u64,
    }

    fn dir_of(ci: &CryptoInfo) -> Dir {
        let mut iv12 = [0u8; 12];
        let (alg, key, version, seq, explicit): (_, Vec<u8>, u16, [u8; 8], bool) = match ci {
            CryptoInfo::AesGcm128(c) => {
                iv12[..4].copy_from_slice(&c.salt);
                iv12[4..].copy_from_slice(&c.iv);
                (
                    &aead::AES_128_GCM,
                    c.key.to_vec(),
                    c.info.version,
                    c.rec_seq,
                    true,
                )
            }
            CryptoInfo::AesGcm256(c) => {
                iv12[..4].copy_from_slice(&c.salt);
                iv12[4..].copy_from_slice(&c.iv);
                (
                    &aead::AES_256_GCM,
                    c.key.to_vec(),
                    c.info.version,
                    c.rec_seq,
                    true,
                )
            }
            CryptoInfo::Chacha20Poly1305(c) => {
                iv12.copy_from_slice(&c.iv);
                (
                    &aead::CHACHA20_POLY1305,
                    c.key.to_vec(),
                    c.info.version,
                    c.rec_seq,
                    false,
                )
            }
        };
        let tls13 = version == TLS_1_3_VERSION;
        assert!(tls13 || version == TLS_1_2_VERSION);
        Dir {
            alg,
            key,
            iv12,
            explicit: explicit && !tls13,
            tls13,
            seq: u64::from_be_bytes(seq),
        }
    }

    impl Dir {
        fn key(&self) -> aead::LessSafeKey {
            aead::LessSafeKey::new(aead::UnboundKey::new(self.alg, &self.key).unwrap())
        }

        fn xor_nonce(&self) -> [u8; 12] {
            let mut n = self.iv12;
            for (a, b) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                *a ^= b;
            }
            n
        }

        fn aad12(&self, ty: u8, len: usize) -> [u8; 13] {
            let mut a = [0u8; 13];
            a[..8].copy_from_slice(&self.seq.to_be_bytes());
            a[8] = ty;
            a[9..11].copy_from_slice(&[3, 3]);
            a[11..].copy_from_slice(&(len as u16).to_be_bytes());
            a
        }

        /// Decrypts one record (header included): (content type, data).
        fn open(&mut self, rec: &[u8]) -> (u8, Vec<u8>) {
            let (hdr, body) = rec.split_at(5);
            let (ty, out);
            if self.tls13 {
                assert_eq!(hdr[0], 23, "TLS 1.3 records are all application_data");
                let mut buf = body.to_vec();
                let n = aead::Nonce::assume_unique_for_key(self.xor_nonce());
                let plain = self
                    .key()
                    .open_in_place(n, aead::Aad::from(hdr), &mut buf)
                    .unwrap();
                let end = plain.iter().rposition(|&b| b != 0).unwrap();
                ty = plain[end];
                out = plain[..end].to_vec();
            } else {
                ty = hdr[0];
                let (nonce, ct) = if self.explicit {
                    let mut n = [0u8; 12];
                    n[..4].copy_from_slice(&self.iv12[..4]);
                    n[4..].copy_from_slice(&body[..8]);
                    (n, &body[8..])
                } else {
                    (self.xor_nonce(), body)
                };
                let mut buf = ct.to_vec();
                let aad = self.aad12(ty, ct.len() - 16);
                let plain = self
                    .key()
                    .open_in_place(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(aad),
                        &mut buf,
                    )
                    .unwrap();
                out = plain.to_vec();
            }
            self.seq += 1;
            (ty, out)
        }

        /// Encrypts application data into one record.
        fn seal(&mut self, data: &[u8]) -> Vec<u8> {
            let mut rec;
            if self.tls13 {
                let mut buf = data.to_vec();
                buf.push(23);
                let len = buf.len() + 16;
                rec = vec![23, 3, 3];
                rec.extend_from_slice(&(len as u16).to_be_bytes());
                let n = aead::Nonce::assume_unique_for_key(self.xor_nonce());
                self.key()
                    .seal_in_place_append_tag(n, aead::Aad::from(&rec[..5]), &mut buf)
                    .unwrap();
                rec.extend_from_slice(&buf);
            } else {
                let aad = self.aad12(23, data.len());
                let mut buf = data.to_vec();
                let (nonce, explicit) = if self.explicit {
                    // The kernel's way: the initial explicit IV, counted up.
                    let mut e = [0u8; 8];
                    e.copy_from_slice(&self.iv12[4..]);
                    let e = (u64::from_be_bytes(e).wrapping_add(self.seq)).to_be_bytes();
                    let mut n = [0u8; 12];
                    n[..4].copy_from_slice(&self.iv12[..4]);
                    n[4..].copy_from_slice(&e);
                    (n, e.to_vec())
                } else {
                    (self.xor_nonce(), Vec::new())
                };
                self.key()
                    .seal_in_place_append_tag(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(aad),
                        &mut buf,
                    )
                    .unwrap();
                let len = explicit.len() + buf.len();
                rec = vec![23, 3, 3];
                rec.extend_from_slice(&(len as u16).to_be_bytes());
                rec.extend_from_slice(&explicit);
                rec.extend_from_slice(&buf);
            }
            self.seq += 1;
            rec
        }
    }

    fn read_one_record(s: &mut TcpStream) -> Vec<u8> {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut rec = vec![0u8; 5];
        s.read_exact(&mut rec).unwrap();
        let len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
        rec.resize(5 + len, 0);
        s.read_exact(&mut rec[5..]).unwrap();
        rec
    }

    struct ClientResult {
        leaf: Vec<u8>,
        alpn: Option<Vec<u8>>,
        response: Vec<u8>,
        version: ProtocolVersion,
        secrets: ExtractedSecrets,
    }

    /// A client that queues REQUEST before the handshake ends (rustls sends
    /// it right behind its Finished), then reads RESPONSE.
    fn client(addr: std::net::SocketAddr, cfg: Arc<ClientConfig>, sni: &str) -> ClientResult {
        let mut sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let name = ServerName::try_from(sni.to_string()).unwrap();
        let mut conn = ClientConnection::new(cfg, name).unwrap();
        conn.writer().write_all(REQUEST).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).unwrap();
        }
        while conn.wants_write() {
            conn.write_tls(&mut sock).unwrap();
        }
        let mut response = Vec::new();
        while response.len() < RESPONSE.len() {
            if conn.read_tls(&mut sock).unwrap() == 0 {
                break;
            }
            conn.process_new_packets().unwrap();
            let mut buf = [0u8; 256];
            while let Ok(n) = conn.reader().read(&mut buf) {
                if n == 0 {
                    break;
                }
                response.extend_from_slice(&buf[..n]);
            }
        }
        ClientResult {
            leaf: conn.peer_certificates().unwrap()[0].to_vec(),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            response,
            version: conn.protocol_version().unwrap(),
            secrets: conn.dangerous_extract_secrets().unwrap(),
        }
    }

    fn info(version: ProtocolVersion, seq: u64, s: &rustls::ConnectionTrafficSecrets) -> Vec<u8> {
        let v = crate::tlsd::ktls::kernel_version(version).unwrap();
        CryptoInfo::new(v, seq, s).unwrap().as_bytes().to_vec()
    }

    fn full_handshake(
        version: &'static SupportedProtocolVersion,
        suite: CipherSuite,
        sni: &'static str,
        want: fn(&Certs) -> &Vec<u8>,
    ) {
        let dir = tempdir(&format!("hs-{suite:?}-{sni}"));
        let c = certs(&dir);
        let roots = [&c.default_der, &c.a_der, &c.b_der];
        let ccfg = client_config(version, suite, &roots);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || client(addr, ccfg, sni));
        let (mut s, _) = l.accept().unwrap();

        let deadline = Instant::now() + Duration::from_secs(10);
        let fin = serve(&mut DeadlineIo::new(s.as_fd(), deadline), c.tls.clone()).unwrap();
        assert_eq!(fin.suite, suite);
        assert_eq!(fin.version, version.version);
        assert_eq!(fin.sni.as_deref(), Some(sni));
        let v = crate::tlsd::ktls::kernel_version(fin.version).unwrap();
        let rx = CryptoInfo::new(v, fin.secrets.rx.0, &fin.secrets.rx.1).unwrap();
        let tx = CryptoInfo::new(v, fin.secrets.tx.0, &fin.secrets.tx.1).unwrap();

        // The request is still in the socket: the "kernel" reads it with
        // the RX crypto info.
        let mut krx = dir_of(&rx);
        let rec = read_one_record(&mut s);
        assert_eq!(krx.open(&rec), (23, REQUEST.to_vec()));
        // And answers with the TX crypto info (after any tickets).
        let mut ktx = dir_of(&tx);
        s.write_all(&ktx.seal(RESPONSE)).unwrap();

        let r = t.join().unwrap();
        assert_eq!(r.response, RESPONSE);
        assert_eq!(&r.leaf, want(&c));
        assert_eq!(r.alpn.as_deref(), Some(&b"http/1.1"[..]));
        // Secrets match the client's, sequence numbers one record on.
        assert_eq!(r.version, fin.version);
        assert_eq!(r.secrets.tx.0, fin.secrets.rx.0 + 1);
        assert_eq!(r.secrets.rx.0, fin.secrets.tx.0 + 1);
        assert_eq!(
            info(r.version, 0, &r.secrets.tx.1),
            info(fin.version, 0, &fin.secrets.rx.1)
        );
        assert_eq!(
            info(r.version, 0, &r.secrets.rx.1),
            info(fin.version, 0, &fin.secrets.tx.1)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tls13_aes128_sni_a() {
        full_handshake(
            &rustls::version::TLS13,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            "a.example",
            |c| &c.a_der,
        );
    }

    #[test]
    fn tls13_aes256_sni_b() {
        full_handshake(
            &rustls::version::TLS13,
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            "b.example",
            |c| &c.b_der,
        );
    }

    #[test]
    fn tls13_chacha_unknown_sni_gets_default() {
        full_handshake(
            &rustls::version::TLS13,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            "default.test",
            |c| &c.default_der,
        );
    }

    #[test]
    fn tls12_aes128() {
        full_handshake(
            &rustls::version::TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "a.example",
            |c| &c.a_der,
        );
    }

    #[test]
    fn tls12_aes256() {
        full_handshake(
            &rustls::version::TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "b.example",
            |c| &c.b_der,
        );
    }

    #[test]
    fn tls12_chacha() {
        full_handshake(
            &rustls::version::TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "a.example",
            |c| &c.a_der,
        );
    }

    #[test]
    fn no_sni_gets_the_default_certificate() {
        // An IP address as the server name: rustls sends no SNI.
        let dir = tempdir("nosni");
        let (cert, key, der) = make(&dir, "ip", &["127.0.0.1"]);
        let (ac, ak, _) = make(&dir, "a", &["a.example"]);
        let h = HttpsConf {
            port: 443,
            cert,
            key,
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 1,
            pid_file: dir.join("pid"),
            hosts: vec![HostConf {
                name: "a.example".into(),
                cert: ac,
                key: ak,
            }],
        };
        let tls = server_config(Arc::new(CertStore::load(&h, &provider()).unwrap())).unwrap();
        let ccfg = client_config(
            &rustls::version::TLS13,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            &[&der],
        );
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut sock = TcpStream::connect(addr).unwrap();
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let mut conn = ClientConnection::new(ccfg, name).unwrap();
            while conn.is_handshaking() {
                conn.complete_io(&mut sock).unwrap();
            }
            conn.peer_certificates().unwrap()[0].to_vec()
        });
        let (s, _) = l.accept().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let fin = serve(&mut DeadlineIo::new(s.as_fd(), deadline), tls).unwrap();
        assert_eq!(fin.sni, None);
        assert_eq!(t.join().unwrap(), der);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_silent_client_times_out() {
        let dir = tempdir("timeout");
        let c = certs(&dir);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_millis(300);
        let r = serve(&mut DeadlineIo::new(s.as_fd(), deadline), c.tls);
        assert!(matches!(r, Err(Failure::TimedOut)), "{:?}", r.err());
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(3));
        assert_eq!(Failure::TimedOut.errno(), libc::ETIMEDOUT);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_trickling_client_times_out_too() {
        // One byte of a ClientHello header every 100 ms: each read makes
        // progress, the deadline still holds.
        let dir = tempdir("trickle");
        let c = certs(&dir);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut cl = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let t = std::thread::spawn(move || {
            for b in [22u8, 3, 1, 0x40, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0] {
                if cl.write_all(&[b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let (s, _) = l.accept().unwrap();
        let t0 = Instant::now();
        let r = serve(
            &mut DeadlineIo::new(s.as_fd(), t0 + Duration::from_millis(500)),
            c.tls,
        );
        assert!(matches!(r, Err(Failure::TimedOut)), "{:?}", r.err());
        assert!(t0.elapsed() < Duration::from_millis(1500));
        drop(s);
        t.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn plain_http_and_a_closed_client_fail_cleanly() {
        let dir = tempdir("garbage");
        let c = certs(&dir);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut cl = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        cl.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let (s, _) = l.accept().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let r = serve(&mut DeadlineIo::new(s.as_fd(), deadline), c.tls.clone());
        match r {
            Err(Failure::Protocol(m)) => assert!(m.contains("not a TLS record"), "{m}"),
            other => panic!("{:?}", other.err()),
        }
        let cl2 = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s2, _) = l.accept().unwrap();
        drop(cl2);
        let r = serve(&mut DeadlineIo::new(s2.as_fd(), deadline), c.tls);
        assert!(matches!(r, Err(Failure::Closed)), "{:?}", r.err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
