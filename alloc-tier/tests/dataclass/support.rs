//! What the dataclass tests share: serialisation of tests that raise errors, calling a
//! built-in by name, and building text and array values.

use tvmffi_alloc::{Array, Error, Function};
use tvmffi_core::{Any, AnyView};

/// The `runtime` feature keeps one global error slot: tests that raise errors run one at a
/// time, or one may take an error another raised.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(tvmffi_alloc::Error::take_raised());
    guard
}

pub fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is registered")).call(args)
}

pub fn s(text: &str) -> Any {
    tvmffi_alloc::String::from(text).into()
}
pub fn arr(items: Vec<Any>) -> Any {
    Array::from_vec(items).into()
}
