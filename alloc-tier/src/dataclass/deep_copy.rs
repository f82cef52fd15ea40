//! `ffi.DeepCopy`: a copy of a value's whole object graph, as the reference makes it
//! (`ObjectDeepCopier` in `src/ffi/extra/dataclass.cc`).
//!
//! - Containers are rebuilt with copied elements; reflected objects are copied with their
//!   type's `__ffi_shallow_copy__` attribute, then their fields are set to copies.
//! - Immutable leaves are shared, not copied: strings, bytes, shapes, big integers and enum
//!   entries.
//! - Sharing is preserved (an object reached twice is copied once), and so are cycles: a
//!   list, dict or object is registered before its children are copied, so a child pointing
//!   back finds the copy; an array or map inside a cycle is fixed up once copied.
//! - A type without `__ffi_shallow_copy__` cannot be deep-copied.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::{Any, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::walk::{self, MAX_STACK_DEPTH};
use crate::error::Error;
use crate::map::{Dict, Map};
use crate::object_type::info::{AttrColumn, FieldInfo, TypeInfo};
use crate::seq::{Array, List};

/// A deep copy of `value` (`ffi.DeepCopy`).
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::dataclass::deep_copy;
/// use tvmffi_alloc::{Array, List};
/// use tvmffi_core::Any;
///
/// let inner = List::from_vec(vec![Any::from(1i64)]);
/// let outer = Array::from_vec(vec![Any::from(inner.clone()), Any::from(inner.clone())]);
/// let copy: Array = deep_copy(&Any::from(outer)).unwrap().try_into().unwrap();
/// let (a, b): (List, List) = (copy.get_as(0).unwrap(), copy.get_as(1).unwrap());
/// assert!(a.ptr_eq(&b), "shared before, shared after");
/// assert!(!a.ptr_eq(&inner), "but a new list");
/// # }
/// ```
pub fn deep_copy(value: &Any) -> Result<Any, Error> {
    Copier::new()?.run(value)
}

struct Copier {
    shallow_copy: Option<AttrColumn>,
    enum_info: Option<TypeInfo>,
    /// Original object (by address) to its copy; the original is kept alive beside it.
    copies: BTreeMap<usize, (Any, Any)>,
    /// Arrays and maps being copied: they are built only once their children are.
    in_progress: BTreeSet<usize>,
    deferred: bool,
}

struct Frame {
    addr: usize,
    value: Any,
    type_index: TypeIndex,
    children: Vec<Any>,
    fields: Vec<FieldInfo>,
    next: usize,
    /// The copy (lists, dicts, objects), made before the children.
    copy: Option<Any>,
    /// Copied children of arrays and maps.
    resolved: Vec<Any>,
    pending_key: Option<Any>,
}

impl Copier {
    fn new() -> Result<Self, Error> {
        Ok(Self {
            shallow_copy: AttrColumn::of("__ffi_shallow_copy__"),
            enum_info: TypeInfo::of_key("ffi.Enum"),
            copies: BTreeMap::new(),
            in_progress: BTreeSet::new(),
            deferred: false,
        })
    }

    fn run(mut self, value: &Any) -> Result<Any, Error> {
        let result = match self.immediate(value)? {
            Some(v) => v,
            None => self.run_loop(value)?,
        };
        if self.deferred {
            self.fix_up()?;
        }
        Ok(result)
    }

    fn run_loop(&mut self, value: &Any) -> Result<Any, Error> {
        let mut stack: Vec<Frame> = Vec::new();
        self.push(&mut stack, value)?;
        loop {
            let Some(top) = stack.last_mut() else {
                return Err(Error::internal_error("DeepCopy: empty stack"));
            };
            if let Some(child) = top.children.get(top.next).cloned() {
                top.next += 1;
                match self.immediate(&child)? {
                    Some(copy) => feed(top, &child, copy)?,
                    None => self.push(&mut stack, &child)?,
                }
                continue;
            }
            let Some(frame) = stack.pop() else { continue };
            let copy = self.finish(frame)?;
            match stack.last_mut() {
                Some(parent) => {
                    let original = parent
                        .children
                        .get(parent.next.wrapping_sub(1))
                        .cloned()
                        .unwrap_or_default();
                    feed(parent, &original, copy)?;
                }
                None => return Ok(copy),
            }
        }
    }

    /// The copy of `value` when it needs no frame (`TryCopyImmediate`).
    fn immediate(&mut self, value: &Any) -> Result<Option<Any>, Error> {
        let Some(addr) = walk::address(value) else { return Ok(Some(value.clone())) };
        if let Some((_, copy)) = self.copies.get(&addr) {
            return Ok(Some(copy.clone()));
        }
        if self.in_progress.contains(&addr) {
            self.deferred = true;
            return Ok(Some(value.clone()));
        }
        let index = value.type_index();
        if matches!(
            index,
            TypeIndex::STR | TypeIndex::BYTES | TypeIndex::SHAPE | TypeIndex::BIG_INT
        ) {
            return Ok(Some(value.clone()));
        }
        if let Some(enum_info) = self.enum_info {
            if TypeInfo::of(index).is_some_and(|t| t.is_subtype_of(enum_info)) {
                return Ok(Some(value.clone()));
            }
        }
        Ok(None)
    }

    fn push(&mut self, stack: &mut Vec<Frame>, value: &Any) -> Result<(), Error> {
        if stack.len() >= MAX_STACK_DEPTH {
            return Err(walk::too_deep("ObjectGraphDFS"));
        }
        let obj = walk::object_of(value)
            .ok_or_else(|| Error::internal_error("DeepCopy: not an object"))?;
        let addr = obj.as_raw() as usize;
        let index = obj.type_index();
        let c = walk::children(value, &obj, FieldFlags(0))?;
        let copy = match index {
            TypeIndex::ARRAY | TypeIndex::MAP => {
                self.in_progress.insert(addr);
                None
            }
            TypeIndex::LIST => {
                let list = List::with_capacity(c.len)?;
                Some(Any::from(list))
            }
            TypeIndex::DICT => Some(Any::from(Dict::new())),
            _ => Some(self.shallow_copy(&obj, index)?),
        };
        if let Some(copy) = &copy {
            self.copies.insert(addr, (value.clone(), copy.clone()));
        }
        stack.push(Frame {
            addr,
            value: value.clone(),
            type_index: index,
            children: c.items,
            fields: c.fields,
            next: 0,
            copy,
            resolved: Vec::new(),
            pending_key: None,
        });
        Ok(())
    }

    fn shallow_copy(&self, obj: &ObjectRef<ObjectHeader>, index: TypeIndex) -> Result<Any, Error> {
        let hook = match &self.shallow_copy {
            Some(column) => walk::hook(column, index, "__ffi_shallow_copy__")?,
            None => None,
        };
        let Some(hook) = hook else {
            return Err(Error::internal_error(format!(
                "Check failed: (copy_fn.has_value()) is false: Cannot deep copy object of type \"{}\" \
                 because it is not copy-constructible",
                walk::type_info(index)?.key()
            )));
        };
        let copy = hook.call(&[walk::view_of(obj)])?;
        if walk::object_of(&copy).is_none_or(|c| c.type_index() != index) {
            return Err(Error::type_error(format!(
                "`__ffi_shallow_copy__` of `{}` returned `{}`, not an object of its type",
                walk::type_info(index)?.key(),
                crate::object_type::type_key(copy.type_index())
            )));
        }
        Ok(copy)
    }

    fn finish(&mut self, f: Frame) -> Result<Any, Error> {
        match f.type_index {
            TypeIndex::ARRAY => {
                self.in_progress.remove(&f.addr);
                let copy = Any::from(Array::from_vec(f.resolved));
                self.copies.insert(f.addr, (f.value, copy.clone()));
                Ok(copy)
            }
            TypeIndex::MAP => {
                self.in_progress.remove(&f.addr);
                let mut pairs = Vec::with_capacity(f.resolved.len() / 2);
                let mut items = f.resolved.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    pairs.push((k, v));
                }
                let copy = Any::from(Map::try_from_iter(pairs)?);
                self.copies.insert(f.addr, (f.value, copy.clone()));
                Ok(copy)
            }
            _ => f.copy.ok_or_else(|| Error::internal_error("DeepCopy: frame without a copy")),
        }
    }

    /// Replace originals left in copies (arrays and maps met while being copied) by their
    /// copies (`FixupDeferredReferences`).
    fn fix_up(&self) -> Result<(), Error> {
        let lookup =
            |v: &Any| walk::address(v).and_then(|a| self.copies.get(&a)).map(|(_, c)| c.clone());
        for (_, copy) in self.copies.values() {
            match copy.type_index() {
                TypeIndex::LIST => {
                    let list = List::from_any_view(copy.view())?;
                    for (i, elem) in list.to_vec().iter().enumerate() {
                        if let Some(c) = lookup(elem) {
                            list.set(i, c)?;
                        }
                    }
                }
                TypeIndex::DICT => {
                    let dict = Dict::from_any_view(copy.view())?;
                    for (k, v) in dict.to_vec() {
                        let (nk, nv) = (lookup(&k), lookup(&v));
                        if nk.is_none() && nv.is_none() {
                            continue;
                        }
                        dict.remove(&k)?;
                        dict.insert(nk.unwrap_or(k), nv.unwrap_or(v))?;
                    }
                }
                i if i.0 >= TypeIndex::STATIC_OBJECT_END.0 => {
                    let obj = walk::object_of(copy)
                        .ok_or_else(|| Error::internal_error("DeepCopy: copy is not an object"))?;
                    for field in walk::type_info(i)?.fields() {
                        let value = field.get(&obj)?;
                        if let Some(c) = lookup(&value) {
                            if walk::address(&c) != walk::address(&value) {
                                // SAFETY: the copy is new and reachable only from the copied
                                // graph, which nobody else holds yet.
                                unsafe { field.set(&obj, c.view())? };
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Give frame `f` the copy of its next child (`FeedChild`).
fn feed(f: &mut Frame, original: &Any, copy: Any) -> Result<(), Error> {
    match f.type_index {
        TypeIndex::ARRAY | TypeIndex::MAP => f.resolved.push(copy),
        TypeIndex::LIST => {
            let list = List::from_any_view(f.copy.as_ref().map(Any::view).unwrap_or_default())?;
            list.push(copy);
        }
        TypeIndex::DICT => match f.pending_key.take() {
            None => f.pending_key = Some(copy),
            Some(key) => {
                let dict = Dict::from_any_view(f.copy.as_ref().map(Any::view).unwrap_or_default())?;
                dict.insert(key, copy)?;
            }
        },
        _ => {
            let i = f.next.wrapping_sub(1);
            if walk::address(original) != walk::address(&copy)
                || original.as_raw().type_index != copy.as_raw().type_index
            {
                let field = f
                    .fields
                    .get(i)
                    .ok_or_else(|| Error::internal_error("DeepCopy: field out of range"))?;
                let obj = f.copy.as_ref().and_then(walk::object_of).ok_or_else(|| {
                    Error::internal_error("DeepCopy: object frame without a copy")
                })?;
                // SAFETY: the copy is new (its type's shallow copy) and reachable only from
                // the copied graph, which nobody else holds yet.
                unsafe { field.set(&obj, copy.view())? };
            }
        }
    }
    Ok(())
}
