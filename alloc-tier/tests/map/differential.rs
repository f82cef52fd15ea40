//! Random operations on `Map` and `Dict` checked against `std::collections::HashMap` for
//! contents and against a model of the reference's rules for iteration order and layout.

use tvmffi_alloc::map::{Dict, Map};

use super::model::{K, Model, Target, check_against_model};
use super::scale;

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
