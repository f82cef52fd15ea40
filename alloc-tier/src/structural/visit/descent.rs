//! A value's children as its type prescribes (`DefaultVisitExpected`): its `__s_visit__`
//! hook, the built-in hooks of containers, or its reflected fields.
//!
//! The built-in container hooks are registered as native hooks (as the reference registers
//! its own), so C++ code that visits a container through any visitor runs them; our own
//! engines recognise them and iterate the container themselves, without nesting.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, Object, ObjectRef};

use super::{
    StructuralVisitor, VisitFn, VisitOutcome, VisitorCell, outcome_from_any, outcome_from_raw,
    outcome_to_raw, with_region,
};
use crate::error::Error;
use crate::function::Function;
use crate::structural::items::{Items, MapLike};
use crate::structural::reflect::{Column, TypeCache, TypeData, field_region, get_field, ignored};
use crate::structural::support::native_hook;

/// The `__s_visit__` hook column.
pub(crate) static S_VISIT: Column = Column::new("__s_visit__");

/// A value's children.
pub(crate) enum Children {
    /// None: an inline value, or an object without fields.
    Leaf,
    /// A sequence's elements.
    Items(Items, usize),
    /// A map's values (keys are anchors, not visited).
    Values(Vec<Any>, usize),
    /// An object's reflected fields, from `next`; `current` holds the field being visited.
    Fields { obj: ObjectRef, ty: Rc<TypeData>, next: usize, current: Any },
    /// A hook to call: native or a function object.
    Hook(AnyView<'static>),
}

/// The child after the last one of `children` (`None` when done); fields may fail to read.
/// Returns the child and the def region its field opens.
pub(crate) fn next_child<'c>(
    children: &'c mut Children,
) -> Result<Option<(AnyView<'c>, Option<DefRegionKind>)>, Error> {
    match children {
        Children::Leaf | Children::Hook(_) => Ok(None),
        Children::Items(items, i) => {
            let item = items.get(*i);
            *i += 1;
            Ok(item.map(|v| (v, None)))
        }
        Children::Values(values, i) => {
            let v = values.get(*i);
            *i += 1;
            Ok(v.map(|v| (v.view(), None)))
        }
        Children::Fields { obj, ty, next, current } => {
            while let Some(field) = ty.fields.get(*next) {
                *next += 1;
                if ignored(field) {
                    continue;
                }
                // SAFETY: `obj` is alive (held here), and `field` is one of its type's.
                *current = unsafe { get_field(obj.as_raw(), field) }?;
                return Ok(Some((current.view(), field_region(field))));
            }
            Ok(None)
        }
    }
}

/// What `value`'s default descent is, and whether it is a free variable whose fields are
/// visited outside the simple definition region it is in.
pub(crate) fn children_of(
    types: &mut TypeCache,
    value: AnyView<'_>,
    region: DefRegionKind,
) -> Result<(Children, bool), Error> {
    let ti = value.type_index();
    if let Some(hook) = S_VISIT.attr(ti) {
        if let Some(p) = native_hook(&hook) {
            if p.addr() == visit_seq_hook as VisitFn as usize {
                return Ok((Children::Items(Items::of(&value)?, 0), false));
            }
            if p.addr() == visit_map_hook as VisitFn as usize {
                let values = MapLike::of(&value)?.pairs().into_iter().map(|(_, v)| v).collect();
                return Ok((Children::Values(values, 0), false));
            }
        }
        return Ok((Children::Hook(hook), false));
    }
    if !ti.is_object() {
        return Ok((Children::Leaf, false));
    }
    let obj: ObjectRef = value.get()?;
    let ty = types.get(ti)?;
    let clamp = region == DefRegionKind::SIMPLE && ty.kind == Some(SEqHashKind::FREE_VAR);
    Ok((Children::Fields { obj, ty, next: 0, current: Any::none() }, clamp))
}

/// Call a `__s_visit__` hook on `value` with `visitor` (`DefaultVisitRawTail`): a native
/// hook directly, a function object with `(visitor, value)`.
pub(crate) fn call_hook(
    hook: AnyView<'static>,
    visitor: &ObjectRef<Object<VisitorCell>>,
    value: AnyView<'_>,
) -> VisitOutcome {
    if let Some(p) = native_hook(&hook).filter(|p| !p.is_null()) {
        // SAFETY: a native `__s_visit__` attribute is a `FStructuralVisitABI` function, which
        // takes the visitor object and a borrowed view and returns an owned value.
        let f = unsafe { core::mem::transmute::<*mut core::ffi::c_void, VisitFn>(p) };
        // SAFETY: the visitor and the value are alive for the call.
        return outcome_from_raw(unsafe { f(visitor.as_raw(), *value.as_raw()) });
    }
    match hook.get::<ObjectRef<tvmffi_core::FunctionObj>>() {
        Ok(f) => {
            let result = Function::from_object(f).call(&[AnyView::from(visitor), value])?;
            outcome_from_any(result)
        }
        Err(_) => {
            Err(Error::type_error("__s_visit__ must be an opaque function pointer or ffi.Function"))
        }
    }
}

/// The default descent through any visitor, each child through its vtable (recursing).
fn default_visit(visitor: &ObjectRef<Object<VisitorCell>>, value: AnyView<'_>) -> VisitOutcome {
    let handle = StructuralVisitor::from_object(visitor.clone());
    let region = &visitor.def_region;
    let mut types = TypeCache::default();
    let (mut children, clamp) =
        children_of(&mut types, value, DefRegionKind(region.load(Ordering::Relaxed)))?;
    if let Children::Hook(hook) = children {
        return call_hook(hook, visitor, value);
    }
    let mut visit_all = || -> VisitOutcome {
        while let Some((child, kind)) = next_child(&mut children)? {
            let outcome = match kind {
                Some(kind) => with_region(region, kind, || handle.visit(child)),
                None => handle.visit(child),
            }?;
            if outcome.is_some() {
                return Ok(outcome);
            }
        }
        Ok(None)
    };
    if clamp { with_region(region, DefRegionKind::NONE, visit_all) } else { visit_all() }
}

/// `DefaultVisitExpected` through any visitor object, as a raw result.
///
/// # Safety
///
/// `visitor` is a live visitor object and `value` a valid view, both for the call.
pub(crate) unsafe fn default_visit_raw(visitor: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promises: a live visitor, starting with `VisitorCell`.
    let visitor = unsafe { ObjectRef::<Object<VisitorCell>>::from_raw_borrowed(visitor) };
    let Some(visitor) = visitor else {
        return outcome_to_raw(Err(Error::value_error("null visitor")));
    };
    // SAFETY: the caller's promise.
    outcome_to_raw(default_visit(&visitor, unsafe { AnyView::from_raw(value) }))
}

/// The visitor of a native hook's first argument, checked.
fn hook_visitor(visitor: *mut TVMFFIObject) -> Result<StructuralVisitor, Error> {
    // SAFETY: the hook's caller passes a live visitor object.
    let obj = unsafe { ObjectRef::<tvmffi_core::ObjectHeader>::from_raw_borrowed(visitor) }
        .ok_or_else(|| Error::value_error("__s_visit__: null visitor"))?;
    let obj = AnyView::from(&obj);
    obj.get::<StructuralVisitor>().map_err(|_| Error::type_error("__s_visit__: not a visitor"))
}

/// The built-in `__s_visit__` of arrays and lists: each element, in order.
///
/// # Safety
///
/// `visitor` is a live visitor object and `value` a valid view of an array or list.
pub(crate) unsafe extern "C" fn visit_seq_hook(
    visitor: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promise.
    let value = unsafe { AnyView::from_raw(value) };
    let run = || -> VisitOutcome {
        let visitor = hook_visitor(visitor)?;
        let items = Items::of(&value)?;
        for i in 0..items.len() {
            if let Some(item) = items.get(i) {
                if let Some(stop) = visitor.visit(item)? {
                    return Ok(Some(stop));
                }
            }
        }
        Ok(None)
    };
    outcome_to_raw(run())
}

/// The built-in `__s_visit__` of maps and dicts: each value, in iteration order (keys are
/// anchors, not visited).
///
/// # Safety
///
/// `visitor` is a live visitor object and `value` a valid view of a map or dict.
pub(crate) unsafe extern "C" fn visit_map_hook(
    visitor: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promise.
    let value = unsafe { AnyView::from_raw(value) };
    let run = || -> VisitOutcome {
        let visitor = hook_visitor(visitor)?;
        for (_, v) in MapLike::of(&value)?.pairs() {
            if let Some(stop) = visitor.visit(v.view())? {
                return Ok(Some(stop));
            }
        }
        Ok(None)
    };
    outcome_to_raw(run())
}
