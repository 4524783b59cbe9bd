// SPDX-License-Identifier: GPL-2.0

//! HTTP status codes used by tux, their reason phrases and error bodies.

/// A response status that tux can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 200 OK.
    Ok,
    /// 206 Partial Content.
    PartialContent,
    /// 301 Moved Permanently.
    MovedPermanently,
    /// 304 Not Modified.
    NotModified,
    /// 400 Bad Request.
    BadRequest,
    /// 403 Forbidden.
    Forbidden,
    /// 404 Not Found.
    NotFound,
    /// 405 Method Not Allowed.
    MethodNotAllowed,
    /// 408 Request Timeout.
    RequestTimeout,
    /// 413 Content Too Large.
    ContentTooLarge,
    /// 414 URI Too Long.
    UriTooLong,
    /// 416 Range Not Satisfiable.
    RangeNotSatisfiable,
    /// 431 Request Header Fields Too Large.
    HeaderFieldsTooLarge,
    /// 500 Internal Server Error.
    InternalServerError,
    /// 501 Not Implemented.
    NotImplemented,
    /// 503 Service Unavailable.
    ServiceUnavailable,
    /// 504 Gateway Timeout: a userspace module did not answer in time.
    GatewayTimeout,
    /// 505 HTTP Version Not Supported.
    VersionNotSupported,
}

macro_rules! error_page {
    ($line:literal) => {
        concat!(
            "<html>\r\n<head><title>",
            $line,
            "</title></head>\r\n<body>\r\n<center><h1>",
            $line,
            "</h1></center>\r\n<hr><center>tux</center>\r\n</body>\r\n</html>\r\n"
        )
        .as_bytes()
    };
}

impl Status {
    /// The numeric status code.
    pub const fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::PartialContent => 206,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::ContentTooLarge => 413,
            Status::UriTooLong => 414,
            Status::RangeNotSatisfiable => 416,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::GatewayTimeout => 504,
            Status::VersionNotSupported => 505,
        }
    }

    /// The status line without version and CRLF, e.g. `404 Not Found`.
    pub const fn line(self) -> &'static [u8] {
        match self {
            Status::Ok => b"200 OK",
            Status::PartialContent => b"206 Partial Content",
            Status::MovedPermanently => b"301 Moved Permanently",
            Status::NotModified => b"304 Not Modified",
            Status::BadRequest => b"400 Bad Request",
            Status::Forbidden => b"403 Forbidden",
            Status::NotFound => b"404 Not Found",
            Status::MethodNotAllowed => b"405 Method Not Allowed",
            Status::RequestTimeout => b"408 Request Timeout",
            Status::ContentTooLarge => b"413 Content Too Large",
            Status::UriTooLong => b"414 URI Too Long",
            Status::RangeNotSatisfiable => b"416 Range Not Satisfiable",
            Status::HeaderFieldsTooLarge => b"431 Request Header Fields Too Large",
            Status::InternalServerError => b"500 Internal Server Error",
            Status::NotImplemented => b"501 Not Implemented",
            Status::ServiceUnavailable => b"503 Service Unavailable",
            Status::GatewayTimeout => b"504 Gateway Timeout",
            Status::VersionNotSupported => b"505 HTTP Version Not Supported",
        }
    }

    /// The small built-in HTML body sent with this status, if any.
    ///
    /// 200, 206 and 304 have no built-in body.
    pub const fn error_body(self) -> Option<&'static [u8]> {
        Some(match self {
            Status::Ok | Status::PartialContent | Status::NotModified => return None,
            Status::MovedPermanently => error_page!("301 Moved Permanently"),
            Status::BadRequest => error_page!("400 Bad Request"),
            Status::Forbidden => error_page!("403 Forbidden"),
            Status::NotFound => error_page!("404 Not Found"),
            Status::MethodNotAllowed => error_page!("405 Method Not Allowed"),
            Status::RequestTimeout => error_page!("408 Request Timeout"),
            Status::ContentTooLarge => error_page!("413 Content Too Large"),
            Status::UriTooLong => error_page!("414 URI Too Long"),
            Status::RangeNotSatisfiable => error_page!("416 Range Not Satisfiable"),
            Status::HeaderFieldsTooLarge => {
                error_page!("431 Request Header Fields Too Large")
            }
            Status::InternalServerError => error_page!("500 Internal Server Error"),
            Status::NotImplemented => error_page!("501 Not Implemented"),
            Status::ServiceUnavailable => error_page!("503 Service Unavailable"),
            Status::GatewayTimeout => error_page!("504 Gateway Timeout"),
            Status::VersionNotSupported => error_page!("505 HTTP Version Not Supported"),
        })
    }

    /// Whether the connection may stay open after sending this status.
    ///
    /// Only statuses after which the request framing is known to be intact
    /// allow keep-alive; every parse or protocol error closes.
    pub const fn allows_keep_alive(self) -> bool {
        matches!(
            self,
            Status::Ok
                | Status::PartialContent
                | Status::MovedPermanently
                | Status::NotModified
                | Status::Forbidden
                | Status::NotFound
                | Status::RangeNotSatisfiable
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_with_code() {
        let all = [
            Status::Ok,
            Status::PartialContent,
            Status::MovedPermanently,
            Status::NotModified,
            Status::BadRequest,
            Status::Forbidden,
            Status::NotFound,
            Status::MethodNotAllowed,
            Status::RequestTimeout,
            Status::ContentTooLarge,
            Status::UriTooLong,
            Status::RangeNotSatisfiable,
            Status::HeaderFieldsTooLarge,
            Status::InternalServerError,
            Status::NotImplemented,
            Status::ServiceUnavailable,
            Status::GatewayTimeout,
            Status::VersionNotSupported,
        ];
        for s in all {
            let mut code = [0u8; 3];
            let c = s.code();
            code[0] = b'0' + (c / 100) as u8;
            code[1] = b'0' + (c / 10 % 10) as u8;
            code[2] = b'0' + (c % 10) as u8;
            assert!(s.line().starts_with(&code));
            if let Some(body) = s.error_body() {
                let needle = s.line();
                assert!(body.windows(needle.len()).any(|w| w == needle));
            }
        }
    }
}
