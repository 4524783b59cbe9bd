//! Parses the input as a pipelined stream and plans every request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tux_http::parser::{parse_request, Limits, Parse};
use tux_http::plan::{
    plan_error, plan_static, route, Config, Lookup, Object, ObjectKind, ObjectMeta, Route,
};

fuzz_target!(|data: &[u8]| {
    let cfgs = [
        Config::DEFAULT,
        Config {
            virtual_server: true,
            compression: true,
            generate_etags: false,
            ..Config::DEFAULT
        },
    ];
    let mut head = [0u8; 8192];
    let mut rest = data;
    for _ in 0..32 {
        match parse_request(rest, &Limits::DEFAULT) {
            Err(e) => {
                let p = plan_error(None, &cfgs[0], e.status(), 0, &mut head).unwrap();
                assert!(!p.keep_alive);
                return;
            }
            Ok(Parse::Incomplete) => {
                // Every strict prefix of an incomplete buffer is incomplete too
                // (or an early error), never a complete request.
                if let Some(p) = rest.len().checked_sub(1).and_then(|n| rest.get(..n)) {
                    assert!(!matches!(
                        parse_request(p, &Limits::DEFAULT),
                        Ok(Parse::Complete { .. })
                    ));
                }
                return;
            }
            Ok(Parse::Complete { request, consumed }) => {
                assert!(consumed > 0 && consumed <= rest.len());
                for cfg in &cfgs {
                    let mut rb = [0u8; 4096 + 256];
                    match route(&request, cfg, &mut rb) {
                        Route::Error(s) => {
                            plan_error(Some(&request), cfg, s, 0, &mut head).unwrap();
                        }
                        Route::Static(t) => {
                            assert!(!t.path.starts_with(b"/"));
                            for kind in [ObjectKind::File, ObjectKind::Dir] {
                                let m = ObjectMeta {
                                    size: data.len() as u64,
                                    mtime: 1_000_000,
                                    kind,
                                    world_readable: true,
                                };
                                let obj = Object {
                                    name: t.path,
                                    lookup: Lookup::Found(m),
                                    index: false,
                                    gzip: Some(m),
                                };
                                // A head that does not fit (a 301 whose Location is a
                                // long, percent-encoded path) is answered 500 by the
                                // glue: that fallback must always fit.
                                let Ok(p) =
                                    plan_static(&request, cfg, &t, &obj, 2_000_000, &mut head)
                                else {
                                    plan_error(
                                        None,
                                        cfg,
                                        tux_http::status::Status::InternalServerError,
                                        0,
                                        &mut head[..1024],
                                    )
                                    .unwrap();
                                    continue;
                                };
                                let h = &head[..p.head_len];
                                assert!(h.ends_with(b"\r\n\r\n"));
                                assert!(!h.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
                            }
                        }
                    }
                }
                rest = &rest[consumed..];
            }
        }
    }
});
