//! [`register_types!`](crate::register_types): register derived object types when the
//! library (or program) holding them is loaded.

/// Register [`#[derive(Object)]`](derive@crate::Object) types as soon as the shared library (or
/// program) holding them is loaded, as C++ registers its types from static initializers:
/// Python can then name them (`tvm_ffi.register_object("ns.Name")`, construct them through
/// `__ffi_init__`) before calling anything in the library.
///
/// Without it a type registers on first use, which is enough for objects that the library's
/// functions make and return. Registration at load uses the platform's initializer section
/// (`.init_array` on ELF targets, `__mod_init_func` on Apple targets, `.CRT$XCU` on
/// Windows); on other targets (wasm, firmware) the types register on first use. A type that
/// fails to register at load fails again, with the error, on first use.
///
/// ```
/// use tvmffi::prelude::*;
///
/// #[derive(Object, Default, Clone)]
/// #[tvmffi(type_key = "example.register.Loaded")]
/// #[repr(C)]
/// struct Loaded {
///     level: i64,
/// }
///
/// tvmffi::register_types!(Loaded);
///
/// // Registered before `main` ran: the runtime knows the key and the field already.
/// let info = tvmffi::object_type::info::TypeInfo::of_key("example.register.Loaded").unwrap();
/// assert_eq!(info.field("level").unwrap().name(), "level");
/// ```
#[macro_export]
macro_rules! register_types {
    ($($ty:ty),+ $(,)?) => {
        const _: () = {
            extern "C" fn __tvmffi_register_types() {
                $(let _ = $crate::object_type::type_index::<$ty>();)+
            }

            #[used]
            #[cfg_attr(
                any(
                    target_os = "linux",
                    target_os = "android",
                    target_os = "freebsd",
                    target_os = "netbsd",
                    target_os = "openbsd",
                    target_os = "dragonfly",
                    target_os = "illumos",
                    target_os = "solaris",
                ),
                unsafe(link_section = ".init_array")
            )]
            #[cfg_attr(target_vendor = "apple", unsafe(link_section = "__DATA,__mod_init_func"))]
            #[cfg_attr(windows, unsafe(link_section = ".CRT$XCU"))]
            static __TVMFFI_REGISTER_TYPES: extern "C" fn() = __tvmffi_register_types;
        };
    };
}
