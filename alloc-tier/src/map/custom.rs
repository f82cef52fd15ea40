//! Hashing and equality through the `__any_hash__` / `__any_equal__` type attributes, as
//! the reference's `AnyHash` / `AnyEqual` consult them for object keys (`ffi.BigInt`
//! registers both there; any type may).
//!
//! The columns come from the runtime (`TVMFFIGetTypeAttrColumn`). Like the reference, which
//! caches them in function statics, a column once found is kept for the process (columns
//! are never freed), and its entries are read without the runtime's lock. Unlike it, a
//! column not registered yet is looked up again next time.
//!
//! An attribute is a native function pointer (the reference's `NativeFunction` convention,
//! `TVMFFIAny (*)(const Any&...) noexcept`) or a function object. Its failures come back as
//! errors, never as panics.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFITypeAttrColumn, api};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::hash::{Norm, bits_hash, builtin_equal, builtin_hash, combine};
use crate::error::Error;
use crate::function::Function;

/// A cached attribute column.
struct Column {
    name: &'static str,
    cached: AtomicPtr<TVMFFITypeAttrColumn>,
}

static HASH: Column = Column { name: "__any_hash__", cached: AtomicPtr::new(ptr::null_mut()) };
static EQUAL: Column = Column { name: "__any_equal__", cached: AtomicPtr::new(ptr::null_mut()) };

impl Column {
    fn get(&self) -> *const TVMFFITypeAttrColumn {
        let cached = self.cached.load(Ordering::Acquire);
        if !cached.is_null() {
            return cached;
        }
        let name = TVMFFIByteArray { data: self.name.as_ptr().cast(), size: self.name.len() };
        // SAFETY: `name` describes a live string; the runtime returns a column or null.
        let column = unsafe { api::TVMFFIGetTypeAttrColumn(&name) };
        if !column.is_null() {
            self.cached.store(column.cast_mut(), Ordering::Release);
        }
        column
    }

    /// The attribute of `type_index`, unless it has none (`None` entries count as none).
    fn attr(&self, type_index: TypeIndex) -> Option<TVMFFIAny> {
        let column = self.get();
        // SAFETY: a non-null column stays valid for the process (the runtime never frees
        // columns); its fields are read as the reference reads them, without a lock.
        let column = unsafe { column.as_ref() }?;
        let offset = type_index.0.checked_sub(column.begin_index)?;
        if offset < 0 || offset >= column.size || column.data.is_null() {
            return None;
        }
        // SAFETY: `0 <= offset < size` entries are readable at `data`.
        let entry = unsafe { column.data.add(offset as usize).read() };
        (entry.type_index != TypeIndex::NONE.0).then_some(entry)
    }
}

/// Whether objects of `type_index` compare through a `__any_equal__` attribute.
pub(crate) fn has_custom_equal(type_index: TypeIndex) -> bool {
    EQUAL.attr(type_index).is_some()
}

/// The hash if it needs no user code: builtin, or an object whose type has no
/// `__any_hash__` (hashed by address).
#[inline]
pub(crate) fn hash_without_user_code(key: &Norm<'_>) -> Option<u64> {
    if let Some(raw) = key.compares_by_bits() {
        return Some(bits_hash(raw));
    }
    builtin_hash(key).or_else(|| match key {
        Norm::Value(raw) if HASH.attr(TypeIndex(raw.type_index)).is_none() => Some(bits_hash(raw)),
        _ => None,
    })
}

/// `AnyHash`.
#[inline]
pub(crate) fn any_hash(key: &Norm<'_>) -> Result<u64, Error> {
    // Plain values (most keys) hash inline; text and objects out of line.
    match key.compares_by_bits() {
        Some(raw) => Ok(bits_hash(raw)),
        None => any_hash_text_or_object(key),
    }
}

#[inline(never)]
fn any_hash_text_or_object(key: &Norm<'_>) -> Result<u64, Error> {
    match (builtin_hash(key), key) {
        (Some(h), _) => Ok(h),
        (None, Norm::Value(raw)) => object_hash(raw),
        (None, Norm::Text { .. }) => Err(Error::internal_error("text has a builtin hash")),
    }
}

/// The hash of an object: through its type's `__any_hash__`, else by address.
fn object_hash(raw: &TVMFFIAny) -> Result<u64, Error> {
    let type_index = TypeIndex(raw.type_index);
    let Some(attr) = HASH.attr(type_index) else { return Ok(bits_hash(raw)) };
    let result = call(&attr, &[*raw], "__any_hash__")?;
    if result.type_index != TypeIndex::INT.0 {
        return Err(bad_result("__any_hash__", "int", &result));
    }
    // SAFETY: an `INT` value carries `v_int64`.
    let h = unsafe { result.value.v_int64 } as u64;
    Ok(combine(type_index.0 as i64 as u64, h))
}

/// `AnyEqual(lhs, rhs)`.
pub(crate) fn any_equal(lhs: &Norm<'_>, rhs: &Norm<'_>) -> Result<bool, Error> {
    match (builtin_equal(lhs, rhs), lhs, rhs) {
        (Some(eq), _, _) => Ok(eq),
        (None, Norm::Value(a), Norm::Value(b)) => object_equal(a, b),
        _ => Err(Error::internal_error("only two objects need a custom equality")),
    }
}

/// Two distinct objects of one type: equal only through the type's `__any_equal__`.
fn object_equal(lhs: &TVMFFIAny, rhs: &TVMFFIAny) -> Result<bool, Error> {
    let Some(attr) = EQUAL.attr(TypeIndex(lhs.type_index)) else { return Ok(false) };
    let result = call(&attr, &[*lhs, *rhs], "__any_equal__")?;
    if result.type_index != TypeIndex::BOOL.0 {
        return Err(bad_result("__any_equal__", "bool", &result));
    }
    // SAFETY: a `BOOL` value carries `v_int64`.
    Ok(unsafe { result.value.v_int64 } != 0)
}

/// Call an attribute with one or two keys; the result is plain data (int or bool) on
/// success, and anything else is turned into an error here.
fn call(attr: &TVMFFIAny, args: &[TVMFFIAny], what: &str) -> Result<TVMFFIAny, Error> {
    type Unary = unsafe extern "C" fn(*const TVMFFIAny) -> TVMFFIAny;
    type Binary = unsafe extern "C" fn(*const TVMFFIAny, *const TVMFFIAny) -> TVMFFIAny;
    match TypeIndex(attr.type_index) {
        TypeIndex::OPAQUE_PTR => {
            // SAFETY: an `OPAQUE_PTR` carries `v_ptr`.
            let f = unsafe { attr.value.v_ptr };
            if f.is_null() {
                return Err(Error::internal_error(alloc::format!("{what} is a null pointer")));
            }
            // SAFETY: a native attribute is a `noexcept` function of `const Any&` (one per
            // key, passed by address) returning an owned `TVMFFIAny` by value, which is the
            // C convention for these types; the keys stay alive during the call.
            let result = unsafe {
                match args {
                    [a] => core::mem::transmute::<*mut core::ffi::c_void, Unary>(f)(a),
                    [a, b] => core::mem::transmute::<*mut core::ffi::c_void, Binary>(f)(a, b),
                    _ => return Err(Error::internal_error("one or two keys")),
                }
            };
            if matches!(TypeIndex(result.type_index), TypeIndex::INT | TypeIndex::BOOL) {
                return Ok(result);
            }
            // SAFETY: the function returns an owned value (an error, by its convention).
            let owned = unsafe { Any::from_raw(result) };
            Err(Error::try_from(owned)
                .unwrap_or_else(|other| bad_result(what, "error", other.as_raw())))
        }
        TypeIndex::FUNCTION => {
            // SAFETY: a `FUNCTION` carries a live function object, kept alive by the
            // column while we call it.
            let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(attr.value.v_obj) };
            let f = obj.and_then(|o| o.downcast().ok()).map(Function::from_object).ok_or_else(
                || Error::internal_error(alloc::format!("{what} is a null function")),
            )?;
            // SAFETY: the keys are live values owned by the caller for the call.
            let views: alloc::vec::Vec<AnyView<'_>> =
                args.iter().map(|a| unsafe { AnyView::from_raw(*a) }).collect();
            let result = f.call(&views)?;
            if matches!(result.type_index(), TypeIndex::INT | TypeIndex::BOOL) {
                return Ok(*result.as_raw());
            }
            Err(bad_result(what, "int or bool", result.as_raw()))
        }
        other => Err(Error::internal_error(alloc::format!(
            "{what} must be a function pointer or a function, not type index {}",
            other.0
        ))),
    }
}

fn bad_result(what: &str, expected: &str, got: &TVMFFIAny) -> Error {
    Error::internal_error(alloc::format!(
        "{what} returned type index {} where {expected} was expected",
        got.type_index
    ))
}
