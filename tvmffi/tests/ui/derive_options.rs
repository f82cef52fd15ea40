// Misspelled, repeated and contradictory `tvmffi` options.
use tvmffi::prelude::*;

#[derive(Object)]
#[tvmffi(type_key = "ui.A", typekey = "ui.B")]
#[repr(C)]
struct Misspelled {
    value: i64,
}

#[derive(Object)]
#[tvmffi(type_key = "ui.C", final, child_slots = 4, eq_hash_kind = TREE)]
#[repr(C)]
struct Contradictory {
    #[tvmffi(default = 1, default_factory = make())]
    value: i64,
    #[tvmffi(read_only)]
    plain: i64,
    #[tvmffi(skip, kw_only)]
    skipped: i64,
}

fn make() -> Function {
    Function::from_packed(|_| Ok(Any::from(1i64)))
}

fn main() {}
