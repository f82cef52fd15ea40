//! Structural equality (the reference's `StructuralEqual`, `src/ffi/extra/structural_equal.cc`)
//! and the first mismatch as a pair of access paths (`GetFirstMismatch`).
//!
//! Values compare by content: text (inline or not) by bytes, floats by value with every NaN
//! equal, sequences element by element, maps key by key in any order, shapes by extents,
//! tensors by shape, data type and bytes. Objects compare by their type's structural kind:
//!
//! - tree nodes by their fields (those flagged `SEqHashIgnore` skipped), or through the type's
//!   `__s_equal__` hook; constant tree nodes are equal at once when identical;
//! - unique instances by identity;
//! - DAG nodes by fields, and once matched, each side's node only ever matches the other's;
//! - free variables by identity, unless inside a definition region (a field flagged
//!   `SEqHashDefPattern` or `SEqHashDefSimple`, or everywhere with `map_free_vars`), where a
//!   first meeting binds them to each other for the rest of the comparison.
//!
//! The comparison keeps its own stack, so depth costs heap, not native stack; see the
//! [module docs](super) for hooks and cycles.

mod machine;

use alloc::vec::Vec;

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, ObjectRef, TypeIndex};

use super::Options;
use super::path::{AccessPath, PendingStep, path_from_reversed};
use super::reflect::{Column, TypeCache};
use super::support::{AddrMap, Lender, check_stack, stack_position};
use crate::error::Error;
use crate::function::Function;
use crate::string::any_view_to_owned;
use crate::tensor::Tensor;

/// The `__s_equal__` hook column.
static S_EQUAL: Column = Column::new("__s_equal__");

const WHAT: &str = "StructuralEqual";

/// Whether `lhs` and `rhs` are structurally equal.
///
/// Errors: a `TypeError` for an object whose type does not support structural equality (no
/// metadata, or kind `Unsupported`), errors of hooks and field getters, tensors that are not
/// contiguous CPU tensors (unless `skip_tensor_content`), and a `ValueError` for a value that
/// contains itself.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::structural::{Options, structural_equal};
/// use tvmffi_alloc::{Array, Map};
/// use tvmffi_core::{Any, AnyView};
///
/// let a = Array::from_vec(vec![Any::from(1i64), Any::from(2.5f64)]);
/// let b = Array::from_vec(vec![Any::from(1i64), Any::from(2.5f64)]);
/// assert!(structural_equal(AnyView::from(&a), AnyView::from(&b), Options::default())?);
/// let m1: Map = [(1i64, 10i64), (2, 20)].into_iter().collect();
/// let m2: Map = [(2i64, 20i64), (1, 10)].into_iter().collect();
/// assert!(structural_equal(AnyView::from(&m1), AnyView::from(&m2), Options::default())?);
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
pub fn structural_equal(
    lhs: AnyView<'_>,
    rhs: AnyView<'_>,
    options: Options,
) -> Result<bool, Error> {
    let (lhs, rhs) = (owned(lhs)?, owned(rhs)?);
    EqState::new(options, false).compare(lhs.view(), rhs.view())
}

/// The first mismatch between `lhs` and `rhs` as the path to it on each side, or `None` when
/// they are structurally equal (`GetFirstMismatch`).
///
/// Missing parts show as `…_missing` steps: comparing `[1, 2, 3]` with `[1, 2]` gives
/// `<root>[2]` and `<root>[<missing:2>]`.
pub fn first_mismatch(
    lhs: AnyView<'_>,
    rhs: AnyView<'_>,
    options: Options,
) -> Result<Option<(AccessPath, AccessPath)>, Error> {
    let (lhs, rhs) = (owned(lhs)?, owned(rhs)?);
    let mut state = EqState::new(options, true);
    if state.compare(lhs.view(), rhs.view())? {
        return Ok(None);
    }
    let Trace { lhs, rhs } = state.trace.take().unwrap_or_default();
    Ok(Some((path_from_reversed(lhs)?, path_from_reversed(rhs)?)))
}

/// An owned value of a view (borrowed C strings and byte arrays become string objects).
fn owned(view: AnyView<'_>) -> Result<Any, Error> {
    any_view_to_owned(view).map_err(Error::from)
}

/// The mismatch steps recorded so far, deepest first.
#[derive(Default)]
struct Trace {
    lhs: Vec<PendingStep>,
    rhs: Vec<PendingStep>,
}

/// The state of one comparison, shared by its nested runs (through hooks).
struct EqState {
    region: DefRegionKind,
    skip_tensor_content: bool,
    trace: Option<Trace>,
    /// DAG nodes and free variables matched so far, both ways; the entries hold both
    /// objects so their addresses stay theirs.
    lhs_to_rhs: AddrMap<(ObjectRef, ObjectRef)>,
    rhs_to_lhs: AddrMap<(ObjectRef, ObjectRef)>,
    types: TypeCache,
    lender: Lender<EqState>,
    callback: Option<Function>,
    stack_base: usize,
}

impl EqState {
    fn new(options: Options, trace: bool) -> Self {
        Self {
            region: options.initial_region(),
            skip_tensor_content: options.skip_tensor_content,
            trace: trace.then(Trace::default),
            lhs_to_rhs: AddrMap::default(),
            rhs_to_lhs: AddrMap::default(),
            types: TypeCache::default(),
            lender: Lender::default(),
            callback: None,
            stack_base: stack_position(),
        }
    }

    fn record(&mut self, lhs: PendingStep, rhs: PendingStep) {
        if let Some(t) = &mut self.trace {
            t.lhs.push(lhs);
            t.rhs.push(rhs);
        }
    }

    fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Call a type's `__s_equal__` hook with the callback that compares nested values.
    fn call_hook(
        &mut self,
        hook: AnyView<'static>,
        lhs: &AnyView<'_>,
        rhs: &AnyView<'_>,
    ) -> Result<bool, Error> {
        let hook = hook_function(hook, "__s_equal__")?;
        check_stack(self.stack_base, WHAT)?;
        let callback = self.callback();
        let lender = self.lender.clone();
        let result =
            lender.lend(self, || hook.call(&[*lhs, *rhs, AnyView::from(callback.as_object())]))?;
        result_bool(&result, "__s_equal__")
    }

    /// The callback hooks get (made once per comparison): `(lhs, rhs, def_region_kind,
    /// field_name) -> bool`, comparing the nested values in this comparison's state.
    fn callback(&mut self) -> Function {
        if let Some(f) = &self.callback {
            return f.clone();
        }
        let lender = self.lender.clone();
        let f = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [l, r, kind, name] = args else {
                return Err(Error::type_error(alloc::format!(
                    "the __s_equal__ callback takes 4 arguments (lhs, rhs, def_region_kind, \
                     field_name), got {}",
                    args.len()
                )));
            };
            let kind = DefRegionKind(kind.get::<i32>()?);
            let (l, r) = (owned(*l)?, owned(*r)?);
            lender.borrow("__s_equal__", |st| st.nested(l.view(), r.view(), kind, *name))
        });
        self.callback = Some(f.clone());
        f
    }

    /// A comparison a hook asked for, in `kind`'s region (`None` keeps the current one).
    fn nested(
        &mut self,
        lhs: AnyView<'_>,
        rhs: AnyView<'_>,
        kind: DefRegionKind,
        name: AnyView<'_>,
    ) -> Result<Any, Error> {
        let saved = self.region;
        let entered = if kind == DefRegionKind::NONE { saved } else { kind };
        self.region = super::enter_region(saved, entered);
        let result = self.compare(lhs, rhs);
        self.region = saved;
        let ok = result?;
        if !ok && self.tracing() {
            let name = owned(name)?;
            if name.as_str().is_err() {
                return Err(Error::type_error(
                    "the __s_equal__ callback's field_name must be a str",
                ));
            }
            self.record(PendingStep::Named(name.clone()), PendingStep::Named(name));
        }
        Ok(Any::from(ok))
    }
}

/// Values of different type indices: only text in its two forms can still be equal.
fn text_equal_across_forms(lhs: &AnyView<'_>, rhs: &AnyView<'_>) -> bool {
    let form = |t: TypeIndex| match t {
        TypeIndex::STR | TypeIndex::SMALL_STR => Some(TypeIndex::STR),
        TypeIndex::BYTES | TypeIndex::SMALL_BYTES => Some(TypeIndex::BYTES),
        _ => None,
    };
    match (form(lhs.type_index()), form(rhs.type_index())) {
        (Some(a), Some(b)) if a == b => match (lhs.as_str_or_bytes(), rhs.as_str_or_bytes()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Two inline values of one type: NaNs are all equal, everything else compares its bits
/// (a small string's length and bytes).
#[inline]
fn pod_equal(a: &TVMFFIAny, b: &TVMFFIAny) -> bool {
    if a.type_index == TypeIndex::FLOAT.0 {
        // SAFETY: a float value carries `v_float64`.
        let (x, y) = unsafe { (a.value.v_float64, b.value.v_float64) };
        if x.is_nan() {
            return y.is_nan();
        }
    }
    // SAFETY: every value is fully initialised; the bits are read as integers.
    unsafe {
        a.padding.zero_padding == b.padding.zero_padding && a.value.v_int64 == b.value.v_int64
    }
}

/// A CPU tensor's bytes, for content comparison and hashing; other tensors are the
/// reference's `InternalError`s.
pub(crate) fn tensor_bytes<'t>(t: &'t Tensor, verb: &str) -> Result<&'t [u8], Error> {
    if t.device().device_type() != tvmffi_core::DeviceType::CPU {
        return Err(Error::internal_error(alloc::format!("can only {verb} CPU tensor")));
    }
    if !t.is_contiguous() {
        return Err(Error::internal_error(alloc::format!("Can only {verb} contiguous tensor")));
    }
    let size = usize::try_from(t.data_size())
        .map_err(|_| Error::value_error("the tensor is larger than the address space"))?;
    if size == 0 {
        return Ok(&[]);
    }
    let offset = usize::try_from(t.byte_offset())
        .map_err(|_| Error::value_error("the tensor's byte offset exceeds the address space"))?;
    let data = t.data_ptr().cast::<u8>().cast_const().wrapping_add(offset);
    if data.is_null() {
        return Err(Error::value_error("the tensor has elements but a null data pointer"));
    }
    // SAFETY: a contiguous CPU tensor's `data + byte_offset` holds `data_size` readable
    // bytes for as long as the tensor lives (the DLPack contract every tensor object keeps).
    Ok(unsafe { core::slice::from_raw_parts(data, size) })
}

/// A hook attribute as a function: the reference accepts only function objects for
/// `__s_equal__` and `__s_hash__`.
pub(crate) fn hook_function(hook: AnyView<'_>, name: &str) -> Result<Function, Error> {
    match hook.get::<ObjectRef<tvmffi_core::FunctionObj>>() {
        Ok(f) => Ok(Function::from_object(f)),
        Err(_) => Err(Error::type_error(alloc::format!(
            "{name} must be an ffi.Function, got `{}`",
            crate::object_type::type_key(hook.type_index())
        ))),
    }
}

/// A hook's boolean answer (a returned error object is its failure).
fn result_bool(result: &Any, what: &str) -> Result<bool, Error> {
    if result.type_index() == TypeIndex::ERROR {
        if let Ok(e) = result.get::<ObjectRef<crate::error::ErrorObj>>() {
            return Err(Error::from_object(e));
        }
    }
    result.get::<bool>().map_err(|_| {
        Error::type_error(alloc::format!(
            "CallExpected: result type mismatch, expected bool, but got {} (from {what})",
            crate::object_type::type_key(result.type_index())
        ))
    })
}
