//! The HTTP core's share of one keep-alive request, for instruction counts:
//! parse a wrk-style `GET /1k.bin`, route it, plan the 200 for a 1 KiB file and
//! format its head, as `conn.rs` does (the file system and the socket left out).
//!
//! ```text
//! cargo build --release --example hotpath
//! valgrind --tool=callgrind target/release/examples/hotpath 100000
//! ```
//!
//! Instructions per request = (total at N - total at 0) / N.

use tux_http::parser::{parse_request, Limits, Parse};
use tux_http::plan::{plan_static, route, Config, Lookup, Object, ObjectKind, ObjectMeta, Route};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let raw = b"GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n";
    let cfg = Config::DEFAULT;
    let meta = ObjectMeta {
        size: 1024,
        mtime: 1_600_000_000,
        kind: ObjectKind::File,
        world_readable: true,
    };
    let mut route_buf = [0u8; 4096 + 256];
    let mut head = [0u8; 1024];
    let mut total = 0usize;
    for i in 0..n {
        let Ok(Parse::Complete { request, .. }) =
            parse_request(std::hint::black_box(raw), &Limits::DEFAULT)
        else {
            panic!("the request does not parse");
        };
        let Route::Static(target) = route(&request, &cfg, &mut route_buf) else {
            panic!("the request does not route");
        };
        let obj = Object {
            name: target.path,
            lookup: Lookup::Found(meta),
            index: false,
            gzip: None,
        };
        let plan = plan_static(
            &request,
            &cfg,
            &target,
            &obj,
            1_700_000_000 + i / 1000,
            &mut head,
        )
        .unwrap_or_else(|_| panic!("the head does not fit"));
        total = total.wrapping_add(plan.head_len);
    }
    println!("{n} requests, {total} head bytes");
}
