//! Generic algorithms over reflected objects, the reference's `src/ffi/extra/dataclass.cc`:
//! they read any value through the type information the runtime holds (fields, their
//! getters and setters, type attributes), so C++-, Rust- and Python-defined types all work.
//!
//! | function | built-in |
//! | --- | --- |
//! | [`repr`](fn@repr) | `ffi.ReprPrint` |
//! | [`deep_copy`](fn@deep_copy) | `ffi.DeepCopy` |
//! | [`recursive_eq`], [`recursive_cmp`] | `ffi.RecursiveEq`, `ffi.RecursiveLt`, `Le`, `Gt`, `Ge` |
//! | [`recursive_hash`] | `ffi.RecursiveHash` |
//! | [`auto_init`], [`register_ffi_init`] | the generated `__ffi_init__`, `ffi._RegisterFFIInit` |
//! | [`make_object_from_packed_args`] | `ffi.MakeObjectFromPackedArgs` |
//! | [`pyclass`] | `ffi.MakeFieldGetter`, `ffi.MakeFieldSetter`, `ffi._PyClassRegisterTypeAttrColumns` |
//! | [`enums`] | the `ffi.EnumState`, `ffi.Enum`, `ffi.IntEnum`, `ffi.StrEnum` types |
//!
//! Traversals keep their own stacks (no native recursion however deep the input), remember
//! the objects they have met (cycles end, shared objects are handled once), and bound how
//! deeply user hooks (`__ffi_repr__`, `__ffi_hash__`, `__ffi_eq__`, `__ffi_compare__`) may
//! nest through the callbacks they are given.

mod compare;
mod deep_copy;
pub mod enums;
mod hash;
mod init;
pub mod pyclass;
mod repr;
mod text;
mod walk;

pub use compare::{recursive_cmp, recursive_eq};
pub use deep_copy::deep_copy;
pub use hash::recursive_hash;
pub use init::{auto_init, make_object_from_packed_args, register_ffi_init};
pub use repr::{ReprOptions, repr};
pub use text::{device_type_name, escape_str, format_bytes, format_device, format_float};
