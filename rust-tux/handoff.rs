// SPDX-License-Identifier: GPL-2.0

//! Hand-off of a connection to the fallback userspace server.
//!
//! What TUX does not serve goes, as a live connection, onto the accept queue
//! of the server listening on `clientport` (`handoff.c`). This is the Rust
//! side: it clears the connection's events so that the socket has the
//! stack's own callbacks, calls `tux_handoff()`, and counts the outcome.

use crate::stats::Stats;
use kernel::{
    bindings,
    net::tcp::{SocketEvents, TcpStream},
    prelude::*,
    sync::atomic::Relaxed,
};

/// Moves the connection to the accept queue of the TCP listener on `port`, on the
/// address the client connected to, as if the client had connected there: `unread`
/// (the bytes last received, not yet consumed) is put back in front of the input, so
/// the new owner reads the stream from there, and sees the client's address.
///
/// On success the stream is gone. On failure it is given back with the error when
/// nothing changed ([`ECONNREFUSED`]: nobody listens there; [`EAFNOSUPPORT`],
/// [`EPERM`]: the listener may not have it (counted in `handoffs_refused`);
/// [`EAGAIN`]: its accept queue is full; [`ENOMEM`], [`ENOBUFS`]), and not given back
/// when the listener went away meanwhile ([`ECONNABORTED`]: the connection was reset).
/// Either way the stream's events are cleared: the caller registers them again to go
/// on with a stream it got back.
pub(crate) fn hand_off<T: SocketEvents>(
    mut stream: TcpStream<T>,
    unread: &[u8],
    port: u16,
    stats: &Stats,
) -> Result<(), (Option<TcpStream<T>>, Error)> {
    stream.clear_events();
    // SAFETY: the socket is valid and was established when accepted. With its events
    // cleared it has the stack's own callbacks and an empty `sk_user_data` (see
    // `TcpStream::as_ptr`). `unread` is readable for its length. When the call takes the
    // `sock` away (0, `ECONNABORTED`), the stream is dropped at once, below.
    let ret = unsafe {
        bindings::tux_handoff(stream.as_ptr(), unread.as_ptr().cast(), unread.len(), port)
    };
    match ret {
        0 => {
            drop(stream);
            stats.handoffs.add(1, Relaxed);
            Ok(())
        }
        e if e == ECONNABORTED.to_errno() => {
            drop(stream);
            Err((None, ECONNABORTED))
        }
        e => {
            let e = Error::from_errno(e);
            if e == EPERM || e == EAFNOSUPPORT {
                stats.handoffs_refused.add(1, Relaxed);
            }
            Err((Some(stream), e))
        }
    }
}
