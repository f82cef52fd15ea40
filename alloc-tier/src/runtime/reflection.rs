//! Reflection data in the [`TypeTable`]: fields, methods, metadata and type attributes
//! (the reference's `RegisterTypeField`, `RegisterTypeMethod`, `RegisterTypeMetadata`,
//! `RegisterTypeAttr` and `GetTypeAttrColumn` in `src/ffi/object.cc`).
//!
//! Strings and values the caller passes are copied into the table (strings with a NUL
//! after them), so the infos handed back stay valid after the caller's copies are gone.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFIObject,
    TVMFFITypeAttrColumn, TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::type_table::{TypeTable, out_of_memory};
use crate::error::{Error, bytes_of};

/// One attribute column: `data[i]` is the attribute of type index `i`.
pub(super) struct AttrColumn {
    column: UnsafeCell<TVMFFITypeAttrColumn>,
    values: UnsafeCell<Vec<Any>>,
}

/// The bytes of a caller's byte array, or a `ValueError` naming `what`.
///
/// # Safety
///
/// A non-null `data` is readable for `size` bytes during the call.
unsafe fn input<'a>(arr: &TVMFFIByteArray, what: &str) -> Result<&'a [u8], Error> {
    // SAFETY: the caller's promise.
    unsafe { bytes_of(arr) }
        .ok_or_else(|| Error::value_error(format!("{what}: malformed byte array")))
}

impl TypeTable {
    /// Keep an owned copy of `view` alive in the table, returning it as a view.
    fn keep(&mut self, view: AnyView<'_>) -> Result<TVMFFIAny, Error> {
        let owned = view.to_owned()?;
        let raw = *owned.as_raw();
        self.values.try_reserve(1).map_err(|_| out_of_memory())?;
        self.values.push(owned);
        Ok(raw)
    }

    /// Register a reflected field of `type_index` (`TVMFFITypeRegisterField`). A name the
    /// type already has is an `InternalError`.
    ///
    /// # Safety
    ///
    /// The byte arrays in `info` are readable, its default value is a valid view (when the
    /// flags say it has one), and a setter flagged as a function object is a live one.
    pub unsafe fn register_field(
        &mut self,
        type_index: i32,
        info: &TVMFFIFieldInfo,
    ) -> Result<(), Error> {
        let entry = self.entry_ptr(type_index).ok_or_else(|| missing(type_index))?;
        // SAFETY: caller's promise for the strings.
        let (name, doc, metadata) = unsafe {
            (
                input(&info.name, "field name")?,
                input(&info.doc, "field doc")?,
                input(&info.metadata, "field metadata")?,
            )
        };
        // SAFETY: entries live as long as the table; the fields are read under its lock.
        let data = unsafe { entry.as_ref() }.data.get();
        // SAFETY: as above; each field name was copied by this function.
        let duplicate = unsafe { &(*data).fields }.iter().any(|f| {
            // SAFETY: names point into the table's string pool.
            unsafe { bytes_of(&f.name) }.unwrap_or_default() == name
        });
        if duplicate {
            // SAFETY: as above.
            let key = unsafe { entry.as_ref() }.key();
            return Err(Error::internal_error(format!(
                "Duplicate field name \"{}\" in type \"{}\"",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(key)
            )));
        }
        let mut field = *info;
        let flags = FieldFlags(info.flags);
        if flags.contains(FieldFlags::SETTER_IS_FUNCTION_OBJ) && !info.setter.is_null() {
            // SAFETY: the caller vouches for a live function object: keep it alive.
            let setter = unsafe {
                ObjectRef::<ObjectHeader>::from_raw_borrowed(info.setter.cast::<TVMFFIObject>())
            };
            if let Some(setter) = setter {
                self.values.try_reserve(1).map_err(|_| out_of_memory())?;
                self.values.push(Any::from(setter));
            }
        }
        field.name = self.copy_string(name)?;
        field.doc = self.copy_string(doc)?;
        field.metadata = self.copy_string(metadata)?;
        field.default_value_or_factory = if flags.contains(FieldFlags::HAS_DEFAULT) {
            // SAFETY: the caller vouches for the view.
            self.keep(unsafe { AnyView::from_raw(info.default_value_or_factory) })?
        } else {
            TVMFFIAny::NONE
        };
        // SAFETY: under the table's lock; only the `fields` vector and the info's two field
        // members are written.
        unsafe {
            let fields = &mut (*data).fields;
            fields.try_reserve(1).map_err(|_| out_of_memory())?;
            fields.push(field);
            let info = entry.as_ref().info.get();
            (*info).fields = fields.as_ptr();
            (*info).num_fields = i32::try_from(fields.len()).unwrap_or(i32::MAX);
        }
        Ok(())
    }

    /// Register a reflected method of `type_index` (`TVMFFITypeRegisterMethod`).
    ///
    /// # Safety
    ///
    /// The byte arrays in `info` are readable and its method is a valid view.
    pub unsafe fn register_method(
        &mut self,
        type_index: i32,
        info: &TVMFFIMethodInfo,
    ) -> Result<(), Error> {
        let entry = self.entry_ptr(type_index).ok_or_else(|| missing(type_index))?;
        // SAFETY: caller's promise for the strings and the view.
        let (name, doc, metadata, method) = unsafe {
            (
                input(&info.name, "method name")?,
                input(&info.doc, "method doc")?,
                input(&info.metadata, "method metadata")?,
                AnyView::from_raw(info.method),
            )
        };
        let mut copy = *info;
        copy.name = self.copy_string(name)?;
        copy.doc = self.copy_string(doc)?;
        copy.metadata = self.copy_string(metadata)?;
        copy.method = self.keep(method)?;
        // SAFETY: under the table's lock, as in `register_field`.
        unsafe {
            let e = entry.as_ref();
            let methods = &mut (*e.data.get()).methods;
            methods.try_reserve(1).map_err(|_| out_of_memory())?;
            methods.push(copy);
            (*e.info.get()).methods = methods.as_ptr();
            (*e.info.get()).num_methods = i32::try_from(methods.len()).unwrap_or(i32::MAX);
        }
        Ok(())
    }

    /// Register the metadata of `type_index` (`TVMFFITypeRegisterMetadata`); a second
    /// registration is a `RuntimeError`.
    ///
    /// # Safety
    ///
    /// The doc byte array in `metadata` is readable.
    pub unsafe fn register_metadata(
        &mut self,
        type_index: i32,
        metadata: &TVMFFITypeMetadata,
    ) -> Result<(), Error> {
        let entry = self.entry_ptr(type_index).ok_or_else(|| missing(type_index))?;
        // SAFETY: entries live as long as the table; read under its lock.
        let e = unsafe { entry.as_ref() };
        // SAFETY: as above.
        if unsafe { (*e.data.get()).metadata.is_some() } {
            return Err(Error::runtime_error(format!(
                "Overriding the metadata of {}: the type is registered twice, or a subclass \
                 reuses its parent's type key",
                String::from_utf8_lossy(e.key())
            )));
        }
        // SAFETY: caller's promise.
        let doc = unsafe { input(&metadata.doc, "type doc")? };
        let mut copy = *metadata;
        copy.doc = self.copy_string(doc)?;
        // SAFETY: under the lock; the box is stored once and never moved or replaced.
        unsafe {
            let slot = &mut (*e.data.get()).metadata;
            let boxed = slot.insert(Box::new(copy));
            (*e.info.get()).metadata = &raw const **boxed;
        }
        Ok(())
    }

    /// Register the attribute `name` of `type_index` (`TVMFFITypeRegisterAttr`). Index 0
    /// (`None`) only makes sure the column exists. An index that already has the attribute
    /// is a `RuntimeError`; an index the table does not cover is an `InternalError`.
    pub fn register_attr(
        &mut self,
        type_index: i32,
        name: &[u8],
        value: AnyView<'_>,
    ) -> Result<(), Error> {
        let column = self.column(name)?;
        if type_index == TypeIndex::NONE.0 {
            return Ok(());
        }
        if self.entry(type_index).is_none() {
            return Err(missing(type_index));
        }
        // SAFETY: columns live as long as the table; written under its lock, the values
        // through the vector only, the C view field by field.
        unsafe {
            let c = column.as_ref();
            let values = &mut *c.values.get();
            let raw = c.column.get();
            // The column covers `[begin, begin + len)` only: types registered late (dynamic
            // indices from 128) cost no slots for the static ones, which matters on a
            // microcontroller heap.
            let index = usize::try_from(type_index).map_err(|_| missing(type_index))?;
            let begin = match usize::try_from((*raw).begin_index) {
                Ok(begin) if !values.is_empty() => begin,
                _ => index,
            };
            let new_begin = begin.min(index);
            let end = begin.saturating_add(values.len()).max(index.saturating_add(1));
            let new_len = end.saturating_sub(new_begin);
            if new_len != values.len() {
                values
                    .try_reserve(new_len.saturating_sub(values.len()))
                    .map_err(|_| out_of_memory())?;
                let front = begin.saturating_sub(new_begin);
                values.splice(0..0, (0..front).map(|_| Any::none()));
                values.resize_with(new_len, Any::none);
                // The vector may have moved: C must see it before anything below can fail
                // and return, or it would read the freed buffer.
                (*raw).data = values.as_ptr().cast::<TVMFFIAny>();
                (*raw).size = i32::try_from(new_len).unwrap_or(i32::MAX);
                (*raw).begin_index = i32::try_from(new_begin).unwrap_or(type_index);
            }
            let slot = index.saturating_sub(new_begin);
            let Some(cell) = values.get_mut(slot) else { return Err(missing(type_index)) };
            if !cell.is_none() {
                return Err(Error::runtime_error(format!(
                    "TypeAttr `{}` is already registered for type index {type_index}; register \
                     a mutable container once to update it in place",
                    String::from_utf8_lossy(name)
                )));
            }
            // Converted only now, so a refused registration drops nothing under the lock.
            *cell = value.to_owned()?;
        }
        Ok(())
    }

    /// The column of attribute `name`, made empty if missing.
    fn column(&mut self, name: &[u8]) -> Result<NonNull<AttrColumn>, Error> {
        if let Some(c) = self.column_by_name.get(name).and_then(|&i| self.columns.get(i)) {
            return Ok(*c);
        }
        self.columns.try_reserve(1).map_err(|_| out_of_memory())?;
        let column = NonNull::from(Box::leak(Box::new(AttrColumn {
            column: UnsafeCell::new(TVMFFITypeAttrColumn {
                data: core::ptr::null(),
                size: 0,
                begin_index: 0,
            }),
            values: UnsafeCell::new(Vec::new()),
        })));
        self.column_by_name.insert(Box::from(name), self.columns.len());
        self.columns.push(column);
        Ok(column)
    }

    /// The column of attribute `name` (`TVMFFIGetTypeAttrColumn`), valid until the table is
    /// dropped; its data moves when attributes are added.
    pub fn attr_column(&self, name: &[u8]) -> Option<*const TVMFFITypeAttrColumn> {
        let column = self.columns.get(*self.column_by_name.get(name)?)?;
        // SAFETY: columns live as long as the table.
        Some(unsafe { column.as_ref() }.column.get().cast_const())
    }
}

fn missing(type_index: i32) -> Error {
    Error::internal_error(format!("Cannot find type info for type_index={type_index}"))
}
