//! The layouts that mirrors of C++ objects rely on: each field type here is as large and as
//! aligned as the C++ field it mirrors, on every target. A struct whose size is its one
//! non-empty field's size holds that field at offset 0, so these assertions also pin the
//! field's representation (a `TVMFFIAny`, or one object pointer).

use core::mem::{align_of, size_of};

use tvmffi_core::sys::{DLDataType, DLDevice, TVMFFIAny};
use tvmffi_core::{Any, DataType, Device, ObjectRef};

use crate::{Array, BigInt, Bytes, Dict, Error, Function, List, Map, Shape, String, Tensor};

macro_rules! same_layout {
    ($as:ty => $($t:ty),* $(,)?) => {
        const _: () = {$(
            assert!(size_of::<$t>() == size_of::<$as>());
            assert!(align_of::<$t>() == align_of::<$as>());
        )*};
    };
}

// `String`, `Bytes`, `BigInt` and `Optional<T>` are one cell, as in C++.
same_layout!(TVMFFIAny => Any, String, Bytes, BigInt, crate::Optional<i64>, crate::Optional<String>);
// Object references are one pointer, and so is an `Option` of one.
same_layout!(*const () =>
    ObjectRef, Option<ObjectRef>, Array<i64>, Option<Array<Any>>, List<Any>, Map<Any, Any>,
    Dict<String, i64>, Function, Tensor, Shape, Error, Option<Tensor>,
);
same_layout!(DLDevice => Device);
same_layout!(DLDataType => DataType);

#[cfg(feature = "std")]
same_layout!(*const () => tvmffi_std::Module, Option<tvmffi_std::Module>);
