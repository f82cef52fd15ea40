//! The model of `Map` and `Dict` that the differential test (`differential.rs`) and the
//! fuzz target `fuzz/fuzz_targets/map_model.rs` share: contents as in
//! `std::collections::HashMap`, plus the reference's rules for iteration order and layout
//! (small tables of 2 or 4 slots in insertion order, then dense tables whose order moves a
//! re-inserted key to the end).

use std::collections::HashMap;

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::{Bytes, String as FfiString};
use tvmffi_core::{Any, AnyView, TypeIndex};

/// Model keys: every kind the maps treat specially.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum K {
    Int(i64),
    Bool(bool),
    Float(u64),
    Text(String),
    Bytes(Vec<u8>),
}

impl K {
    pub fn to_any(&self) -> Any {
        match self {
            K::Int(i) => Any::from(*i),
            K::Bool(b) => Any::from(*b),
            K::Float(bits) => Any::from(f64::from_bits(*bits)),
            K::Text(s) => FfiString::from(s.as_str()).into(),
            K::Bytes(b) => Bytes::try_new(b).unwrap().into(),
        }
    }

    pub fn from_any(a: AnyView<'_>) -> Self {
        match a.type_index() {
            TypeIndex::INT => K::Int(a.get().unwrap()),
            TypeIndex::BOOL => K::Bool(a.get().unwrap()),
            TypeIndex::FLOAT => K::Float(a.get::<f64>().unwrap().to_bits()),
            TypeIndex::SMALL_STR | TypeIndex::STR => K::Text(a.as_str().unwrap().to_owned()),
            _ => K::Bytes(a.as_bytes().unwrap().to_vec()),
        }
    }
}

/// The reference's observable state: contents, iteration order, and the layout facts that
/// decide the order (dense or not, small slots).
#[derive(Clone)]
pub struct Model {
    pub values: HashMap<K, i64>,
    pub order: Vec<K>,
    pub dense: bool,
    pub slots: usize,
}

impl Model {
    pub fn new() -> Self {
        Self { values: HashMap::new(), order: Vec::new(), dense: false, slots: 2 }
    }

    /// The reference's `CopyFrom` of a small map: as many slots as pairs, at least 2.
    pub fn copied(&mut self) {
        if !self.dense {
            self.slots = self.order.len().max(2);
        }
    }

    pub fn insert(&mut self, k: K, v: i64) -> Option<i64> {
        let old = self.values.insert(k.clone(), v);
        let full_small_of_4 = !self.dense && self.slots >= 4 && self.order.len() >= self.slots;
        if old.is_some() {
            if self.dense || full_small_of_4 {
                self.dense = true;
                self.order.retain(|o| *o != k);
                self.order.push(k);
            }
        } else {
            if full_small_of_4 {
                self.dense = true;
            } else if !self.dense && self.order.len() == self.slots {
                self.slots = (self.slots * 2).clamp(2, 4);
            }
            self.order.push(k);
        }
        old
    }

    pub fn remove(&mut self, k: &K) -> Option<i64> {
        let old = self.values.remove(k);
        self.order.retain(|o| o != k);
        old
    }
}

/// What the test drives: a `Map` (optionally shared now and then) or a `Dict`.
pub trait Target {
    fn insert(&mut self, k: Any, v: i64) -> Option<i64>;
    fn remove(&mut self, k: &Any) -> Option<i64>;
    fn get(&self, k: &Any) -> Option<i64>;
    fn pairs(&self) -> Vec<(K, i64)>;
    fn len(&self) -> usize;
    fn is_dense(&self) -> bool;
}

impl Target for Map {
    fn insert(&mut self, k: Any, v: i64) -> Option<i64> {
        Map::insert(self, k, v).unwrap().map(|o| o.get().unwrap())
    }
    fn remove(&mut self, k: &Any) -> Option<i64> {
        Map::remove(self, k).unwrap().map(|o| o.get().unwrap())
    }
    fn get(&self, k: &Any) -> Option<i64> {
        Map::get(self, k).unwrap().map(|v| v.get().unwrap())
    }
    fn pairs(&self) -> Vec<(K, i64)> {
        self.iter().map(|(k, v)| (K::from_any(k), v.get().unwrap())).collect()
    }
    fn len(&self) -> usize {
        Map::len(self)
    }
    fn is_dense(&self) -> bool {
        Map::is_dense(self)
    }
}

impl Target for Dict {
    fn insert(&mut self, k: Any, v: i64) -> Option<i64> {
        Dict::insert(self, k, v).unwrap().map(|o| o.get().unwrap())
    }
    fn remove(&mut self, k: &Any) -> Option<i64> {
        Dict::remove(self, k).unwrap().map(|o| o.get().unwrap())
    }
    fn get(&self, k: &Any) -> Option<i64> {
        Dict::get(self, k).unwrap().map(|v| v.get().unwrap())
    }
    fn pairs(&self) -> Vec<(K, i64)> {
        self.iter().map(|(k, v)| (K::from_any(k.view()), v.get().unwrap())).collect()
    }
    fn len(&self) -> usize {
        Dict::len(self)
    }
    fn is_dense(&self) -> bool {
        Dict::is_dense(self)
    }
}

pub fn check_against_model<T: Target>(t: &T, model: &Model, step: usize) {
    assert_eq!(t.len(), model.values.len(), "len at step {step}");
    assert_eq!(t.is_dense(), model.dense, "layout at step {step}");
    let want: Vec<(K, i64)> = model.order.iter().map(|k| (k.clone(), model.values[k])).collect();
    assert_eq!(t.pairs(), want, "contents and order at step {step}");
}
