//! Backtraces in the reference's format: `TVMFFIBacktrace` and the backtraces of raised
//! errors.
//!
//! A backtrace is a string of lines `  File "<file>", line <n>, in <function>\n`, **most
//! recent call first** (the reference's `BacktraceStorage`, `src/ffi/backtrace_utils.h`).
//! Consumers reverse it: C++ `Error::TracebackMostRecentCallLast` and Python's
//! `tvm_ffi/error.py` (which parses each line with `File "(.+?)", line (\d+), in (.+)` and
//! appends the frames to the exception's traceback).
//!
//! Rules kept from the reference (`src/ffi/backtrace.cc`, `backtrace_utils.h`):
//!
//! - at most `TVM_TRACEBACK_LIMIT` frames (default 512; an empty, non-numeric, negative or
//!   out-of-`int32` value means the default), read at every capture;
//! - unless crossing the FFI boundary was asked for, the walk stops at the first frame of
//!   `TVMFFIFunctionCall`, `slot_tp_call`, `object_is_not_callable`, `_Py*` or `PyObject*`
//!   (the caller, e.g. Python, adds its own frames);
//! - frames that say little are left out: `tvm::ffi::Function*`, `tvm::ffi::detail::*`,
//!   `TVMFFIBacktrace*`, `TVMFFIErrorSetRaisedFromCStr*`, `__libc_*`, `ffi_call_*`, and files
//!   under `include/tvm/ffi/{error,function_detail,function,any}.h` or `include/c++/`;
//! - a caller-supplied location becomes the first line, and the caller's own frame (which
//!   that line describes) is skipped;
//! - a frame with no file is shown with `<unknown>` as the file, unless it has no symbol
//!   either (then it is dropped); a symbol that cannot be resolved is shown as its address.
//!
//! Rust additions: the frames of this crate's capture and panic-boundary machinery and of
//! `std`'s `catch_unwind` are left out too, as the reference leaves out its own plumbing.
//! Symbols are demangled (Rust and C++) and Rust names lose their hash suffix.
//!
//! Not done: the reference installs a `SIGSEGV` handler that prints a backtrace
//! (`TVM_FFI_BACKTRACE_ON_SEGFAULT`); a library taking over a process's signal handlers is
//! the host's decision, so this crate leaves them alone.

use alloc::string::String;

/// The environment variable holding the frame limit.
pub const LIMIT_ENV: &str = "TVM_TRACEBACK_LIMIT";

/// The frame limit when [`LIMIT_ENV`] is unset or invalid.
pub const DEFAULT_LIMIT: usize = 512;

/// The frame limit from [`LIMIT_ENV`], as the reference's `GetBacktraceLimit` reads it.
pub fn limit() -> usize {
    std::env::var(LIMIT_ENV).ok().and_then(|v| parse_limit(&v)).unwrap_or(DEFAULT_LIMIT)
}

/// `strtol`-style: leading white space and a sign are fine, trailing characters are not;
/// the value must lie in `0..=i32::MAX`.
fn parse_limit(text: &str) -> Option<usize> {
    let value: i64 =
        text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']).parse().ok()?;
    if (0..=i64::from(i32::MAX)).contains(&value) { usize::try_from(value).ok() } else { None }
}

pub use tvmffi_alloc::runtime::Location;

/// The current thread's backtrace, most recent call first, stopping at the FFI boundary
/// unless `cross_ffi_boundary`. This is what raised errors carry.
///
/// ```
/// let bt = tvmffi_std::backtrace::capture(true);
/// assert!(bt.is_empty() || bt.lines().all(|l| l.starts_with("  File \"")));
/// ```
pub fn capture(cross_ffi_boundary: bool) -> String {
    build(None, cross_ffi_boundary)
}

/// Like [`capture`], with `location` as the first line and the caller's own frame left out
/// (the location describes it), as `TVMFFIBacktrace(filename, lineno, func, ...)` does.
///
/// ```
/// use tvmffi_std::backtrace::{capture_at, Location};
/// let bt = capture_at(Location { file: "kernel.cc", line: 7, function: "run" }, false);
/// assert!(bt.starts_with("  File \"kernel.cc\", line 7, in run\n"));
/// ```
pub fn capture_at(location: Location<'_>, cross_ffi_boundary: bool) -> String {
    build(Some(location), cross_ffi_boundary)
}

pub(crate) fn build(location: Option<Location<'_>>, cross_ffi_boundary: bool) -> String {
    let mut out = Storage {
        text: String::new(),
        lines: 0,
        limit: limit(),
        skip: 0,
        stop_at_boundary: !cross_ffi_boundary,
    };
    if let Some(loc) = location {
        // The location stands for the caller's frame, so the walk skips that frame.
        out.skip = 1;
        if !exclude(Some(loc.file), loc.function) {
            out.append(Some(loc.file), loc.function, loc.line);
        }
    }
    walk::frames(&mut out);
    out.text
}

/// The lines gathered so far (the reference's `BacktraceStorage`).
struct Storage {
    text: String,
    lines: usize,
    limit: usize,
    skip: usize,
    stop_at_boundary: bool,
}

/// What to do after one (possibly inlined) frame.
#[cfg_attr(any(not(feature = "backtrace"), miri), allow(dead_code))]
enum Walk {
    Continue,
    Stop,
}

impl Storage {
    /// Feed one resolved frame, in the reference's order of checks.
    #[cfg_attr(any(not(feature = "backtrace"), miri), allow(dead_code))]
    fn frame(&mut self, file: Option<&str>, symbol: &str, line: i32) -> Walk {
        if self.lines >= self.limit {
            return Walk::Stop;
        }
        if self.stop_at_boundary && is_ffi_boundary(symbol) {
            return Walk::Stop;
        }
        if is_own_machinery(symbol) {
            return Walk::Continue;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return Walk::Continue;
        }
        if !exclude(file, symbol) {
            self.append(file, symbol, line);
        }
        Walk::Continue
    }

    fn append(&mut self, file: Option<&str>, function: &str, line: i32) {
        let file = match file {
            Some(f) => f,
            None if function.starts_with("0x0") || function.starts_with("<unknown>") => return,
            None => "<unknown>",
        };
        use core::fmt::Write;
        let _ = writeln!(self.text, "  File \"{file}\", line {line}, in {function}");
        self.lines += 1;
    }
}

/// Frames that stop the walk: where the caller's own frames begin.
fn is_ffi_boundary(symbol: &str) -> bool {
    ["TVMFFIFunctionCall", "slot_tp_call", "object_is_not_callable", "_Py", "PyObject"]
        .iter()
        .any(|p| symbol.starts_with(p))
}

/// The reference's `ShouldExcludeFrame`.
fn exclude(file: Option<&str>, symbol: &str) -> bool {
    const SYMBOLS: [&str; 7] = [
        "tvm::ffi::Function",
        "tvm::ffi::detail::",
        "TVMFFIBacktrace",
        "TVMFFIErrorSetRaisedFromCStr",
        "TVMFFIErrorSetRaisedFromCStrParts",
        "__libc_",
        "ffi_call_",
    ];
    const FILES: [&str; 5] = [
        "include/tvm/ffi/error.h",
        "include/tvm/ffi/function_detail.h",
        "include/tvm/ffi/function.h",
        "include/tvm/ffi/any.h",
        "include/c++/",
    ];
    SYMBOLS.iter().any(|p| symbol.starts_with(p))
        || file.is_some_and(|f| FILES.iter().any(|p| f.contains(p)))
}

/// Frames of this crate's capture and raise machinery, of `TVMFFIBacktrace` itself, and of
/// `catch_unwind`: left out wherever they appear, and not counted as the caller's frame.
fn is_own_machinery(symbol: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "TVMFFIBacktrace",
        "backtrace::backtrace::",
        "tvmffi_std::backtrace::",
        "tvmffi_std::boundary::",
        "tvmffi_std::runtime::",
        "<tvmffi_std::runtime::StdRuntime as ",
        "tvmffi_alloc::runtime::c_api::errors::",
        "tvmffi_alloc::runtime::c_api::guard",
        "std::panicking::",
        "std::panic::catch_unwind",
        "__rust_try",
        "<core::panic::unwind_safe::AssertUnwindSafe<",
    ];
    PREFIXES.iter().any(|p| symbol.starts_with(p))
}

#[cfg(all(feature = "backtrace", not(miri)))]
mod walk {
    use super::{Storage, Walk};
    use alloc::string::{String, ToString};
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    /// Walk the stack into `out`.
    ///
    /// Never inlined, and it does work after the trace returns (so it is never a tail call):
    /// its frame is on the stack during the trace, and every frame up to and including it
    /// is capture machinery, dropped by address rather than by name.
    #[inline(never)]
    pub(super) fn frames(out: &mut Storage) {
        let marker = frames as fn(&mut Storage) as usize;
        let mut raw: Vec<backtrace::Frame> = Vec::new();
        backtrace::trace(|frame| {
            raw.push(frame.clone());
            true
        });
        // Drop frames through our own; if the marker is not found (an unwinder without
        // function starts), keep them all and let the name filters drop the machinery.
        let start =
            raw.iter().position(|f| f.symbol_address() as usize == marker).map_or(0, |i| i + 1);
        for frame in &raw[start..] {
            if let Walk::Stop = resolve(frame, out) {
                break;
            }
        }
        drop(raw);
    }

    /// Feed every symbol of `frame` (inlined callees first), as libbacktrace reports them.
    fn resolve(frame: &backtrace::Frame, out: &mut Storage) -> Walk {
        let ip = frame.ip() as usize;
        let symbols = cache::get_or_insert(ip, || symbols_of(frame));
        for (name, file, line) in symbols.iter() {
            if let Walk::Stop = out.frame(file.as_deref(), name, *line) {
                return Walk::Stop;
            }
        }
        Walk::Continue
    }

    /// The symbols at `frame` (inlined callees first): demangled name (or the address),
    /// file and line.
    fn symbols_of(frame: &backtrace::Frame) -> Symbols {
        let mut symbols: Vec<(String, Option<String>, i32)> = Vec::new();
        let address =
            || alloc::format!("0x{:0width$x}", frame.ip() as usize, width = 2 * size_of::<usize>());
        backtrace::resolve_frame(frame, |symbol| {
            let name = symbol.name().map_or_else(address, |n| alloc::format!("{n:#}"));
            let file = symbol.filename().map(|f| f.to_string_lossy().to_string());
            let line = symbol.lineno().map_or(0, |l| i32::try_from(l).unwrap_or(i32::MAX));
            symbols.push((name, file, line));
        });
        if symbols.is_empty() {
            symbols.push((address(), None, 0));
        }
        Arc::from(symbols)
    }

    type Symbols = Arc<[(String, Option<String>, i32)]>;

    /// Resolved symbols by instruction address.
    ///
    /// Resolving a frame (a DWARF lookup, demangling, formatting) is most of the cost of a
    /// backtrace, and errors tend to be raised from the same places again and again: with
    /// the cache, raising an error costs about the unwinding alone (see `bench/`, error
    /// row). An address only means the same code while no library has been unloaded, so
    /// the cache is emptied whenever the dynamic loader's unload count moves (glibc's
    /// `dlpi_subs`); without that counter (other platforms) nothing is cached.
    mod cache {
        use super::Symbols;
        use std::collections::HashMap;
        use std::sync::Mutex;

        /// Entries kept at most; beyond that the cache starts over.
        const CAPACITY: usize = 4096;

        struct Cache {
            unloads: u64,
            symbols: HashMap<usize, Symbols>,
        }

        static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

        pub(super) fn get_or_insert(ip: usize, resolve: impl FnOnce() -> Symbols) -> Symbols {
            let Some(unloads) = unload_count() else {
                return resolve();
            };
            let mut guard = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let cache = guard.get_or_insert_with(|| Cache { unloads, symbols: HashMap::new() });
            if cache.unloads != unloads || cache.symbols.len() >= CAPACITY {
                cache.symbols.clear();
                cache.unloads = unloads;
            }
            cache.symbols.entry(ip).or_insert_with(resolve).clone()
        }

        /// How many libraries the dynamic loader has unloaded so far.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        fn unload_count() -> Option<u64> {
            unsafe extern "C" fn first(
                info: *mut libc::dl_phdr_info,
                size: libc::size_t,
                data: *mut libc::c_void,
            ) -> libc::c_int {
                // `dlpi_subs` exists when the loader passes a structure that reaches it.
                let needed = core::mem::offset_of!(libc::dl_phdr_info, dlpi_subs)
                    + size_of::<libc::c_ulonglong>();
                if size >= needed {
                    // SAFETY: the loader passes a valid `info` of `size` bytes, and `data`
                    // is the `Option<u64>` below.
                    unsafe { *data.cast::<Option<u64>>() = Some((*info).dlpi_subs) };
                }
                1 // one object is enough: the counter is the same for all
            }
            let mut subs: Option<u64> = None;
            // SAFETY: `first` only reads `info` and writes `subs`, which outlives the call.
            unsafe { libc::dl_iterate_phdr(Some(first), (&raw mut subs).cast()) };
            subs
        }

        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        fn unload_count() -> Option<u64> {
            None
        }
    }
}

#[cfg(any(not(feature = "backtrace"), miri))]
mod walk {
    /// Without symbolisation (the `backtrace` feature off, or under Miri) a backtrace holds
    /// only the caller's location, as the reference's build without libbacktrace does.
    pub(super) fn frames(_: &mut super::Storage) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_parsing_follows_strtol_rules() {
        assert_eq!(parse_limit("7"), Some(7));
        assert_eq!(parse_limit(" +12"), Some(12));
        assert_eq!(parse_limit("0"), Some(0));
        assert_eq!(parse_limit("2147483647"), Some(2_147_483_647));
        for bad in ["", "-1", "12x", "0x10", "2147483648", "99999999999999999999", "1 "] {
            assert_eq!(parse_limit(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn append_rules_for_missing_files() {
        let mut s =
            Storage { text: String::new(), lines: 0, limit: 10, skip: 0, stop_at_boundary: true };
        s.append(None, "0x00007f0000001234", 0);
        s.append(None, "<unknown>", 0);
        assert_eq!(s.lines, 0);
        s.append(None, "main", 3);
        s.append(Some("a.cc"), "f", 9);
        assert_eq!(
            s.text,
            "  File \"<unknown>\", line 3, in main\n  File \"a.cc\", line 9, in f\n"
        );
    }

    #[test]
    fn frame_checks_come_in_the_reference_order() {
        let mut s =
            Storage { text: String::new(), lines: 0, limit: 2, skip: 1, stop_at_boundary: true };
        assert!(matches!(s.frame(Some("x.rs"), "TVMFFIBacktrace", 1), Walk::Continue));
        assert!(matches!(s.frame(Some("caller.c"), "caller", 2), Walk::Continue)); // skipped
        assert!(matches!(s.frame(Some("c.c"), "tvm::ffi::detail::unpack", 3), Walk::Continue));
        assert!(matches!(s.frame(Some("include/c++/12/x"), "std::f", 4), Walk::Continue));
        assert!(matches!(s.frame(Some("k.c"), "kernel", 5), Walk::Continue));
        assert_eq!(s.text, "  File \"k.c\", line 5, in kernel\n");
        assert!(matches!(s.frame(Some("p.c"), "_PyEval_EvalFrame", 6), Walk::Stop));
        s.stop_at_boundary = false;
        assert!(matches!(s.frame(Some("p.c"), "_PyEval_EvalFrame", 6), Walk::Continue));
        assert!(matches!(s.frame(Some("q.c"), "more", 7), Walk::Stop), "limit of 2 reached");
        assert_eq!(s.lines, 2);
    }
}
