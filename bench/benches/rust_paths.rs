//! The Rust-level rows (see `tvmffi_bench`) under criterion: `cargo bench -p tvmffi-bench`,
//! for exploring them. `ci/bench.sh` times them with `rust_rows` instead, the way the C++
//! rows are timed, so that the table compares like with like.
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
