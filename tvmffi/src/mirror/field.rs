//! [`FieldGetter`]: a reflected field read through its C getter, for fields a mirror cannot
//! hold in place (an opaque mirror's, or a field of a type with an unknown layout).

use alloc::format;

use tvmffi_alloc::Error;
use tvmffi_alloc::function::TypeStr;
use tvmffi_alloc::object_type::info::{FieldInfo, TypeInfo};
use tvmffi_core::sys::TVMFFIObject;
use tvmffi_core::{Any, FromAnyView, TypeIndex};

use super::ObjectCore;

/// What names the type whose field to read: a [`TypeIndex`], an `i32`, or the `Result` of
/// [`ObjectCore::type_index`] (a failed lookup is then the getter's error).
pub trait TypeIndexArg {
    /// The index, or why there is none.
    fn into_type_index(self) -> Result<TypeIndex, Error>;
}

impl TypeIndexArg for TypeIndex {
    fn into_type_index(self) -> Result<TypeIndex, Error> {
        Ok(self)
    }
}

impl TypeIndexArg for i32 {
    fn into_type_index(self) -> Result<TypeIndex, Error> {
        Ok(TypeIndex(self))
    }
}

impl TypeIndexArg for Result<TypeIndex, Error> {
    fn into_type_index(self) -> Result<TypeIndex, Error> {
        self
    }
}

/// A reflected field of a type (or of one of its ancestors), found once by name and then
/// read on objects of that type or its subclasses through the getter the type registered:
/// the reference's `FieldGetter`, as the generator's accessors use it.
///
/// ```
/// use tvmffi::object_type::info::TypeInfo;
/// use tvmffi::{FieldGetter, TypeIndex};
///
/// // `ffi.Error` has no reflected field called `nope`.
/// let e = FieldGetter::new(TypeIndex::ERROR, "nope").unwrap_err();
/// assert_eq!(e.kind(), "AttributeError");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FieldGetter {
    owner: TypeInfo,
    field: FieldInfo,
}

impl FieldGetter {
    /// The field `name` of the type `owner`, or of its nearest ancestor that has one.
    pub fn new(owner: impl TypeIndexArg, name: &str) -> Result<Self, Error> {
        let owner = owner.into_type_index()?;
        let info = TypeInfo::of(owner)
            .ok_or_else(|| Error::type_error(format!("no type has index {}", owner.0)))?;
        let field = info.field(name).ok_or_else(|| {
            Error::attribute_error(format!("type `{}` has no reflected field `{name}`", info.key()))
        })?;
        Ok(Self { owner: info, field })
    }

    /// The field's reflection.
    pub fn field(&self) -> FieldInfo {
        self.field
    }

    /// The field of `object` as an [`Any`]. `object` must be an object (on the heap, with
    /// its header) of the owner type or a subclass.
    pub fn get_any<N: ObjectCore>(&self, object: &N) -> Result<Any, Error> {
        let ptr = core::ptr::from_ref(object).cast::<TVMFFIObject>();
        // SAFETY: `N: ObjectCore` puts the header at offset 0, and `object` is borrowed.
        let actual = TypeIndex(unsafe { (*ptr).type_index });
        let fits = TypeInfo::of(actual).is_some_and(|a| a.is_subtype_of(self.owner));
        if !fits {
            return Err(Error::type_error(format!(
                "field `{}` of `{}` read on {}",
                self.field.name(),
                self.owner.key(),
                if actual == TypeIndex::NONE {
                    "a mirror that is not an object yet (make it with `ObjectArc::new`)".into()
                } else {
                    format!("an object of type `{}`", tvmffi_alloc::object_type::type_key(actual))
                }
            )));
        }
        // SAFETY: the object is alive (borrowed) and of the owner type or a subclass.
        unsafe { self.field.get_raw(ptr) }
    }

    /// The field of `object` converted to `T`, failing with the reference's `TypeError`
    /// naming both types.
    pub fn get<N: ObjectCore, T>(&self, object: &N) -> Result<T, Error>
    where
        T: for<'a> FromAnyView<'a> + TypeStr,
    {
        let value = self.get_any(object)?;
        tvmffi_alloc::typed::cast::<T>(value.view())
    }
}
