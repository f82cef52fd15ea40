//! The two macros that keep Rust honest against the C headers.
//!
//! [`c_layout!`] asserts, at compile time, the size, alignment and field offsets of each
//! `#[repr(C)]` mirror, and records what Rust really laid out in a table that `ci/abi-check`
//! turns into C `_Static_assert`s compiled against the reference headers. [`open_enum!`]
//! declares an open C value set (a type index, a device type, a flag mask) as an integer
//! newtype with associated constants, and records each constant's C name for the same check.

/// Size, alignment and field offsets of one `#[repr(C)]` mirror, as Rust laid it out.
#[derive(Debug, Clone, Copy)]
pub struct CLayout {
    /// The C name of the type.
    pub c_name: &'static str,
    /// `size_of` the Rust mirror.
    pub size: usize,
    /// `align_of` the Rust mirror.
    pub align: usize,
    /// `(C field name, offset)` for every field the header declares.
    pub fields: &'static [(&'static str, usize)],
}

/// One named constant of a C enum or `#define`, with its value.
#[derive(Debug, Clone, Copy)]
pub struct CConstant {
    /// The C name, e.g. `kTVMFFIInt`.
    pub c_name: &'static str,
    /// The value, widened to `i128` so every C integer type fits.
    pub value: i128,
}

/// Pick the expected number for the target: 64-bit, 32-bit with 8-byte `int64_t`
/// alignment (Arm, RISC-V, wasm32), or 32-bit with 4-byte `int64_t` alignment (i686).
#[doc(hidden)]
#[macro_export]
macro_rules! pick {
    ($v64:literal, $v32:literal) => {
        $crate::pick!($v64, $v32, $v32)
    };
    ($v64:literal, $v32:literal, $v32a4:literal) => {
        if cfg!(target_pointer_width = "64") {
            $v64
        } else if core::mem::align_of::<u64>() == 8 {
            $v32
        } else {
            $v32a4
        }
    };
}

/// The offset of a C field, whose Rust path differs where C has an anonymous union.
#[doc(hidden)]
#[macro_export]
macro_rules! c_offset_of {
    ($ty:ty, $cf:ident) => {
        core::mem::offset_of!($ty, $cf)
    };
    ($ty:ty, $cf:ident, $($rf:ident).+) => {
        core::mem::offset_of!($ty, $($rf).+)
    };
}

/// Assert the layout of `#[repr(C)]` mirrors and record it in a table.
///
/// Each number is `64-bit / 32-bit` or `64-bit / 32-bit / i686` (where `int64_t` is only
/// 4-byte aligned inside structs). A field written `c_name @ rust.path` lives inside a
/// Rust union that stands for an anonymous C union, or inside a payload. A type written
/// `Type as "tvm::ffi::Name"` is checked against that C++ class rather than a C struct.
///
/// Exported (hidden) for the tiers above the core, whose objects mirror C++ classes.
#[doc(hidden)]
#[macro_export]
macro_rules! c_layout {
    (@name $ty:ident) => { stringify!($ty) };
    (@name $ty:ident, $cname:literal) => { $cname };
    (
        $(#[$meta:meta])*
        $vis:vis const $table:ident = [
            $(
                $ty:ident $(as $cname:literal)? {
                    size: $s64:literal / $s32:literal $(/ $s32a4:literal)?,
                    align: $align:expr,
                    fields: {
                        $( $cf:ident $(@ $($rf:ident).+)? = $o64:literal / $o32:literal $(/ $o32a4:literal)? ),* $(,)?
                    } $(,)?
                }
            ),* $(,)?
        ];
    ) => {
        $(
            const _: () = {
                assert!(
                    core::mem::size_of::<$ty>() == $crate::pick!($s64, $s32 $(, $s32a4)?),
                    concat!("size of ", stringify!($ty), " differs from the C header"),
                );
                assert!(
                    core::mem::align_of::<$ty>() == $align,
                    concat!("alignment of ", stringify!($ty), " differs from the C header"),
                );
                $(
                    assert!(
                        $crate::c_offset_of!($ty, $cf $(, $($rf).+)?)
                            == $crate::pick!($o64, $o32 $(, $o32a4)?),
                        concat!("offset of ", stringify!($ty), ".", stringify!($cf),
                                " differs from the C header"),
                    );
                )*
            };
        )*

        $(#[$meta])*
        $vis const $table: &[$crate::CLayout] = &[
            $(
                $crate::CLayout {
                    c_name: $crate::c_layout!(@name $ty $(, $cname)?),
                    size: core::mem::size_of::<$ty>(),
                    align: core::mem::align_of::<$ty>(),
                    fields: &[ $( (stringify!($cf), $crate::c_offset_of!($ty, $cf $(, $($rf).+)?)) ),* ],
                }
            ),*
        ];
    };
}

/// Declare an open C value set as an integer newtype with associated constants.
///
/// Values outside the named constants stay representable (C may hand us any integer), so
/// this is never a Rust `enum`. `Debug` prints the constant's name where there is one.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($repr:ty);
        $(
            $(#[$cmeta:meta])*
            $const:ident = $value:expr => $c_name:literal;
        )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[repr(transparent)]
        pub struct $name(pub $repr);

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $const: Self = Self($value);
            )*

            /// Every named constant with its C name, for the C header cross-check.
            pub const C_CONSTANTS: &'static [$crate::macros::CConstant] = &[
                $( $crate::macros::CConstant { c_name: $c_name, value: $value as i128 } ),*
            ];

            /// The Rust name of this value's constant, if it has one.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( v if v == $value => Some(stringify!($const)), )*
                    _ => None,
                }
            }

            /// The raw C integer.
            #[inline]
            pub const fn get(self) -> $repr {
                self.0
            }
        }

        impl From<$repr> for $name {
            #[inline]
            fn from(v: $repr) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $repr {
            #[inline]
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, concat!(stringify!($name), "::{}"), n),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                match self.name() {
                    Some(n) => defmt::write!(f, "{}::{=str}", stringify!($name), n),
                    None => defmt::write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }
    };
}

/// Bit operations for an [`open_enum!`] newtype that is a flag mask.
macro_rules! flag_ops {
    ($name:ident) => {
        impl $name {
            /// Whether every bit of `other` is set in `self`.
            #[inline]
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// The union of both masks.
            #[inline]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }
        }

        impl core::ops::BitOr for $name {
            type Output = Self;
            #[inline]
            fn bitor(self, rhs: Self) -> Self {
                self.union(rhs)
            }
        }

        impl core::ops::BitOrAssign for $name {
            #[inline]
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl core::ops::BitAnd for $name {
            type Output = Self;
            #[inline]
            fn bitand(self, rhs: Self) -> Self {
                Self(self.0 & rhs.0)
            }
        }
    };
}
