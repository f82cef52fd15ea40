// Strings, bytes, shapes and big integers both ways: the reference's String, Bytes, Shape and
// BigInt read what our Rust builds, and our Rust reads what they build.
#include <tvm/ffi/any.h>
#include <tvm/ffi/big_int.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/shape.h>
#include <tvm/ffi/string.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"

extern "C" {
int rs_strings_new_str(const char* data, size_t len, TVMFFIAny* out);
int rs_strings_new_bytes(const char* data, size_t len, TVMFFIAny* out);
int rs_strings_str_equals(const TVMFFIAny* value, const char* data, size_t len);
int rs_strings_bytes_equals(const TVMFFIAny* value, const char* data, size_t len);
int rs_strings_view_to_owned(const TVMFFIAny* value, TVMFFIAny* out);
int rs_strings_shape_new(const int64_t* dims, size_t n, TVMFFIAny* out);
int rs_strings_shape_equals(const TVMFFIAny* value, const int64_t* dims, size_t n);
int rs_strings_shape_product(const TVMFFIAny* value, int64_t* out);
int rs_strings_bigint_from_decimal(const char* text, TVMFFIAny* out);
int64_t rs_strings_bigint_to_decimal(const TVMFFIAny* value, char* buf, size_t cap);
int rs_strings_bigint_from_bytes(const char* data, size_t len, TVMFFIAny* out);
}

using namespace tvm::ffi;

namespace {

// Take ownership of a value Rust wrote.
Any Take(TVMFFIAny raw) { return detail::AnyUnsafe::MoveTVMFFIAnyRawToAny(raw); }

Any RustStr(const std::string& s) {
  TVMFFIAny raw;
  CHECK(rs_strings_new_str(s.data(), s.size(), &raw) == 0);
  return Take(raw);
}

Any RustBytes(const std::string& s) {
  TVMFFIAny raw;
  CHECK(rs_strings_new_bytes(s.data(), s.size(), &raw) == 0);
  return Take(raw);
}

// The object of a value, as a C handle.
void* Handle(const Any& a) { return const_cast<Object*>(a.as<Object>()); }

TVMFFIAny Raw(const AnyView& v) { return v.CopyToTVMFFIAny(); }

int RustStrEquals(const AnyView& v, const std::string& s) {
  TVMFFIAny raw = Raw(v);
  return rs_strings_str_equals(&raw, s.data(), s.size());
}

int RustBytesEquals(const AnyView& v, const std::string& s) {
  TVMFFIAny raw = Raw(v);
  return rs_strings_bytes_equals(&raw, s.data(), s.size());
}

std::string RustDecimal(const AnyView& v) {
  TVMFFIAny raw = Raw(v);
  char buf[256];
  int64_t n = rs_strings_bigint_to_decimal(&raw, buf, sizeof(buf));
  return n < 0 ? "<error " + std::to_string(n) + ">" : std::string(buf, n);
}

std::string CppDecimal(const BigInt& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void StringsFromRust() {
  // Short text is inline, 8 bytes and more are objects; C++ reads both with its own code.
  for (std::string text : {std::string(""), std::string("1234567"), std::string("12345678"),
                           std::string("a longer string, with UTF-8: caf\xc3\xa9")}) {
    Any any = RustStr(text);
    int expect_index = text.size() <= 7 ? TypeIndex::kTVMFFISmallStr : TypeIndex::kTVMFFIStr;
    CHECK(any.type_index() == expect_index);
    String s = any.cast<String>();
    CHECK(s.size() == text.size());
    CHECK(std::string(s) == text);
    CHECK(s == text);
    CHECK(s.c_str()[s.size()] == '\0');  // the reference's NUL after the content
    CHECK(std::strlen(s.c_str()) == text.size());
    CHECK(std::hash<String>()(s) == std::hash<std::string_view>()(text));
    if (text.size() > 7) {
      CHECK(TVMFFIBytesGetByteArrayPtr(Handle(any))->size == text.size());
    }
  }
  String s = RustStr("hello, reference").cast<String>();
  CHECK(s.starts_with("hello") && s.ends_with("reference"));
  CHECK(s.find("ref") == 7);
  CHECK(s.substr(7) == "reference");
  CHECK(s < String("hello, z") && s > String("hello"));
  String joined = s + String("!");
  CHECK(joined == "hello, reference!");
  CHECK(RustStrEquals(joined, "hello, reference!") == 1);
  // Copies share our object; the reference's refcounting works on our header.
  Any any = RustStr("shared between two owners");
  Any copy = any;
  CHECK(any.as<Object>()->use_count() == 2);
  // Invalid UTF-8 never becomes our String.
  TVMFFIAny raw;
  CHECK(rs_strings_new_str("\xff\xfe", 2, &raw) == -1);
}

void BytesFromRust() {
  for (std::string content :
       {std::string(), std::string("\0\0\0\0\0\0\0", 7), std::string("\0\1\2\3\4\5\6\7", 8),
        std::string("embedded\0NUL\0and \xff bytes", 24)}) {
    Any any = RustBytes(content);
    int expect_index = content.size() <= 7 ? TypeIndex::kTVMFFISmallBytes : TypeIndex::kTVMFFIBytes;
    CHECK(any.type_index() == expect_index);
    Bytes b = any.cast<Bytes>();
    CHECK(b.size() == content.size());
    CHECK(std::string(b) == content);
    CHECK(b.data()[b.size()] == '\0');
  }
  // Bytes are not strings, in either implementation.
  CHECK(!RustBytes("bytes").try_cast<String>().has_value());
}

void StringsFromCpp() {
  CHECK(RustStrEquals(String("abc"), "abc") == 1);
  CHECK(RustStrEquals(String("abc"), "abd") == 0);
  // `String(std::string&&)` makes an object even for short text: equal by content.
  String short_obj(std::string("abc"));
  CHECK(Any(short_obj).type_index() == TypeIndex::kTVMFFIStr);
  CHECK(RustStrEquals(short_obj, "abc") == 1);
  CHECK(RustStrEquals(String("a string object made by C++"), "a string object made by C++") == 1);
  CHECK(RustStrEquals(String(""), "") == 1);
  // A C string (`const char*` as `kTVMFFIRawStr`) is copied.
  const char* c_str = "a raw C string from C++";
  CHECK(AnyView(c_str).type_index() == TypeIndex::kTVMFFIRawStr);
  CHECK(RustStrEquals(AnyView(c_str), c_str) == 1);
  // The C API takes any bytes; our String refuses what is not UTF-8.
  CHECK(RustStrEquals(String("\xff\xfe not UTF-8"), "") == -2);
  CHECK(RustStrEquals(String("\xc3"), "") == -2);
  // Other kinds are not strings.
  CHECK(RustStrEquals(Bytes("abc"), "abc") == -1);
  CHECK(RustStrEquals(AnyView(int64_t{1}), "1") == -1);

  CHECK(RustBytesEquals(Bytes(std::string("\0x\0", 3)), std::string("\0x\0", 3)) == 1);
  CHECK(RustBytesEquals(Bytes(std::string(20, '\0')), std::string(20, '\0')) == 1);
  TVMFFIByteArray arr{"borrowed\0bytes", 14};
  CHECK(RustBytesEquals(AnyView(&arr), std::string("borrowed\0bytes", 14)) == 1);
  CHECK(RustBytesEquals(String("str"), "str") == -1);
}

void ViewToOwned() {
  // Our any_view_to_owned against the reference's TVMFFIAnyViewToOwnedAny on the same views.
  const char* long_c = "a borrowed C string longer than seven bytes";
  TVMFFIByteArray arr{"\0borrowed bytes\0", 16};
  TVMFFIByteArray short_arr{"\0\1", 2};
  for (AnyView view : {AnyView("short"), AnyView(long_c), AnyView(&arr), AnyView(&short_arr)}) {
    TVMFFIAny in = Raw(view), ours, theirs;
    CHECK(rs_strings_view_to_owned(&in, &ours) == 0);
    CHECK(TVMFFIAnyViewToOwnedAny(&in, &theirs) == 0);
    Any a = Take(ours), b = Take(theirs);
    CHECK(a.type_index() == b.type_index());
    if (a.type_index() == TypeIndex::kTVMFFIStr || a.type_index() == TypeIndex::kTVMFFISmallStr) {
      CHECK(a.cast<String>() == b.cast<String>());
    } else {
      CHECK(std::string(a.cast<Bytes>()) == std::string(b.cast<Bytes>()));
    }
  }
}

void ShapesBothWays() {
  int64_t dims[] = {2, 3, 4};
  TVMFFIAny raw;
  CHECK(rs_strings_shape_new(dims, 3, &raw) == 0);
  Any any = Take(raw);
  CHECK(any.type_index() == TypeIndex::kTVMFFIShape);
  Shape s = any.cast<Shape>();
  CHECK(s.size() == 3 && s[0] == 2 && s[1] == 3 && s[2] == 4);
  CHECK(s.Product() == 24);
  CHECK(s.at(2) == 4 && s.back() == 4);
  std::vector<int64_t> seen(s.begin(), s.end());
  CHECK(seen == std::vector<int64_t>({2, 3, 4}));
  TVMFFIShapeCell* cell = TVMFFIShapeGetCellPtr(Handle(any));
  CHECK(cell->size == 3 && cell->data == s.data());
  CHECK(reinterpret_cast<const char*>(cell->data) ==
        reinterpret_cast<const char*>(Handle(any)) + sizeof(ShapeObj));
  CHECK(Shape::StridesFromShape(s)[0] == 12);

  CHECK(rs_strings_shape_new(nullptr, 0, &raw) == 0);
  Shape empty = Take(raw).cast<Shape>();
  CHECK(empty.size() == 0 && empty.Product() == 1);

  // Shapes made by C++, inline and vector-backed, read by Rust.
  Shape inline_shape({5, -1, 7});
  CHECK(rs_strings_shape_equals(&(raw = Raw(inline_shape)), inline_shape.data(), 3) == 1);
  int64_t other[] = {5, 1, 7};
  CHECK(rs_strings_shape_equals(&(raw = Raw(inline_shape)), other, 3) == 0);
  int64_t product = 0;
  CHECK(rs_strings_shape_product(&(raw = Raw(inline_shape)), &product) == -2);
  Shape vec_shape(std::vector<int64_t>{6, 7});
  CHECK(rs_strings_shape_product(&(raw = Raw(vec_shape)), &product) == 0 && product == 42);
  Shape huge({int64_t{1} << 62, 4});
  CHECK(rs_strings_shape_product(&(raw = Raw(huge)), &product) == -3);
  // The reference's Array<int64_t> fallback.
  Array<int64_t> array{8, 9};
  CHECK(Any(array).cast<Shape>().size() == 2);
  int64_t array_dims[] = {8, 9};
  CHECK(rs_strings_shape_equals(&(raw = Raw(array)), array_dims, 2) == 1);
  Array<Any> mixed{Any(int64_t{1}), Any(String("x"))};
  CHECK(rs_strings_shape_equals(&(raw = Raw(mixed)), array_dims, 2) == -1);
  CHECK(rs_strings_shape_equals(&(raw = Raw(String("[1]"))), array_dims, 1) == -1);
}

BigInt RustBigInt(const char* decimal) {
  TVMFFIAny raw;
  CHECK(rs_strings_bigint_from_decimal(decimal, &raw) == 0);
  return Take(raw).cast<BigInt>();
}

void BigIntsBothWays() {
  const char* cases[] = {
      "0",
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775808",
      "-9223372036854775809",
      "18446744073709551615",
      "18446744073709551616",
      "-170141183460469231731687303715884105728",
      "170141183460469231731687303715884105728",
      "340282366920938463463374607431768211455",
      "1606938044258990275541962092341162602522202993782792835301376",
  };
  for (const char* text : cases) {
    BigInt ours = RustBigInt(text);
    CHECK(CppDecimal(ours) == text);
    // Values that fit int64_t are ints on both sides.
    Any any = ours;
    CHECK((any.type_index() == TypeIndex::kTVMFFIInt) == ours.as<int64_t>().has_value());
    // The reference's C API borrows our words.
    TVMFFIAny raw = Raw(any);
    TVMFFIByteArray content = TVMFFIBigIntGetContentByteArray(&raw);
    TVMFFIAny rebuilt;
    CHECK(TVMFFIBigIntFromByteArray(&content, &rebuilt) == 0);
    CHECK(Take(rebuilt).cast<BigInt>() == ours);
    CHECK(rs_strings_bigint_from_bytes(content.data, content.size, &rebuilt) == 0);
    CHECK(Take(rebuilt).cast<BigInt>() == ours);
    // And Rust reads the reference's own value back.
    std::istringstream is(text);
    BigInt theirs;
    is >> theirs;
    CHECK(theirs == ours);
    CHECK(RustDecimal(theirs) == text);
  }
  // Arithmetic by the reference on our objects, read back by us.
  BigInt p100 = RustBigInt("1267650600228229401496703205376");
  CHECK(p100 == (BigInt(1) << 100));
  CHECK(RustDecimal(-(p100 + 1)) == "-1267650600228229401496703205377");
  CHECK(RustDecimal((p100 >> 100) - 1) == "0");
  CHECK(RustDecimal(BigInt(true)) == "1");
  CHECK(RustDecimal(BigInt(std::numeric_limits<int64_t>::min()) - 1) == "-9223372036854775809");
  CHECK(RustDecimal(String("12")) == "<error -1>");
  // Partial words are refused, as by TVMFFIBigIntFromByteArray.
  TVMFFIAny raw;
  CHECK(rs_strings_bigint_from_bytes("1234567", 7, &raw) == -1);
  TVMFFIByteArray partial{"1234567", 7};
  CHECK(TVMFFIBigIntFromByteArray(&partial, &raw) != 0);
}

}  // namespace

int main() {
  StringsFromRust();
  BytesFromRust();
  StringsFromCpp();
  ViewToOwned();
  ShapesBothWays();
  BigIntsBothWays();
  return REPORT("strings");
}
