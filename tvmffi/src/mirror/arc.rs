//! [`ObjectArc`]: a strong reference to a mirrored object, and the allocation of objects
//! that Rust makes from mirrors.

use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::mem::{ManuallyDrop, align_of, size_of};
use core::ops::Deref;

use alloc::format;

use tvmffi_alloc::Error;
use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::sys::{TVMFFIObject, TVMFFIObjectAllocHeader};
use tvmffi_core::{AnyView, ConversionError, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::{ObjectCore, ObjectRefCore, ShallowCopy};

/// A strong reference to an object seen as its mirror `T` (the generator's `ObjectArc`):
/// an [`ObjectRef<T>`], pointer-sized and never null, so `Option<ObjectArc<T>>` is the
/// nullable pointer of a C++ `Optional<ObjectRef>` field.
///
/// ```
/// use tvmffi::{Object, ObjectArc};
///
/// // The mirror of the built-in `ffi.Shape`: the header, then the C++ fields.
/// #[repr(C)]
/// #[derive(tvmffi::derive::Object)]
/// #[tvmffi(crate = tvmffi)]
/// #[type_key = "ffi.Shape"]
/// #[type_final]
/// struct ShapeObj {
///     base: Object,
///     data: *const i64,
///     size: usize,
/// }
/// // SAFETY (of this example): the extents are only read while the object lives.
/// unsafe impl Send for ShapeObj {}
/// // SAFETY: as above.
/// unsafe impl Sync for ShapeObj {}
///
/// let shape = tvmffi::Any::from(tvmffi::Shape::from(&[4i64, 5, 6][..]));
/// let arc = ObjectArc::<ShapeObj>::from_any_view(shape.view()).unwrap();
/// assert_eq!(arc.size, 3);
/// assert_eq!(ObjectArc::strong_count(&arc), 2); // `shape` holds the other
/// let back = tvmffi::Any::from(ObjectArc::into_object_ref(arc));
/// assert_eq!(back.get::<tvmffi::Shape>().unwrap().as_slice(), &[4, 5, 6]);
/// ```
#[repr(transparent)]
pub struct ObjectArc<T: ObjectCore>(ObjectRef<T>);

const _: () = {
    assert!(size_of::<ObjectArc<super::Object>>() == size_of::<*const ()>());
    assert!(size_of::<Option<ObjectArc<super::Object>>>() == size_of::<*const ()>());
};

impl<T: ObjectCore> ObjectArc<T> {
    /// Move `value` into a new object of its type.
    ///
    /// # Panics
    ///
    /// When the type is not registered (the library that defines it is not loaded) or is
    /// registered elsewhere in the type tree than the mirror says; [`try_new`](Self::try_new)
    /// returns those errors instead.
    pub fn new(value: T) -> Self {
        match Self::try_new(value) {
            Ok(arc) => arc,
            Err(e) => panic!("cannot make a `{}` object: {e}", T::TYPE_KEY),
        }
    }

    /// Move `value` into a new object of its type, or say why the type has no index.
    pub fn try_new(value: T) -> Result<Self, Error> {
        let index = T::type_index()?;
        Ok(Self(allocate(index, value)))
    }

    /// The reference as an [`ObjectRef<T>`].
    pub fn into_object_ref(this: Self) -> ObjectRef<T> {
        this.0
    }

    /// The reference, borrowed as an [`ObjectRef<T>`].
    pub fn as_object_ref(this: &Self) -> &ObjectRef<T> {
        &this.0
    }

    /// An [`ObjectRef<T>`] as an `ObjectArc`.
    pub fn from_object_ref(r: ObjectRef<T>) -> Self {
        Self(r)
    }

    /// The object's address.
    pub fn as_ptr(this: &Self) -> *const T {
        this.0.as_raw().cast_const().cast()
    }

    /// The reference, leaving for C (`TVMFFIObjectHandle`).
    pub fn into_raw(this: Self) -> *mut T {
        this.0.into_raw().cast()
    }

    /// A reference back from [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` is a live object that is a `T` (its type is `T`'s or a subclass), and the
    /// caller hands over one strong reference to it.
    pub unsafe fn from_raw(ptr: *mut T) -> Self {
        // SAFETY: the caller's promise; a `T` starts with the header.
        let r = unsafe { ObjectRef::from_raw(ptr.cast::<TVMFFIObject>()) };
        match r {
            Some(r) => Self(r),
            None => panic!("ObjectArc::from_raw: null pointer"),
        }
    }

    /// The object's runtime type index.
    pub fn type_index(this: &Self) -> TypeIndex {
        this.0.type_index()
    }

    /// The number of strong references.
    pub fn strong_count(this: &Self) -> u32 {
        this.0.strong_count()
    }

    /// The same object seen as a `U` if its runtime type is one, else `this` back.
    pub fn try_cast<U: ObjectCore>(this: Self) -> Result<ObjectArc<U>, Self> {
        if !<U as tvmffi_core::ObjectType>::is_instance(Self::type_index(&this)) {
            return Err(this);
        }
        let ptr = ManuallyDrop::new(this).0.as_raw();
        // SAFETY: `U::is_instance` vouches that the object starts with a valid `U`; the
        // strong reference moves into the result.
        let r = unsafe { ObjectRef::<U>::from_raw(ptr) };
        Ok(ObjectArc(r.expect("a live object is not null")))
    }

    /// The same object as the reference type `R`, if its runtime type is `R`'s.
    pub fn into_ref<R: ObjectRefCore>(this: Self) -> Result<R, Error> {
        match Self::try_cast::<R::ContainerType>(this) {
            // SAFETY: the derive adds no invariant beyond the object type.
            Ok(data) => Ok(unsafe { R::from_data(data) }),
            Err(this) => Err(Error::type_error(format!(
                "Cannot convert from type `{}` to `{}`",
                tvmffi_alloc::object_type::type_key(Self::type_index(&this)),
                <R::ContainerType as tvmffi_core::ObjectType>::TYPE_KEY
            ))),
        }
    }

    /// A new object of exactly this object's type holding a copy of its fields
    /// ([`ShallowCopy`]); what `__ffi_shallow_copy__` does for C++ types.
    pub fn shallow_copy(this: &Self) -> Self
    where
        T: ShallowCopy,
    {
        Self(allocate(Self::type_index(this), T::shallow_copy(this)))
    }

    /// The object held by `view` as a `T`, or why not.
    pub fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError>
    where
        T: Send + Sync,
    {
        ObjectRef::<T>::from_any_view(view).map(Self)
    }
}

impl<T: ObjectCore> Clone for ObjectArc<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: ObjectCore> Deref for ObjectArc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ObjectCore> core::fmt::Debug for ObjectArc<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ObjectArc")
            .field("type_key", &T::TYPE_KEY)
            .field("ptr", &Self::as_ptr(self))
            .finish()
    }
}

/// Alignment of the object: at least 8, as the header's 64-bit atomics need on every target.
const fn object_align<T>() -> usize {
    let a = align_of::<T>();
    if a > 8 { a } else { 8 }
}

/// Bytes before the object: its block size, then the `TVMFFIObjectAllocHeader` that the C
/// header requires right before every object body.
const fn prefix<T>() -> usize {
    (2 * size_of::<usize>()).next_multiple_of(object_align::<T>())
}

fn block_layout<T>() -> Layout {
    let size = prefix::<T>() + size_of::<T>();
    match Layout::from_size_align(size, object_align::<T>()) {
        Ok(layout) => layout,
        Err(_) => panic!("object layout overflows"),
    }
}

/// Move `value` into a new heap object of `index`, with a fresh header.
fn allocate<T: ObjectCore>(index: TypeIndex, value: T) -> ObjectRef<T> {
    let layout = block_layout::<T>();
    // SAFETY: the layout has a non-zero size (the header alone is 24 bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: the block holds the prefix then a `T`, each slot aligned; the header is at
    // offset 0 of `T` (`ObjectCore`), overwritten after the move with a fresh one; the alloc
    // header sits right before the object.
    unsafe {
        let obj = base.add(prefix::<T>());
        base.cast::<usize>().write(layout.size());
        obj.sub(size_of::<TVMFFIObjectAllocHeader>())
            .cast::<TVMFFIObjectAllocHeader>()
            .write(TVMFFIObjectAllocHeader { delete_space: Some(delete_space::<T>) });
        obj.cast::<T>().write(value);
        obj.cast::<ObjectHeader>().write(ObjectHeader::new(index, Some(deleter::<T>)));
        ObjectRef::from_raw(obj.cast::<TVMFFIObject>()).expect("allocation is not null")
    }
}

/// The deleter of objects made by [`allocate`]: drop the fields when the strong count ends,
/// free the block when the weak count does.
unsafe extern "C" fn deleter<T>(obj: *mut c_void, flags: c_int) {
    let flags = DeleterFlags(flags);
    if flags.contains(DeleterFlags::STRONG) {
        // SAFETY: the last strong reference is gone and the fields were not dropped yet;
        // the header (the first field, down the base chain) has no drop glue, so only the
        // type's own fields are touched.
        unsafe { core::ptr::drop_in_place(obj.cast::<T>()) };
    }
    if flags.contains(DeleterFlags::WEAK) {
        // SAFETY: no reference of any kind is left.
        unsafe { delete_space::<T>(obj) };
    }
}

/// `TVMFFIObjectAllocHeader::delete_space` for blocks from [`allocate`].
unsafe extern "C" fn delete_space<T>(obj: *mut c_void) {
    // SAFETY: `obj` is the body of a block from `allocate::<T>`, whose layout is rebuilt.
    unsafe { dealloc(obj.cast::<u8>().sub(prefix::<T>()), block_layout::<T>()) };
}
