//! Iterators over maps, in the reference's iteration order.

use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;

use tvmffi_core::{Any, AnyView};

use super::Map;
use super::layout::RawMap;
use super::table;

/// Iterator over a [`Map`]'s pairs, borrowed.
pub struct MapIter<'a> {
    m: RawMap,
    pos: Option<u64>,
    remaining: usize,
    _map: PhantomData<&'a Map>,
}

// SAFETY: the iterator only reads a map that cannot change while it is borrowed, like a
// `&Map`, which is `Send` and `Sync`.
unsafe impl Send for MapIter<'_> {}
// SAFETY: as above.
unsafe impl Sync for MapIter<'_> {}

impl MapIter<'_> {
    pub(super) fn new(m: RawMap, len: usize) -> Self {
        Self { m, pos: table::first(m), remaining: len, _map: PhantomData }
    }
}

impl Clone for MapIter<'_> {
    fn clone(&self) -> Self {
        Self { m: self.m, pos: self.pos, remaining: self.remaining, _map: PhantomData }
    }
}

impl fmt::Debug for MapIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapIter").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (AnyView<'a>, AnyView<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let p = self.pos.filter(|_| self.remaining > 0)?;
        self.remaining -= 1;
        self.pos = table::next(self.m, p);
        // SAFETY: an iteration position holds a pair of a map borrowed for `'a`, which
        // nobody changes meanwhile.
        let kv = unsafe { &*table::pair(self.m, p) };
        Some((kv.key.view(), kv.value.view()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for MapIter<'_> {}
impl FusedIterator for MapIter<'_> {}

/// Iterator over a [`Map`]'s pairs, owned copies; it holds the map.
#[derive(Clone)]
pub struct MapIntoIter {
    map: Map,
    pos: Option<u64>,
    remaining: usize,
}

impl MapIntoIter {
    pub(super) fn new(map: Map) -> Self {
        let it = map.iter();
        let (pos, remaining) = (it.pos, it.remaining);
        Self { map, pos, remaining }
    }
}

impl fmt::Debug for MapIntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapIntoIter").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

impl Iterator for MapIntoIter {
    type Item = (Any, Any);

    fn next(&mut self) -> Option<(Any, Any)> {
        let p = self.pos.filter(|_| self.remaining > 0)?;
        let m = table::raw(self.map.as_object());
        self.remaining -= 1;
        self.pos = table::next(m, p);
        // SAFETY: an iteration position holds a pair of the map we hold, which nobody
        // changes while it is shared with us; cloning only adds references.
        let kv = unsafe { &*table::pair(m, p) };
        Some((kv.key.clone(), kv.value.clone()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for MapIntoIter {}
impl FusedIterator for MapIntoIter {}

/// Iterator over a snapshot of a [`Dict`](super::Dict)'s pairs, owned.
#[derive(Clone, Debug)]
pub struct DictIter {
    inner: alloc::vec::IntoIter<(Any, Any)>,
}

impl DictIter {
    pub(super) fn new(pairs: Vec<(Any, Any)>) -> Self {
        Self { inner: pairs.into_iter() }
    }
}

impl Iterator for DictIter {
    type Item = (Any, Any);

    #[inline]
    fn next(&mut self) -> Option<(Any, Any)> {
        self.inner.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for DictIter {
    #[inline]
    fn next_back(&mut self) -> Option<(Any, Any)> {
        self.inner.next_back()
    }
}

impl ExactSizeIterator for DictIter {}
impl FusedIterator for DictIter {}
