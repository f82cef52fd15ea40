//! The input of the `c_api` target: the operations a careless C caller performs, the
//! handles and arguments they take, and the names of globals and attributes they use.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use tvmffi_alloc::Function;
use tvmffi_fuzz::ValueSpec;

/// An object handle: null, or one of the harness's live objects.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub(super) enum Handle {
    Null,
    Pool(u8),
}

/// An argument: a pooled object or any value.
#[derive(Arbitrary, Debug, Clone)]
pub(super) enum Arg {
    Pool(u8),
    Value(ValueSpec),
}

#[derive(Arbitrary, Debug)]
pub(super) enum Op {
    IncDecRef(Handle),
    Call {
        f: Handle,
        args: Vec<Arg>,
        num_args: i32,
        null_args: bool,
        null_result: bool,
    },
    CallGlobal {
        name: u16,
        args: Vec<Arg>,
    },
    CreateFunction {
        null_out: bool,
    },
    SetGlobal {
        name: u8,
        f: Handle,
        allow_override: bool,
        null_name: bool,
    },
    SetGlobalFromMethod {
        name: u8,
        method: Arg,
        null_info: bool,
    },
    GetGlobal {
        name: Vec<u8>,
        null_name: bool,
        null_out: bool,
    },
    Raise(Handle),
    RaiseCStr {
        kind: Option<Vec<u8>>,
        message: Option<Vec<u8>>,
    },
    RaiseParts {
        kind: Option<Vec<u8>>,
        parts: Vec<Vec<u8>>,
        num_parts: i32,
        null_parts: bool,
    },
    CreateError {
        kind: Option<Vec<u8>>,
        message: Option<Vec<u8>>,
        cause: Handle,
        extra: Handle,
        null_out: bool,
    },
    TypeKeyToIndex {
        key: Vec<u8>,
        null_out: bool,
    },
    AllocType {
        key: u8,
        static_index: i32,
        depth: i32,
        child_slots: i32,
        overflow: i32,
        parent: i32,
    },
    TypeInfo(i32),
    RegisterField {
        type_index: i32,
        null_info: bool,
        size: i64,
        alignment: i64,
        offset: i64,
        flags: i64,
    },
    RegisterMethod {
        type_index: i32,
        null_info: bool,
        method: Arg,
    },
    RegisterMetadata {
        type_index: i32,
        null_info: bool,
        total_size: i32,
        kind: i32,
    },
    RegisterAttr {
        type_index: i32,
        name: u8,
        value: Arg,
        null_value: bool,
    },
    AttrColumn(u8),
    BigInt {
        bytes: Vec<u8>,
        null_out: bool,
    },
    BigIntContent(Arg),
    ToDLPack {
        t: Handle,
        versioned: bool,
        null_out: bool,
    },
    UnsafeView {
        source: Handle,
        null_prototype: bool,
        ndim: i32,
    },
    Stream {
        device_type: i32,
        device_id: i32,
        stream: usize,
        null_original: bool,
    },
    Opaque {
        type_index: i32,
        null_out: bool,
    },
    ViewToOwned {
        value: Arg,
        null_in: bool,
        null_out: bool,
    },
    InitOnce {
        null_addr: bool,
        null_init: bool,
    },
    TensorAlloc {
        null_prototype: bool,
    },
}

/// The names an attribute or global may take: the reference's special attributes and a few
/// plain ones.
pub(super) const NAMES: [&str; 8] = [
    "__any_hash__",
    "__any_equal__",
    "__ffi_repr__",
    "__s_equal__",
    "__s_hash__",
    "__data_to_json__",
    "fuzz.attr",
    "fuzz.f",
];

/// Built-in globals that are safe to call with arbitrary arguments: not the ones that load
/// or write files, take raw addresses, or remove or register globals and types.
pub(super) fn callable_globals() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        const AVOID: [&str; 7] =
            ["Module", "SystemLib", "ExternC", "RemoveGlobal", "MakeField", "_Py", "_Register"];
        // The first lookup registers the built-ins.
        assert!(Function::get_global("ffi.String").is_some());
        let mut names: Vec<String> = tvmffi_alloc::runtime::read_globals(|g| {
            g.names().filter_map(|n| core::str::from_utf8(n).ok().map(str::to_owned)).collect()
        });
        names.retain(|n| n.starts_with("ffi.") && !AVOID.iter().any(|a| n.contains(a)));
        names.sort();
        names
    })
}
