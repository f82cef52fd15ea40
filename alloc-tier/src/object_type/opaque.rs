//! Opaque objects (`TVMFFIObjectCreateOpaque`): a foreign handle that an object owns.

use core::ffi::c_void;

use tvmffi_core::sys::TVMFFIOpaqueObjectCell;
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectRef, Payload, TypeIndex,
};

use crate::error::Error;
use crate::heap;

/// The payload of every opaque object: `TVMFFIOpaqueObjectCell`, the foreign handle.
#[repr(transparent)]
#[derive(Debug)]
pub struct OpaqueCell(TVMFFIOpaqueObjectCell);

// SAFETY: the handle is an opaque pointer this crate never dereferences; whoever created
// the object vouched that it may be shared and released on any thread.
unsafe impl Send for OpaqueCell {}
// SAFETY: as for `Send`; the cell is immutable.
unsafe impl Sync for OpaqueCell {}

// SAFETY: opaque objects are laid out as the header followed by `TVMFFIOpaqueObjectCell`
// in every implementation (the reference's `OpaqueObjectImpl`, and ours).
unsafe impl Payload for OpaqueCell {
    const TYPE_KEY: &'static str = "ffi.OpaquePyObject";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::OPAQUE_PY_OBJECT
    }
}

/// Our opaque objects: the cell, then the deleter of the handle.
#[repr(C)]
struct OwnedOpaque {
    cell: OpaqueCell,
    deleter: Option<unsafe extern "C" fn(handle: *mut c_void)>,
}

// SAFETY: private; allocated only with `kTVMFFIOpaquePyObject` and never viewed as this
// type except by its own deleter.
unsafe impl Payload for OwnedOpaque {
    const TYPE_KEY: &'static str = "ffi.OpaquePyObject";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::OPAQUE_PY_OBJECT
    }
}

impl Drop for OwnedOpaque {
    fn drop(&mut self) {
        if let Some(deleter) = self.deleter {
            // SAFETY: the creator handed the handle over with this deleter, to run once.
            unsafe { deleter(self.cell.0.handle) };
        }
    }
}

/// An opaque object (`TVMFFIObjectCreateOpaque`): a foreign handle that the object owns.
///
/// ```
/// use tvmffi_alloc::object_type::OpaqueObject;
/// use tvmffi_core::TypeIndex;
///
/// let mut token = 7u8;
/// let p: *mut u8 = &mut token;
/// // SAFETY: no deleter; the handle is only compared, never dereferenced.
/// let obj = unsafe { OpaqueObject::new(TypeIndex::OPAQUE_PY_OBJECT, p.cast(), None) }.unwrap();
/// assert_eq!(obj.handle(), p.cast());
/// ```
#[derive(Clone, Debug)]
pub struct OpaqueObject {
    obj: ObjectRef<Object<OpaqueCell>>,
}

impl OpaqueObject {
    /// An opaque object of `type_index` owning `handle`, released with `deleter` when the
    /// object dies. As in the reference, `type_index` must be `kTVMFFIOpaquePyObject`; any
    /// other is a `RuntimeError`.
    ///
    /// # Safety
    ///
    /// `deleter` (if any) may be called once with `handle`, from any thread, when the last
    /// reference goes; `handle` may be shared across threads.
    pub unsafe fn new(
        type_index: TypeIndex,
        handle: *mut c_void,
        deleter: Option<unsafe extern "C" fn(handle: *mut c_void)>,
    ) -> Result<Self, Error> {
        if type_index != TypeIndex::OPAQUE_PY_OBJECT {
            return Err(Error::runtime_error("Only kTVMFFIOpaquePyObject is supported for now"));
        }
        let payload = OwnedOpaque { cell: OpaqueCell(TVMFFIOpaqueObjectCell { handle }), deleter };
        let raw = heap::new_object(type_index, payload).into_raw();
        // SAFETY: never null (it came from an `ObjectRef`); the strong reference moves over,
        // and the object starts with `Object<OpaqueCell>` (`OwnedOpaque` is `repr(C)`).
        let obj = unsafe { ObjectRef::from_raw(raw).unwrap_unchecked() };
        Ok(Self { obj })
    }

    /// The foreign handle.
    #[inline]
    pub fn handle(&self) -> *mut c_void {
        self.obj.0.handle
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<Object<OpaqueCell>> {
        &self.obj
    }

    /// Give up the wrapper for the object reference.
    #[inline]
    pub fn into_object(self) -> ObjectRef<Object<OpaqueCell>> {
        self.obj
    }
}

impl From<OpaqueObject> for Any {
    fn from(o: OpaqueObject) -> Self {
        Any::from(o.obj)
    }
}

impl<'a> From<&'a OpaqueObject> for AnyView<'a> {
    fn from(o: &'a OpaqueObject) -> Self {
        AnyView::from(&o.obj)
    }
}

impl<'a> FromAnyView<'a> for OpaqueObject {
    /// An opaque object (a new reference to it), whoever made it.
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        ObjectRef::<Object<OpaqueCell>>::from_any_view(view).map(|obj| Self { obj })
    }
}
