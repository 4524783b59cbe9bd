// SPDX-License-Identifier: GPL-2.0

//! The C uapi header and the Rust ABI crate agree: every number, size and
//! field offset is compiled into a C program and compared with Rust's.

use std::{path::PathBuf, process::Command};
use tux_abi::*;

macro_rules! fields {
    ($($f:ident),* $(,)?) => {
        [$((stringify!($f), core::mem::offset_of!(TuxReq, $f), field_size(|r: &TuxReq| &r.$f))),*]
    };
}

fn field_size<T>(_: impl Fn(&TuxReq) -> &T) -> usize {
    core::mem::size_of::<T>()
}

/// `(C expression, value Rust expects)`.
fn expectations() -> Vec<(String, u64)> {
    let mut e: Vec<(String, u64)> = vec![
        (
            "sizeof(struct tux_req)".into(),
            core::mem::size_of::<TuxReq>() as u64,
        ),
        (
            "_Alignof(struct tux_req)".into(),
            core::mem::align_of::<TuxReq>() as u64,
        ),
        ("TUX_REQ_SIZE_VER0".into(), TUX_REQ_SIZE_VER0 as u64),
        ("TUX_REQ_SIZE_MAX".into(), TUX_REQ_SIZE_MAX as u64),
        ("TUX_VERSION".into(), TUX_VERSION.into()),
        ("TUX_VERSION_MAJOR".into(), TUX_VERSION_MAJOR.into()),
        ("TUX_VERSION_MINOR".into(), TUX_VERSION_MINOR.into()),
        ("TUX_VERSION_PATCH".into(), TUX_VERSION_PATCH.into()),
        (
            "TUX_PACK_VERSION(3, 2, 1)".into(),
            pack_version(3, 2, 1).into(),
        ),
        ("TUX_ACTION_MAX".into(), Action::ALL.len() as u64),
        (
            "TUX_RETURN_USERSPACE_REQUEST".into(),
            TUX_RETURN_USERSPACE_REQUEST as u64,
        ),
        ("TUX_RETURN_EXIT".into(), TUX_RETURN_EXIT as u64),
        ("TUX_RETURN_SIGNAL".into(), TUX_RETURN_SIGNAL as u64),
        ("TUX_METHOD_OTHER".into(), method::OTHER.into()),
        ("TUX_METHOD_GET".into(), method::GET.into()),
        ("TUX_METHOD_HEAD".into(), method::HEAD.into()),
        ("TUX_METHOD_POST".into(), method::POST.into()),
        ("TUX_METHOD_PUT".into(), method::PUT.into()),
        ("TUX_METHOD_DELETE".into(), method::DELETE.into()),
        ("TUX_METHOD_OPTIONS".into(), method::OPTIONS.into()),
        ("TUX_METHOD_PATCH".into(), method::PATCH.into()),
        ("TUX_HTTP_1_0".into(), http_version::HTTP_1_0.into()),
        ("TUX_HTTP_1_1".into(), http_version::HTTP_1_1.into()),
        ("TUX_MAX_THREADS".into(), TUX_MAX_THREADS.into()),
        ("TUX_MAX_MODULES".into(), TUX_MAX_MODULES.into()),
        ("TUX_MAX_NAME".into(), TUX_MAX_NAME),
        ("TUX_DATE_LEN".into(), TUX_DATE_LEN),
    ];
    for a in Action::ALL {
        e.push((format!("TUX_ACTION_{}", a.name()), a as u64));
    }
    for (name, off, size) in fields!(
        version,
        http_version,
        http_method,
        http_status,
        event,
        error,
        thread_nr,
        module_index,
        keep_alive,
        client_port,
        client_family,
        proxy_fd,
        client_addr,
        id,
        private,
        bytes_sent,
        object_len,
        object_mtime,
        headers_len,
        body_len,
        buf,
        buf_len,
        name,
        name_len,
        value,
        value_len,
        offset,
    ) {
        e.push((format!("offsetof(struct tux_req, {name})"), off as u64));
        e.push((
            format!("sizeof(((struct tux_req *)0)->{name})"),
            size as u64,
        ));
    }
    e
}

#[test]
fn c_header_agrees_with_rust() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let exp = expectations();
    let mut src = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <linux/tux.h>\nint main(void)\n{\n",
    );
    for (expr, _) in &exp {
        src.push_str(&format!(
            "\tprintf(\"%llu\\n\", (unsigned long long)({expr}));\n"
        ));
    }
    src.push_str("\treturn 0;\n}\n");
    let c = out.join("agree.c");
    let bin = out.join("agree");
    std::fs::write(&c, src).unwrap();
    // -m32 is not installed everywhere; the layout has no pointer-sized field,
    // so the 64-bit build and the padding assertions cover both.
    let status = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-Wpadded", "-I"])
        .arg(root.join("include/uapi"))
        .arg(&c)
        .arg("-o")
        .arg(&bin)
        .status()
        .expect("run cc");
    assert!(status.success(), "the uapi header does not compile cleanly");
    let output = Command::new(&bin).output().expect("run the C probe");
    let got: Vec<u64> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(got.len(), exp.len());
    let mut bad = Vec::new();
    for ((expr, want), got) in exp.iter().zip(got) {
        if *want != got {
            bad.push(format!("{expr}: C {got}, Rust {want}"));
        }
    }
    assert!(bad.is_empty(), "C and Rust disagree:\n{}", bad.join("\n"));
}

#[test]
fn action_numbers_round_trip() {
    for (i, a) in Action::ALL.iter().enumerate() {
        assert_eq!(*a as u32, i as u32 + 1);
        assert_eq!(Action::from_u32(i as u32 + 1), Some(*a));
    }
    assert_eq!(Action::from_u32(0), None);
    assert_eq!(Action::from_u32(24), None);
    assert_eq!(Action::from_u32(u32::MAX), None);
}

#[test]
fn version_rules() {
    let k = pack_version(4, 2, 7);
    assert!(version_compatible(k, pack_version(4, 0, 0)));
    assert!(version_compatible(k, pack_version(4, 2, 99)));
    assert!(!version_compatible(k, pack_version(4, 3, 0)));
    assert!(!version_compatible(k, pack_version(3, 0, 0)));
    assert!(!version_compatible(k, pack_version(5, 0, 0)));
    assert_eq!(version_major(TUX_VERSION), TUX_VERSION_MAJOR);
    assert_eq!(version_minor(TUX_VERSION), TUX_VERSION_MINOR);
    assert_eq!(version_patch(TUX_VERSION), TUX_VERSION_PATCH);
}

/// The same layout on 32-bit: every offset and size, checked by a 32-bit
/// compile of the header (`clang-19 -m32`, installed by `make deps`), with
/// `-Wpadded` so that no implicit padding can appear there either.
#[test]
fn c_header_layout_is_the_same_on_32_bit() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut src = String::from("#include <stddef.h>\n#include <linux/tux.h>\n");
    for (expr, want) in expectations() {
        if expr.starts_with("offsetof") || expr.starts_with("sizeof") {
            src.push_str(&format!(
                "_Static_assert(({expr}) == {want}, \"{expr}\");\n"
            ));
        }
    }
    let c = out.join("agree32.c");
    std::fs::write(&c, src).unwrap();
    let output = Command::new("clang-19")
        .args([
            "-m32",
            "-std=c11",
            "-fsyntax-only",
            "-Wall",
            "-Werror",
            "-Wpadded",
            "-I",
        ])
        .arg(root.join("include/uapi"))
        // The 32-bit x86 <asm/types.h> is the same file as the 64-bit one.
        .args(["-I", "/usr/include/x86_64-linux-gnu"])
        .arg(&c)
        .output()
        .expect("run clang-19 (make deps installs it)");
    assert!(
        output.status.success(),
        "32-bit layout differs:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
