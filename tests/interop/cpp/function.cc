// Functions, errors and Rust-defined object types between our Rust and the reference's C++,
// with the reference's libtvm_ffi.so as the runtime (raised-error slot, global registry,
// type table):
// - C++ tvm::ffi::Function calls our closures (packed and typed), and sees our errors as
//   tvm::ffi::Error exceptions with our kind and message;
// - our Rust calls C++ lambdas (Function::FromTyped) and gets their results and their thrown
//   errors through the reference's raised slot;
// - C++ reads our ErrorObj (kind, message, what(), backtrace, cause, context, updates), and
//   our Rust reads C++'s;
// - globals registered by either side are found by the other;
// - a Rust-defined object type and its subclass live in the reference's type table.
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>

#include <cstring>
#include <string>

#include "check.h"

extern "C" {
void* rs_function_make_adder();
void* rs_function_make_failing();
void* rs_function_make_typed();
int32_t rs_function_call_typed(void* f, int64_t a, int64_t b, int64_t* out);
int32_t rs_function_expect_error(void* f, const char* kind, const char* message);
int32_t rs_function_register_global(const char* name, int32_t allow_override);
int64_t rs_function_call_global(const char* name, int64_t a, int64_t b);
void* rs_error_make(const char* kind, const char* message, const char* backtrace);
int32_t rs_error_raise(const char* kind, const char* message);
int32_t rs_error_check(void* err, const char* kind, const char* message, const char* backtrace,
                       const char* cause_message);
void* rs_error_append_backtrace_owned(void* err, const char* extra);
int32_t rs_object_point_index();
void* rs_object_make_point3(int64_t x, int64_t y, int64_t z);
int64_t rs_object_point_sum(void* obj);
int64_t rs_object_point3_z(void* obj);
}

using namespace tvm::ffi;

template <typename T>
static T FromOwned(void* handle) {
  return detail::ObjectUnsafe::ObjectRefFromObjectPtr<T>(
      detail::ObjectUnsafe::ObjectPtrFromOwned<Object>(static_cast<TVMFFIObject*>(handle)));
}

static void* Handle(const ObjectRef& ref) {
  return detail::ObjectUnsafe::TVMFFIObjectPtrFromObjectRef(ref);
}

static std::string TypeKeyOf(int32_t index) {
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(index);
  return std::string(info->type_key.data, info->type_key.size);
}

static void CppCallsRustClosures() {
  Function add = FromOwned<Function>(rs_function_make_adder());
  CHECK(add->type_index() == TypeIndex::kTVMFFIFunction);
  CHECK(add(1, 2, 39).cast<int64_t>() == 42);
  CHECK(add().cast<int64_t>() == 0);
  Function copy = add;
  CHECK(add.use_count() == 2);

  Function fail = FromOwned<Function>(rs_function_make_failing());
  bool thrown = false;
  try {
    fail(7);
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.kind() == "ValueError");
    CHECK(e.message() == "rust says no to 7");
    CHECK(std::strcmp(e.what(), "rust says no to 7") == 0);  // NUL-terminated in our object
  }
  CHECK(thrown);

  // A conversion failing inside the closure: the reference's TypeError message.
  thrown = false;
  try {
    add(1, 2.5);
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.kind() == "TypeError");
    CHECK(e.message() == "Cannot convert from type `float` to `int`");
  }
  CHECK(thrown);

  Function scale = FromOwned<Function>(rs_function_make_typed());
  CHECK(scale(4, 0.5).cast<double>() == 2.0);
  TypedFunction<double(int64_t, double)> typed = scale;
  CHECK(typed(3, 2.0) == 6.0);
  thrown = false;
  try {
    scale(1);
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.kind() == "TypeError");
    CHECK(e.message() ==
          "Mismatched number of arguments when calling: `rs.scale(0: int, 1: float) -> float`. "
          "Expected 2 but got 1 arguments");
  }
  CHECK(thrown);
  thrown = false;
  try {
    scale(add, 1.0);
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.message() ==
          "Mismatched type on argument #0 when calling: `rs.scale(0: int, 1: float) -> float`. "
          "Expected `int` but got `ffi.Function`");
  }
  CHECK(thrown);
}

static void RustCallsCppLambdas() {
  Function cpp_add = Function::FromTyped([](int64_t a, int64_t b) { return a * 10 + b; });
  int64_t out = 0;
  CHECK(rs_function_call_typed(Handle(cpp_add), 4, 2, &out) == 0);
  CHECK(out == 42);

  Function cpp_throw = Function::FromTyped([](int64_t a, int64_t b) -> int64_t {
    TVM_FFI_THROW(IndexError) << "index " << a + b << " out of range";
  });
  CHECK(rs_function_expect_error(Handle(cpp_throw), "IndexError", "index 3 out of range") == 1);
  // The reference's own argument check, seen from Rust.
  Function one_arg = Function::FromTyped([](int64_t a) { return a; }, "cpp.one");
  CHECK(rs_function_expect_error(Handle(one_arg), "TypeError",
                                 "Mismatched number of arguments when calling: "
                                 "`cpp.one(0: int) -> int`. Expected 1 but got 2 arguments") == 1);
  CHECK(rs_function_call_typed(Handle(cpp_throw), 1, 1, &out) == 1);
}

static void GlobalsAcrossLanguages() {
  CHECK(rs_function_register_global("rs.interop.add", 0) == 0);
  std::optional<Function> add = Function::GetGlobal("rs.interop.add");
  CHECK(add.has_value());
  if (add.has_value()) CHECK((*add)(20, 22).cast<int64_t>() == 42);
  CHECK(rs_function_register_global("rs.interop.add", 0) == 2);  // taken
  CHECK(rs_function_register_global("rs.interop.add", 1) == 0);  // override allowed

  Function::SetGlobal("cpp.interop.mul",
                      Function::FromTyped([](int64_t a, int64_t b) { return a * b; }));
  CHECK(rs_function_call_global("cpp.interop.mul", 6, 7) == 42);
  CHECK(rs_function_call_global("cpp.interop.missing", 1, 1) == -1);
}

static void CppReadsRustErrors() {
  Error e = FromOwned<Error>(rs_error_make("KeyError", "no key 'k'", "frame2\nframe1\n"));
  CHECK(e->type_index() == TypeIndex::kTVMFFIError);
  CHECK(e.kind() == "KeyError");
  CHECK(e.message() == "no key 'k'");
  CHECK(std::strcmp(e.what(), "no key 'k'") == 0);
  CHECK(e.backtrace() == "frame2\nframe1\n");
  CHECK(e.TracebackMostRecentCallLast() == "frame1\nframe2\n");
  CHECK(e.FullMessage() == "Traceback (most recent call last):\nframe1\nframe2\nKeyError: no key 'k'\n");
  std::optional<Error> cause = e.cause_chain();
  CHECK(cause.has_value());
  std::optional<ObjectRef> ctx = e.extra_context();
  CHECK(ctx.has_value());
  if (cause.has_value()) {
    CHECK(cause->kind() == "KeyError");
    CHECK(cause->message() == "root cause");
    if (ctx.has_value()) CHECK(ctx->same_as(*cause));
  }
  // Updates go through our update_backtrace.
  TVMFFIByteArray extra{"frame0\n", 7};
  e.UpdateBacktrace(&extra, kTVMFFIBacktraceUpdateModeAppend);
  CHECK(e.backtrace() == "frame2\nframe1\nframe0\n");
  TVMFFIByteArray fresh{"only\n", 5};
  e.UpdateBacktrace(&fresh, kTVMFFIBacktraceUpdateModeReplace);
  CHECK(e.backtrace() == "only\n");
  // Through Any and back.
  Any any = e;
  CHECK(any.type_index() == TypeIndex::kTVMFFIError);
  CHECK(any.cast<Error>().message() == "no key 'k'");

  // An error raised by Rust into the reference's slot, rethrown by C++.
  bool thrown = false;
  try {
    TVM_FFI_CHECK_SAFE_CALL(rs_error_raise("NotImplementedError", "later"));
  } catch (const Error& err) {
    thrown = true;
    CHECK(err.kind() == "NotImplementedError");
    CHECK(err.message() == "later");
  }
  CHECK(thrown);
}

static void RustReadsCppErrors() {
  Error inner("ValueError", "inner", "");
  Error outer("AttributeError", "no attr 'x'", "cpp frame\n", inner, std::nullopt);
  CHECK(rs_error_check(Handle(outer), "AttributeError", "no attr 'x'", "cpp frame\n", "inner") == 1);
  CHECK(rs_error_check(Handle(inner), "ValueError", "inner", "", nullptr) == 1);
  CHECK(rs_error_check(Handle(inner), "ValueError", "other", "", nullptr) == 0);

  // Rust may update a C++ error it holds alone, through C++'s update_backtrace.
  Error solo("RuntimeError", "solo", "a\n");
  void* h = detail::ObjectUnsafe::MoveObjectRefToTVMFFIObjectPtr(std::move(solo));
  void* back = rs_error_append_backtrace_owned(h, "b\n");
  CHECK(back != nullptr);
  if (back != nullptr) {
    Error again = FromOwned<Error>(back);
    CHECK(again.backtrace() == "a\nb\n");
  }
}

static void RustObjectTypesInTheReferenceTable() {
  int32_t point = rs_object_point_index();
  CHECK(point >= TypeIndex::kTVMFFIDynObjectBegin);
  CHECK(rs_object_point_index() == point);  // cached
  CHECK(TypeKeyOf(point) == "rs.Point");
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(point);
  CHECK(info->type_depth == 1);
  CHECK(info->type_ancestors[0]->type_index == TypeIndex::kTVMFFIObject);

  ObjectRef p3 = FromOwned<ObjectRef>(rs_object_make_point3(1, 2, 3));
  int32_t point3 = p3->type_index();
  CHECK(point3 == point + 1);  // one of the child slots rs.Point reserved
  CHECK(p3->GetTypeKey() == "rs.Point3");
  const TVMFFITypeInfo* info3 = TVMFFIGetTypeInfo(point3);
  CHECK(info3->type_depth == 2);
  CHECK(info3->type_ancestors[1]->type_index == point);
  TVMFFIByteArray key{"rs.Point3", 9};
  int32_t by_key = -1;
  CHECK(TVMFFITypeKeyToIndex(&key, &by_key) == 0);
  CHECK(by_key == point3);
  CHECK(rs_object_point_sum(Handle(p3)) == 3);  // a Point3 is a Point
  CHECK(rs_object_point3_z(Handle(p3)) == 3);
  Array<Any> arr{1, 2};
  CHECK(rs_object_point_sum(Handle(arr)) == -1);
  Any any = p3;
  CHECK(any.type_index() == point3);
  CHECK(p3.use_count() == 2);
}

int main() {
  CppCallsRustClosures();
  RustCallsCppLambdas();
  GlobalsAcrossLanguages();
  CppReadsRustErrors();
  RustReadsCppErrors();
  RustObjectTypesInTheReferenceTable();
  return REPORT("function");
}
