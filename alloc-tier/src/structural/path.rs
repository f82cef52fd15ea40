//! Access paths: how to reach a value inside another, step by step (the reference's
//! `reflection/access_path.h`): `ffi.reflection.AccessStep` and `ffi.reflection.AccessPath`
//! objects, laid out as the reference's so C++ reads them inline.
//!
//! A path is a chain of nodes pointing at their parents (the root has neither parent nor
//! step), so paths sharing a prefix share its nodes.
//!
//! ```
//! # #[cfg(feature = "runtime")] {
//! use tvmffi_alloc::structural::AccessPath;
//! use tvmffi_core::Any;
//!
//! let p = AccessPath::root()?.attr("body")?.array_item(2)?.map_item(Any::from(tvmffi_alloc::String::from("k")))?;
//! assert_eq!(p.to_string(), r#"<root>.body[2]["k"]"#);
//! assert_eq!(p.depth(), 3);
//! assert!(AccessPath::root()?.attr("body")?.is_prefix_of(&p)?);
//! # }
//! # Ok::<(), tvmffi_alloc::Error>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

use crate::error::Error;
use crate::object_type;
use crate::structural::support::text_of;

/// What an [`AccessStep`] does (the reference's `AccessKind`): an open set of C integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct AccessKind(pub i32);

impl AccessKind {
    /// A field of an object; the key is its name.
    pub const ATTR: Self = Self(0);
    /// An element of an array or list; the key is its index.
    pub const ARRAY_ITEM: Self = Self(1);
    /// The value of a map key; the key is the map key.
    pub const MAP_ITEM: Self = Self(2);
    /// A field the other side lacks.
    pub const ATTR_MISSING: Self = Self(3);
    /// An element the other side lacks.
    pub const ARRAY_ITEM_MISSING: Self = Self(4);
    /// A map key the other side lacks.
    pub const MAP_ITEM_MISSING: Self = Self(5);
}

impl crate::function::TypeStr for AccessKind {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("int")
    }
}

impl crate::object_type::FieldType for AccessKind {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::INT;

    fn get_any(&self) -> Any {
        Any::from(self.0)
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        crate::typed::cast::<i32>(view).map(Self)
    }
}

impl fmt::Debug for AccessKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Self::ATTR => "ATTR",
            Self::ARRAY_ITEM => "ARRAY_ITEM",
            Self::MAP_ITEM => "MAP_ITEM",
            Self::ATTR_MISSING => "ATTR_MISSING",
            Self::ARRAY_ITEM_MISSING => "ARRAY_ITEM_MISSING",
            Self::MAP_ITEM_MISSING => "MAP_ITEM_MISSING",
            Self(other) => return write!(f, "AccessKind({other})"),
        };
        write!(f, "AccessKind::{name}")
    }
}

/// The payload of an `ffi.reflection.AccessStep` object (`AccessStepObj`).
#[repr(C)]
#[derive(Clone, Default)]
pub struct AccessStepObj {
    /// The kind of step.
    pub kind: AccessKind,
    /// Its key: a field name, an index, or a map key.
    pub key: Any,
}

super::support::builtin_type! {
    // SAFETY: the reference's key; `AccessStepObj` is `AccessStepObj`'s layout (asserted in
    // `LAYOUTS` and by `ci/abi-check`), and the type is final.
    unsafe impl for AccessStepObj { type_key = "ffi.reflection.AccessStep"; is_final = true; }
}

/// The payload of an `ffi.reflection.AccessPath` object (`AccessPathObj`); the default is
/// the root.
#[repr(C)]
#[derive(Clone, Default)]
pub struct AccessPathObj {
    /// The path without its last step; `None` at the root.
    pub parent: Option<ObjectRef>,
    /// The last step; `None` at the root.
    pub step: Option<ObjectRef<Object<AccessStepObj>>>,
    /// The number of steps.
    pub depth: i32,
}

/// Where a path object's payload starts: right after the header (asserted in `LAYOUTS`).
const PAYLOAD_OFFSET: usize = size_of::<tvmffi_core::ObjectHeader>();

impl Drop for AccessPathObj {
    /// Release the chain of parents one node at a time: a mismatch a million levels deep
    /// makes a path a million nodes long, which recursive destruction would overflow the
    /// stack on.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(parent) = next {
            if !<AccessPathObj as tvmffi_core::Payload>::is_instance(parent.type_index())
                || !parent.is_unique()
            {
                return; // shared, or not a path: its own destruction is not ours to run
            }
            let payload = parent.as_raw().cast::<u8>().wrapping_add(PAYLOAD_OFFSET);
            // SAFETY: a path object (ours or C++'s, one layout) that only `parent` holds:
            // nobody else reads it, so its parent link may be moved out (leaving `None`,
            // a null pointer, as C++ leaves a moved-from `Optional`).
            next = unsafe { (*payload.cast::<AccessPathObj>()).parent.take() };
        }
    }
}

super::support::builtin_type! {
    // SAFETY: as for `AccessStepObj`.
    unsafe impl for AccessPathObj { type_key = "ffi.reflection.AccessPath"; is_final = true; }
}

tvmffi_core::c_layout! {
    /// The layouts of the step and path objects, as the reference's C++ classes.
    pub const LAYOUTS = [
        AccessStepLayout as "tvm::ffi::reflection::AccessStepObj" {
            size: 48 / 48 / 44,
            align: core::mem::align_of::<u64>(),
            fields: { kind @ payload.kind = 24 / 24, key @ payload.key = 32 / 32 / 28 },
        },
        AccessPathLayout as "tvm::ffi::reflection::AccessPathObj" {
            size: 48 / 40 / 36,
            align: core::mem::align_of::<u64>(),
            fields: {
                parent @ payload.parent = 24 / 24,
                step @ payload.step = 32 / 28,
                depth @ payload.depth = 40 / 32,
            },
        },
    ];
}

#[repr(C)]
struct AccessStepLayout {
    header: tvmffi_core::ObjectHeader,
    payload: AccessStepObj,
}

#[repr(C)]
struct AccessPathLayout {
    header: tvmffi_core::ObjectHeader,
    payload: AccessPathObj,
}

/// One step of an access path: a field, an element or a map entry, present or missing.
#[derive(Clone)]
pub struct AccessStep {
    obj: ObjectRef<Object<AccessStepObj>>,
}

impl AccessStep {
    /// A step of `kind` with `key`.
    pub fn new(kind: AccessKind, key: Any) -> Result<Self, Error> {
        Ok(Self { obj: crate::structural::support::new_object(AccessStepObj { kind, key })? })
    }

    /// The step to field `name`.
    pub fn attr(name: &str) -> Result<Self, Error> {
        Self::new(AccessKind::ATTR, text(name)?)
    }

    /// The step to a field the other side lacks.
    pub fn attr_missing(name: &str) -> Result<Self, Error> {
        Self::new(AccessKind::ATTR_MISSING, text(name)?)
    }

    /// The step to element `index`.
    pub fn array_item(index: i64) -> Result<Self, Error> {
        Self::new(AccessKind::ARRAY_ITEM, Any::from(index))
    }

    /// The step to an element the other side lacks.
    pub fn array_item_missing(index: i64) -> Result<Self, Error> {
        Self::new(AccessKind::ARRAY_ITEM_MISSING, Any::from(index))
    }

    /// The step to the value of map key `key`.
    pub fn map_item(key: Any) -> Result<Self, Error> {
        Self::new(AccessKind::MAP_ITEM, key)
    }

    /// The step to a map key the other side lacks.
    pub fn map_item_missing(key: Any) -> Result<Self, Error> {
        Self::new(AccessKind::MAP_ITEM_MISSING, key)
    }

    /// The kind of step.
    pub fn kind(&self) -> AccessKind {
        self.obj.kind
    }

    /// The key.
    pub fn key(&self) -> AnyView<'_> {
        self.obj.key.view()
    }

    /// Whether both steps have the same kind and equal keys (`StepEqual`: keys compare as
    /// map keys do, so a type's `__any_equal__` may run and fail).
    pub fn step_equal(&self, other: &AccessStep) -> Result<bool, Error> {
        Ok(self.kind() == other.kind() && crate::map::any_equal(self.key(), other.key())?)
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<AccessStepObj>> {
        &self.obj
    }

    /// Wrap an object reference.
    pub fn from_object(obj: ObjectRef<Object<AccessStepObj>>) -> Self {
        Self { obj }
    }
}

fn text(s: &str) -> Result<Any, Error> {
    crate::string::str_any_from_bytes(s.as_bytes())
        .map_err(|e| Error::value_error(alloc::format!("{e}")))
}

impl fmt::Display for AccessStep {
    /// The step as the reference's `__ffi_repr__` prints it: `.name`, `[index]`, `[key]`,
    /// `[<missing:…>]`, with keys printed by [`write_key`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key();
        match self.kind() {
            AccessKind::ATTR => write!(f, ".{}", text_of(key).unwrap_or_default()),
            AccessKind::ARRAY_ITEM => write!(f, "[{}]", key.get::<i64>().unwrap_or_default()),
            AccessKind::MAP_ITEM => {
                f.write_str("[")?;
                write_key(f, key)?;
                f.write_str("]")
            }
            AccessKind::ARRAY_ITEM_MISSING => {
                write!(f, "[<missing:{}>]", key.get::<i64>().unwrap_or_default())
            }
            _ => {
                f.write_str("[<missing:")?;
                write_key(f, key)?;
                f.write_str(">]")
            }
        }
    }
}

impl fmt::Debug for AccessStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessStep({self})")
    }
}

/// A key as the reference's `ReprPrint` prints the plain ones: `None`, `True`/`False`,
/// integers, text in double quotes with Python's escapes; other values as `<type key>`.
pub fn write_key(f: &mut impl fmt::Write, key: AnyView<'_>) -> fmt::Result {
    match key.type_index() {
        TypeIndex::NONE => f.write_str("None"),
        TypeIndex::BOOL => {
            f.write_str(if key.get::<bool>().unwrap_or(false) { "True" } else { "False" })
        }
        TypeIndex::INT => write!(f, "{}", key.get::<i64>().unwrap_or_default()),
        TypeIndex::FLOAT => write!(f, "{}", key.get::<f64>().unwrap_or_default()),
        _ => match key.as_str() {
            Ok(s) => {
                f.write_char('"')?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                            write!(f, "\\x{:02x}", c as u32)?
                        }
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
            Err(_) => write!(f, "<{}>", object_type::type_key(key.type_index())),
        },
    }
}

/// A path from a root value to a value inside it.
#[derive(Clone)]
pub struct AccessPath {
    obj: ObjectRef<Object<AccessPathObj>>,
}

impl AccessPath {
    /// The root: no steps. Fails only when the path type cannot be registered with the
    /// runtime (ours registers it at start-up, the reference's in its own library).
    pub fn root() -> Result<Self, Error> {
        let obj = crate::structural::support::new_object(AccessPathObj {
            parent: None,
            step: None,
            depth: 0,
        })?;
        Ok(Self { obj })
    }

    /// This path followed by `step` (`Extend`).
    pub fn extend(&self, step: AccessStep) -> Result<Self, Error> {
        let obj = crate::structural::support::new_object(AccessPathObj {
            parent: Some(self.obj.clone().upcast()),
            step: Some(step.obj),
            depth: self.depth().saturating_add(1),
        })?;
        Ok(Self { obj })
    }

    /// This path, then field `name`.
    pub fn attr(&self, name: &str) -> Result<Self, Error> {
        self.extend(AccessStep::attr(name)?)
    }

    /// This path, then a field the other side lacks.
    pub fn attr_missing(&self, name: &str) -> Result<Self, Error> {
        self.extend(AccessStep::attr_missing(name)?)
    }

    /// This path, then element `index`.
    pub fn array_item(&self, index: i64) -> Result<Self, Error> {
        self.extend(AccessStep::array_item(index)?)
    }

    /// This path, then an element the other side lacks.
    pub fn array_item_missing(&self, index: i64) -> Result<Self, Error> {
        self.extend(AccessStep::array_item_missing(index)?)
    }

    /// This path, then the value of map key `key`.
    pub fn map_item(&self, key: Any) -> Result<Self, Error> {
        self.extend(AccessStep::map_item(key)?)
    }

    /// This path, then a map key the other side lacks.
    pub fn map_item_missing(&self, key: Any) -> Result<Self, Error> {
        self.extend(AccessStep::map_item_missing(key)?)
    }

    /// The path of `steps` from the root (`FromSteps`).
    pub fn from_steps(steps: impl IntoIterator<Item = AccessStep>) -> Result<Self, Error> {
        steps.into_iter().try_fold(Self::root()?, |p, s| p.extend(s))
    }

    /// The number of steps.
    pub fn depth(&self) -> i32 {
        self.obj.depth
    }

    /// The path without its last step; `None` at the root.
    pub fn parent(&self) -> Option<AccessPath> {
        let parent = self.obj.parent.clone()?;
        parent.downcast().ok().map(|obj| Self { obj })
    }

    /// The last step; `None` at the root.
    pub fn step(&self) -> Option<AccessStep> {
        self.obj.step.clone().map(|obj| AccessStep { obj })
    }

    /// The steps from the root (`ToSteps`).
    pub fn to_steps(&self) -> Vec<AccessStep> {
        let mut steps = Vec::with_capacity(usize::try_from(self.depth()).unwrap_or(0));
        let mut node: &AccessPathObj = &self.obj;
        while let (Some(step), Some(parent)) = (&node.step, &node.parent) {
            steps.push(AccessStep { obj: step.clone() });
            match path_node(parent) {
                Some(p) => node = p,
                None => break,
            }
        }
        steps.reverse();
        steps
    }

    /// Whether both paths have equal steps (`PathEqual`).
    pub fn path_equal(&self, other: &AccessPath) -> Result<bool, Error> {
        nodes_equal(&self.obj, &other.obj)
    }

    /// Whether this path is a prefix of `other` (or equal to it) (`IsPrefixOf`).
    pub fn is_prefix_of(&self, other: &AccessPath) -> Result<bool, Error> {
        if self.depth() > other.depth() {
            return Ok(false);
        }
        let mut node: &AccessPathObj = &other.obj;
        while node.depth > self.depth() {
            match node.parent.as_ref().and_then(path_node) {
                Some(p) => node = p,
                None => return Ok(false),
            }
        }
        nodes_equal(&self.obj, node)
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<AccessPathObj>> {
        &self.obj
    }

    /// Wrap an object reference.
    pub fn from_object(obj: ObjectRef<Object<AccessPathObj>>) -> Self {
        Self { obj }
    }
}

/// The path node a parent reference points at, if it is one.
fn path_node(parent: &ObjectRef) -> Option<&AccessPathObj> {
    if !<AccessPathObj as tvmffi_core::Payload>::is_instance(parent.type_index()) {
        return None;
    }
    // SAFETY: an object of the path type is laid out as `Object<AccessPathObj>`; the borrow
    // lives as long as the reference to it.
    Some(unsafe { (*parent.as_raw().cast::<Object<AccessPathObj>>()).payload() })
}

fn nodes_equal(lhs: &AccessPathObj, rhs: &AccessPathObj) -> Result<bool, Error> {
    if core::ptr::eq(lhs, rhs) {
        return Ok(true);
    }
    if lhs.depth != rhs.depth {
        return Ok(false);
    }
    let (mut l, mut r) = (lhs, rhs);
    while let (Some(ls), Some(rs)) = (&l.step, &r.step) {
        let equal = ls.kind == rs.kind && crate::map::any_equal(ls.key.view(), rs.key.view())?;
        if !equal {
            return Ok(false);
        }
        match (l.parent.as_ref().and_then(path_node), r.parent.as_ref().and_then(path_node)) {
            (Some(lp), Some(rp)) if core::ptr::eq(lp, rp) => return Ok(true),
            (Some(lp), Some(rp)) => (l, r) = (lp, rp),
            _ => return Ok(false),
        }
    }
    Ok(l.step.is_none() && r.step.is_none())
}

impl fmt::Display for AccessPath {
    /// `<root>` followed by each step (`.name`, `[index]`, `["key"]`, `[<missing:…>]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<root>")?;
        for step in self.to_steps() {
            fmt::Display::fmt(&step, f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for AccessPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessPath({self})")
    }
}

impl From<AccessPath> for Any {
    fn from(p: AccessPath) -> Self {
        Any::from(p.obj)
    }
}

impl From<AccessStep> for Any {
    fn from(s: AccessStep) -> Self {
        Any::from(s.obj)
    }
}

impl crate::function::TypeStr for AccessPath {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.reflection.AccessPath")
    }
}

impl crate::function::TypeStr for AccessStep {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.reflection.AccessStep")
    }
}

impl<'a> tvmffi_core::FromAnyView<'a> for AccessPath {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

impl<'a> tvmffi_core::FromAnyView<'a> for AccessStep {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

/// A step of a mismatch path as a traversal records it, made into an object only when the
/// traversal ends with a mismatch.
pub(crate) enum PendingStep {
    /// A field, by its name in the type table.
    Field(&'static [u8]),
    /// A field named by a custom hook.
    Named(Any),
    ArrayItem(i64),
    ArrayItemMissing(i64),
    MapItem(Any),
    MapItemMissing(Any),
}

impl PendingStep {
    pub(crate) fn into_step(self) -> Result<AccessStep, Error> {
        match self {
            Self::Field(name) => AccessStep::new(
                AccessKind::ATTR,
                crate::string::str_any_from_bytes(name)
                    .map_err(|e| Error::value_error(alloc::format!("{e}")))?,
            ),
            Self::Named(name) => AccessStep::new(AccessKind::ATTR, name),
            Self::ArrayItem(i) => AccessStep::array_item(i),
            Self::ArrayItemMissing(i) => AccessStep::array_item_missing(i),
            Self::MapItem(k) => AccessStep::map_item(k),
            Self::MapItemMissing(k) => AccessStep::map_item_missing(k),
        }
    }
}

/// The path of steps recorded deepest first.
pub(crate) fn path_from_reversed(steps: Vec<PendingStep>) -> Result<AccessPath, Error> {
    let mut path = AccessPath::root()?;
    for step in steps.into_iter().rev() {
        path = path.extend(step.into_step()?)?;
    }
    Ok(path)
}

/// The text of an `AccessStep` for `__ffi_repr__`, with map keys printed by `repr`.
pub(crate) fn step_repr(
    step: &AccessStepObj,
    repr: &mut dyn FnMut(AnyView<'_>) -> Result<String, Error>,
) -> Result<String, Error> {
    let key = step.key.view();
    let index = || key.get::<i64>().map_err(|e| Error::type_error(alloc::format!("{e}")));
    Ok(match step.kind {
        AccessKind::ATTR => {
            let name = key.as_str().map_err(|e| Error::type_error(alloc::format!("{e}")))?;
            alloc::format!(".{name}")
        }
        AccessKind::ARRAY_ITEM => alloc::format!("[{}]", index()?),
        AccessKind::MAP_ITEM => alloc::format!("[{}]", repr(key)?),
        AccessKind::ARRAY_ITEM_MISSING => alloc::format!("[<missing:{}>]", index()?),
        AccessKind::ATTR_MISSING | AccessKind::MAP_ITEM_MISSING => {
            alloc::format!("[<missing:{}>]", repr(key)?)
        }
        AccessKind(other) => {
            return Err(Error::value_error(alloc::format!("unknown access kind {other}")));
        }
    })
}
