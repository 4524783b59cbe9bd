// SPDX-License-Identifier: GPL-2.0

//! Bounded byte writer used by the response and ETag formatters.

/// The output buffer is too small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Full;

/// Appends bytes to a fixed slice, failing instead of overflowing.
pub(crate) struct Cursor<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl<'b> Cursor<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Number of bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    pub(crate) fn byte(&mut self, b: u8) -> Result<(), Full> {
        let slot = self.buf.get_mut(self.pos).ok_or(Full)?;
        *slot = b;
        self.pos = self.pos.checked_add(1).ok_or(Full)?;
        Ok(())
    }

    pub(crate) fn put(&mut self, s: &[u8]) -> Result<(), Full> {
        let end = self.pos.checked_add(s.len()).ok_or(Full)?;
        let dst = self.buf.get_mut(self.pos..end).ok_or(Full)?;
        dst.copy_from_slice(s);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn dec(&mut self, mut v: u64) -> Result<(), Full> {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i = i.checked_sub(1).ok_or(Full)?;
            let digit = (v % 10) as u8;
            *tmp.get_mut(i).ok_or(Full)? = b'0'.wrapping_add(digit);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(tmp.get(i..).ok_or(Full)?)
    }

    pub(crate) fn hex(&mut self, v: u64) -> Result<(), Full> {
        let mut started = false;
        for shift in (0..16u32).rev() {
            let nib = (v.checked_shr(shift.wrapping_mul(4)).unwrap_or(0) & 0xf) as usize;
            if nib != 0 || started || shift == 0 {
                started = true;
                self.byte(*HEX.get(nib).ok_or(Full)?)?;
            }
        }
        Ok(())
    }

    /// Writes `%XX` for `b`.
    pub(crate) fn pct(&mut self, b: u8) -> Result<(), Full> {
        self.byte(b'%')?;
        self.byte(upper_hex(b >> 4))?;
        self.byte(upper_hex(b & 0xf))
    }
}

fn upper_hex(n: u8) -> u8 {
    match n {
        0..=9 => b'0'.wrapping_add(n),
        _ => b'A'.wrapping_add(n.wrapping_sub(10)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut b = [0u8; 64];
        let mut c = Cursor::new(&mut b);
        c.dec(0).unwrap();
        c.byte(b' ').unwrap();
        c.dec(u64::MAX).unwrap();
        c.byte(b' ').unwrap();
        c.hex(0).unwrap();
        c.byte(b' ').unwrap();
        c.hex(0x1f2e).unwrap();
        c.byte(b' ').unwrap();
        c.hex(u64::MAX).unwrap();
        c.pct(0x0a).unwrap();
        let n = c.len();
        assert_eq!(
            &b[..n],
            b"0 18446744073709551615 0 1f2e ffffffffffffffff%0A"
        );
    }

    #[test]
    fn full() {
        let mut b = [0u8; 3];
        let mut c = Cursor::new(&mut b);
        assert_eq!(c.put(b"abcd"), Err(Full));
        c.put(b"ab").unwrap();
        assert_eq!(c.dec(10), Err(Full));
    }
}
