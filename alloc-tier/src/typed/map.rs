//! [`Map<K, V>`] and [`Dict<K, V>`]: maps whose keys are `K`s and values `V`s.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, TypeIndex};

use crate::function::TypeStr;
use crate::map::{self, Key, MapError};

/// Check that every pair of `pairs` converts to `(K, V)`.
fn check_pairs<'a, K, V>(
    mut pairs: impl Iterator<Item = (AnyView<'a>, AnyView<'a>)>,
) -> Result<(), ConversionError>
where
    K: for<'v> FromAnyView<'v>,
    V: for<'v> FromAnyView<'v>,
{
    pairs.try_for_each(|(k, v)| {
        K::from_any_view(k)?;
        V::from_any_view(v)?;
        Ok(())
    })
}

/// A pair read back as `(K, V)`.
fn convert_pair<K, V>(k: AnyView<'_>, v: AnyView<'_>) -> Result<(K, V), MapError>
where
    K: for<'v> FromAnyView<'v>,
    V: for<'v> FromAnyView<'v>,
{
    Ok((K::from_any_view(k)?, V::from_any_view(v)?))
}

/// The reference's `GetMismatchTypeInfo` of a typed map: the first key or value that does
/// not convert (`Map[some key is float, V]`), or the value's type key when it is no map.
fn map_mismatch<K, V>(name: &str, view: AnyView<'_>) -> String
where
    K: TypeStr + for<'v> FromAnyView<'v>,
    V: TypeStr + for<'v> FromAnyView<'v>,
{
    let pairs: Option<Vec<(Any, Any)>> = match view.type_index() {
        TypeIndex::MAP | TypeIndex::DICT => view.get::<map::Dict>().ok().map(|d| d.to_vec()),
        _ => None,
    };
    for (k, v) in pairs.iter().flatten() {
        if K::from_any_view(k.view()).is_err() {
            return format!("{name}[some key is {}, V]", K::mismatch_type_info(k.view()));
        }
        if V::from_any_view(v.view()).is_err() {
            return format!("{name}[K, some value is {}]", V::mismatch_type_info(v.view()));
        }
    }
    crate::object_type::type_key(view.type_index())
}

/// An immutable `ffi.Map` whose keys are `K`s and values `V`s: the reference's `Map<K, V>`.
///
/// Converting a value into a `Map<K, V>` checks every pair (an `ffi.Dict` is copied into a
/// new map, as in the reference); the object is shared. Changing it copies it first unless
/// this handle is its only reference (copy-on-write, as the untyped [`map::Map`]).
///
/// With the `runtime` feature (keys of object types may consult their type's attributes):
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::typed::Map;
/// use tvmffi_alloc::String;
/// use tvmffi_core::Any;
///
/// let mut m: Map<String, i64> = Map::new();
/// m.insert(String::try_new("one").unwrap(), 1).unwrap();
/// m.insert(String::try_new("two").unwrap(), 2).unwrap();
/// assert_eq!(m.get("two").unwrap(), Some(2));
/// let any = Any::from(m.clone());
/// assert!(any.get::<Map<String, f64>>().is_ok()); // ints read as floats
/// assert!(any.get::<Map<i64, i64>>().is_err()); // the keys are strings
/// # }
/// ```
pub struct Map<K = Any, V = Any> {
    inner: map::Map,
    _pairs: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Map<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self { inner: map::Map::new(), _pairs: PhantomData }
    }

    /// The number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The untyped map (the same object).
    #[inline]
    pub fn as_untyped(&self) -> &map::Map {
        &self.inner
    }

    /// The untyped map, giving up the typed view.
    #[inline]
    pub fn into_untyped(self) -> map::Map {
        self.inner
    }

    /// Whether `key` is in the map.
    pub fn contains_key<'k>(&self, key: impl Into<Key<'k>>) -> Result<bool, MapError> {
        self.inner.contains_key(key)
    }
}

impl<K: Into<Any>, V: Into<Any>> Map<K, V> {
    /// Set `key` to `value`, returning the untyped value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<Any>, MapError> {
        self.inner.insert(key, value)
    }
}

impl<K, V> Map<K, V>
where
    K: for<'v> FromAnyView<'v>,
    V: for<'v> FromAnyView<'v>,
{
    /// The untyped map `m` as a `Map<K, V>`, after checking each pair.
    pub fn try_from_untyped(m: map::Map) -> Result<Self, ConversionError> {
        check_pairs::<K, V>(m.iter())?;
        Ok(Self { inner: m, _pairs: PhantomData })
    }

    /// The value of `key` as a `V`, or `None` when absent.
    pub fn get<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<V>, MapError> {
        self.inner.get(key)?.map(|v| V::from_any_view(v).map_err(MapError::from)).transpose()
    }

    /// The value of `key` as a `V`; a missing key is [`MapError::KeyNotFound`].
    pub fn at<'k>(&self, key: impl Into<Key<'k>>) -> Result<V, MapError> {
        Ok(V::from_any_view(self.inner.at(key)?)?)
    }

    /// The pairs in iteration order, each as `(K, V)`.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V), MapError>> + '_ {
        self.inner.iter().map(|(k, v)| convert_pair(k, v))
    }
}

/// An `ffi.Dict` whose keys are `K`s and values `V`s: the reference's `Dict<K, V>`, shared
/// and changed in place by everyone who holds it.
///
/// Others holding the same dict may store other values, so reads return `Result`s.
pub struct Dict<K = Any, V = Any> {
    inner: map::Dict,
    _pairs: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Dict<K, V> {
    /// An empty dict.
    pub fn new() -> Self {
        Self { inner: map::Dict::new(), _pairs: PhantomData }
    }

    /// The number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The untyped dict (the same object).
    #[inline]
    pub fn as_untyped(&self) -> &map::Dict {
        &self.inner
    }

    /// The untyped dict, giving up the typed view.
    #[inline]
    pub fn into_untyped(self) -> map::Dict {
        self.inner
    }

    /// Whether `key` is in the dict.
    pub fn contains_key<'k>(&self, key: impl Into<Key<'k>>) -> Result<bool, MapError> {
        self.inner.contains_key(key)
    }

    /// Remove `key`, returning its untyped value.
    pub fn remove<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<Any>, MapError> {
        self.inner.remove(key)
    }

    /// Remove every pair.
    pub fn clear(&self) {
        self.inner.clear();
    }
}

impl<K: Into<Any>, V: Into<Any>> Dict<K, V> {
    /// Set `key` to `value` for everyone holding the dict, returning the untyped value it
    /// replaces.
    pub fn insert(&self, key: K, value: V) -> Result<Option<Any>, MapError> {
        self.inner.insert(key, value)
    }
}

impl<K, V> Dict<K, V>
where
    K: for<'v> FromAnyView<'v>,
    V: for<'v> FromAnyView<'v>,
{
    /// The untyped dict `d` as a `Dict<K, V>`, after checking each pair.
    pub fn try_from_untyped(d: map::Dict) -> Result<Self, ConversionError> {
        let pairs = d.to_vec();
        check_pairs::<K, V>(pairs.iter().map(|(k, v)| (k.view(), v.view())))?;
        Ok(Self { inner: d, _pairs: PhantomData })
    }

    /// The value of `key` as a `V`, or `None` when absent.
    pub fn get<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<V>, MapError> {
        self.inner.get(key)?.map(|v| V::from_any_view(v.view()).map_err(MapError::from)).transpose()
    }

    /// The pairs at this moment, each as `(K, V)`.
    pub fn to_vec(&self) -> Result<Vec<(K, V)>, MapError> {
        self.inner.to_vec().iter().map(|(k, v)| convert_pair(k.view(), v.view())).collect()
    }
}

/// The shared implementations of both views.
macro_rules! views {
    ($($view:ident, $untyped:ty, $name:literal, $key:literal, $primary:ident, $other:ident;)*) => {$(
        impl<K, V> Clone for $view<K, V> {
            fn clone(&self) -> Self {
                Self { inner: self.inner.clone(), _pairs: PhantomData }
            }
        }

        impl<K, V> Default for $view<K, V> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<K, V> PartialEq for $view<K, V> {
            /// Identity: the same object, as for the untyped container.
            fn eq(&self, other: &Self) -> bool {
                self.inner.ptr_eq(&other.inner)
            }
        }

        impl<K, V> Eq for $view<K, V> {}

        impl<K, V> fmt::Debug for $view<K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }

        impl<K, V> From<$view<K, V>> for Any {
            fn from(m: $view<K, V>) -> Self {
                Any::from(m.inner)
            }
        }

        impl<'a, K, V> From<&'a $view<K, V>> for AnyView<'a> {
            fn from(m: &'a $view<K, V>) -> Self {
                AnyView::from(m.inner.as_object())
            }
        }

        /// A container of this kind whose pairs all convert (shared), or a copy of the
        /// other kind's pairs; the first failing pair's error otherwise.
        impl<K, V> FromAnyView<'_> for $view<K, V>
        where
            K: for<'v> FromAnyView<'v>,
            V: for<'v> FromAnyView<'v>,
        {
            fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
                match view.type_index() {
                    TypeIndex::$primary | TypeIndex::$other => {
                        Self::try_from_untyped(view.get::<$untyped>()?)
                    }
                    other => Err(ConversionError::mismatch($key, other)),
                }
            }
        }

        /// `Map<str, int>`; schema `{"type":"ffi.Map","args":[{"type":"ffi.String"},...]}`.
        impl<K, V> TypeStr for $view<K, V>
        where
            K: TypeStr + for<'v> FromAnyView<'v>,
            V: TypeStr + for<'v> FromAnyView<'v>,
        {
            fn type_str() -> Cow<'static, str> {
                Cow::Owned(format!(concat!($name, "<{}, {}>"), K::type_str(), V::type_str()))
            }

            fn type_schema() -> String {
                format!(
                    concat!(r#"{{"type":""#, $key, r#"","args":[{},{}]}}"#),
                    K::type_schema(),
                    V::type_schema()
                )
            }

            fn mismatch_type_info(view: AnyView<'_>) -> String {
                map_mismatch::<K, V>($name, view)
            }
        }
    )*};
}

views! {
    Map, map::Map, "Map", "ffi.Map", MAP, DICT;
    Dict, map::Dict, "Dict", "ffi.Dict", DICT, MAP;
}

#[cfg(all(test, feature = "runtime"))]
mod tests {
    use super::*;
    use crate::string::String as FfiString;

    fn s(text: &str) -> FfiString {
        FfiString::try_new(text).unwrap()
    }

    #[test]
    fn pairs_are_checked_on_entry_and_read_back_typed() {
        let mut m: Map<FfiString, i64> = Map::new();
        m.insert(s("a"), 1).unwrap();
        m.insert(s("b"), 2).unwrap();
        let any = Any::from(m.clone());
        let back: Map<FfiString, i64> = any.get().unwrap();
        assert_eq!(back.at("a").unwrap(), 1);
        assert_eq!(back.get("c").unwrap(), None);
        let mut pairs: Vec<(FfiString, i64)> = back.iter().map(Result::unwrap).collect();
        pairs.sort_by_key(|(_, v)| *v);
        assert_eq!(pairs[1].0.as_str(), "b");
        let e = any.get::<Map<i64, i64>>().unwrap_err();
        assert_eq!(e.expected(), "int");
    }

    #[test]
    fn dicts_and_maps_convert_into_each_other_by_copy() {
        let d: Dict<i64, f64> = Dict::new();
        d.insert(1, 0.5).unwrap();
        let m: Map<i64, f64> = AnyView::from(&d).get().unwrap();
        assert_eq!(m.at(1i64).unwrap(), 0.5);
        d.insert(2, 1.5).unwrap();
        assert_eq!(m.len(), 1, "a copy, not the dict itself");
        let again: Dict<i64, f64> = AnyView::from(&d).get().unwrap();
        again.insert(3, 2.5).unwrap();
        assert_eq!(d.len(), 3, "the same dict");
    }

    #[test]
    fn names_schemas_and_mismatch_messages_follow_the_reference() {
        assert_eq!(Map::<FfiString, i64>::type_str(), "Map<str, int>");
        assert_eq!(
            Dict::<i64, Map<FfiString, f64>>::type_schema(),
            r#"{"type":"ffi.Dict","args":[{"type":"int"},{"type":"ffi.Map","args":[{"type":"ffi.String"},{"type":"float"}]}]}"#
        );
        let mut bad: Map<Any, Any> = Map::new();
        bad.insert(Any::from(1.5f64), Any::from(1i64)).unwrap();
        let info = Map::<i64, i64>::mismatch_type_info(AnyView::from(&bad));
        assert_eq!(info, "Map[some key is float, V]");
        assert_eq!(Map::<i64, i64>::mismatch_type_info(AnyView::from(3i64)), "int");
    }
}
