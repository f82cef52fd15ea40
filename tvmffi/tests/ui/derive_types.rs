// A field type without an FFI form, a parent that is not first, a final parent.
use tvmffi::prelude::*;

#[derive(Object)]
#[tvmffi(type_key = "ui.Unsupported")]
#[repr(C)]
struct Unsupported {
    values: Vec<i64>,
}

#[derive(Object, Default)]
#[tvmffi(type_key = "ui.Base", final)]
#[repr(C)]
struct Base {
    id: i64,
}

#[derive(Object)]
#[tvmffi(type_key = "ui.WrongFirst", parent = Base)]
#[repr(C)]
struct WrongFirst {
    id: i64,
}

#[derive(Object)]
#[tvmffi(type_key = "ui.UnderFinal", parent = Base)]
#[repr(C)]
struct UnderFinal {
    base: Base,
}

fn main() {}
