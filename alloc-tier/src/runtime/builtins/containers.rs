//! Arrays, lists and shapes (`src/ffi/container.cc`, `src/ffi/tensor.cc`).
//!
//! Indices are checked as the reference's `SeqBaseObj` checks them, with its messages:
//! `Index 5 out of bounds 3` is an `IndexError`.

use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView, Device, DeviceType, FromAnyView, TypeIndex};

use super::{Builtins, arity, wrong_type};
use crate::error::Error;
use crate::function::Boundary;
use crate::map::{Dict, Map};
use crate::seq::{Array, List, SeqError};
use crate::shape::Shape;
use crate::string::any_view_to_owned;
use crate::tensor::Tensor;

/// Argument `i` as `T`, or the reference's type mismatch naming `expected`.
fn arg<'v, T: FromAnyView<'v>>(
    sig: &str,
    args: &[AnyView<'v>],
    i: usize,
    expected: &str,
) -> Result<T, Error> {
    let view = args.get(i).copied().unwrap_or_default();
    view.get::<T>().map_err(|_| wrong_type(sig, i, expected, view.type_index()))
}

/// Owned copies of every argument (what `Array<Any>(args.begin(), args.end())` keeps).
fn owned(args: &[AnyView<'_>]) -> Result<Vec<Any>, Error> {
    args.iter().map(|a| any_view_to_owned(*a).map_err(Error::from)).collect()
}

/// `i` as an index into a sequence of `len`, or the reference's `IndexError`.
fn index(i: i64, len: usize) -> Result<usize, Error> {
    usize::try_from(i)
        .ok()
        .filter(|&u| u < len)
        .ok_or_else(|| Error::index_error(alloc::format!("Index {i} out of bounds {len}")))
}

fn seq_error(e: SeqError) -> Error {
    Error::from(e)
}

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    b.def_packed("ffi.Array", |args| {
        Ok(Any::from(Array::try_collect(args.len(), args.iter().map(|a| any_view_to_owned(*a)))?))
    });
    b.def_packed("ffi.ArrayGetItem", |args| {
        const SIG: &str = "ffi.ArrayGetItem(0: ffi.Array, 1: int) -> Any";
        let [_, _] = arity(SIG, args)?;
        let (a, i): (Array, i64) = (arg(SIG, args, 0, "ffi.Array")?, arg(SIG, args, 1, "int")?);
        let i = index(i, a.len())?;
        Ok(a.as_slice().get(i).cloned().unwrap_or_default())
    });
    b.def_packed("ffi.ArraySize", |args| {
        const SIG: &str = "ffi.ArraySize(0: ffi.Array) -> int";
        let [_] = arity(SIG, args)?;
        let a: Array = arg(SIG, args, 0, "ffi.Array")?;
        Ok(Any::from(a.len() as i64))
    });

    b.def_packed("ffi.ArrayContains", |args| {
        const SIG: &str = "ffi.ArrayContains(0: ffi.Array, 1: Any) -> bool";
        let [_, value] = arity(SIG, args)?;
        let a: Array = arg(SIG, args, 0, "ffi.Array")?;
        contains(a.as_slice().iter().map(Any::view), *value)
    });
    b.def_packed("ffi.ListContains", |args| {
        const SIG: &str = "ffi.ListContains(0: ffi.List, 1: Any) -> bool";
        let [_, value] = arity(SIG, args)?;
        let items = arg::<List>(SIG, args, 0, "ffi.List")?.to_vec();
        contains(items.iter().map(Any::view), *value)
    });
    b.def_packed("ffi.ContainerFindFirstNonCPUDevice", |args| {
        const SIG: &str = "ffi.ContainerFindFirstNonCPUDevice(0: Any) -> Device";
        let [container] = arity(SIG, args)?;
        Ok(Any::from(first_non_cpu_device(*container).unwrap_or(Device::CPU)))
    });

    b.def_packed("ffi.List", |args| Ok(Any::from(List::from_vec(owned(args)?))));
    b.def_packed("ffi.ListGetItem", |args| {
        const SIG: &str = "ffi.ListGetItem(0: ffi.List, 1: int) -> Any";
        let [_, _] = arity(SIG, args)?;
        let (l, i): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        let i = index(i, l.len())?;
        l.get(i).ok_or_else(|| Error::index_error(alloc::format!("Index {i} out of bounds")))
    });
    b.def_packed("ffi.ListSetItem", |args| {
        const SIG: &str = "ffi.ListSetItem(0: ffi.List, 1: int, 2: Any) -> void";
        let [_, _, value] = arity(SIG, args)?;
        let (l, i): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        let value = any_view_to_owned(*value)?;
        let old = l.set(index(i, l.len())?, value).map_err(seq_error)?;
        drop(old);
        Ok(Any::none())
    });
    b.def_packed("ffi.ListSize", |args| {
        const SIG: &str = "ffi.ListSize(0: ffi.List) -> int";
        let [_] = arity(SIG, args)?;
        let l: List = arg(SIG, args, 0, "ffi.List")?;
        Ok(Any::from(l.len() as i64))
    });
    b.def_packed("ffi.ListAppend", |args| {
        const SIG: &str = "ffi.ListAppend(0: ffi.List, 1: Any) -> void";
        let [_, value] = arity(SIG, args)?;
        let l: List = arg(SIG, args, 0, "ffi.List")?;
        l.push(any_view_to_owned(*value)?);
        Ok(Any::none())
    });
    b.def_packed("ffi.ListInsert", |args| {
        const SIG: &str = "ffi.ListInsert(0: ffi.List, 1: int, 2: Any) -> void";
        let [_, _, value] = arity(SIG, args)?;
        let (l, i): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        let len = l.len();
        let at = usize::try_from(i).ok().filter(|&u| u <= len).ok_or_else(|| {
            Error::index_error(alloc::format!("Index {i} out of bounds [0, {len}]"))
        })?;
        l.insert(at, any_view_to_owned(*value)?).map_err(seq_error)?;
        Ok(Any::none())
    });
    b.def_packed("ffi.ListPop", |args| {
        const SIG: &str = "ffi.ListPop(0: ffi.List, 1: int) -> Any";
        let [_, _] = arity(SIG, args)?;
        let (l, i): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        l.remove(index(i, l.len())?).map_err(seq_error)
    });
    b.def_packed("ffi.ListErase", |args| {
        const SIG: &str = "ffi.ListErase(0: ffi.List, 1: int) -> void";
        let [_, _] = arity(SIG, args)?;
        let (l, i): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        drop(l.remove(index(i, l.len())?).map_err(seq_error)?);
        Ok(Any::none())
    });
    b.def_packed("ffi.ListEraseRange", |args| {
        const SIG: &str = "ffi.ListEraseRange(0: ffi.List, 1: int, 2: int) -> void";
        let [_, _, _] = arity(SIG, args)?;
        let l: List = arg(SIG, args, 0, "ffi.List")?;
        let (start, stop): (i64, i64) = (arg(SIG, args, 1, "int")?, arg(SIG, args, 2, "int")?);
        drop(erase_range(&l, start, stop)?);
        Ok(Any::none())
    });
    b.def_packed("ffi.ListReplaceSlice", |args| {
        const SIG: &str = "ffi.ListReplaceSlice(0: ffi.List, 1: int, 2: int, 3: ffi.List) -> void";
        let [_, _, _, _] = arity(SIG, args)?;
        let l: List = arg(SIG, args, 0, "ffi.List")?;
        let (start, stop): (i64, i64) = (arg(SIG, args, 1, "int")?, arg(SIG, args, 2, "int")?);
        let replacement: List = arg(SIG, args, 3, "ffi.List")?;
        // Copied first: the replacement may be the list itself.
        let items = replacement.to_vec();
        let removed = erase_range(&l, start, stop)?;
        drop(removed);
        if !items.is_empty() {
            let at = usize::try_from(start).unwrap_or_default();
            l.insert_all(at, items).map_err(seq_error)?;
        }
        Ok(Any::none())
    });
    b.def_packed("ffi.ListReverse", |args| {
        const SIG: &str = "ffi.ListReverse(0: ffi.List) -> void";
        let [_] = arity(SIG, args)?;
        arg::<List>(SIG, args, 0, "ffi.List")?.reverse();
        Ok(Any::none())
    });
    b.def_packed("ffi.ListClear", |args| {
        const SIG: &str = "ffi.ListClear(0: ffi.List) -> void";
        let [_] = arity(SIG, args)?;
        arg::<List>(SIG, args, 0, "ffi.List")?.clear();
        Ok(Any::none())
    });
    b.def_packed("ffi.ListReserve", |args| {
        const SIG: &str = "ffi.ListReserve(0: ffi.List, 1: int) -> void";
        let [_, _] = arity(SIG, args)?;
        let (l, n): (List, i64) = (arg(SIG, args, 0, "ffi.List")?, arg(SIG, args, 1, "int")?);
        // The reference reserves a total capacity; a smaller one than the length is a no-op.
        let total = usize::try_from(n).unwrap_or_default();
        l.reserve(total.saturating_sub(l.len())).map_err(seq_error)?;
        Ok(Any::none())
    });

    b.def_packed("ffi.Shape", |args| {
        let mut dims = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            dims.push(
                a.get::<i64>().map_err(|_| wrong_type("ffi.Shape", i, "int", a.type_index()))?,
            );
        }
        Ok(Shape::new(&dims).into_any())
    });
}

/// Remove `start..stop` from `l` (the reference's `erase(first, last)`: an empty range is a
/// no-op, anything else must lie within the list).
fn erase_range(l: &List, start: i64, stop: i64) -> Result<Vec<Any>, Error> {
    if start == stop {
        return Ok(Vec::new());
    }
    let len = l.len();
    let range = usize::try_from(start)
        .ok()
        .zip(usize::try_from(stop).ok())
        .filter(|&(a, z)| a < z && z <= len);
    let Some((a, z)) = range else {
        return Err(Error::index_error(alloc::format!(
            "Erase range [{start}, {stop}) out of bounds {len}"
        )));
    };
    l.remove_range(a, z).map_err(seq_error)
}

/// Whether any of `items` equals `value` as map keys do (`AnyEqual`).
fn contains<'a>(
    mut items: impl Iterator<Item = AnyView<'a>>,
    value: AnyView<'_>,
) -> Result<Any, Error> {
    let mut found = false;
    for item in &mut items {
        if crate::map::any_equal(item, value)? {
            found = true;
            break;
        }
    }
    Ok(Any::from(found))
}

/// The device of the first tensor not on the CPU, searching arrays, lists, maps and dicts
/// depth first (`FindFirstNonCPUDevice`).
fn first_non_cpu_device(value: AnyView<'_>) -> Option<Device> {
    match value.type_index() {
        TypeIndex::TENSOR => {
            let t: Tensor = value.get().ok()?;
            (t.device().device_type() != DeviceType::CPU).then(|| t.device())
        }
        TypeIndex::ARRAY => {
            let a: Array = value.get().ok()?;
            a.as_slice().iter().find_map(|v| first_non_cpu_device(v.view()))
        }
        TypeIndex::LIST => {
            let l: List = value.get().ok()?;
            l.to_vec().iter().find_map(|v| first_non_cpu_device(v.view()))
        }
        TypeIndex::MAP => {
            let m: Map = value.get().ok()?;
            m.values().find_map(first_non_cpu_device)
        }
        TypeIndex::DICT => {
            let d: Dict = value.get().ok()?;
            d.to_vec().iter().find_map(|(_, v)| first_non_cpu_device(v.view()))
        }
        _ => None,
    }
}
