//! Maps and dicts, and the key functions of big integers (`src/ffi/container.cc`).

use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView, TypeIndex};

use super::{Builtins, arity, wrong_type};
use crate::big_int::BigInt;
use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::map::{Dict, Map, stable_hash_bytes};
use crate::string::any_view_to_owned;

/// Argument `i` as `T`, or the reference's type mismatch naming `expected`.
fn arg<T: for<'v> tvmffi_core::FromAnyView<'v>>(
    sig: &str,
    args: &[AnyView<'_>],
    i: usize,
    expected: &str,
) -> Result<T, Error> {
    let view = args.get(i).copied().unwrap_or_default();
    view.get::<T>().map_err(|_| wrong_type(sig, i, expected, view.type_index()))
}

/// Key-value pairs from the arguments `k0, v0, k1, v1, ...`, each made owned as it is
/// reached (no list of all of them first: a map of 1e5 pairs would copy 3 MB).
fn pairs<'a, 'v>(
    func: &str,
    args: &'a [AnyView<'v>],
) -> Result<impl Iterator<Item = Result<(Any, Any), Error>> + use<'a, 'v>, Error> {
    if args.len() % 2 != 0 {
        return Err(Error::value_error(alloc::format!(
            "{func}: expects key-value pairs, got {} arguments",
            args.len()
        )));
    }
    Ok(args.chunks_exact(2).map(|kv| match kv {
        [k, v] => Ok((any_view_to_owned(*k)?, any_view_to_owned(*v)?)),
        _ => Err(Error::internal_error("chunks of two")),
    }))
}

/// The reference's `MapForwardIterFunctor`: `f(0)` is the current key, `f(1)` its value,
/// `f(2)` steps and returns whether an entry is left.
fn forward_iter<B: Boundary>(entries: Vec<(Any, Any)>) -> Function {
    let position = spin::Mutex::new(0usize);
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let [command] = arity("MapForwardIterFunctor(0: int) -> Any", args)?;
        let command: i64 = command.get()?;
        let mut at = position.lock();
        let entry = |at: usize| {
            entries.get(at).ok_or_else(|| Error::index_error("the map iterator is exhausted"))
        };
        match command {
            0 => Ok(entry(*at)?.0.clone()),
            1 => Ok(entry(*at)?.1.clone()),
            _ => {
                *at = at.saturating_add(1);
                Ok(Any::from(*at < entries.len()))
            }
        }
    })
}

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    b.def_packed("ffi.Map", |args| {
        // Inserted one by one, as the reference's `Set` loop does; once the map turns
        // dense, its table is sized for every pair at once instead of doubling.
        let mut map = Map::new();
        let mut sized = false;
        for kv in pairs("ffi.Map", args)? {
            let (k, v) = kv?;
            drop(map.insert(k, v)?);
            if !sized && map.is_dense() {
                map.reserve_dense(args.len() / 2)?;
                sized = true;
            }
        }
        Ok(Any::from(map))
    });
    b.def_packed("ffi.MapSize", |args| {
        const SIG: &str = "ffi.MapSize(0: ffi.Map) -> int";
        let [_] = arity(SIG, args)?;
        Ok(Any::from(arg::<Map>(SIG, args, 0, "ffi.Map")?.len() as i64))
    });
    b.def_packed("ffi.MapGetItem", |args| {
        const SIG: &str = "ffi.MapGetItem(0: ffi.Map, 1: Any) -> Any";
        let [map, key] = arity(SIG, args)?;
        // Borrowed when it is an `ffi.Map` (no reference counting on the lookup path).
        let at = |map: &Map| Ok(any_view_to_owned(map.at(*key)?)?);
        match Map::with_borrowed(*map, at) {
            Some(found) => found,
            None => at(&arg::<Map>(SIG, args, 0, "ffi.Map")?),
        }
    });
    b.def_packed("ffi.MapCount", |args| {
        const SIG: &str = "ffi.MapCount(0: ffi.Map, 1: Any) -> int";
        let [_, key] = arity(SIG, args)?;
        let map: Map = arg(SIG, args, 0, "ffi.Map")?;
        Ok(Any::from(i64::from(map.contains_key(*key)?)))
    });
    b.def_packed("ffi.MapGetItemOrMissing", |args| {
        const SIG: &str = "ffi.MapGetItemOrMissing(0: ffi.Map, 1: Any) -> Any";
        let [_, key] = arity(SIG, args)?;
        let map: Map = arg(SIG, args, 0, "ffi.Map")?;
        match map.get(*key)? {
            Some(v) => Ok(any_view_to_owned(v)?),
            None => Ok(super::objects::missing_object()),
        }
    });
    b.def_packed("ffi.MapForwardIterFunctor", |args| {
        const SIG: &str = "ffi.MapForwardIterFunctor(0: ffi.Map) -> ffi.Function";
        let [_] = arity(SIG, args)?;
        let map: Map = arg(SIG, args, 0, "ffi.Map")?;
        let entries: Result<Vec<_>, Error> =
            map.iter().map(|(k, v)| Ok((any_view_to_owned(k)?, any_view_to_owned(v)?))).collect();
        Ok(Any::from(forward_iter::<B>(entries?)))
    });

    b.def_packed("ffi.Dict", |args| {
        // As `ffi.Map`.
        let dict = Dict::new();
        let mut sized = false;
        for kv in pairs("ffi.Dict", args)? {
            let (k, v) = kv?;
            drop(dict.insert(k, v)?);
            if !sized && dict.is_dense() {
                dict.reserve_dense(args.len() / 2)?;
                sized = true;
            }
        }
        Ok(Any::from(dict))
    });
    b.def_packed("ffi.DictSize", |args| {
        const SIG: &str = "ffi.DictSize(0: ffi.Dict) -> int";
        let [_] = arity(SIG, args)?;
        Ok(Any::from(arg::<Dict>(SIG, args, 0, "ffi.Dict")?.len() as i64))
    });
    b.def_packed("ffi.DictGetItem", |args| {
        const SIG: &str = "ffi.DictGetItem(0: ffi.Dict, 1: Any) -> Any";
        let [_, key] = arity(SIG, args)?;
        Ok(arg::<Dict>(SIG, args, 0, "ffi.Dict")?.at(*key)?)
    });
    b.def_packed("ffi.DictSetItem", |args| {
        const SIG: &str = "ffi.DictSetItem(0: ffi.Dict, 1: Any, 2: Any) -> void";
        let [_, key, value] = arity(SIG, args)?;
        let dict: Dict = arg(SIG, args, 0, "ffi.Dict")?;
        drop(dict.insert(any_view_to_owned(*key)?, any_view_to_owned(*value)?)?);
        Ok(Any::none())
    });
    b.def_packed("ffi.DictCount", |args| {
        const SIG: &str = "ffi.DictCount(0: ffi.Dict, 1: Any) -> int";
        let [_, key] = arity(SIG, args)?;
        let dict: Dict = arg(SIG, args, 0, "ffi.Dict")?;
        Ok(Any::from(i64::from(dict.contains_key(*key)?)))
    });
    b.def_packed("ffi.DictErase", |args| {
        const SIG: &str = "ffi.DictErase(0: ffi.Dict, 1: Any) -> void";
        let [_, key] = arity(SIG, args)?;
        drop(arg::<Dict>(SIG, args, 0, "ffi.Dict")?.remove(*key)?);
        Ok(Any::none())
    });
    b.def_packed("ffi.DictClear", |args| {
        const SIG: &str = "ffi.DictClear(0: ffi.Dict) -> void";
        let [_] = arity(SIG, args)?;
        arg::<Dict>(SIG, args, 0, "ffi.Dict")?.clear();
        Ok(Any::none())
    });
    b.def_packed("ffi.DictGetItemOrMissing", |args| {
        const SIG: &str = "ffi.DictGetItemOrMissing(0: ffi.Dict, 1: Any) -> Any";
        let [_, key] = arity(SIG, args)?;
        let dict: Dict = arg(SIG, args, 0, "ffi.Dict")?;
        Ok(dict.get(*key)?.unwrap_or_else(super::objects::missing_object))
    });
    b.def_packed("ffi.DictForwardIterFunctor", |args| {
        const SIG: &str = "ffi.DictForwardIterFunctor(0: ffi.Dict) -> ffi.Function";
        let [_] = arity(SIG, args)?;
        let dict: Dict = arg(SIG, args, 0, "ffi.Dict")?;
        Ok(Any::from(forward_iter::<B>(dict.to_vec())))
    });

    // Big integers are map keys by value (`BigIntAnyHash` / `BigIntAnyEqual`).
    let hash = Function::from_packed_with::<B, _>(|args: &[AnyView<'_>]| {
        let [value] = arity("__any_hash__(0: Any) -> int", args)?;
        let value: BigInt = value.get()?;
        Ok(Any::from(big_int_hash(&value) as i64))
    });
    let equal = Function::from_packed_with::<B, _>(|args: &[AnyView<'_>]| {
        let [a, b] = arity("__any_equal__(0: Any, 1: Any) -> bool", args)?;
        Ok(Any::from(a.get::<BigInt>()? == b.get::<BigInt>()?))
    });
    b.type_attr(TypeIndex::BIG_INT, "__any_hash__", AnyView::from(&hash));
    b.type_attr(TypeIndex::BIG_INT, "__any_equal__", AnyView::from(&equal));
}

/// `BigInt::hash`: the value itself when it fits a word, else the stable hash of its words.
fn big_int_hash(value: &BigInt) -> u64 {
    match value.words() {
        [word] => *word as u64,
        words => {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
            stable_hash_bytes(&bytes)
        }
    }
}
