//! Custom hashing: a type's `__s_hash__` hook, called with the hash so far and a callback
//! that hashes nested values in the same state (recursing natively, within a stack budget).

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::{Any, AnyView, ObjectRef, TypeIndex};

use super::{HashState, WHAT, combine};
use crate::error::Error;
use crate::function::Function;
use crate::string::any_view_to_owned;
use crate::structural::enter_region;
use crate::structural::equal::hook_function;
use crate::structural::support::check_stack;

impl HashState {
    /// Call a type's `__s_hash__` hook with the hash so far and the callback that hashes
    /// nested values.
    pub(super) fn call_hook(
        &mut self,
        hook: AnyView<'static>,
        value: &AnyView<'_>,
        init: u64,
    ) -> Result<u64, Error> {
        let hook = hook_function(hook, "__s_hash__")?;
        check_stack(self.stack_base, WHAT)?;
        let callback = self.callback();
        let lender = self.lender.clone();
        let args = [*value, AnyView::from(init as i64), AnyView::from(callback.as_object())];
        let result = lender.lend(self, || hook.call(&args))?;
        if result.type_index() == TypeIndex::ERROR {
            if let Ok(e) = result.get::<ObjectRef<crate::error::ErrorObj>>() {
                return Err(Error::from_object(e));
            }
        }
        result.get::<i64>().map(|h| h as u64).map_err(|_| {
            Error::type_error(alloc::format!(
                "CallExpected: result type mismatch, expected int, but got {} (from __s_hash__)",
                crate::object_type::type_key(result.type_index())
            ))
        })
    }

    /// The callback hooks get: `(value, init_hash, def_region_kind) -> int`, hashing the
    /// nested value in this hash's state and combining it with `init_hash`.
    fn callback(&mut self) -> Function {
        if let Some(f) = &self.callback {
            return f.clone();
        }
        let lender = self.lender.clone();
        let f = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [value, init, kind] = args else {
                return Err(Error::type_error(alloc::format!(
                    "the __s_hash__ callback takes 3 arguments (value, init_hash, \
                     def_region_kind), got {}",
                    args.len()
                )));
            };
            let init = init.get::<i64>()? as u64;
            let kind = DefRegionKind(kind.get::<i32>()?);
            let value = any_view_to_owned(*value)?;
            lender.borrow("__s_hash__", |st| {
                let saved = st.region;
                let entered = if kind == DefRegionKind::NONE { saved } else { kind };
                st.region = enter_region(saved, entered);
                let h = st.hash(value.view());
                st.region = saved;
                Ok(Any::from(combine(init, h?) as i64))
            })
        });
        self.callback = Some(f.clone());
        f
    }
}
