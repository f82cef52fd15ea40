//! The dataclass built-ins (`src/ffi/extra/dataclass.cc`) and `ffi.MakeObjectFromPackedArgs`
//! (`src/ffi/extra/reflection_extra.cc`): thin adapters over [`crate::dataclass`].

use core::cmp::Ordering;
use core::ffi::c_void;

use tvmffi_core::{Any, TypeIndex};

use super::Builtins;
use crate::dataclass::{self, ReprOptions, pyclass};
use crate::error::Error;
use crate::function::{Boundary, Function};

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    b.def("ffi._RegisterFFIInit", |index: i32| dataclass::register_ffi_init(TypeIndex(index)));
    b.def("ffi.MakeFieldSetter", make_field_setter);
    b.def("ffi._PyClassRegisterTypeAttrColumns", |index: i32, total_size: i32| {
        pyclass::register_py_class(TypeIndex(index), total_size)
    });
    b.def("ffi.DeepCopy", |value: Any| dataclass::deep_copy(&value));
    b.def("ffi.ReprPrint", |value: Any| -> Result<crate::String, Error> {
        Ok(dataclass::repr(&value, ReprOptions::default())?.into())
    });
    b.def("ffi.RecursiveHash", |value: Any| dataclass::recursive_hash(&value));
    b.def("ffi.MakeFieldGetter", |index: i32| -> Result<i64, Error> {
        Ok(pyclass::field_getter(TypeIndex(index))? as usize as i64)
    });
    b.def("ffi.RecursiveEq", |lhs: Any, rhs: Any| dataclass::recursive_eq(&lhs, &rhs));
    b.def("ffi.RecursiveLt", |lhs: Any, rhs: Any| cmp(&lhs, &rhs, Ordering::is_lt));
    b.def("ffi.RecursiveLe", |lhs: Any, rhs: Any| cmp(&lhs, &rhs, Ordering::is_le));
    b.def("ffi.RecursiveGt", |lhs: Any, rhs: Any| cmp(&lhs, &rhs, Ordering::is_gt));
    b.def("ffi.RecursiveGe", |lhs: Any, rhs: Any| cmp(&lhs, &rhs, Ordering::is_ge));
    b.def_packed("ffi.MakeObjectFromPackedArgs", dataclass::make_object_from_packed_args);
}

fn cmp(lhs: &Any, rhs: &Any, test: fn(Ordering) -> bool) -> Result<bool, Error> {
    dataclass::recursive_cmp(lhs, rhs).map(test)
}

/// `ffi.MakeFieldSetter(field_type_index, converter, convert)`: the Python package passes
/// its converter object and the C function that applies it, as integers.
fn make_field_setter(index: i32, converter: i64, convert: i64) -> Result<Function, Error> {
    if convert == 0 {
        return Err(Error::value_error("ffi.MakeFieldSetter: null conversion function"));
    }
    // SAFETY: the caller passes the address of a `FieldConvert` function (checked not
    // null; the reference trusts its caller the same way).
    let convert: pyclass::FieldConvert =
        unsafe { core::mem::transmute(convert as usize as *const c_void) };
    // SAFETY: as above, `converter` is what `convert` expects, and the setter is installed
    // on fields of this static type index, as Python lays them out.
    Ok(unsafe {
        pyclass::field_setter(TypeIndex(index), converter as usize as *mut c_void, convert)
    })
}
