//! The Rust-level rows (see `tvmffi_bench`) under criterion: `cargo bench -p tvmffi-bench`.
//! `ci/bench.sh` runs them with shorter settings and reads each row's median from
//! `target/criterion/<row>/new/estimates.json`.
#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use criterion::{Criterion, criterion_group, criterion_main};
use tvmffi_bench::{ArrayBuildSum, IncDec, MapInsertLookup, Op, TypedCall};

fn row<T: Op>(c: &mut Criterion) {
    let mut op = T::new();
    let mut group = c.benchmark_group("rust");
    if T::LARGE {
        group.sample_size(10);
    }
    group.bench_function(T::NAME, |b| b.iter(|| op.run()));
    group.finish();
}

criterion_group!(
    rust_paths,
    row::<TypedCall>,
    row::<IncDec>,
    row::<ArrayBuildSum>,
    row::<MapInsertLookup>
);
criterion_main!(rust_paths);
