//! Listing a library's exported functions (`Module::function_names`).
//!
//! The reference offers no way to list a library's functions. The dynamic loader cannot
//! enumerate symbols either, so the names come from the export table of the file the
//! library was loaded from, read with the `object` crate (ELF, Mach-O, PE).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use std::fs::File;
use std::path::Path;

use object::read::{Object, ReadCache};

use super::error::{LoadError, LoadErrorKind};
use super::symbol;

/// `<name>` for every `__tvm_ffi_<name>` export of the library file at `path`, reserved
/// `__tvm_ffi__*` symbols left out, sorted and deduplicated.
pub(super) fn exported_functions(path: &Path) -> Result<Vec<String>, LoadError> {
    let fail = |e: &dyn core::fmt::Display| {
        LoadError::new(
            LoadErrorKind::Open,
            format!("cannot read the symbols of {}: {e}", path.display()),
        )
    };
    let file = File::open(path).map_err(|e| fail(&e))?;
    // Reads only the parts of the file it needs (kernel libraries can be large).
    let cache = ReadCache::new(file);
    let parsed = object::File::parse(&cache).map_err(|e| fail(&e))?;
    let macho = matches!(parsed.format(), object::BinaryFormat::MachO);
    let exports = parsed.exports().map_err(|e| fail(&e))?;
    let names = exports.iter().filter_map(|e| {
        let name = core::str::from_utf8(e.name()).ok()?;
        // Mach-O symbols carry the C compiler's leading underscore.
        let name = if macho { name.strip_prefix('_')? } else { name };
        Some(name)
    });
    Ok(function_names(names, symbol::FUNCTION_PREFIX))
}

/// `<name>` for every `__tvm_ffi_<prefix><name>` entry of the system library registry.
pub(super) fn system_functions(prefix: &str) -> Vec<String> {
    let full = format!("{}{prefix}", symbol::FUNCTION_PREFIX);
    let names = super::system_lib::names_with_prefix(&full);
    function_names(names.iter().map(String::as_str), &full)
}

fn function_names<'a>(symbols: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = symbols
        .filter(|s| !s.starts_with("__tvm_ffi__"))
        .filter_map(|s| s.strip_prefix(prefix))
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_symbols_and_other_prefixes_are_left_out() {
        let syms = [
            "__tvm_ffi_b",
            "__tvm_ffi_a",
            "__tvm_ffi__metadata_a",
            "__tvm_ffi__library_ctx",
            "other",
            "__tvm_ffi_",
        ];
        assert_eq!(function_names(syms.into_iter(), "__tvm_ffi_"), ["a", "b"]);
    }
}
