//! Random operations on `Map` and `Dict` checked against `std::collections::HashMap` for
//! contents and against a model of the reference's rules for iteration order and layout.

use std::collections::HashMap;

use tvmffi_alloc::Bytes;
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_core::{Any, AnyView, TypeIndex};

use super::{scale, text};

/// SplitMix64: small, deterministic, and the same in the C++ interop test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Model keys: every kind the maps treat specially.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum K {
    Int(i64),
    Bool(bool),
    Float(u64),
    Text(String),
    Bytes(Vec<u8>),
}

impl K {
    fn random(rng: &mut Rng, domain: u64) -> Self {
        let n = rng.below(domain);
        match rng.below(8) {
            0..=2 => K::Int(n as i64 - 8),
            3 => K::Bool(n % 2 == 0),
            4 => K::Float((n as f64 * 0.5).to_bits()),
            5 => K::Text(format!("k{n}")),
            6 => K::Text(format!("a longer text key {n}")),
            _ => K::Bytes(format!("b{n}").into_bytes()),
        }
    }

    fn to_any(&self) -> Any {
        match self {
            K::Int(i) => Any::from(*i),
            K::Bool(b) => Any::from(*b),
            K::Float(bits) => Any::from(f64::from_bits(*bits)),
            K::Text(s) => text(s),
            K::Bytes(b) => Bytes::try_new(b).unwrap().into(),
        }
    }

    fn from_any(a: AnyView<'_>) -> Self {
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
struct Model {
    values: HashMap<K, i64>,
    order: Vec<K>,
    dense: bool,
    slots: usize,
}

impl Model {
    fn new() -> Self {
        Self { values: HashMap::new(), order: Vec::new(), dense: false, slots: 2 }
    }

    /// The reference's `CopyFrom` of a small map: as many slots as pairs, at least 2.
    fn copied(&mut self) {
        if !self.dense {
            self.slots = self.order.len().max(2);
        }
    }

    fn insert(&mut self, k: K, v: i64) -> Option<i64> {
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

    fn remove(&mut self, k: &K) -> Option<i64> {
        let old = self.values.remove(k);
        self.order.retain(|o| o != k);
        old
    }
}

/// What the test drives: a `Map` (optionally shared now and then) or a `Dict`.
trait Target {
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

fn check_against_model<T: Target>(t: &T, model: &Model, step: usize) {
    assert_eq!(t.len(), model.values.len(), "len at step {step}");
    assert_eq!(t.is_dense(), model.dense, "layout at step {step}");
    let want: Vec<(K, i64)> = model.order.iter().map(|k| (k.clone(), model.values[k])).collect();
    assert_eq!(t.pairs(), want, "contents and order at step {step}");
}

/// `ops` random inserts, removes and lookups over `domain` keys of each kind; with `share`,
/// a clone of the map is taken now and then and must keep its pairs while the map changes.
fn differential<T: Target>(
    mut t: T,
    seed: u64,
    ops: usize,
    domain: u64,
    share: Option<fn(&T) -> T>,
) {
    let mut rng = Rng(seed);
    let mut model = Model::new();
    let mut snapshot: Option<(T, Vec<(K, i64)>)> = None;
    let mut shared = false;
    for step in 0..ops {
        let k = K::random(&mut rng, domain);
        let any = k.to_any();
        match rng.below(10) {
            0..=4 => {
                let v = rng.below(1000) as i64;
                if core::mem::take(&mut shared) {
                    model.copied(); // copy-on-write before the change
                }
                assert_eq!(t.insert(any, v), model.insert(k, v), "insert at step {step}");
            }
            5..=7 => {
                if model.values.contains_key(&k) && core::mem::take(&mut shared) {
                    model.copied(); // a removal that finds the key copies first
                }
                assert_eq!(t.remove(&any), model.remove(&k), "remove at step {step}");
            }
            _ => assert_eq!(t.get(&any), model.values.get(&k).copied(), "get at step {step}"),
        }
        if step % 16 == 0 {
            check_against_model(&t, &model, step);
        }
        if let Some(share) = share.filter(|_| rng.below(50) == 0) {
            if let Some((old, pairs)) = snapshot.take() {
                assert_eq!(old.pairs(), pairs, "a shared copy never changes (step {step})");
            }
            let pairs = model.order.iter().map(|k| (k.clone(), model.values[k])).collect();
            snapshot = Some((share(&t), pairs));
            shared = true;
        }
    }
    check_against_model(&t, &model, ops);
}

#[test]
fn differential_map_against_hashmap() {
    for seed in 0..scale(6, 1) as u64 {
        differential(Map::new(), seed, scale(3000, 250), 40 + seed * 20, None);
    }
}

#[test]
fn differential_dict_against_hashmap() {
    for seed in 10..10 + scale(6, 1) as u64 {
        differential(Dict::new(), seed, scale(3000, 250), 40 + seed * 20, None);
    }
}

#[test]
fn differential_shared_map_copies_on_write() {
    for seed in 20..20 + scale(4, 1) as u64 {
        differential(Map::new(), seed, scale(3000, 250), 60, Some(Map::clone));
    }
}
