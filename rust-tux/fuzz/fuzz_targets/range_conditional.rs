//! Range / conditional / date evaluation: bounds and round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tux_http::cond::{
    evaluate_range, if_none_match, if_range, not_modified_since, ETag, RangeOutcome,
};
use tux_http::date::{format_http_date, parse_http_date};

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let (nums, text) = data.split_at(16);
    let len = u64::from_le_bytes(nums[..8].try_into().unwrap());
    let mtime = u64::from_le_bytes(nums[8..].try_into().unwrap());
    for l in [len, len % 4096, 0, u64::MAX] {
        if let RangeOutcome::Partial { start, end } = evaluate_range(text, l) {
            assert!(start <= end && end < l);
        }
    }
    let etag = ETag::new(mtime, len);
    let _ = if_none_match(text, etag.as_bytes());
    let _ = if_range(text, Some(etag.as_bytes()), mtime);
    let _ = not_modified_since(text, mtime, len);
    if let Some(t) = parse_http_date(text) {
        // Any accepted date re-formats to an IMF-fixdate naming the same instant.
        assert_eq!(parse_http_date(&format_http_date(t)), Some(t));
    }
    let f = format_http_date(mtime);
    if mtime <= tux_http::date::MAX_DATE {
        assert_eq!(parse_http_date(&f), Some(mtime));
    }
});
