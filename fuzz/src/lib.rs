//! What the fuzz targets share: values built from fuzz input (every kind a C caller can
//! pass, malformed ones included, but never a dangling pointer, which the C contract rules
//! out and nothing could detect), and checks that the runtime answered bad input with an
//! error rather than a caught panic.

// The std runtime defines the C API symbols the tiers call: link it in.
extern crate tvmffi_std;

use arbitrary::{Arbitrary, Unstructured};
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::seq::{Array, List};
use tvmffi_alloc::{Bytes, Error, Function, Shape, String as FfiString};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue, TVMFFIByteArray};
use tvmffi_core::{Any, AnyView, TypeIndex};

/// The message prefix of an error the std runtime made from a caught panic. Bad input must
/// be refused with a proper error, so any such error is a finding.
const PANIC_PREFIX: &str = "panic in Rust code";

/// Take the error a failed C call raised: it must exist and must not be a caught panic.
pub fn take_error(call: &str) -> Error {
    let e = Error::take_raised().unwrap_or_else(|| panic!("{call} failed without raising"));
    assert!(!e.message().starts_with(PANIC_PREFIX), "{call} panicked: {}", e.message());
    e
}

/// Check a C call's return code: 0, or -1 with a proper error raised (returned).
pub fn check_rc(call: &str, rc: i32) -> Option<Error> {
    match rc {
        0 => {
            assert!(Error::take_raised().is_none(), "{call} succeeded but left an error raised");
            None
        }
        -1 => Some(take_error(call)),
        other => panic!("{call} returned {other}"),
    }
}

/// A value as a C caller may pass it. Pointers always point at live memory the harness
/// owns; everything else (lengths, type indices, payload bits) comes from the input.
#[derive(Arbitrary, Debug, Clone)]
pub enum ValueSpec {
    /// Any plain kind below 64, known or not, with arbitrary payload and padding bits.
    Pod {
        type_index: u8,
        padding: u32,
        bits: u64,
    },
    Int(i64),
    Bool(bool),
    Float(f64),
    /// A small string or small bytes with a raw (possibly too large) length field.
    Small {
        bytes_kind: bool,
        len: u32,
        bytes: [u8; 8],
    },
    /// A NUL-terminated C string (content up to the first NUL).
    RawStr(Vec<u8>),
    /// A byte-array pointer; `null_data` makes `data` null with the given size.
    ByteArray {
        bytes: Vec<u8>,
        null_data: bool,
        size: Option<usize>,
    },
    /// A string or bytes object holding any bytes (strings unchecked, as the C API makes them).
    TextObject {
        bytes_kind: bool,
        bytes: Vec<u8>,
    },
    /// An object pointer slot of the given kind that is null.
    NullObject(u16),
    Array(Vec<ValueSpec>),
    List(Vec<ValueSpec>),
    Map(Vec<(ValueSpec, ValueSpec)>),
    Dict(Vec<(ValueSpec, ValueSpec)>),
    Shape(Vec<i64>),
    Function,
    Error {
        kind: String,
        message: String,
    },
    /// An r-value reference to a slot holding the object (or null: already moved).
    RvalueRef {
        inner: Box<ValueSpec>,
        moved: bool,
    },
}

/// Values and the memory their views point to, kept alive while the views are used.
/// Boxed where a view points at the element: a box stays put when the vector grows.
#[allow(clippy::vec_box, reason = "views point into the boxes, which must not move")]
#[derive(Default)]
pub struct Arena {
    c_strings: Vec<Vec<u8>>,
    byte_arrays: Vec<Box<TVMFFIByteArray>>,
    byte_data: Vec<Vec<u8>>,
    owned: Vec<Any>,
    slots: Vec<Box<*mut tvmffi_core::sys::TVMFFIObject>>,
    tensor: Option<tvmffi_alloc::Tensor>,
}

/// Empty every mutable container among `values`: a dict or list that calls made hold
/// itself (`ffi.DictSetItem(d, d, v)`) is a reference cycle, which reference counting
/// cannot free, in the reference as here. Clearing them before the end of a run keeps the
/// leak checker to real leaks.
pub fn break_cycles(values: &[Any]) {
    for v in values {
        match v.type_index() {
            TypeIndex::DICT => v.get::<Dict>().expect("a dict").clear(),
            TypeIndex::LIST => v.get::<List>().expect("a list").clear(),
            _ => {}
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        break_cycles(&self.owned);
        // Slots still holding an object own a strong reference: release it.
        for slot in &mut self.slots {
            if let Some(obj) = core::ptr::NonNull::new(slot.cast::<tvmffi_core::ObjectHeader>()) {
                // SAFETY: the slot owns one strong reference to a live object.
                drop(unsafe { Any::from_object_raw(obj) });
                **slot = core::ptr::null_mut();
            }
        }
    }
}

fn pod(type_index: i32, padding: u32, bits: u64) -> TVMFFIAny {
    TVMFFIAny {
        type_index,
        padding: TVMFFIAnyPadding { zero_padding: padding },
        value: TVMFFIAnyValue { v_uint64: bits },
    }
}

/// A key or value that any map accepts, for containers inside specs.
fn owned_or_none(arena: &mut Arena, spec: &ValueSpec, depth: u32) -> Any {
    let view = arena.view(spec, depth);
    view.to_owned().unwrap_or_default()
}

impl Arena {
    /// The view `spec` describes; memory it points to lives in the arena.
    pub fn view(&mut self, spec: &ValueSpec, depth: u32) -> AnyView<'static> {
        let raw = self.raw(spec, depth);
        // SAFETY: every pointer `raw` makes points into the arena (heap blocks that do not
        // move and live until the arena drops, after every view of them is gone), and
        // object indices come with live objects of that index.
        unsafe { AnyView::from_raw(raw) }
    }

    fn keep(&mut self, any: Any) -> TVMFFIAny {
        let raw = *any.as_raw();
        self.owned.push(any);
        raw
    }

    fn raw(&mut self, spec: &ValueSpec, depth: u32) -> TVMFFIAny {
        let deeper = depth.saturating_sub(1);
        let many = |n: usize| if depth == 0 { 0 } else { n.min(8) };
        match spec {
            ValueSpec::Pod { type_index, padding, bits } => {
                // Plain kinds carry no pointer the runtime follows, except those handled
                // as their own specs below.
                let ti = TypeIndex(i32::from(*type_index % 64));
                match ti {
                    TypeIndex::RAW_STR
                    | TypeIndex::BYTE_ARRAY_PTR
                    | TypeIndex::OBJECT_RVALUE_REF => pod(TypeIndex::NONE.0, 0, 0),
                    // Code that takes a `DLTensor*` reads it: point at a real one.
                    TypeIndex::DL_TENSOR_PTR => {
                        let t = self.tensor.get_or_insert_with(|| {
                            tvmffi_alloc::Tensor::from_slice(&[2, 2], &[1.0f32, 2.0, 3.0, 4.0])
                                .expect("a 2x2 tensor")
                        });
                        let mut raw = pod(ti.0, 0, 0);
                        raw.value.v_ptr = t.as_dltensor_ptr().cast();
                        raw
                    }
                    _ => pod(ti.0, *padding, *bits),
                }
            }
            ValueSpec::Int(v) => *Any::from(*v).as_raw(),
            ValueSpec::Bool(v) => *Any::from(*v).as_raw(),
            ValueSpec::Float(v) => *Any::from(*v).as_raw(),
            ValueSpec::Small { bytes_kind, len, bytes } => {
                let ti = if *bytes_kind { TypeIndex::SMALL_BYTES } else { TypeIndex::SMALL_STR };
                TVMFFIAny {
                    type_index: ti.0,
                    padding: TVMFFIAnyPadding { small_str_len: *len },
                    value: TVMFFIAnyValue { v_bytes: *bytes },
                }
            }
            ValueSpec::RawStr(bytes) => {
                let mut s: Vec<u8> = bytes.iter().copied().take_while(|&b| b != 0).collect();
                s.push(0);
                let p = s.as_ptr();
                self.c_strings.push(s);
                let mut raw = pod(TypeIndex::RAW_STR.0, 0, 0);
                raw.value.v_c_str = p.cast();
                raw
            }
            ValueSpec::ByteArray { bytes, null_data, size } => {
                let data = bytes.clone();
                // A size larger than the data is only allowed where `data` is null or the
                // size cannot be a valid length (over `isize::MAX`): anything else would
                // be the caller's out-of-bounds read, not the runtime's.
                let size = match size {
                    Some(s) if *null_data || *s > isize::MAX as usize => *s,
                    _ => data.len(),
                };
                let arr = Box::new(TVMFFIByteArray {
                    data: if *null_data { core::ptr::null() } else { data.as_ptr().cast() },
                    size,
                });
                let p: *const TVMFFIByteArray = &*arr;
                self.byte_data.push(data);
                self.byte_arrays.push(arr);
                let mut raw = pod(TypeIndex::BYTE_ARRAY_PTR.0, 0, 0);
                raw.value.v_ptr = p.cast_mut().cast();
                raw
            }
            ValueSpec::TextObject { bytes_kind, bytes } => {
                let any = text_object(*bytes_kind, bytes);
                self.keep(any)
            }
            ValueSpec::NullObject(ti) => {
                // Indices 64 and up are objects; a null pointer there is malformed input.
                pod(64 + i32::from(*ti % 2048), 0, 0)
            }
            ValueSpec::Array(items) => {
                let items = items.iter().take(many(items.len()));
                let vec = items.map(|s| owned_or_none(self, s, deeper)).collect();
                self.keep(Array::from_vec(vec).into())
            }
            ValueSpec::List(items) => {
                let list = List::new();
                for s in items.iter().take(many(items.len())) {
                    let v = owned_or_none(self, s, deeper);
                    list.push(v);
                }
                self.keep(list.into())
            }
            ValueSpec::Map(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs.iter().take(many(pairs.len())) {
                    let (k, v) = (owned_or_none(self, k, deeper), owned_or_none(self, v, deeper));
                    // Keys that cannot be hashed (a null object) are refused: fine here.
                    let _ = map.insert(k, v);
                }
                self.keep(map.into())
            }
            ValueSpec::Dict(pairs) => {
                let dict = Dict::new();
                for (k, v) in pairs.iter().take(many(pairs.len())) {
                    let (k, v) = (owned_or_none(self, k, deeper), owned_or_none(self, v, deeper));
                    let _ = dict.insert(k, v);
                }
                self.keep(dict.into())
            }
            ValueSpec::Shape(dims) => self.keep(Shape::new(dims).into_any()),
            ValueSpec::Function => {
                let f =
                    Function::from_packed(|args: &[AnyView<'_>]| Ok(Any::from(args.len() as i64)));
                self.keep(f.into())
            }
            ValueSpec::Error { kind, message } => self.keep(Error::new(kind, message).into()),
            ValueSpec::RvalueRef { inner, moved } => {
                let obj = owned_or_none(self, inner, deeper);
                let ptr = match obj.into_object_raw() {
                    Ok(p) if !*moved => p.as_ptr().cast(),
                    Ok(p) => {
                        // SAFETY: the strong reference `into_object_raw` gave up.
                        drop(unsafe { Any::from_object_raw(p) });
                        core::ptr::null_mut()
                    }
                    Err(_) => core::ptr::null_mut(),
                };
                let slot = Box::new(ptr);
                let p: *const *mut tvmffi_core::sys::TVMFFIObject = &*slot;
                self.slots.push(slot);
                let mut raw = pod(TypeIndex::OBJECT_RVALUE_REF.0, 0, 0);
                raw.value.v_ptr = p.cast_mut().cast();
                raw
            }
        }
    }
}

/// A string or bytes value holding `bytes` exactly as the C API makes it (no UTF-8 check).
pub fn text_object(bytes_kind: bool, bytes: &[u8]) -> Any {
    let arr = TVMFFIByteArray { data: bytes.as_ptr().cast(), size: bytes.len() };
    let mut out = TVMFFIAny::NONE;
    // SAFETY: a valid byte array and a writable result slot.
    let rc = unsafe {
        if bytes_kind {
            tvmffi_core::sys::api::TVMFFIBytesFromByteArray(&arr, &mut out)
        } else {
            tvmffi_core::sys::api::TVMFFIStringFromByteArray(&arr, &mut out)
        }
    };
    assert_eq!(check_rc("TVMFFI*FromByteArray", rc).map(|e| e.message().into_owned()), None);
    // SAFETY: the call succeeded and wrote an owned value.
    unsafe { Any::from_raw(out) }
}

/// Read an `Arbitrary` value, or stop the run quietly when the input is used up.
pub fn take<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>) -> Option<T> {
    T::arbitrary(u).ok()
}

/// A string wrapper so ffi strings and Rust strings compare in assertions.
pub fn ffi_str(s: &str) -> FfiString {
    FfiString::from(s)
}

/// Bytes as an ffi bytes value.
pub fn ffi_bytes(b: &[u8]) -> Bytes {
    Bytes::from(b)
}
