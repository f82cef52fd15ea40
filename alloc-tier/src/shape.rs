//! [`Shape`]: an immutable list of `int64_t` extents, the reference's `tvm::ffi::Shape`
//! (`tvm/ffi/container/shape.h`).
//!
//! A shape object (`SHAPE` = 69) is the header, a `TVMFFIShapeCell { data, size }`, and the
//! extents inline right after (`MakeEmptyShape`); C++ shapes made from a `std::vector` point
//! `data` elsewhere, so readers always go through `data`.
//!
//! Like the reference, a shape holds any `int64_t`, negative ones included (the reference
//! never checks; symbolic code may use them as markers). What needs real extents checks
//! them: [`Shape::product`] and [`Shape::contiguous_strides`] reject negative extents and
//! overflow instead of wrapping as the reference's `Product()` does.

use core::alloc::Layout;
use core::fmt;
use core::ops::Deref;

use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject, TVMFFISeqCell, TVMFFIShapeCell};
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectHeader, ObjectRef, Payload, TypeIndex,
};

use crate::heap;

/// Why a shape computation failed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ShapeError {
    /// An extent is negative where a size is needed.
    NegativeExtent {
        /// The axis.
        axis: usize,
        /// The extent found there.
        extent: i64,
    },
    /// The result does not fit an `int64_t`.
    Overflow,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegativeExtent { axis, extent } => {
                write!(f, "negative extent {extent} on axis {axis}")
            }
            Self::Overflow => f.write_str("shape size overflows int64_t"),
        }
    }
}

impl core::error::Error for ShapeError {}

/// The payload of a shape object: the reference's `TVMFFIShapeCell` base of `ShapeObj`.
#[repr(transparent)]
struct ShapeCell(TVMFFIShapeCell);

// SAFETY: the cell is immutable after construction and points at extents that stay valid
// and unchanged while the object lives (ours: its own tail; C++: its vector).
unsafe impl Send for ShapeCell {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for ShapeCell {}

// SAFETY: `SHAPE` objects are laid out as the header then a `TVMFFIShapeCell` (`ShapeObj`,
// `TVMFFIShapeGetCellPtr`), and no other payload claims the index.
unsafe impl Payload for ShapeCell {
    const TYPE_KEY: &'static str = "ffi.Shape";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::SHAPE
    }
}

/// An immutable shape: a list of `int64_t` extents in a shape object (`ffi.Shape`).
///
/// Cloning shares the object; equality and hashing go by the extents. It dereferences to
/// `[i64]`.
///
/// ```
/// use tvmffi_alloc::Shape;
/// use tvmffi_alloc::shape::ShapeError;
/// use tvmffi_core::{Any, TypeIndex};
///
/// let s = Shape::from([2, 3, 4]);
/// assert_eq!(s.as_slice(), &[2, 3, 4]);
/// assert_eq!(s.product(), Ok(24));
/// assert_eq!(s.contiguous_strides().unwrap(), [12, 4, 1]);
///
/// let any = Any::from(s.clone());
/// assert_eq!(any.type_index(), TypeIndex::SHAPE);
/// assert_eq!(any.get::<Shape>().unwrap(), s);
///
/// let symbolic = Shape::from([-1, 3]); // allowed, as in the reference ...
/// assert!(matches!(symbolic.product(), Err(ShapeError::NegativeExtent { axis: 0, .. })));
/// ```
#[derive(Clone)]
pub struct Shape {
    /// Checked on entry: `data` is aligned and readable for `size` extents (or `size` is 0).
    obj: ObjectRef<Object<ShapeCell>>,
}

impl Shape {
    /// A shape with these extents.
    ///
    /// # Panics
    ///
    /// Like `alloc`'s collections, when the object would exceed `isize::MAX` bytes.
    pub fn new(dims: &[i64]) -> Self {
        Self::build(dims.len(), |i| dims[i])
    }

    /// A shape of `len` extents, the `i`-th being `dim(i)`.
    fn build(len: usize, dim: impl Fn(usize) -> i64) -> Self {
        let tail = Layout::array::<i64>(len).unwrap_or_else(|_| too_large());
        let init = |tail: *mut u8| {
            let data = tail.cast::<i64>();
            for i in 0..len {
                // SAFETY: the tail holds `len` aligned `i64`s.
                unsafe { data.add(i).write(dim(i)) };
            }
            ShapeCell(TVMFFIShapeCell { data: data.cast_const(), size: len })
        };
        // SAFETY: `init` writes all `len` extents the cell describes.
        Self { obj: unsafe { heap::new_object_with_tail(TypeIndex::SHAPE, tail, init) } }
    }

    /// The extents.
    #[inline]
    pub fn as_slice(&self) -> &[i64] {
        let cell = &self.obj.0;
        if cell.size == 0 {
            return &[];
        }
        // SAFETY: checked on entry (type invariant); the object, which owns or keeps the
        // extents alive, lives as long as `self`, and no one writes them.
        unsafe { core::slice::from_raw_parts(cell.data, cell.size) }
    }

    /// Number of extents (the rank).
    #[inline]
    pub fn len(&self) -> usize {
        self.obj.0.size
    }

    /// Whether the shape has no extents (a scalar's shape).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of elements: the product of the extents, 1 for an empty shape.
    ///
    /// The reference's `Product()` multiplies blindly; this rejects negative extents and
    /// overflow. A zero extent gives 0 whatever the others are.
    pub fn product(&self) -> Result<i64, ShapeError> {
        let dims = self.as_slice();
        check_extents(dims)?;
        if dims.contains(&0) {
            return Ok(0);
        }
        dims.iter().try_fold(1i64, |acc, &d| acc.checked_mul(d)).ok_or(ShapeError::Overflow)
    }

    /// The strides of a compact row-major tensor of this shape (the reference's
    /// `Shape::StridesFromShape`): the last axis has stride 1, each other axis the product of
    /// the extents after it.
    pub fn contiguous_strides(&self) -> Result<Shape, ShapeError> {
        let dims = self.as_slice();
        check_extents(dims)?;
        let mut strides = alloc::vec![0i64; dims.len()];
        let mut stride = 1i64;
        for (i, &d) in dims.iter().enumerate().rev() {
            strides[i] = stride;
            // The product past the first axis is never used, so it may not overflow it.
            if i > 0 {
                stride = stride.checked_mul(d).ok_or(ShapeError::Overflow)?;
            }
        }
        Ok(Self::new(&strides))
    }

    /// The object, borrowed.
    #[inline]
    pub fn as_raw(&self) -> *mut TVMFFIObject {
        self.obj.as_raw()
    }

    /// The shape as a value.
    #[inline]
    pub fn into_any(self) -> Any {
        Any::from(self.obj)
    }

    /// A view of the shape, borrowing `self`.
    #[inline]
    pub fn view(&self) -> AnyView<'_> {
        AnyView::from(&self.obj)
    }

    /// Wrap a shape object after checking its cell.
    fn from_object(obj: ObjectRef<Object<ShapeCell>>) -> Option<Self> {
        let cell = &obj.0;
        let ok = cell.size == 0
            || (!cell.data.is_null()
                && cell.data.is_aligned()
                && cell.size <= isize::MAX as usize / size_of::<i64>());
        ok.then_some(Self { obj })
    }
}

fn check_extents(dims: &[i64]) -> Result<(), ShapeError> {
    match dims.iter().position(|&d| d < 0) {
        Some(axis) => Err(ShapeError::NegativeExtent { axis, extent: dims[axis] }),
        None => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn too_large() -> ! {
    panic!("shape too large to allocate")
}

impl Default for Shape {
    /// The empty shape.
    #[inline]
    fn default() -> Self {
        Self::new(&[])
    }
}

impl Deref for Shape {
    type Target = [i64];

    #[inline]
    fn deref(&self) -> &[i64] {
        self.as_slice()
    }
}

impl AsRef<[i64]> for Shape {
    #[inline]
    fn as_ref(&self) -> &[i64] {
        self.as_slice()
    }
}

impl From<&[i64]> for Shape {
    #[inline]
    fn from(dims: &[i64]) -> Self {
        Self::new(dims)
    }
}

impl<const N: usize> From<[i64; N]> for Shape {
    #[inline]
    fn from(dims: [i64; N]) -> Self {
        Self::new(&dims)
    }
}

impl<const N: usize> From<&[i64; N]> for Shape {
    #[inline]
    fn from(dims: &[i64; N]) -> Self {
        Self::new(dims)
    }
}

impl From<alloc::vec::Vec<i64>> for Shape {
    #[inline]
    fn from(dims: alloc::vec::Vec<i64>) -> Self {
        Self::new(&dims)
    }
}

impl FromIterator<i64> for Shape {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        let dims: alloc::vec::Vec<i64> = iter.into_iter().collect();
        Self::new(&dims)
    }
}

impl PartialEq for Shape {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Shape {}

impl PartialEq<[i64]> for Shape {
    #[inline]
    fn eq(&self, other: &[i64]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<[i64; N]> for Shape {
    #[inline]
    fn eq(&self, other: &[i64; N]) -> bool {
        self.as_slice() == other
    }
}

impl core::hash::Hash for Shape {
    #[inline]
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shape").field(&self.as_slice()).finish()
    }
}

impl fmt::Display for Shape {
    /// `[2, 3]`, as the reference's `operator<<`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_slice())
    }
}

impl From<Shape> for Any {
    #[inline]
    fn from(s: Shape) -> Self {
        s.into_any()
    }
}

impl<'a> From<&'a Shape> for AnyView<'a> {
    #[inline]
    fn from(s: &'a Shape) -> Self {
        s.view()
    }
}

impl<'a> FromAnyView<'a> for Shape {
    /// What the reference's `TypeTraits<Shape>` accepts: a shape object (shared), or, as its
    /// `Array<int64_t>` fallback, an array or list whose elements are all `int` (or `bool`),
    /// copied into a new shape.
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        const EXPECTED: &str = "ffi.Shape";
        let actual = view.type_index();
        match actual {
            TypeIndex::SHAPE => {
                let obj = ObjectRef::<Object<ShapeCell>>::from_any_view(view)?;
                Self::from_object(obj).ok_or_else(|| malformed(EXPECTED, actual))
            }
            TypeIndex::ARRAY | TypeIndex::LIST => {
                let obj = view.as_object_ptr().ok_or_else(|| malformed(EXPECTED, actual))?;
                // SAFETY: a live array or list object (the view's contract): the header,
                // then a `TVMFFISeqCell` (`SeqBaseObj`).
                let items = unsafe { seq_items(obj) }.ok_or_else(|| malformed(EXPECTED, actual))?;
                // Check every element first, so a mismatch allocates nothing.
                for item in items {
                    // SAFETY: the elements are valid values kept alive by the sequence.
                    i64::from_any_view(unsafe { AnyView::from_raw(*item) })
                        .map_err(|_| ConversionError::mismatch(EXPECTED, actual))?;
                }
                // SAFETY: as above; every element was just checked to convert.
                let dim = |i: usize| unsafe { AnyView::from_raw(items[i]) }.get().unwrap_or(0);
                Ok(Self::build(items.len(), dim))
            }
            other => Err(ConversionError::mismatch(EXPECTED, other)),
        }
    }
}

impl TryFrom<Any> for Shape {
    type Error = ConversionError;

    /// As [`FromAnyView`], moving a shape object's reference instead of adding one.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        let actual = any.type_index();
        match any.into_object::<Object<ShapeCell>>() {
            Ok(obj) => Self::from_object(obj).ok_or_else(|| malformed("ffi.Shape", actual)),
            Err(any) => Self::from_any_view(any.view()),
        }
    }
}

fn malformed(expected: &'static str, actual: TypeIndex) -> ConversionError {
    ConversionError::new(tvmffi_core::error::ConversionErrorKind::Malformed, expected, actual)
}

/// The elements of an array or list object; `None` when its cell is inconsistent.
///
/// # Safety
///
/// `obj` points to a live `ARRAY` or `LIST` object that is not mutated while the result is
/// in use.
unsafe fn seq_items<'a>(obj: core::ptr::NonNull<ObjectHeader>) -> Option<&'a [TVMFFIAny]> {
    // SAFETY: such objects hold a `TVMFFISeqCell` right after the header (caller).
    let cell = unsafe { obj.cast::<u8>().add(size_of::<ObjectHeader>()).cast::<TVMFFISeqCell>() };
    // SAFETY: as above; read the two fields without making a reference to the cell.
    let (data, size) = unsafe { ((*cell.as_ptr()).data, (*cell.as_ptr()).size) };
    let len = usize::try_from(size).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    let data = data.cast::<TVMFFIAny>();
    if data.is_null() || !data.is_aligned() || len > isize::MAX as usize / size_of::<TVMFFIAny>() {
        return None;
    }
    // SAFETY: the cell describes `len` initialised values at `data`, alive with the object.
    Some(unsafe { core::slice::from_raw_parts(data, len) })
}

/// C++ mirror of `tvm::ffi::ShapeObj`, for the layout table: `Object<ShapeCell>` is the same
/// `#[repr(C)]` sequence (asserted below). The inline extents start at `sizeof(ShapeObj)`.
#[repr(C)]
struct ShapeObj {
    header: ObjectHeader,
    data: *const i64,
    size: usize,
}

const _: () = {
    assert!(size_of::<Object<ShapeCell>>() == size_of::<ShapeObj>());
    assert!(align_of::<Object<ShapeCell>>() == align_of::<ShapeObj>());
    // The reference requires the extents to follow the object without padding.
    assert!(size_of::<ShapeObj>() % align_of::<i64>() == 0);
};

tvmffi_core::c_layout! {
    /// Layout of the shape object, against the reference's C++ class.
    pub const LAYOUTS = [
        ShapeObj as "tvm::ffi::ShapeObj" {
            size: 40 / 32,
            align: align_of::<u64>(),
            fields: { data = 24 / 24, size = 32 / 28 },
        },
    ];
}
