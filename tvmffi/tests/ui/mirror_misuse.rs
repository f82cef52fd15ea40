// The generator's derives, written wrong by hand.
use tvmffi::{Object, ObjectArc};

#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
struct NoKey {
    base: Object,
}

#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
#[type_key = "ui.Tuple"]
struct Tuple(Object);

#[repr(C)]
#[derive(tvmffi::derive::ObjectRef, Clone)]
#[tvmffi(crate = tvmffi)]
struct TwoFields {
    base: ObjectArc<Object>,
    extra: i64,
}

fn main() {}
