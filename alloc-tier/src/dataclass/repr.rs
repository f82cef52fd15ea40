//! `ffi.ReprPrint`: any value as text, as the reference prints it (`ReprPrinter` in
//! `src/ffi/extra/dataclass.cc`).
//!
//! Values print as Python would spell them (`None`, `True`, `1`, `"text"`, `b"bytes"`), floats
//! as C++ streams do (`3.14159`), arrays as tuples (`(1,)`), lists as `[1, 2]`, maps as
//! `{"a": 1}`, shapes as `Shape(1, 2)`, tensors as `float32[2, 3]@cpu:0`, reflected objects
//! as `type.Key(field=value, ...)` (fields flagged `ReprOff` left out), enum entries as
//! `type.Key.name`. A type's `__ffi_repr__` attribute, `(self, fn_repr) -> str`, overrides
//! its spelling; `fn_repr` prints a child. An object met again while it is being printed
//! (a cycle) prints as `...`; one already printed is printed the same again.
//!
//! The traversal keeps its own stack, so deep nesting costs heap, not native stack.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, DataType, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::text::{escape_str, format_bytes, format_device, format_float};
use super::walk::{self, Kind, MAX_HOOK_DEPTH, MAX_STACK_DEPTH};
use crate::error::Error;
use crate::function::Function;
use crate::object_type::info::{AttrColumn, TypeInfo};

/// How [`repr`] prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReprOptions {
    /// Follow objects' and containers' text with `@0x<address>` (the reference's
    /// `TVM_FFI_REPR_WITH_ADDR=1`).
    pub show_addr: bool,
}

/// `value` as text (`ffi.ReprPrint`).
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::dataclass::{ReprOptions, repr};
/// use tvmffi_alloc::{Array, List};
/// use tvmffi_core::Any;
///
/// let list = List::from_vec(vec![Any::from(1i64), Any::from(0.5), tvmffi_alloc::String::from("a").into()]);
/// let nested = Array::from_vec(vec![Any::from(list.clone())]);
/// assert_eq!(repr(&Any::from(nested), ReprOptions::default()).unwrap(), r#"([1, 0.5, "a"],)"#);
/// list.push(list.clone()); // a cycle
/// assert_eq!(repr(&Any::from(list.clone()), ReprOptions::default()).unwrap(), r#"[1, 0.5, "a", ...]"#);
/// list.clear(); // break the cycle so the list can be freed
/// # }
/// ```
pub fn repr(value: &Any, options: ReprOptions) -> Result<String, Error> {
    Printer::new(options)?.run(value)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    InProgress,
    Done,
}

/// What one print remembers, shared with the `fn_repr` callbacks given to hooks.
struct Shared {
    /// Objects met so far, kept alive so that their addresses stay theirs.
    state: BTreeMap<usize, (State, Any)>,
    cache: BTreeMap<usize, String>,
    hook_depth: usize,
}

#[derive(Clone)]
struct Printer {
    options: ReprOptions,
    shared: Arc<spin::Mutex<Shared>>,
    repr_column: Option<AttrColumn>,
    sentinels: [Option<usize>; 2],
    enum_info: Option<TypeInfo>,
}

struct Frame {
    addr: usize,
    type_index: TypeIndex,
    kind: Kind,
    header: String,
    children: Vec<Any>,
    names: Vec<&'static str>,
    next: usize,
    reprs: Vec<String>,
}

/// The objects `ffi.GetInvalidObject` and `ffi.GetKwargsObject` return, by address.
fn sentinel(name: &str) -> Option<usize> {
    let f = Function::get_global(name)?;
    let obj = f.call(&[]).ok()?;
    walk::address(&obj)
}

impl Printer {
    fn new(options: ReprOptions) -> Result<Self, Error> {
        static SENTINELS: spin::Once<[Option<usize>; 2]> = spin::Once::new();
        let sentinels = *SENTINELS
            .call_once(|| [sentinel("ffi.GetInvalidObject"), sentinel("ffi.GetKwargsObject")]);
        Ok(Self {
            options,
            shared: Arc::new(spin::Mutex::new(Shared {
                state: BTreeMap::new(),
                cache: BTreeMap::new(),
                hook_depth: 0,
            })),
            repr_column: AttrColumn::of("__ffi_repr__"),
            sentinels,
            enum_info: TypeInfo::of_key("ffi.Enum"),
        })
    }

    fn addr_suffix(&self, addr: usize) -> String {
        if self.options.show_addr { format!("@{addr:#x}") } else { String::new() }
    }

    fn run(&self, value: &Any) -> Result<String, Error> {
        if let Some(text) = self.immediate(value)? {
            return Ok(text);
        }
        let mut stack: Vec<Frame> = Vec::new();
        self.push(&mut stack, value)?;
        loop {
            let Some(top) = stack.last_mut() else {
                return Err(Error::internal_error("ReprPrint: empty stack"));
            };
            if let Some(child) = top.children.get(top.next).cloned() {
                top.next += 1;
                match self.immediate(&child)? {
                    Some(text) => top.reprs.push(text),
                    None => self.push(&mut stack, &child)?,
                }
                continue;
            }
            let Some(frame) = stack.pop() else { continue };
            let text = self.finish(frame);
            match stack.last_mut() {
                Some(parent) => parent.reprs.push(text),
                None => return Ok(text),
            }
        }
    }

    fn push(&self, stack: &mut Vec<Frame>, value: &Any) -> Result<(), Error> {
        if stack.len() >= MAX_STACK_DEPTH {
            return Err(walk::too_deep("ObjectGraphDFS"));
        }
        let obj = walk::object_of(value)
            .ok_or_else(|| Error::internal_error("ReprPrint: not an object"))?;
        let addr = obj.as_raw() as usize;
        self.shared.lock().state.insert(addr, (State::InProgress, value.clone()));
        let c = walk::children(value, &obj, FieldFlags::REPR_OFF)?;
        let info = walk::type_info(obj.type_index())?;
        stack.push(Frame {
            addr,
            type_index: obj.type_index(),
            kind: c.kind,
            header: format!("{}{}", info.key(), self.addr_suffix(addr)),
            names: c.fields.iter().map(|f| f.name()).collect(),
            children: c.items,
            next: 0,
            reprs: Vec::new(),
        });
        Ok(())
    }

    fn finish(&self, f: Frame) -> String {
        let mut out = String::new();
        match f.kind {
            Kind::Sequence => {
                let (open, close) =
                    if f.type_index == TypeIndex::ARRAY { ("(", ")") } else { ("[", "]") };
                out.push_str(open);
                out.push_str(&f.reprs.join(", "));
                if f.type_index == TypeIndex::ARRAY && f.reprs.len() == 1 {
                    out.push(',');
                }
                out.push_str(close);
            }
            Kind::Map => {
                out.push('{');
                for (i, pair) in f.reprs.chunks_exact(2).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&format!("{}: {}", pair[0], pair[1]));
                }
                out.push('}');
            }
            Kind::Object if f.reprs.is_empty() => out = f.header,
            Kind::Object => {
                out = f.header;
                out.push('(');
                let mut seen: Vec<&str> = Vec::new();
                for (name, text) in f.names.iter().zip(&f.reprs) {
                    // A subclass repeating a parent's field name: the first one wins.
                    if seen.contains(name) {
                        continue;
                    }
                    if !seen.is_empty() {
                        out.push_str(", ");
                    }
                    seen.push(name);
                    out.push_str(&format!("{name}={text}"));
                }
                out.push(')');
            }
        }
        if is_container(f.type_index) {
            out.push_str(&self.addr_suffix(f.addr));
        }
        let mut shared = self.shared.lock();
        if let Some(entry) = shared.state.get_mut(&f.addr) {
            entry.0 = State::Done;
        }
        shared.cache.insert(f.addr, out.clone());
        out
    }

    /// The text of `value` when it needs no frame: values, strings, leaves, objects seen
    /// before, sentinels, hooks and enums.
    fn immediate(&self, value: &Any) -> Result<Option<String>, Error> {
        let index = value.type_index();
        let raw: &TVMFFIAny = value.as_raw();
        // SAFETY: each arm reads the member its type index says is there.
        let text = unsafe {
            match index {
                TypeIndex::NONE => "None".to_string(),
                TypeIndex::BOOL => {
                    if raw.value.v_int64 != 0 { "True" } else { "False" }.to_string()
                }
                TypeIndex::INT => raw.value.v_int64.to_string(),
                TypeIndex::FLOAT => format_float(raw.value.v_float64),
                TypeIndex::DATA_TYPE => DataType::from(raw.value.v_dtype).to_string(),
                TypeIndex::DEVICE => format_device(raw.value.v_device),
                TypeIndex::SMALL_STR | TypeIndex::STR => escape_str(value.as_str_or_bytes()?),
                TypeIndex::SMALL_BYTES | TypeIndex::BYTES => format_bytes(value.as_str_or_bytes()?),
                i if !i.is_object() => crate::object_type::type_key(i),
                _ => return self.object_immediate(value),
            }
        };
        Ok(Some(text))
    }

    fn object_immediate(&self, value: &Any) -> Result<Option<String>, Error> {
        let Some(obj) = walk::object_of(value) else { return Ok(Some("None".into())) };
        let addr = obj.as_raw() as usize;
        let index = obj.type_index();
        {
            let shared = self.shared.lock();
            match shared.state.get(&addr).map(|e| e.0) {
                Some(State::Done) => return Ok(shared.cache.get(&addr).cloned()),
                Some(State::InProgress) => {
                    return Ok(Some(format!("...{}", self.addr_suffix(addr))));
                }
                None => {}
            }
        }
        if self.sentinels[0] == Some(addr) {
            return Ok(Some("<MISSING>".into()));
        }
        if self.sentinels[1] == Some(addr) {
            return Ok(Some("<KWARGS>".into()));
        }
        match index {
            TypeIndex::BIG_INT => {
                return Ok(Some(
                    <crate::BigInt as FromAnyView>::from_any_view(value.view())?.to_string(),
                ));
            }
            TypeIndex::TENSOR => {
                let t = <crate::Tensor as FromAnyView>::from_any_view(value.view())?;
                let dims: Vec<String> = t.shape().iter().map(i64::to_string).collect();
                return Ok(Some(format!(
                    "{}[{}]@{}{}",
                    t.dtype(),
                    dims.join(", "),
                    format_device(t.device().as_raw()),
                    self.addr_suffix(addr)
                )));
            }
            TypeIndex::SHAPE => {
                let s = <crate::Shape as FromAnyView>::from_any_view(value.view())?;
                let dims: Vec<String> = s.as_slice().iter().map(i64::to_string).collect();
                return Ok(Some(format!("Shape({})", dims.join(", "))));
            }
            _ => {}
        }
        if let Some(column) = &self.repr_column {
            if let Some(hook) = walk::hook(column, index, "__ffi_repr__")? {
                let text = self.call_hook(&obj, value, &hook)?;
                let text = if is_container(index) { text + &self.addr_suffix(addr) } else { text };
                return Ok(Some(self.done(addr, value, text)));
            }
        }
        if let Some(enum_info) = self.enum_info {
            let info = walk::type_info(index)?;
            if info.is_subtype_of(enum_info) {
                let name = enum_info
                    .field("_str_index")
                    .ok_or_else(|| Error::internal_error("ffi.Enum has no `_str_index` field"))?
                    .get(&obj)?;
                let name = name.as_str().unwrap_or_default();
                let text = format!("{}.{name}{}", info.key(), self.addr_suffix(addr));
                return Ok(Some(self.done(addr, value, text)));
            }
        }
        Ok(None)
    }

    fn done(&self, addr: usize, value: &Any, text: String) -> String {
        let mut shared = self.shared.lock();
        shared.state.insert(addr, (State::Done, value.clone()));
        shared.cache.insert(addr, text.clone());
        text
    }

    /// Call `__ffi_repr__(obj, fn_repr)`.
    fn call_hook(
        &self,
        obj: &ObjectRef<ObjectHeader>,
        value: &Any,
        hook: &Function,
    ) -> Result<String, Error> {
        {
            let mut shared = self.shared.lock();
            if shared.hook_depth >= MAX_HOOK_DEPTH {
                return Err(walk::hooks_too_deep("ReprPrint"));
            }
            shared.hook_depth += 1;
            shared.state.insert(obj.as_raw() as usize, (State::InProgress, value.clone()));
        }
        let printer = self.clone();
        let fn_repr = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [arg] = args else {
                return Err(Error::type_error(format!(
                    "Mismatched number of arguments when calling: `fn_repr(0: AnyView) -> str`. \
                     Expected 1 but got {} arguments",
                    args.len()
                )));
            };
            Ok(Any::from(crate::String::from(printer.run(&arg.to_owned()?)?)))
        });
        let result = hook.call(&[walk::view_of(obj), AnyView::from(&fn_repr)]);
        self.shared.lock().hook_depth -= 1;
        let result = result?;
        Ok(crate::typed::cast::<crate::String>(result.view())?.as_str().into())
    }
}

fn is_container(index: TypeIndex) -> bool {
    matches!(index, TypeIndex::ARRAY | TypeIndex::LIST | TypeIndex::MAP | TypeIndex::DICT)
}
