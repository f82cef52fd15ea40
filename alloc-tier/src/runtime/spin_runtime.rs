//! [`SpinRuntime`]: the C API for `no_std` + `alloc` programs that have no other runtime.

use alloc::string::String;

use super::{LocalState, Location, Runtime};
use crate::function::AbortOnPanic;

/// The runtime of the `runtime` feature: one [`LocalState`] for the whole program, spin
/// locks, no backtraces, and panics left to the program's panic strategy ([`AbortOnPanic`]).
///
/// Without threads there are no thread-locals, so the one state serves every caller: a
/// program with several threads of execution (RTOS tasks, interrupt handlers calling FFI
/// functions) must not raise and fetch errors concurrently, or one may take another's
/// error; streams and the tensor allocator are shared the same way. `TVMFFIBacktrace`
/// returns the caller's location line only, since `no_std` cannot walk the stack.
#[derive(Debug, Clone, Copy)]
pub enum SpinRuntime {}

/// The program's one state.
static LOCAL: LocalState = LocalState::new();

// SAFETY: one state for the program, with the single-thread-of-execution caveat documented
// on the type.
unsafe impl Runtime for SpinRuntime {
    type Boundary = AbortOnPanic;

    #[inline]
    fn with_local<T>(f: impl FnOnce(&LocalState) -> T) -> Option<T> {
        Some(f(&LOCAL))
    }

    fn backtrace(location: Option<Location<'_>>, _cross_ffi_boundary: bool) -> String {
        location.map_or_else(String::new, |l| {
            alloc::format!("  File \"{}\", line {}, in {}\n", l.file, l.line, l.function)
        })
    }
}

crate::define_c_api!(crate::runtime::SpinRuntime);
