//! [`Optional<T>`]: the in-place mirror of the reference's C++ `Optional<T>` for values that
//! are not object references: one 16-byte `TVMFFIAny` cell, `None` when its type index is.

use alloc::borrow::Cow;
use alloc::string::String;
use core::marker::PhantomData;

use tvmffi_alloc::Error;
use tvmffi_alloc::function::TypeStr;
use tvmffi_core::{Any, AnyView, ConversionError, DataType, Device, FromAnyView};

/// Values whose C++ `Optional<T>` is a 16-byte `TVMFFIAny` cell: integers, floats, `bool`,
/// [`Device`], [`DataType`], strings, bytes, big integers, and optionals of those.
///
/// Object references are left out on purpose: their C++ `Optional` is one nullable
/// pointer, which `Option<R>` already is.
///
/// ```compile_fail
/// // An object reference's optional is `Option<Tensor>`, not `Optional<Tensor>`.
/// let _ = tvmffi::Optional::<tvmffi::Tensor>::none();
/// ```
#[diagnostic::on_unimplemented(
    message = "`Optional<{Self}>` mirrors C++ `Optional` of values, not of object references",
    note = "use `Option<{Self}>`: the nullable pointer a C++ `Optional<ObjectRef>` is"
)]
pub trait OptionalValue: for<'a> FromAnyView<'a> + Into<Any> + TypeStr {}

macro_rules! optional_values {
    ($($t:ty),* $(,)?) => {$(impl OptionalValue for $t {})*};
}

optional_values!(
    bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    f32,
    f64,
    Device,
    DataType,
    tvmffi_alloc::String,
    tvmffi_alloc::Bytes,
    tvmffi_alloc::BigInt,
);

impl<T: OptionalValue> OptionalValue for Option<T> {}

/// An optional value laid out as the reference's C++ `Optional<T>` of a non-object `T`:
/// one `TVMFFIAny` cell, `None` or a `T`. This is the type of such fields in mirrors of C++
/// objects (the stub generator's `tvm_ffi::Optional<T>`), and it converts like `Option<T>`
/// as a function argument or result. For everything else, Rust's `Option<T>` is simpler,
/// and for object references it is the layout C++ uses.
///
/// ```
/// use tvmffi::{Any, Optional};
///
/// let some = Optional::some(3i64);
/// assert_eq!(some.get().unwrap(), Some(3));
/// assert_eq!(Optional::<f64>::none().get().unwrap(), None);
/// assert_eq!(size_of::<Optional<tvmffi::String>>(), 16);
///
/// // Through `Any`, as C++ passes it.
/// let any = Any::from(Optional::some(tvmffi::String::from("x")));
/// assert_eq!(any.as_str().unwrap(), "x");
/// let back: Optional<tvmffi::String> = any.get().unwrap();
/// assert_eq!(back.get().unwrap().unwrap(), "x");
/// assert_eq!(Option::<i64>::from(Optional::from(Some(4i64))), Some(4));
/// ```
#[repr(transparent)]
pub struct Optional<T: OptionalValue> {
    cell: Any,
    _value: PhantomData<fn() -> T>,
}

const _: () = {
    use core::mem::{align_of, size_of};
    use tvmffi_core::sys::TVMFFIAny;
    assert!(size_of::<Optional<i64>>() == size_of::<TVMFFIAny>());
    assert!(align_of::<Optional<i64>>() == align_of::<TVMFFIAny>());
};

impl<T: OptionalValue> Optional<T> {
    /// `None`.
    pub const fn none() -> Self {
        Self { cell: Any::NONE, _value: PhantomData }
    }

    /// `value`.
    pub fn some(value: T) -> Self {
        Self { cell: value.into(), _value: PhantomData }
    }

    /// Whether it is `None`.
    pub fn is_none(&self) -> bool {
        self.cell.is_none()
    }

    /// Whether it holds a value.
    pub fn is_some(&self) -> bool {
        !self.is_none()
    }

    /// The value, decoded from the cell; an error if the cell holds something else (only
    /// C++ code breaking its own type could put it there).
    pub fn get(&self) -> Result<Option<T>, Error> {
        if self.is_none() {
            return Ok(None);
        }
        tvmffi_alloc::typed::cast::<T>(self.cell.view()).map(Some)
    }

    /// The cell.
    pub fn as_any(&self) -> &Any {
        &self.cell
    }
}

impl<T: OptionalValue> Default for Optional<T> {
    fn default() -> Self {
        Self::none()
    }
}

impl<T: OptionalValue> Clone for Optional<T> {
    fn clone(&self) -> Self {
        Self { cell: self.cell.clone(), _value: PhantomData }
    }
}

impl<T: OptionalValue + core::fmt::Debug> core::fmt::Debug for Optional<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.get() {
            Ok(v) => v.fmt(f),
            Err(_) => f.debug_tuple("Optional").field(&self.cell).finish(),
        }
    }
}

impl<T: OptionalValue + PartialEq> PartialEq for Optional<T> {
    fn eq(&self, other: &Self) -> bool {
        matches!((self.get(), other.get()), (Ok(a), Ok(b)) if a == b)
    }
}

impl<T: OptionalValue> From<Option<T>> for Optional<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or_else(Self::none, Self::some)
    }
}

impl<T: OptionalValue> From<Optional<T>> for Option<T> {
    /// The value; a cell holding something else (see [`Optional::get`]) reads as `None`.
    fn from(value: Optional<T>) -> Self {
        value.get().ok().flatten()
    }
}

impl<T: OptionalValue> From<Optional<T>> for Any {
    fn from(value: Optional<T>) -> Self {
        value.cell
    }
}

impl<'a, T: OptionalValue> From<&'a Optional<T>> for AnyView<'a> {
    fn from(value: &'a Optional<T>) -> Self {
        value.cell.view()
    }
}

impl<'a, T: OptionalValue> FromAnyView<'a> for Optional<T> {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        let checked = Option::<T>::from_any_view(view)?;
        Ok(checked.into())
    }
}

impl<T: OptionalValue> TypeStr for Optional<T> {
    fn type_str() -> Cow<'static, str> {
        Option::<T>::type_str()
    }

    fn type_schema() -> String {
        Option::<T>::type_schema()
    }

    fn mismatch_type_info(view: AnyView<'_>) -> String {
        Option::<T>::mismatch_type_info(view)
    }
}

// SAFETY: all-zero bytes are the `None` cell, a value.
unsafe impl<T: OptionalValue> crate::mirror::MaybeUndefined for Optional<T> {
    unsafe fn is_undefined(_field: *const Self) -> bool {
        false
    }
}
