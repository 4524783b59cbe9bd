// SPDX-License-Identifier: GPL-2.0

//! Hands a finished handshake's keys to the kernel: `TCP_ULP` "tls", then
//! `SOL_TLS` `TLS_TX` and `TLS_RX` with the structs of
//! include/uapi/linux/tls.h.

use rustls::{ConnectionTrafficSecrets, ExtractedSecrets, ProtocolVersion};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `SOL_TLS` (include/linux/socket.h).
const SOL_TLS: libc::c_int = 282;
/// `TLS_TX`.
const TLS_TX: libc::c_int = 1;
/// `TLS_RX`.
const TLS_RX: libc::c_int = 2;
/// `TLS_1_2_VERSION`.
pub const TLS_1_2_VERSION: u16 = 0x0303;
/// `TLS_1_3_VERSION`.
pub const TLS_1_3_VERSION: u16 = 0x0304;
/// `TLS_CIPHER_AES_GCM_128`.
pub const TLS_CIPHER_AES_GCM_128: u16 = 51;
/// `TLS_CIPHER_AES_GCM_256`.
pub const TLS_CIPHER_AES_GCM_256: u16 = 52;
/// `TLS_CIPHER_CHACHA20_POLY1305`.
pub const TLS_CIPHER_CHACHA20_POLY1305: u16 = 54;

/// `struct tls_crypto_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsCryptoInfo {
    /// `TLS_1_2_VERSION` or `TLS_1_3_VERSION`.
    pub version: u16,
    /// `TLS_CIPHER_*`.
    pub cipher_type: u16,
}

/// `struct tls12_crypto_info_aes_gcm_128` (40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AesGcm128 {
    /// Version and cipher.
    pub info: TlsCryptoInfo,
    /// The last 8 bytes of the 12-byte IV.
    pub iv: [u8; 8],
    /// The key.
    pub key: [u8; 16],
    /// The first 4 bytes of the IV.
    pub salt: [u8; 4],
    /// The next record's sequence number, big endian.
    pub rec_seq: [u8; 8],
}

/// `struct tls12_crypto_info_aes_gcm_256` (56 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AesGcm256 {
    /// Version and cipher.
    pub info: TlsCryptoInfo,
    /// The last 8 bytes of the 12-byte IV.
    pub iv: [u8; 8],
    /// The key.
    pub key: [u8; 32],
    /// The first 4 bytes of the IV.
    pub salt: [u8; 4],
    /// The next record's sequence number, big endian.
    pub rec_seq: [u8; 8],
}

/// `struct tls12_crypto_info_chacha20_poly1305` (56 bytes: its salt is
/// empty, the whole 12-byte IV goes in `iv`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Chacha20Poly1305 {
    /// Version and cipher.
    pub info: TlsCryptoInfo,
    /// The 12-byte IV.
    pub iv: [u8; 12],
    /// The key.
    pub key: [u8; 32],
    /// The next record's sequence number, big endian.
    pub rec_seq: [u8; 8],
}

/// One direction's crypto info, ready for `setsockopt`.
#[derive(Debug)]
pub enum CryptoInfo {
    /// AES-128-GCM.
    AesGcm128(AesGcm128),
    /// AES-256-GCM.
    AesGcm256(AesGcm256),
    /// ChaCha20-Poly1305.
    Chacha20Poly1305(Chacha20Poly1305),
}

fn copy<const N: usize>(src: &[u8], what: &str) -> io::Result<[u8; N]> {
    src.try_into().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} is {} bytes, want {N}", src.len()),
        )
    })
}

/// The AEAD of a crypto info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    /// AES-128-GCM.
    AesGcm128,
    /// AES-256-GCM.
    AesGcm256,
    /// ChaCha20-Poly1305.
    Chacha20Poly1305,
}

impl CryptoInfo {
    /// The crypto info for one direction: `seq` is the sequence number of
    /// the next record, as rustls reports it.
    pub fn new(version: u16, seq: u64, s: &ConnectionTrafficSecrets) -> io::Result<CryptoInfo> {
        match s {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => {
                CryptoInfo::from_parts(version, seq, Cipher::AesGcm128, key.as_ref(), iv.as_ref())
            }
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => {
                CryptoInfo::from_parts(version, seq, Cipher::AesGcm256, key.as_ref(), iv.as_ref())
            }
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => CryptoInfo::from_parts(
                version,
                seq,
                Cipher::Chacha20Poly1305,
                key.as_ref(),
                iv.as_ref(),
            ),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "cipher suite not supported by kernel TLS",
            )),
        }
    }

    /// From raw key and 12-byte IV. For AES-GCM the kernel wants the IV
    /// split: `salt` = its first 4 bytes, `iv` = the other 8; ChaCha20 takes
    /// all 12 in `iv` (its salt is empty).
    pub fn from_parts(
        version: u16,
        seq: u64,
        cipher: Cipher,
        key: &[u8],
        iv: &[u8],
    ) -> io::Result<CryptoInfo> {
        let rec_seq = seq.to_be_bytes();
        let salt = || copy::<4>(iv.get(..4).unwrap_or(&[]), "AES-GCM salt");
        let iv8 = || copy::<8>(iv.get(4..).unwrap_or(&[]), "AES-GCM IV");
        if iv.len() != 12 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("IV is {} bytes, want 12", iv.len()),
            ));
        }
        Ok(match cipher {
            Cipher::AesGcm128 => CryptoInfo::AesGcm128(AesGcm128 {
                info: TlsCryptoInfo {
                    version,
                    cipher_type: TLS_CIPHER_AES_GCM_128,
                },
                iv: iv8()?,
                key: copy(key, "AES-128 key")?,
                salt: salt()?,
                rec_seq,
            }),
            Cipher::AesGcm256 => CryptoInfo::AesGcm256(AesGcm256 {
                info: TlsCryptoInfo {
                    version,
                    cipher_type: TLS_CIPHER_AES_GCM_256,
                },
                iv: iv8()?,
                key: copy(key, "AES-256 key")?,
                salt: salt()?,
                rec_seq,
            }),
            Cipher::Chacha20Poly1305 => CryptoInfo::Chacha20Poly1305(Chacha20Poly1305 {
                info: TlsCryptoInfo {
                    version,
                    cipher_type: TLS_CIPHER_CHACHA20_POLY1305,
                },
                iv: copy(iv, "ChaCha20 IV")?,
                key: copy(key, "ChaCha20 key")?,
                rec_seq,
            }),
        })
    }

    /// The struct's bytes, as setsockopt takes them.
    pub fn as_bytes(&self) -> &[u8] {
        fn bytes<T>(t: &T) -> &[u8] {
            // SAFETY: T is a #[repr(C)] struct of u16s and byte arrays with
            // no padding (checked by the size tests), so every byte is
            // initialised; the slice borrows `t`.
            unsafe { std::slice::from_raw_parts((t as *const T).cast(), std::mem::size_of::<T>()) }
        }
        match self {
            CryptoInfo::AesGcm128(c) => bytes(c),
            CryptoInfo::AesGcm256(c) => bytes(c),
            CryptoInfo::Chacha20Poly1305(c) => bytes(c),
        }
    }
}

fn wipe<T>(t: &mut T) {
    let base: *mut u8 = (t as *mut T).cast();
    for i in 0..std::mem::size_of::<T>() {
        // SAFETY: `base..base+size_of::<T>()` is `*t`, borrowed mutably; T
        // is plain bytes (see as_bytes), so zero is a valid value.
        unsafe { std::ptr::write_volatile(base.add(i), 0) };
    }
}

impl Drop for CryptoInfo {
    fn drop(&mut self) {
        // Wipe the key material (best effort: rustls wipes its own copies).
        match self {
            CryptoInfo::AesGcm128(c) => wipe(c),
            CryptoInfo::AesGcm256(c) => wipe(c),
            CryptoInfo::Chacha20Poly1305(c) => wipe(c),
        }
    }
}

/// The kernel's version constant for a negotiated protocol version.
pub fn kernel_version(v: ProtocolVersion) -> io::Result<u16> {
    match v {
        ProtocolVersion::TLSv1_3 => Ok(TLS_1_3_VERSION),
        ProtocolVersion::TLSv1_2 => Ok(TLS_1_2_VERSION),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{other:?} not supported by kernel TLS"),
        )),
    }
}

fn setsockopt(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    opt: libc::c_int,
    val: &[u8],
) -> io::Result<()> {
    // SAFETY: `val` is valid for its length during the call.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            val.as_ptr().cast(),
            val.len() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Why installing kernel TLS failed: the step and the OS error (whose
/// errno goes in DONE: e.g. ENOENT without the `tls` module, ENOPROTOOPT
/// or EINVAL for a cipher the kernel lacks).
#[derive(Debug)]
pub struct InstallError {
    /// `TCP_ULP`, `TLS_TX`, `TLS_RX` or `secrets`.
    pub step: &'static str,
    /// The error.
    pub err: io::Error,
}

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kTLS {}: {}", self.step, self.err)
    }
}

impl InstallError {
    /// The errno to report (EIO when the error has none).
    pub fn errno(&self) -> i32 {
        self.err.raw_os_error().unwrap_or(libc::EIO)
    }
}

/// Installs kernel TLS on `fd` with the handshake's secrets: the ULP, then
/// TX, then RX.
pub fn install(
    fd: BorrowedFd<'_>,
    version: ProtocolVersion,
    secrets: ExtractedSecrets,
) -> Result<(), InstallError> {
    let step = |step| move |err| InstallError { step, err };
    let v = kernel_version(version).map_err(step("secrets"))?;
    let tx = CryptoInfo::new(v, secrets.tx.0, &secrets.tx.1).map_err(step("secrets"))?;
    let rx = CryptoInfo::new(v, secrets.rx.0, &secrets.rx.1).map_err(step("secrets"))?;
    drop(secrets);
    setsockopt(fd, libc::SOL_TCP, libc::TCP_ULP, b"tls").map_err(step("TCP_ULP"))?;
    setsockopt(fd, SOL_TLS, TLS_TX, tx.as_bytes()).map_err(step("TLS_TX"))?;
    setsockopt(fd, SOL_TLS, TLS_RX, rx.as_bytes()).map_err(step("TLS_RX"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::cipher::{AeadKey, Iv};
    use std::mem::size_of;

    #[test]
    fn struct_layout_matches_uapi_tls_h() {
        // include/uapi/linux/tls.h of Linux 7.3.4: info (4) + iv + key +
        // salt + rec_seq, no padding.
        assert_eq!(size_of::<TlsCryptoInfo>(), 4);
        assert_eq!(size_of::<AesGcm128>(), 4 + 8 + 16 + 4 + 8);
        assert_eq!(size_of::<AesGcm128>(), 40);
        assert_eq!(size_of::<AesGcm256>(), 56);
        assert_eq!(size_of::<Chacha20Poly1305>(), 4 + 12 + 32 + 8); // salt: 0
        assert_eq!(size_of::<Chacha20Poly1305>(), 56);
        assert_eq!(std::mem::offset_of!(AesGcm128, iv), 4);
        assert_eq!(std::mem::offset_of!(AesGcm128, key), 12);
        assert_eq!(std::mem::offset_of!(AesGcm128, salt), 28);
        assert_eq!(std::mem::offset_of!(AesGcm128, rec_seq), 32);
        assert_eq!(std::mem::offset_of!(AesGcm256, salt), 44);
        assert_eq!(std::mem::offset_of!(Chacha20Poly1305, key), 16);
        assert_eq!(std::mem::offset_of!(Chacha20Poly1305, rec_seq), 48);
    }

    const IV: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    #[test]
    fn aes_gcm_128_bytes() {
        let c = CryptoInfo::from_parts(
            TLS_1_3_VERSION,
            0x0102_0304_0506_0708,
            Cipher::AesGcm128,
            &[7; 16],
            &IV,
        )
        .unwrap();
        let b = c.as_bytes();
        assert_eq!(b.len(), 40);
        assert_eq!(&b[0..2], &0x0304u16.to_ne_bytes());
        assert_eq!(&b[2..4], &51u16.to_ne_bytes());
        assert_eq!(&b[4..12], &[5, 6, 7, 8, 9, 10, 11, 12]); // iv: IV[4..]
        assert_eq!(&b[12..28], &[7; 16]);
        assert_eq!(&b[28..32], &[1, 2, 3, 4]); // salt: IV[..4]
        assert_eq!(&b[32..40], &[1, 2, 3, 4, 5, 6, 7, 8]); // big endian
    }

    #[test]
    fn aes_gcm_256_and_chacha_bytes() {
        let s = ConnectionTrafficSecrets::Aes256Gcm {
            key: AeadKey::from([9u8; 32]),
            iv: Iv::new(IV),
        };
        let c = CryptoInfo::new(TLS_1_2_VERSION, 1, &s).unwrap();
        let b = c.as_bytes();
        assert_eq!(b.len(), 56);
        assert_eq!(&b[0..2], &0x0303u16.to_ne_bytes());
        assert_eq!(&b[2..4], &52u16.to_ne_bytes());
        assert_eq!(&b[4..12], &[5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(&b[12..44], &[9; 32]);
        assert_eq!(&b[44..48], &[1, 2, 3, 4]);
        assert_eq!(&b[48..56], &[0, 0, 0, 0, 0, 0, 0, 1]);

        let s = ConnectionTrafficSecrets::Chacha20Poly1305 {
            key: AeadKey::from([3u8; 32]),
            iv: Iv::new(IV),
        };
        let c = CryptoInfo::new(TLS_1_3_VERSION, 2, &s).unwrap();
        let b = c.as_bytes();
        assert_eq!(b.len(), 56);
        assert_eq!(&b[2..4], &54u16.to_ne_bytes());
        assert_eq!(&b[4..16], &IV); // the whole IV, no salt
        assert_eq!(&b[16..48], &[3; 32]);
        assert_eq!(&b[48..56], &[0, 0, 0, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        // A 32-byte key for a 128-bit cipher, a short IV, TLS 1.1.
        let s = ConnectionTrafficSecrets::Aes128Gcm {
            key: AeadKey::from([7u8; 32]),
            iv: Iv::new(IV),
        };
        assert!(CryptoInfo::new(TLS_1_3_VERSION, 0, &s).is_err());
        assert!(CryptoInfo::from_parts(0x0304, 0, Cipher::AesGcm256, &[0; 32], &[0; 8]).is_err());
        assert!(kernel_version(ProtocolVersion::TLSv1_1).is_err());
        assert_eq!(kernel_version(ProtocolVersion::TLSv1_3).unwrap(), 0x0304);
    }
}
