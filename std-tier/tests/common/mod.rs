//! Building the fixture libraries of `tests/fixtures/` for the loading tests.
//!
//! C and C++ fixtures are compiled with the system compiler against the reference wheel's
//! headers (`.venv`, made by `ci/lib.sh`'s `ensure_venv`); the Rust fixture with a nested
//! `cargo build` into its own target directory (the outer `cargo test` holds the lock on
//! ours). Without the venv or a compiler a test prints why and passes as skipped, except
//! under CI (`CI` set), where a missing prerequisite is a failure.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("std-tier has a parent").to_path_buf()
}

/// Where built fixtures go.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tvmffi-fixtures");
    std::fs::create_dir_all(&dir).expect("create the fixture directory");
    dir
}

/// Skip the calling test with `why`, or fail it under CI.
pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("a prerequisite is missing under CI: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// The reference's `tvm-ffi-config`, when the venv exists.
fn tvm_ffi_config(flag: &str) -> Option<PathBuf> {
    let config = repo_root().join(".venv/bin/tvm-ffi-config");
    let out = Command::new(&config).arg(flag).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(text.trim()))
}

/// The reference headers: `TVM_FFI_INCLUDE_DIR`, or the venv's.
pub fn include_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("TVM_FFI_INCLUDE_DIR") {
        return Ok(dir.into());
    }
    tvm_ffi_config("--includedir").ok_or_else(|| {
        "the reference headers were not found: run `bash ci/std-abi.sh` (or `source ci/lib.sh; \
         ensure_venv`) to create .venv, or set TVM_FFI_INCLUDE_DIR"
            .into()
    })
}

/// The directory of the reference `libtvm_ffi.so`.
pub fn reference_lib_dir() -> Result<PathBuf, String> {
    tvm_ffi_config("--libdir")
        .ok_or_else(|| "the reference libtvm_ffi.so was not found (.venv)".into())
}

fn compile(compiler: &str, args: &[&str], output: &Path) -> Result<PathBuf, String> {
    // Build under a unique name, then rename: parallel test processes may build the same
    // fixture at once, and a library must never be loaded half written.
    let tmp = output.with_extension(format!("{}.tmp", std::process::id()));
    // A compiler that cannot be started is a missing prerequisite (skip); one that runs
    // and fails means a broken fixture (fail).
    let status = Command::new(compiler)
        .args(args)
        .arg("-o")
        .arg(&tmp)
        .status()
        .map_err(|e| format!("cannot run {compiler}: {e}"))?;
    assert!(status.success(), "{compiler} {args:?} failed: {status}");
    std::fs::rename(&tmp, output).map_err(|e| format!("rename {}: {e}", tmp.display()))?;
    Ok(output.to_path_buf())
}

/// Build `tests/fixtures/c/<source>.c` into `lib<name>.so` with extra `defines`.
pub fn c_fixture(source: &str, name: &str, defines: &[&str]) -> Result<PathBuf, String> {
    let include = include_dir()?;
    let src = repo_root().join(format!("tests/fixtures/c/{source}.c"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let inc = format!("-I{}", include.display());
    let mut args = vec!["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-shared", &inc];
    args.extend_from_slice(defines);
    let src = src.to_str().ok_or("non-UTF-8 path")?;
    args.push(src);
    compile(&cc, &args, &out_dir().join(format!("lib{name}.so")))
}

/// Build `tests/fixtures/cpp/reference_macros.cc`, linked with the reference runtime.
pub fn cpp_reference_fixture() -> Result<PathBuf, String> {
    let include = include_dir()?;
    let lib_dir = reference_lib_dir()?;
    let src = repo_root().join("tests/fixtures/cpp/reference_macros.cc");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let inc = format!("-I{}", include.display());
    let libdir = format!("-L{}", lib_dir.display());
    let rpath = format!("-Wl,-rpath,{}", lib_dir.display());
    let src = src.to_str().ok_or("non-UTF-8 path")?;
    let args = ["-std=c++17", "-O1", "-fPIC", "-shared", &inc, src, &libdir, "-ltvm_ffi", &rpath];
    compile(&cxx, &args, &out_dir().join("libreference_macros.so"))
}

/// Build the Rust fixture crate `tests/fixtures/rust-kernel` and return its library.
pub fn rust_fixture() -> Result<PathBuf, String> {
    let root = repo_root();
    let target_dir = root.join("target/fixtures");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "tvmffi-fixture-kernel", "--target-dir"])
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    assert!(status.success(), "building the Rust fixture failed: {status}");
    let name = format!(
        "{}tvmffi_fixture_kernel{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    Ok(target_dir.join("debug").join(name))
}

/// Unwrap a fixture, or skip the test (return `None`) when a prerequisite is missing.
pub fn fixture(built: Result<PathBuf, String>) -> Option<PathBuf> {
    match built {
        Ok(path) => Some(path),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// The environment variable that tells a test it runs as a child of [`run_child`].
pub const CHILD_ENV: &str = "TVMFFI_STD_TEST_CHILD";

/// Whether this process is a child started by [`run_child`] for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// Run the test `test` of this test binary alone in a child process with `env`, for
/// behaviour that ends the process (aborts) or needs its own environment.
pub fn run_child(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"]).env(CHILD_ENV, test);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the test binary")
}
