//! Raising errors into the runtime's slot and taking them back, through the C API.

use tvmffi_core::sys::{TVMFFIObject, api};
use tvmffi_core::{ObjectHeader, ObjectRef};

use super::{Error, ErrorObj};

impl Error {
    /// Store this error in the runtime's raised-error slot (`TVMFFIErrorSetRaised`),
    /// replacing any error already there: what a packed function does before returning a
    /// non-zero code.
    pub fn raise(self) {
        // SAFETY: the handle is a live error object; the runtime takes its own reference.
        unsafe { api::TVMFFIErrorSetRaised(self.obj.as_raw().cast()) };
    }

    /// Take the error out of the runtime's raised-error slot
    /// (`TVMFFIErrorMoveFromRaised`), leaving it empty; `None` when no error was raised.
    ///
    /// A runtime should only ever hold error objects there; anything else is released and
    /// reported as an `InternalError`.
    pub fn take_raised() -> Option<Error> {
        let mut handle = core::ptr::null_mut();
        // SAFETY: `handle` is a writable slot for the owned handle (or null).
        unsafe { api::TVMFFIErrorMoveFromRaised(&mut handle) };
        // SAFETY: the slot's strong reference moves to us; any live object is a header.
        let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw(handle.cast::<TVMFFIObject>()) }?;
        Some(match obj.downcast::<ErrorObj>() {
            Ok(obj) => Self { obj },
            Err(other) => Error::internal_error(alloc::format!(
                "the raised object has type index {}, not ffi.Error",
                other.type_index().0
            )),
        })
    }
}
