// What `#[derive(Object)]` refuses at the struct: generics, a missing `#[repr(C)]` and type
// key, tuple structs, enums.
use tvmffi::prelude::*;

#[derive(Object)]
#[tvmffi(type_key = "ui.Generic")]
#[repr(C)]
struct Generic<T> {
    value: T,
}

#[derive(Object)]
struct NoReprNoKey {
    value: i64,
}

#[derive(Object)]
#[tvmffi(type_key = "ui.Tuple")]
#[repr(C)]
struct Tuple(i64);

#[derive(Object)]
#[tvmffi(type_key = "ui.Enum")]
#[repr(C)]
enum Enum {
    A,
}

fn main() {}
