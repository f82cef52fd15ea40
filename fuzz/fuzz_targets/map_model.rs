//! `Map` and `Dict` driven by fuzz input, differentially against the model the map tests
//! use (`alloc-tier/tests/map/model.rs`: `std::collections::HashMap` for contents, the
//! reference's rules for order and layout): insert, erase, lookup, iteration, growth from
//! small to dense, clearing (shrink), pre-sized tables, and copy-on-write sharing.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::map::{Dict, Map};
// Links the runtime that defines the C API.
use tvmffi_fuzz as _;

#[path = "../../alloc-tier/tests/map/model.rs"]
#[allow(dead_code)]
mod model;

use model::{K, Model, Target, check_against_model};

/// A key from a small domain per kind, so operations hit each other's keys.
#[derive(Arbitrary, Debug, Clone)]
enum KeySpec {
    Int(i8),
    Bool(bool),
    /// Any bit pattern: maps compare floats by their bits (NaN finds NaN, -0.0 is not 0.0).
    Float(u64),
    SmallFloat(u8),
    /// Short strings (inline) and long ones (objects) with the same number.
    Text(u8, bool),
    /// Arbitrary text, valid UTF-8 by construction.
    AnyText(String),
    Bytes(u8),
}

impl KeySpec {
    fn key(&self) -> K {
        match self {
            KeySpec::Int(i) => K::Int(i64::from(*i)),
            KeySpec::Bool(b) => K::Bool(*b),
            KeySpec::Float(bits) => K::Float(*bits),
            KeySpec::SmallFloat(n) => K::Float((f64::from(*n % 16) * 0.5).to_bits()),
            KeySpec::Text(n, long) if *long => K::Text(format!("a longer text key {}", n % 32)),
            KeySpec::Text(n, _) => K::Text(format!("k{}", n % 32)),
            KeySpec::AnyText(s) => K::Text(s.chars().take(12).collect()),
            KeySpec::Bytes(n) => K::Bytes(format!("b{}", n % 32).into_bytes()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Insert(KeySpec, i16),
    Remove(KeySpec),
    Get(KeySpec),
    /// Take a second handle: a copy-on-write snapshot for `Map`, a shared view for `Dict`.
    Share,
    Clear,
    /// Start over with room for this many pairs.
    WithCapacity(u8),
    /// Rebuild from the model's pairs, as `Map(first, last)` does.
    Rebuild,
    Check,
}

#[derive(Arbitrary, Debug)]
struct Input {
    dict: bool,
    ops: Vec<Op>,
}

/// What differs between the two kinds besides the model's `Target` operations.
trait Kind: Target + Sized {
    fn empty() -> Self;
    fn with_capacity(n: usize) -> Self;
    fn from_pairs(pairs: Vec<(tvmffi_core::Any, i64)>) -> Self;
    fn clear(&mut self);
    /// Whether clearing keeps the layout (`Dict`) or starts a new small map (`Map`).
    const CLEAR_KEEPS_LAYOUT: bool;
    /// Whether a second handle sees later changes (`Dict`) or keeps its pairs (`Map`).
    const SHARED: bool;
    fn second_handle(&self) -> Self;
}

impl Kind for Map {
    fn empty() -> Self {
        Map::new()
    }
    fn with_capacity(n: usize) -> Self {
        Map::with_capacity(n).unwrap()
    }
    fn from_pairs(pairs: Vec<(tvmffi_core::Any, i64)>) -> Self {
        Map::try_from_iter(pairs).unwrap()
    }
    fn clear(&mut self) {
        Map::clear(self)
    }
    const CLEAR_KEEPS_LAYOUT: bool = false;
    const SHARED: bool = false;
    fn second_handle(&self) -> Self {
        self.clone()
    }
}

impl Kind for Dict {
    fn empty() -> Self {
        Dict::new()
    }
    fn with_capacity(n: usize) -> Self {
        Dict::with_capacity(n).unwrap()
    }
    fn from_pairs(pairs: Vec<(tvmffi_core::Any, i64)>) -> Self {
        Dict::try_from_iter(pairs).unwrap()
    }
    fn clear(&mut self) {
        Dict::clear(self)
    }
    const CLEAR_KEEPS_LAYOUT: bool = true;
    const SHARED: bool = true;
    fn second_handle(&self) -> Self {
        self.clone()
    }
}

/// A model of a table made with room for `n` pairs: small (at least 2 slots) below 4.
fn model_with_room(n: usize) -> Model {
    let mut m = Model::new();
    if n >= 4 {
        m.dense = true;
    } else {
        m.slots = n.max(2);
    }
    m
}

fn run<T: Kind>(ops: &[Op]) {
    let mut t = T::empty();
    let mut model = Model::new();
    // A second handle and, for `Map`, the pairs it must keep.
    let mut other: Option<(T, Vec<(K, i64)>)> = None;
    let mut shared = false;
    for (step, op) in ops.iter().enumerate().take(512) {
        match op {
            Op::Insert(k, v) => {
                let (k, v) = (k.key(), i64::from(*v));
                if !T::SHARED && core::mem::take(&mut shared) {
                    model.copied(); // copy-on-write before the change
                }
                assert_eq!(t.insert(k.to_any(), v), model.insert(k, v), "insert at step {step}");
            }
            Op::Remove(k) => {
                let k = k.key();
                if !T::SHARED && model.values.contains_key(&k) && core::mem::take(&mut shared) {
                    model.copied(); // a removal that finds the key copies first
                }
                assert_eq!(t.remove(&k.to_any()), model.remove(&k), "remove at step {step}");
            }
            Op::Get(k) => {
                let k = k.key();
                assert_eq!(t.get(&k.to_any()), model.values.get(&k).copied(), "get at step {step}");
            }
            Op::Share => {
                if let Some((old, pairs)) = other.take().filter(|_| !T::SHARED) {
                    assert_eq!(old.pairs(), pairs, "a shared copy never changes (step {step})");
                }
                let pairs = model.order.iter().map(|k| (k.clone(), model.values[k])).collect();
                other = Some((t.second_handle(), pairs));
                shared = true;
            }
            Op::Clear => {
                if T::CLEAR_KEEPS_LAYOUT {
                    model.values.clear();
                    model.order.clear();
                } else {
                    model = Model::new();
                    shared = false;
                }
                t.clear();
            }
            Op::WithCapacity(n) => {
                let n = usize::from(*n % 40);
                t = T::with_capacity(n);
                model = model_with_room(n);
                shared = false;
            }
            Op::Rebuild => {
                let pairs: Vec<_> =
                    model.order.iter().map(|k| (k.to_any(), model.values[k])).collect();
                let mut fresh = model_with_room(pairs.len());
                for k in model.order.clone() {
                    let v = model.values[&k];
                    fresh.insert(k, v);
                }
                t = T::from_pairs(pairs);
                model = fresh;
                shared = false;
            }
            Op::Check => check_against_model(&t, &model, step),
        }
        if let Some((h, _)) = other.as_ref().filter(|_| T::SHARED && shared) {
            // A dict's second handle is the same object: it sees every change at once.
            assert_eq!(h.len(), t.len(), "shared dict length at step {step}");
        }
    }
    check_against_model(&t, &model, ops.len());
    if let Some((old, pairs)) = other.filter(|_| !T::SHARED) {
        assert_eq!(old.pairs(), pairs, "a shared copy never changes");
    }
}

fuzz_target!(|input: Input| {
    if input.dict {
        run::<Dict>(&input.ops);
    } else {
        run::<Map>(&input.ops);
    }
});
