//! The Rust-level rows of the benchmark suite, shared by the criterion benches
//! (`benches/rust_paths.rs`) and the `rust_rows` binary that callgrind counts.
//!
//! Each row is an [`Op`]: a state built once, then one operation run many times. Their
//! counterparts in the reference are the C++ rows of `bench/cpp/native_bench.cc`, written
//! with the reference's inline C++ API; the C API rows are in `bench/c/capi_bench.c`.
//! `ci/bench.sh` runs everything and prints the table.
//!
//! This crate is a Rust host: with the `runtime` feature of `tvmffi` it defines the C API
//! itself, as a Rust application using this library does.

use core::hint::black_box;

use tvmffi::{Array, Function, Map, TypedFunction};

/// One benchmark row: set up once, then [`run`](Op::run) once per operation.
pub trait Op {
    /// The row's name, shared with its C++ counterpart.
    const NAME: &'static str;
    /// Whether one operation is large (milliseconds), to be sampled a few times only.
    const LARGE: bool = false;
    /// The state.
    fn new() -> Self;
    /// One operation.
    fn run(&mut self);
}

/// A typed Rust closure called from Rust through the packed ABI (`TypedFunction`): the
/// arguments become `Any`s, the function object's `safe_call` converts them back.
pub struct TypedCall {
    add: TypedFunction<(i64, i64), i64>,
    acc: i64,
}

impl Op for TypedCall {
    const NAME: &'static str = "typed_call";
    fn new() -> Self {
        Self { add: TypedFunction::from_closure(|a: i64, b: i64| a + b), acc: 0 }
    }
    #[inline]
    fn run(&mut self) {
        self.acc = self.add.call((black_box(self.acc), 1)).unwrap_or(0);
    }
}

/// A strong reference taken and released (`Function` clone and drop).
pub struct IncDec {
    f: Function,
}

impl Op for IncDec {
    const NAME: &'static str = "incdec";
    fn new() -> Self {
        Self { f: Function::from_packed(|_| Ok(tvmffi::Any::default())) }
    }
    #[inline]
    fn run(&mut self) {
        drop(black_box(self.f.clone()));
    }
}

/// Elements in the array row.
pub const ARRAY_N: i64 = 1_000_000;

/// An `Array<i64>` of a million ints built, then summed.
pub struct ArrayBuildSum;

impl Op for ArrayBuildSum {
    const NAME: &'static str = "array_1e6";
    const LARGE: bool = true;
    fn new() -> Self {
        Self
    }
    fn run(&mut self) {
        let a: Array<i64> = (0..black_box(ARRAY_N)).collect();
        let sum: i64 = a.iter().map(|v| v.unwrap_or(0)).sum();
        assert_eq!(sum, ARRAY_N * (ARRAY_N - 1) / 2);
        black_box(sum);
    }
}

/// Pairs in the map row.
pub const MAP_N: i64 = 100_000;

/// A `Map<i64, i64>` of a hundred thousand pairs built by insertion, then every key looked
/// up (the C++ row: `Map::Set` and `Map::at`; keys `i * 7919`, spread as in the C row).
pub struct MapInsertLookup;

impl Op for MapInsertLookup {
    const NAME: &'static str = "map_1e5";
    const LARGE: bool = true;
    fn new() -> Self {
        Self
    }
    fn run(&mut self) {
        let mut m: Map<i64, i64> = Map::new();
        for i in 0..black_box(MAP_N) {
            m.insert(i * 7919, i).expect("insert");
        }
        let sum: i64 = (0..MAP_N).map(|i| m.at(i * 7919).expect("present")).sum();
        assert_eq!(sum, MAP_N * (MAP_N - 1) / 2);
        black_box(sum);
    }
}

/// Run `n` operations of the row named `name` (after one warm-up), for instruction counts;
/// false for an unknown name.
pub fn count(name: &str, n: u64) -> bool {
    fn go<T: Op>(n: u64) {
        let mut op = T::new();
        op.run();
        for _ in 0..n {
            op.run();
        }
    }
    match name {
        TypedCall::NAME => go::<TypedCall>(n),
        IncDec::NAME => go::<IncDec>(n),
        ArrayBuildSum::NAME => go::<ArrayBuildSum>(n),
        MapInsertLookup::NAME => go::<MapInsertLookup>(n),
        _ => return false,
    }
    true
}

/// The rows' names, in table order.
pub const ROWS: [&str; 4] =
    [TypedCall::NAME, IncDec::NAME, ArrayBuildSum::NAME, MapInsertLookup::NAME];
