//! How `ffi.ReprPrint` spells values, as the reference does: floats as C++ streams print
//! them (`%g`, six significant digits), strings with the reference's `EscapedStringPy`,
//! bytes as `b"..."`, devices as `cuda:1`.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use tvmffi_core::sys::DLDevice;

/// `os << value` for a double: `%g` with precision 6 (`1`, `0.1`, `3.14159`, `1e+20`,
/// `1.23457e+08`, `nan`, `-inf`, `-0`).
///
/// ```
/// use tvmffi_alloc::dataclass::format_float;
///
/// assert_eq!(format_float(3.14159265), "3.14159");
/// assert_eq!(format_float(123456789.0), "1.23457e+08");
/// assert_eq!(format_float(1e-5), "1e-05");
/// assert_eq!(format_float(100000.0), "100000");
/// ```
pub fn format_float(v: f64) -> String {
    const PRECISION: i32 = 6;
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v.is_nan() {
        return format!("{sign}nan");
    }
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    if v == 0.0 {
        return format!("{sign}0");
    }
    // The decimal exponent after rounding to six significant digits decides the style.
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..PRECISION).contains(&exponent) {
        let mantissa = strip_zeros(mantissa);
        let (esign, eabs) = if exponent < 0 { ('-', -exponent) } else { ('+', exponent) };
        return format!("{mantissa}e{esign}{eabs:02}");
    }
    let decimals = (PRECISION - 1 - exponent).max(0) as usize;
    strip_zeros(&format!("{v:.decimals$}")).into()
}

/// Drop trailing zeros after a decimal point, and the point if nothing follows it.
fn strip_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.')
}

/// A string as the reference quotes it (`EscapedStringPy`): in double quotes, with `\n`,
/// `\t`, `\r`, `\\`, `\"`, other control characters as `\xNN`, ANSI colour sequences kept
/// as `\x1b[...m`, and non-ASCII characters as `\uXXXX` / `\UXXXXXXXX` (invalid UTF-8 bytes as
/// `\xNN`).
///
/// ```
/// use tvmffi_alloc::dataclass::escape_str;
///
/// assert_eq!(escape_str("a\"b\n".as_bytes()), r#""a\"b\n""#);
/// assert_eq!(escape_str("é€😀".as_bytes()), r#""\u00e9\u20ac\U0001f600""#);
/// ```
pub fn escape_str(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() + 2);
    out.push('"');
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let cont = |b: u8| b & 0xC0 == 0x80;
    let mut i = 0;
    while i < data.len() {
        let (c, d) = (at(i), at(i + 1));
        if c == 0x1b && d == b'[' && i + 1 < data.len() {
            let mut j = i + 2;
            while j < data.len() && (at(j).is_ascii_digit() || at(j) == b';') {
                j += 1;
            }
            if j < data.len() && (at(j) == b'm' || at(j) == b'K') {
                out.push_str("\\x1b[");
                out.extend(data[i + 2..=j].iter().map(|&b| char::from(b)));
                i = j + 1;
                continue;
            }
        }
        let named = match c {
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => {
                i += escape_other(&mut out, data, i, c, d, cont);
                continue;
            }
        };
        out.push_str(named);
        i += 1;
    }
    out.push('"');
    out
}

/// Write the character at `i` (not one of the named escapes) and return its length.
fn escape_other(
    out: &mut String,
    data: &[u8],
    i: usize,
    c: u8,
    d: u8,
    cont: impl Fn(u8) -> bool,
) -> usize {
    let at = |k: usize| data.get(k).copied().unwrap_or(0);
    let n = data.len();
    // Writing to a `String` cannot fail.
    if c & 0x80 == 0 {
        if c < 0x20 || c == 0x7f {
            let _ = write!(out, "\\x{c:02x}");
        } else {
            out.push(char::from(c));
        }
        return 1;
    }
    if c & 0xE0 == 0xC0 && i + 1 < n && cont(d) {
        let cp = (u32::from(c & 0x1F) << 6) | u32::from(d & 0x3F);
        let _ = write!(out, "\\u{cp:04x}");
        return 2;
    }
    if c & 0xF0 == 0xE0 && i + 2 < n {
        let e = at(i + 2);
        if cont(d) && cont(e) {
            let cp = (u32::from(c & 0x0F) << 12) | (u32::from(d & 0x3F) << 6) | u32::from(e & 0x3F);
            let _ = write!(out, "\\u{cp:04x}");
            return 3;
        }
    } else if c & 0xF8 == 0xF0 && i + 3 < n {
        let (e, f) = (at(i + 2), at(i + 3));
        if cont(d) && cont(e) && cont(f) {
            let cp = (u32::from(c & 0x07) << 18)
                | (u32::from(d & 0x3F) << 12)
                | (u32::from(e & 0x3F) << 6)
                | u32::from(f & 0x3F);
            let _ = write!(out, "\\U{cp:08x}");
            return 4;
        }
    }
    let _ = write!(out, "\\x{c:02x}");
    1
}

/// Bytes as the reference prints them (`FormatBytes`): `b"..."`, printable ASCII other than
/// `"` and `\` as is, every other byte as `\xNN`.
///
/// ```
/// use tvmffi_alloc::dataclass::format_bytes;
///
/// assert_eq!(format_bytes(b"ab\x00\xff\""), r#"b"ab\x00\xff\x22""#);
/// ```
pub fn format_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() + 3);
    out.push_str("b\"");
    for &c in data {
        if (32..127).contains(&c) && c != b'"' && c != b'\\' {
            out.push(char::from(c));
        } else {
            // Writing to a `String` cannot fail.
            let _ = write!(out, "\\x{c:02x}");
        }
    }
    out.push('"');
    out
}

/// The short name of a DLPack device type (`DeviceTypeName`), `unknown` for others.
pub fn device_type_name(device_type: i32) -> &'static str {
    match device_type {
        1 => "cpu",
        2 => "cuda",
        3 => "cuda_host",
        4 => "opencl",
        7 => "vulkan",
        8 => "metal",
        9 => "vpi",
        10 => "rocm",
        11 => "rocm_host",
        12 => "ext_dev",
        13 => "cuda_managed",
        14 => "oneapi",
        15 => "webgpu",
        16 => "hexagon",
        17 => "maia",
        18 => "trn",
        _ => "unknown",
    }
}

/// A device as `name:id` (`DeviceToString`).
pub fn format_device(device: DLDevice) -> String {
    format!("{}:{}", device_type_name(device.device_type.0), device.device_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_cpp_streams_do() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1.23456789, "1.23457"),
            (1e20, "1e+20"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456789.0, "1.23457e+08"),
            (999999.5, "1e+06"),
            (99999.95, "99999.9"),
            (1.5e300, "1.5e+300"),
            (5e-324, "4.94066e-324"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (0.0, "0"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
        ];
        for &(v, s) in cases {
            assert_eq!(format_float(v), s, "{v:e}");
        }
    }

    #[test]
    fn strings_escape_as_the_reference() {
        assert_eq!(
            escape_str("a\"b\\c\n\t\x01é€😀".as_bytes()),
            r#""a\"b\\c\n\t\x01\u00e9\u20ac\U0001f600""#
        );
        assert_eq!(escape_str(b"\x1b[31mred\x1b[0m"), r#""\x1b[31mred\x1b[0m""#);
        assert_eq!(escape_str(b"\x1b[31"), r#""\x1b[31""#);
        assert_eq!(escape_str(b"\xff\xc3"), r#""\xff\xc3""#);
        assert_eq!(escape_str(b"\x7f"), r#""\x7f""#);
        assert_eq!(escape_str(b""), r#""""#);
    }

    #[test]
    fn devices_and_bytes() {
        let d = DLDevice { device_type: tvmffi_core::DeviceType(2), device_id: 1 };
        assert_eq!(format_device(d), "cuda:1");
        assert_eq!(device_type_name(99), "unknown");
        assert_eq!(format_bytes(b"\\x"), r#"b"\x5cx""#);
    }
}
