//! [`StructuralKey`]: a value with its structural hash cached (`ffi.StructuralKey`, the
//! reference's `extra/structural_key.h`), so maps keyed by it look keys up by structure.
//!
//! The type carries `__any_hash__` and `__any_equal__` attributes (native hooks, as the
//! reference registers them), so `ffi.Map` and `ffi.Dict` (ours and C++'s inline code) hash
//! a key by its cached hash and compare keys with [`structural_equal`].

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef};

use super::{Options, structural_equal, structural_hash};
use crate::error::Error;
use crate::object_type;

/// The payload of an `ffi.StructuralKey` object (`StructuralKeyObj`).
#[repr(C)]
#[derive(Clone, Default)]
pub struct StructuralKeyObj {
    /// The value.
    pub key: Any,
    /// Its structural hash, as `int64_t` bits.
    pub hash_i64: i64,
}

super::support::builtin_type! {
    // SAFETY: the reference's key; the payload is `StructuralKeyObj`'s layout (asserted in
    // `LAYOUTS`), and the type is final.
    unsafe impl for StructuralKeyObj { type_key = "ffi.StructuralKey"; is_final = true; }
}

#[repr(C)]
struct StructuralKeyLayout {
    header: tvmffi_core::ObjectHeader,
    payload: StructuralKeyObj,
}

tvmffi_core::c_layout! {
    /// The layout of key objects, as the reference's C++ class.
    pub const LAYOUTS = [
        StructuralKeyLayout as "tvm::ffi::StructuralKeyObj" {
            size: 48 / 48,
            align: core::mem::align_of::<u64>(),
            fields: { key @ payload.key = 24 / 24, hash_i64 @ payload.hash_i64 = 40 / 40 },
        },
    ];
}

/// A value and its structural hash: equal keys are structurally equal values.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::map::Map;
/// use tvmffi_alloc::structural::StructuralKey;
/// use tvmffi_alloc::Array;
/// use tvmffi_core::Any;
///
/// let list = |v: i64| Any::from(Array::from_vec(vec![Any::from(1i64), Any::from(v)]));
/// let (a, b, c) = (StructuralKey::new(list(2))?, StructuralKey::new(list(2))?, StructuralKey::new(list(3))?);
/// assert!(a.equals(&b)? && !a.equals(&c)?);
/// let m: Map = [(Any::from(a), 1i64), (Any::from(b), 2), (Any::from(c), 3)].into_iter().collect();
/// assert_eq!(m.len(), 2); // `a` and `b` are one key
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
#[derive(Clone)]
pub struct StructuralKey {
    obj: ObjectRef<Object<StructuralKeyObj>>,
}

impl StructuralKey {
    /// A key for `key`, hashed with the default [`Options`].
    pub fn new(key: Any) -> Result<Self, Error> {
        let hash_i64 = structural_hash(key.view(), Options::default())? as i64;
        Ok(Self {
            obj: crate::structural::support::new_object(StructuralKeyObj { key, hash_i64 })?,
        })
    }

    /// The value.
    pub fn key(&self) -> AnyView<'_> {
        self.obj.key.view()
    }

    /// The cached structural hash.
    pub fn hash(&self) -> u64 {
        self.obj.hash_i64 as u64
    }

    /// Whether both keys hold structurally equal values (`StructuralKeyEqual`).
    pub fn equals(&self, other: &StructuralKey) -> Result<bool, Error> {
        if self.obj.ptr_eq(&other.obj) {
            return Ok(true);
        }
        if self.obj.hash_i64 != other.obj.hash_i64 {
            return Ok(false);
        }
        structural_equal(self.key(), other.key(), Options::default())
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<StructuralKeyObj>> {
        &self.obj
    }
}

impl crate::function::TypeStr for StructuralKey {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.StructuralKey")
    }
}

impl From<StructuralKey> for Any {
    fn from(k: StructuralKey) -> Self {
        Any::from(k.obj)
    }
}

impl<'a> FromAnyView<'a> for StructuralKey {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

/// A key argument, or the error naming what it is instead.
fn key_arg(view: AnyView<'_>, what: &str) -> Result<StructuralKey, Error> {
    StructuralKey::from_any_view(view).map_err(|_| {
        Error::type_error(alloc::format!(
            "{what} expects ffi.StructuralKey, got `{}`",
            object_type::type_key(view.type_index())
        ))
    })
}

/// `StructuralKeyEqual` on two values (`ffi.StructuralKeyEqual`).
pub(crate) fn key_equal(lhs: AnyView<'_>, rhs: AnyView<'_>) -> Result<bool, Error> {
    if lhs.as_object_ptr().is_some() && lhs.as_object_ptr() == rhs.as_object_ptr() {
        return Ok(true);
    }
    let what = "StructuralKeyEqual";
    key_arg(lhs, what)?.equals(&key_arg(rhs, what)?)
}

/// The result of a native hook: a value, or an error object.
fn native_result(r: Result<Any, Error>) -> TVMFFIAny {
    match r {
        Ok(v) => v.into_raw(),
        Err(e) => Any::from(e.into_object()).into_raw(),
    }
}

/// `__any_hash__` of key objects, a native hook (`TVMFFIAny (*)(const Any&) noexcept`):
/// the cached hash.
///
/// # Safety
///
/// `key` points at a valid value (the caller's key).
pub(crate) unsafe extern "C" fn any_hash_hook(key: *const TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promise.
    let Some(raw) = (unsafe { key.as_ref() }) else {
        return native_result(Err(Error::value_error("__any_hash__: null key")));
    };
    // SAFETY: a valid value, borrowed for the call.
    let view = unsafe { AnyView::from_raw(*raw) };
    native_result(key_arg(view, "__any_hash__").map(|k| Any::from(k.obj.hash_i64)))
}

/// `__any_equal__` of key objects, a native hook (`TVMFFIAny (*)(const Any&, const Any&)
/// noexcept`): [`StructuralKey::equals`].
///
/// # Safety
///
/// `lhs` and `rhs` point at valid values.
pub(crate) unsafe extern "C" fn any_equal_hook(
    lhs: *const TVMFFIAny,
    rhs: *const TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promise.
    let (Some(l), Some(r)) = (unsafe { lhs.as_ref() }, unsafe { rhs.as_ref() }) else {
        return native_result(Err(Error::value_error("__any_equal__: null key")));
    };
    // SAFETY: valid values, borrowed for the call.
    let (l, r) = unsafe { (AnyView::from_raw(*l), AnyView::from_raw(*r)) };
    native_result(key_equal(l, r).map(Any::from))
}
