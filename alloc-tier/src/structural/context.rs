//! Where a structural visit failed: `ffi.VisitErrorContext` (the reference's
//! `extra/visit_error_context.h`), the trail of objects a failing visit passed through, kept
//! in the error's extra context, and the search for the access paths that trail matches in a
//! root value (`FindAccessPaths`).
//!
//! Each traversal level that an error passes on its way out appends the object it was
//! visiting, so the trail lists the objects from the one that failed up to the root. Turning
//! it into paths is a search because a node may be shared: every place in the root where the
//! trail fits is reported.

use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef, TypeIndex};

use super::items::{Items, MapLike};
use super::path::{AccessPath, AccessStep};
use super::reflect::{TypeCache, field_name, get_field};
use crate::error::Error;
use crate::seq::{List, ListObj};

/// The payload of an `ffi.VisitErrorContext` object (`VisitErrorContextObj`).
#[repr(C)]
pub struct VisitErrorContextObj {
    /// The objects a failing visit passed through, the failing one first.
    pub reverse_visit_pattern: ObjectRef<ListObj>,
    /// The error's extra context before this one, if it had one.
    pub prev_error_context: Option<ObjectRef>,
}

impl Default for VisitErrorContextObj {
    /// An empty trail (`VisitErrorContextObj()`).
    fn default() -> Self {
        Self { reverse_visit_pattern: List::new().into_object(), prev_error_context: None }
    }
}

impl Clone for VisitErrorContextObj {
    /// A copy sharing the trail list (the reference's copy constructor).
    fn clone(&self) -> Self {
        Self {
            reverse_visit_pattern: self.reverse_visit_pattern.clone(),
            prev_error_context: self.prev_error_context.clone(),
        }
    }
}

super::support::builtin_type! {
    // SAFETY: the reference's key; the payload is `VisitErrorContextObj`'s layout (asserted in
    // `LAYOUTS`), and the type is final.
    unsafe impl for VisitErrorContextObj { type_key = "ffi.VisitErrorContext"; is_final = true; }
}

#[repr(C)]
struct VisitErrorContextLayout {
    header: tvmffi_core::ObjectHeader,
    payload: VisitErrorContextObj,
}

tvmffi_core::c_layout! {
    /// The layout of context objects, as the reference's C++ class.
    pub const LAYOUTS = [
        VisitErrorContextLayout as "tvm::ffi::VisitErrorContextObj" {
            size: 40 / 32,
            align: core::mem::align_of::<u64>(),
            fields: {
                reverse_visit_pattern @ payload.reverse_visit_pattern = 24 / 24,
                prev_error_context @ payload.prev_error_context = 32 / 28,
            },
        },
    ];
}

/// The trail of a failed structural visit, found in the error's extra context.
#[derive(Clone)]
pub struct VisitErrorContext {
    obj: ObjectRef<Object<VisitErrorContextObj>>,
}

impl VisitErrorContext {
    /// The visit context of `err`, if its extra context is one (`TryGetFromError`).
    pub fn of_error(err: &Error) -> Option<Self> {
        let ctx = err.extra_context()?;
        ctx.downcast().ok().map(|obj| Self { obj })
    }

    /// The objects the failing visit passed through, the failing one first (as recorded:
    /// repeats and empty entries included).
    pub fn reverse_visit_pattern(&self) -> List {
        List::from_object(self.obj.reverse_visit_pattern.clone())
    }

    /// The error's extra context before the visit added this one.
    pub fn prev_error_context(&self) -> Option<ObjectRef> {
        self.obj.prev_error_context.clone()
    }

    /// Every path in `root` along which the trail leads to the failing object; with
    /// `allow_prefix_match`, also the deepest places where only the root end of the trail
    /// matched (`FindAccessPaths`).
    pub fn find_access_paths(
        &self,
        root: &ObjectRef,
        allow_prefix_match: bool,
    ) -> Result<Vec<AccessPath>, Error> {
        find_access_paths(root, self, allow_prefix_match)
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<VisitErrorContextObj>> {
        &self.obj
    }
}

impl<'a> FromAnyView<'a> for VisitErrorContext {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

impl crate::function::TypeStr for VisitErrorContext {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.VisitErrorContext")
    }
}

impl From<VisitErrorContext> for Any {
    fn from(c: VisitErrorContext) -> Self {
        Any::from(c.obj)
    }
}

/// Record that an error passed through `node` on its way out of a visit
/// (`UpdateVisitErrorContext`): appended to the error's visit context, or a new context made
/// (keeping any earlier extra context as its `prev_error_context`). Values that are not
/// objects leave no trace.
pub(crate) fn attach(err: Error, node: AnyView<'_>) -> Error {
    let Some(node) = node.get::<ObjectRef>().ok().filter(|_| node.type_index().is_object()) else {
        return err;
    };
    let prev = err.extra_context();
    if let Some(ctx) = prev.clone().and_then(|c| c.downcast::<Object<VisitErrorContextObj>>().ok())
    {
        List::from_object(ctx.reverse_visit_pattern.clone()).push(Any::from(node));
        return err;
    }
    let list = List::from_vec(alloc::vec![Any::from(node)]);
    let ctx = VisitErrorContextObj {
        reverse_visit_pattern: list.into_object(),
        prev_error_context: prev,
    };
    match crate::structural::support::new_object(ctx) {
        Ok(obj) => err.with_extra_context(obj.upcast()),
        // The context type cannot be registered: keep the error as it is.
        Err(_) => err,
    }
}

/// A step on the way down, its text made only if a match needs it.
enum Temp {
    Field(&'static [u8]),
    Item(i64),
    Key(Any),
}

impl Temp {
    fn to_step(&self) -> Result<AccessStep, Error> {
        match self {
            Self::Field(name) => AccessStep::new(
                super::AccessKind::ATTR,
                crate::string::str_any_from_bytes(name)
                    .map_err(|e| Error::value_error(alloc::format!("{e}")))?,
            ),
            Self::Item(i) => AccessStep::array_item(*i),
            Self::Key(k) => AccessStep::map_item(k.clone()),
        }
    }
}

/// Work of the depth-first search, last pushed first done.
enum Work {
    Object(ObjectRef),
    Value(Any),
    Push(Temp),
    Pop,
    /// Leave an object: `matched` if it advanced the match, `results` before its fields.
    Leave {
        matched: bool,
        results: usize,
    },
}

/// The paths in `root` along which `context`'s trail leads to the failing object
/// (`VisitErrorContext::FindAccessPaths`).
pub fn find_access_paths(
    root: &ObjectRef,
    context: &VisitErrorContext,
    allow_prefix_match: bool,
) -> Result<Vec<AccessPath>, Error> {
    // The trail without empty entries and without runs of one object (a throw site and the
    // frame above it may both record the same node).
    let mut records: Vec<usize> = Vec::new();
    for entry in &context.reverse_visit_pattern() {
        if let Some(p) = entry.as_object_ptr() {
            let p = p.as_ptr() as usize;
            if records.last() != Some(&p) {
                records.push(p);
            }
        }
    }
    let mut finder = Finder {
        records,
        allow_prefix_match,
        matched: 0,
        steps: Vec::new(),
        paths: Vec::new(),
        results: Vec::new(),
        types: TypeCache::default(),
    };
    finder.run(root.clone())?;
    Ok(finder.results)
}

struct Finder {
    records: Vec<usize>,
    allow_prefix_match: bool,
    /// How many trail entries, from the root end, the current descent has matched.
    matched: usize,
    steps: Vec<Temp>,
    /// Paths made for `steps[..paths.len()]`, reused by later matches with that prefix.
    paths: Vec<AccessPath>,
    results: Vec<AccessPath>,
    types: TypeCache,
}

impl Finder {
    fn run(&mut self, root: ObjectRef) -> Result<(), Error> {
        let mut work = alloc::vec![Work::Object(root)];
        while let Some(w) = work.pop() {
            match w {
                Work::Object(node) => self.enter(node, &mut work)?,
                Work::Value(v) => self.value(v, &mut work)?,
                Work::Push(step) => self.steps.push(step),
                Work::Pop => {
                    self.steps.pop();
                    self.paths.truncate(self.steps.len());
                }
                Work::Leave { matched, results } => {
                    let partial = self.matched > 0 && self.matched < self.records.len();
                    if self.allow_prefix_match
                        && partial
                        && !self.steps.is_empty()
                        && self.results.len() == results
                    {
                        let path = self.materialize()?;
                        self.results.push(path);
                    }
                    if matched {
                        self.matched -= 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn enter(&mut self, node: ObjectRef, work: &mut Vec<Work>) -> Result<(), Error> {
        let Ok(ty) = self.types.get(node.type_index()) else { return Ok(()) };
        if ty.info.metadata.is_null() {
            return Ok(());
        }
        let n = self.records.len();
        let matched = self.matched < n
            && n.checked_sub(1 + self.matched).and_then(|i| self.records.get(i))
                == Some(&(node.as_raw() as usize));
        if matched {
            self.matched += 1;
            if self.matched == n {
                let path = self.materialize()?;
                self.results.push(path);
                self.matched -= 1;
                return Ok(());
            }
        }
        work.push(Work::Leave { matched, results: self.results.len() });
        for field in ty.fields.iter().rev() {
            // SAFETY: `node` is alive (held here), and `field` is one of its type's.
            let value = unsafe { get_field(node.as_raw(), field) }?;
            work.push(Work::Pop);
            work.push(Work::Value(value));
            work.push(Work::Push(Temp::Field(field_name(field))));
        }
        Ok(())
    }

    fn value(&mut self, value: Any, work: &mut Vec<Work>) -> Result<(), Error> {
        let view = value.view();
        match value.type_index() {
            t if !t.is_object() => {}
            TypeIndex::ARRAY | TypeIndex::LIST => {
                let items = Items::of(&view)?;
                for i in (0..items.len()).rev() {
                    let Some(item) = items.get(i).filter(|v| !v.is_none()) else { continue };
                    work.push(Work::Pop);
                    work.push(Work::Value(item.to_owned()?));
                    work.push(Work::Push(Temp::Item(i as i64)));
                }
            }
            TypeIndex::MAP | TypeIndex::DICT => {
                for (k, v) in MapLike::of(&view)?.pairs().into_iter().rev() {
                    if k.is_none() || v.is_none() {
                        continue;
                    }
                    work.push(Work::Pop);
                    work.push(Work::Value(v));
                    work.push(Work::Push(Temp::Key(k)));
                }
            }
            _ => work.push(Work::Object(value.get()?)),
        }
        Ok(())
    }

    /// The path of the current descent, reusing the nodes made for its prefixes.
    fn materialize(&mut self) -> Result<AccessPath, Error> {
        if self.steps.is_empty() {
            return AccessPath::root();
        }
        while self.paths.len() < self.steps.len() {
            let parent = match self.paths.last() {
                Some(p) => p.clone(),
                None => AccessPath::root()?,
            };
            let Some(step) = self.steps.get(self.paths.len()) else { break };
            self.paths.push(parent.extend(step.to_step()?)?);
        }
        match self.paths.last() {
            Some(p) => Ok(p.clone()),
            None => AccessPath::root(),
        }
    }
}
