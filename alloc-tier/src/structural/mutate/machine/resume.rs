//! The frames' steps: what each frame needs next once its last child is done, and what
//! leaving a frame undoes.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, TypeIndex};

use super::super::hooks::{finish_map_in_place, new_map, new_seq, seq_slot, set_slot_if_unique};
use super::super::{InplaceMode, MutateOutcome, Mutated, same_as};
use super::{FieldsFrame, Frame, FrameKind, Run, Step};
use crate::error::Error;
use crate::structural::context::attach;
use crate::structural::items::MapLike;
use crate::structural::reflect::{field_name, field_region, get_field, ignored, set_field};

impl Run<'_> {
    /// The next thing a frame needs, given its last child's outcome.
    pub(super) fn resume(&mut self, frame: &mut Frame, child: Option<MutateOutcome>) -> Step {
        let node = frame.node;
        match &mut frame.kind {
            FrameKind::Pre { mapped, mode, started } => {
                if !*started {
                    *started = true;
                    if mapped.type_index() == TypeIndex::UNCHANGED {
                        return Step::Default(node, *mode);
                    }
                    // SAFETY: `node` is the frame's borrowed value.
                    let same = same_as(&mapped.view(), &unsafe { AnyView::from_raw(node) });
                    let mode = if *mode != InplaceMode::ALLOW {
                        InplaceMode::DISALLOW
                    } else if same
                        || mapped.as_object_ptr().is_some_and(|p| {
                            // SAFETY: `mapped` holds a live object.
                            unsafe { p.as_ref() }.is_unique()
                        })
                    {
                        InplaceMode::ALLOW
                    } else {
                        InplaceMode::DISALLOW
                    };
                    let target = if same { node } else { *mapped.as_raw() };
                    return Step::Default(target, mode);
                }
                Step::Finish(match child {
                    Some(Ok(Mutated::Unchanged)) => Ok(Mutated::from_any(mapped.clone())),
                    Some(other) => other,
                    None => Ok(Mutated::Unchanged),
                })
            }
            FrameKind::Post { mode, started } => {
                if !*started {
                    *started = true;
                    return Step::Default(node, *mode);
                }
                let out = match child {
                    Some(Ok(out)) => out,
                    Some(Err(e)) => return Step::Finish(Err(e)),
                    None => Mutated::Unchanged,
                };
                let descended = match &out {
                    Mutated::Unchanged => node,
                    Mutated::Value(v) => *v.as_raw(),
                };
                // SAFETY: the node is borrowed from the parent, `out` lives in this scope.
                let view = unsafe { AnyView::from_raw(descended) };
                Step::Finish(match self.map_callback(view) {
                    None => Ok(out),
                    Some(Err(e)) => Err(attach(e, view)),
                    Some(Ok(r)) if r.type_index() == TypeIndex::UNCHANGED => Ok(out),
                    Some(Ok(r)) => Ok(Mutated::Value(r)),
                })
            }
            FrameKind::SeqCopy { items, index, out } => {
                if let Some(result) = child {
                    let Some(item) = items.get(*index) else {
                        return Step::Finish(Err(Error::internal_error("sequence changed size")));
                    };
                    let r = match result {
                        Ok(r) => r,
                        Err(e) => return Step::Finish(Err(e)),
                    };
                    match out {
                        Some(out) => match r.value_or(item) {
                            Ok(v) => out.push(v),
                            Err(e) => return Step::Finish(Err(e)),
                        },
                        None if !r.unchanged_or_same_as(&item) => {
                            let mut v: Vec<Any> = (0..*index)
                                .filter_map(|j| items.get(j))
                                .map(|x| x.to_owned().unwrap_or_default())
                                .collect();
                            match r.value_or(item) {
                                Ok(x) => v.push(x),
                                Err(e) => return Step::Finish(Err(e)),
                            }
                            *out = Some(v);
                        }
                        None => {}
                    }
                    *index += 1;
                }
                match items.get(*index) {
                    Some(item) => Step::Child(*item.as_raw(), InplaceMode::DISALLOW),
                    None => Step::Finish(Ok(match out.take() {
                        // SAFETY: `node` is the frame's borrowed value.
                        Some(v) => Mutated::Value(new_seq(
                            unsafe { AnyView::from_raw(node) }.type_index(),
                            v,
                        )),
                        None => Mutated::Unchanged,
                    })),
                }
            }
            FrameKind::SeqInPlace { index, out } => {
                // SAFETY: `node` is the frame's borrowed value, a live sequence.
                let seq = unsafe { AnyView::from_raw(node) };
                if let Some(result) = child {
                    let Some(item) = seq_slot(seq, *index) else {
                        return Step::Finish(Err(Error::internal_error("sequence changed size")));
                    };
                    let r = match result {
                        Ok(r) => r,
                        Err(e) => return Step::Finish(Err(e)),
                    };
                    let changed = !r.unchanged_or_same_as(&item);
                    let v = match r.value_or(item) {
                        Ok(v) => v,
                        Err(e) => return Step::Finish(Err(e)),
                    };
                    match out {
                        Some(out) => out.push(v),
                        None if changed => {
                            if let Err(v) = set_slot_if_unique(seq, *index, v) {
                                // Shared after all: copy from here on.
                                let mut items: Vec<Any> = (0..*index)
                                    .filter_map(|j| seq_slot(seq, j))
                                    .map(|x| x.to_owned().unwrap_or_default())
                                    .collect();
                                items.push(v);
                                *out = Some(items);
                            }
                        }
                        None => {}
                    }
                    *index += 1;
                }
                let mode = if out.is_some() { InplaceMode::DISALLOW } else { InplaceMode::ALLOW };
                match seq_slot(seq, *index) {
                    Some(item) => Step::Child(*item.as_raw(), mode),
                    None => Step::Finish(Ok(match out.take() {
                        Some(v) => Mutated::Value(new_seq(seq.type_index(), v)),
                        None => Mutated::Unchanged,
                    })),
                }
            }
            FrameKind::Map { values, index, changed, in_place, .. } => {
                if let Some(result) = child {
                    let Some(&raw) = values.get(*index) else {
                        return Step::Finish(Err(Error::internal_error("map changed size")));
                    };
                    // SAFETY: the map (held alone) or the snapshot keeps the value alive.
                    let v = unsafe { AnyView::from_raw(raw) };
                    match result {
                        Err(e) => return Step::Finish(Err(e)),
                        Ok(r) if !r.unchanged_or_same_as(&v) => match r.value_or(v) {
                            Ok(nv) => changed.push((*index, nv)),
                            Err(e) => return Step::Finish(Err(e)),
                        },
                        Ok(_) => {}
                    }
                    *index += 1;
                }
                let mode = if *in_place { InplaceMode::ALLOW } else { InplaceMode::DISALLOW };
                if let Some(&v) = values.get(*index) {
                    return Step::Child(v, mode);
                }
                // SAFETY: `node` is the frame's borrowed value.
                let map = unsafe { AnyView::from_raw(node) };
                let changed = core::mem::take(changed);
                Step::Finish(if *in_place {
                    finish_map_in_place(map, changed)
                } else if changed.is_empty() {
                    Ok(Mutated::Unchanged)
                } else {
                    MapLike::of(&map).and_then(|m| {
                        let mut pairs = m.pairs();
                        for (i, v) in changed {
                            if let Some(p) = pairs.get_mut(i) {
                                p.1 = v;
                            }
                        }
                        new_map(map.type_index(), pairs).map(Mutated::Value)
                    })
                })
            }
            FrameKind::Fields(f) => self.resume_fields(f, node, child),
        }
    }

    fn resume_fields(
        &mut self,
        f: &mut FieldsFrame,
        node: TVMFFIAny,
        child: Option<MutateOutcome>,
    ) -> Step {
        if let Some(result) = child {
            if let Some(region) = f.child_region.take() {
                self.region().store(region, Ordering::Relaxed);
            }
            let r = match result {
                Ok(r) => r,
                Err(e) => return Step::Finish(Err(e)),
            };
            if !r.unchanged_or_same_as(&f.current.view()) {
                let Some(field) = f.ty.fields.get(f.field) else {
                    return Step::Finish(Err(Error::internal_error("field index out of range")));
                };
                if field.setter.is_null() {
                    return Step::Finish(Err(Error::type_error(alloc::format!(
                        "Cannot structurally mutate field `{}` of type `{}` because it does not \
                         define a setter",
                        alloc::string::String::from_utf8_lossy(field_name(field)),
                        f.ty.key_str()
                    ))));
                }
                let value = r.into_any();
                // SAFETY: the copy is alive (held by the frame), and `field` is one of its
                // type's.
                if let Err(e) = unsafe { set_field(f.copy.as_raw(), field, value.view()) } {
                    return Step::Finish(Err(e));
                }
                f.changed = true;
            }
        }
        while let Some(field) = f.ty.fields.get(f.next) {
            f.field = f.next;
            f.next += 1;
            if ignored(field) {
                continue;
            }
            // SAFETY: as above.
            f.current = match unsafe { get_field(f.copy.as_raw(), field) } {
                Ok(v) => v,
                Err(e) => return Step::Finish(Err(e)),
            };
            if let Some(kind) = field_region(field) {
                let old = self.region().load(Ordering::Relaxed);
                if old != DefRegionKind::PATTERN.0 {
                    f.child_region = Some(old);
                    self.region().store(kind.0, Ordering::Relaxed);
                }
            }
            return Step::Child(*f.current.as_raw(), InplaceMode::DISALLOW);
        }
        if let Some(region) = f.clamp.take() {
            self.region().store(region, Ordering::Relaxed);
        }
        let result =
            if f.changed { Mutated::Value(Any::from(f.copy.clone())) } else { Mutated::Unchanged };
        if f.remapped {
            let pattern = self.region().load(Ordering::Relaxed) == DefRegionKind::PATTERN.0;
            if f.dag || pattern || !matches!(result, Mutated::Unchanged) {
                let recorded = result.clone().into_any();
                // SAFETY: `node` is the frame's borrowed value.
                let var = unsafe { AnyView::from_raw(node) };
                if let Err(e) = self.handle.var_remap_set(var, recorded.view()) {
                    return Step::Finish(Err(e));
                }
            }
        }
        Step::Finish(Ok(result))
    }

    /// A frame is done with `outcome`: default descents name their value in a failure's
    /// trail, and restore the regions they changed.
    pub(super) fn leave(&mut self, frame: &Frame, outcome: MutateOutcome) -> MutateOutcome {
        match &frame.kind {
            FrameKind::Pre { .. } | FrameKind::Post { .. } => outcome,
            FrameKind::Fields(f) => {
                if let Some(region) = f.child_region {
                    self.region().store(region, Ordering::Relaxed);
                }
                if let Some(region) = f.clamp {
                    self.region().store(region, Ordering::Relaxed);
                }
                outcome.map_err(|e| attach(e, frame.node()))
            }
            _ => outcome.map_err(|e| attach(e, frame.node())),
        }
    }
}
