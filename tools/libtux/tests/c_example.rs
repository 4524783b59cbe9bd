// SPDX-License-Identifier: GPL-2.0

//! Compiles examples/c/hello.c against the uapi header, so that the C
//! example stays in step with the ABI (it needs the kernel to run).

use std::path::Path;
use std::process::Command;

#[test]
fn c_example_compiles_against_the_uapi_header() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let include = here.join("../../syscall-abi/include/uapi");
    let out = std::env::temp_dir().join(format!("libtux-hello-c-{}", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(&include)
        .arg(here.join("examples/c/hello.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run cc");
    let _ = std::fs::remove_file(&out);
    assert!(status.success(), "cc failed on examples/c/hello.c");
}
