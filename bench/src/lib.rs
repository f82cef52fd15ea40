//! The Rust-level rows of the benchmark suite, shared by the criterion benches
//! (`benches/rust_paths.rs`) and the `rust_rows` binary, which `ci/bench.sh` times (as
//! `bench/c/harness.h` times the C++ rows) and callgrind counts.
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
    fn go<T: Op>(n: u64) -> Option<f64> {
        let mut op = T::new();
        op.run();
        for _ in 0..n {
            op.run();
        }
        None
    }
    dispatch(name, go::<TypedCall>, go::<IncDec>, go::<ArrayBuildSum>, go::<MapInsertLookup>, n)
        .is_some()
}

/// The median time of one operation of the row named `name`, in nanoseconds, measured as
/// `bench/c/harness.h` measures the C and C++ rows, so that the two sides compare like for
/// like: small operations in batches grown to at least a millisecond, 31 of them (3 with
/// `smoke`); large ones one per batch, 5 of them (1 with `smoke`), after a warm-up.
/// `None` for an unknown name.
pub fn measure(name: &str, smoke: bool) -> Option<f64> {
    fn go<T: Op>(smoke: bool) -> Option<f64> {
        use std::time::Instant;
        let mut op = T::new();
        let mut n: u64 = 1;
        if T::LARGE {
            op.run(); // warm-up
        } else {
            // Grow the batch until it lasts a millisecond; this also warms caches.
            loop {
                let t0 = Instant::now();
                for _ in 0..n {
                    op.run();
                }
                if t0.elapsed().as_secs_f64() >= 1e-3 || n >= 1 << 30 {
                    break;
                }
                n *= 2;
            }
        }
        let batches = match (T::LARGE, smoke) {
            (false, false) => 31,
            (false, true) => 3,
            (true, false) => 5,
            (true, true) => 1,
        };
        let mut samples: Vec<f64> = (0..batches)
            .map(|_| {
                let t0 = Instant::now();
                for _ in 0..n {
                    op.run();
                }
                t0.elapsed().as_secs_f64() * 1e9 / n as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        Some(samples[samples.len() / 2])
    }
    dispatch(
        name,
        go::<TypedCall>,
        go::<IncDec>,
        go::<ArrayBuildSum>,
        go::<MapInsertLookup>,
        smoke,
    )?
}

/// Call the function of the row named `name` with `arg`; `None` for an unknown name.
fn dispatch<A, R>(
    name: &str,
    typed_call: fn(A) -> R,
    inc_dec: fn(A) -> R,
    array: fn(A) -> R,
    map: fn(A) -> R,
    arg: A,
) -> Option<R> {
    Some(match name {
        TypedCall::NAME => typed_call(arg),
        IncDec::NAME => inc_dec(arg),
        ArrayBuildSum::NAME => array(arg),
        MapInsertLookup::NAME => map(arg),
        _ => return None,
    })
}

/// The rows' names, in table order.
pub const ROWS: [&str; 4] =
    [TypedCall::NAME, IncDec::NAME, ArrayBuildSum::NAME, MapInsertLookup::NAME];
