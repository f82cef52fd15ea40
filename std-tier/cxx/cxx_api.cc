// The C++ entry points of libtvm_ffi.so that the reference's extra headers declare
// (`json.h`, `serialization.h`, `dataclass.h`, `structural_equal.h`, `structural_hash.h`,
// `visit_error_context.h`, `module.h`), each a thin forward to the global function the
// runtime registers under the reference's name (`ffi.json.Parse`, `ffi.DeepCopy`, ...).
//
// Errors come back as C++ exceptions of type `tvm::ffi::Error`, as the reference throws
// them; a global function this runtime does not register (yet) is a RuntimeError naming it.
#include <cstring>
#include <new>

#include "mirror.h"

namespace tvm {
namespace ffi {
namespace cxx_api {
namespace {

TVMFFIByteArray Bytes(const char* s) { return TVMFFIByteArray{s, std::strlen(s)}; }

TVMFFIAny OwnedNone() { return TVMFFIAny{}; }

const char* TypeName(int32_t type_index) {
  switch (type_index) {
    case kNone:
      return "None";
    case kInt:
      return "int";
    case kBool:
      return "bool";
    case kSmallStr:
    case kStr:
      return "str";
    default:
      return type_index >= kStaticObjectBegin ? "an object" : "a value";
  }
}

[[noreturn]] void WrongResult(TVMFFIAny owned, const char* func, const char* expected) {
  int32_t actual = owned.type_index;
  Drop(owned);
  Throw("TypeError", std::string(func) + " returned " + TypeName(actual) + ", expected " +
                         expected);
}

}  // namespace

void Drop(TVMFFIAny owned) { Any released(owned); }

[[noreturn]] void Throw(const char* kind, const std::string& message) {
  TVMFFIByteArray k = Bytes(kind);
  TVMFFIByteArray m{message.data(), message.size()};
  TVMFFIByteArray backtrace{"", 0};
  TVMFFIObjectHandle handle = nullptr;
  if (TVMFFIErrorCreate(&k, &m, &backtrace, &handle) != 0 || handle == nullptr) {
    throw std::bad_alloc();
  }
  throw Error(handle);
}

[[noreturn]] void ThrowRaised(int code) {
  if (code == -2) {
    // The environment (a Python signal handler) has its own error set: the reference's
    // `EnvErrorAlreadySet`.
    Throw("EnvErrorAlreadySet", "");
  }
  TVMFFIObjectHandle handle = nullptr;
  TVMFFIErrorMoveFromRaised(&handle);
  if (handle == nullptr) {
    Throw("RuntimeError", "a call failed with code " + std::to_string(code) +
                              " but raised no error");
  }
  throw Error(handle);
}

TVMFFIAny CallGlobal(const char* name, TVMFFIAny* args, int32_t num_args) {
  TVMFFIByteArray n = Bytes(name);
  TVMFFIObjectHandle func = nullptr;
  if (int code = TVMFFIFunctionGetGlobal(&n, &func)) ThrowRaised(code);
  if (func == nullptr) {
    Throw("RuntimeError", std::string("Function `") + name +
                              "` is not registered in this runtime; the C++ entry point "
                              "forwards to it");
  }
  Function owner(func);
  TVMFFIAny result = OwnedNone();
  if (int code = TVMFFIFunctionCall(func, args, num_args, &result)) ThrowRaised(code);
  return result;
}

TVMFFIAny BoolView(bool value) {
  TVMFFIAny v{};
  v.type_index = kBool;
  v.v_int64 = value ? 1 : 0;
  return v;
}

bool ToBool(TVMFFIAny owned, const char* func) {
  if (owned.type_index != kBool && owned.type_index != kInt) WrongResult(owned, func, "bool");
  return owned.v_int64 != 0;
}

int64_t ToInt(TVMFFIAny owned, const char* func) {
  if (owned.type_index != kInt && owned.type_index != kBool) WrongResult(owned, func, "int");
  return owned.v_int64;
}

String ToString(TVMFFIAny owned, const char* func) {
  if (owned.type_index != kSmallStr && owned.type_index != kStr) WrongResult(owned, func, "str");
  return String(owned);
}

AnyHolder OptionalString(TVMFFIAny owned, const char* func) {
  if (owned.type_index != kNone && owned.type_index != kSmallStr && owned.type_index != kStr) {
    WrongResult(owned, func, "str or None");
  }
  return AnyHolder(owned);
}

TVMFFIObject* ToObject(TVMFFIAny owned, const char* func) {
  if (owned.type_index == kNone) return nullptr;
  if (owned.type_index < kStaticObjectBegin) WrongResult(owned, func, "an object");
  return owned.v_obj;
}

TVMFFIAny NewString(const char* data, size_t size) {
  TVMFFIByteArray bytes{data, size};
  TVMFFIAny out = OwnedNone();
  if (int code = TVMFFIStringFromByteArray(&bytes, &out)) ThrowRaised(code);
  return out;
}

}  // namespace cxx_api

using cxx_api::CallGlobal;

// ---- json.h ------------------------------------------------------------------------------

namespace json {

Any Parse(const String& json_str, String* error_msg) {
  TVMFFIAny args[] = {json_str.View()};
  if (error_msg == nullptr) return Any(CallGlobal("ffi.json.Parse", args, 1));
  // With somewhere to put the message, a syntax error is not thrown: the message goes
  // there and the result is None; success leaves an empty message.
  try {
    Any result(CallGlobal("ffi.json.Parse", args, 1));
    *error_msg = String(cxx_api::NewString("", 0));
    return result;
  } catch (const Error& e) {
    const TVMFFIErrorCell* cell = e.Cell();
    *error_msg = String(cell ? cxx_api::NewString(cell->message.data, cell->message.size)
                             : cxx_api::NewString("", 0));
    return Any();
  }
}

String Stringify(const Any& value, const Optional<int>& indent) {
  TVMFFIAny args[] = {value.View(), indent.View()};
  return cxx_api::ToString(CallGlobal("ffi.json.Stringify", args, 2), "ffi.json.Stringify");
}

}  // namespace json

// ---- serialization.h ---------------------------------------------------------------------

Any ToJSONGraph(const Any& value, const Any& metadata) {
  TVMFFIAny args[] = {value.View(), metadata.View()};
  return Any(CallGlobal("ffi.ToJSONGraph", args, 2));
}

Any FromJSONGraph(const Any& value) {
  TVMFFIAny args[] = {value.View()};
  return Any(CallGlobal("ffi.FromJSONGraph", args, 1));
}

// ---- dataclass.h -------------------------------------------------------------------------

Any DeepCopy(const Any& value) {
  TVMFFIAny args[] = {value.View()};
  return Any(CallGlobal("ffi.DeepCopy", args, 1));
}

String ReprPrint(const Any& value) {
  TVMFFIAny args[] = {value.View()};
  return cxx_api::ToString(CallGlobal("ffi.ReprPrint", args, 1), "ffi.ReprPrint");
}

int64_t RecursiveHash(const Any& value) {
  TVMFFIAny args[] = {value.View()};
  return cxx_api::ToInt(CallGlobal("ffi.RecursiveHash", args, 1), "ffi.RecursiveHash");
}

namespace {
bool Compare(const char* name, const Any& lhs, const Any& rhs) {
  TVMFFIAny args[] = {lhs.View(), rhs.View()};
  return cxx_api::ToBool(CallGlobal(name, args, 2), name);
}
}  // namespace

bool RecursiveEq(const Any& lhs, const Any& rhs) { return Compare("ffi.RecursiveEq", lhs, rhs); }
bool RecursiveLt(const Any& lhs, const Any& rhs) { return Compare("ffi.RecursiveLt", lhs, rhs); }
bool RecursiveLe(const Any& lhs, const Any& rhs) { return Compare("ffi.RecursiveLe", lhs, rhs); }
bool RecursiveGt(const Any& lhs, const Any& rhs) { return Compare("ffi.RecursiveGt", lhs, rhs); }
bool RecursiveGe(const Any& lhs, const Any& rhs) { return Compare("ffi.RecursiveGe", lhs, rhs); }

// ---- structural_equal.h, structural_hash.h, visit_error_context.h -----------------------

bool StructuralEqual::Equal(const Any& lhs, const Any& rhs, bool map_free_vars,
                            bool skip_tensor_content) {
  TVMFFIAny args[] = {lhs.View(), rhs.View(), cxx_api::BoolView(map_free_vars),
                      cxx_api::BoolView(skip_tensor_content)};
  return cxx_api::ToBool(CallGlobal("ffi.StructuralEqual", args, 4), "ffi.StructuralEqual");
}

ObjectHolder StructuralEqual::GetFirstMismatch(const Any& lhs, const Any& rhs,
                                               bool map_free_vars, bool skip_tensor_content) {
  TVMFFIAny args[] = {lhs.View(), rhs.View(), cxx_api::BoolView(map_free_vars),
                      cxx_api::BoolView(skip_tensor_content)};
  const char* name = "ffi.GetFirstStructuralMismatch";
  return ObjectHolder(cxx_api::ToObject(CallGlobal(name, args, 4), name));
}

uint64_t StructuralHash::Hash(const Any& value, bool map_free_vars, bool skip_tensor_content) {
  TVMFFIAny args[] = {value.View(), cxx_api::BoolView(map_free_vars),
                      cxx_api::BoolView(skip_tensor_content)};
  // The global returns the hash's bits as a signed integer.
  return static_cast<uint64_t>(
      cxx_api::ToInt(CallGlobal("ffi.StructuralHash", args, 3), "ffi.StructuralHash"));
}

ObjectHolder VisitErrorContext::FindAccessPaths(const ObjectRef& root,
                                                const VisitErrorContext& visit_context,
                                                bool allow_prefix_match) {
  TVMFFIAny args[] = {root.View(), visit_context.View(), cxx_api::BoolView(allow_prefix_match)};
  const char* name = "ffi.VisitErrorContext.FindAccessPaths";
  return ObjectHolder(cxx_api::ToObject(CallGlobal(name, args, 3), name));
}

// ---- module.h (statics; ModuleObj's methods are in module.cc) ----------------------------

Module Module::LoadFromFile(const String& file_name) {
  TVMFFIAny args[] = {file_name.View()};
  TVMFFIAny result = CallGlobal("ffi.ModuleLoadFromFile", args, 1);
  if (result.type_index != kModule) {
    cxx_api::Drop(result);
    cxx_api::Throw("TypeError", "ffi.ModuleLoadFromFile did not return a module");
  }
  return Module(result.v_obj);
}

namespace {
struct VisitState {
  const Function* callback;
  // An exception from the callback, rethrown once the Rust side has returned (exceptions
  // must not unwind through it).
  std::exception_ptr error;
};

int VisitOne(void* ctx, const char* name, size_t len, void* symbol) noexcept {
  VisitState* state = static_cast<VisitState*>(ctx);
  try {
    String text(cxx_api::NewString(name, len));
    TVMFFIAny args[2] = {text.View(), TVMFFIAny{}};
    if (symbol != nullptr) {
      args[1].type_index = kOpaquePtr;
      args[1].v_ptr = symbol;
    }
    TVMFFIAny result{};
    if (int code = TVMFFIFunctionCall(state->callback->get(), args, 2, &result)) {
      cxx_api::ThrowRaised(code);
    }
    cxx_api::Drop(result);
    return 0;
  } catch (...) {
    state->error = std::current_exception();
    return 1;
  }
}
}  // namespace

void Module::VisitContextSymbols(const TypedFunction<void(String, void*)>& callback) {
  if (callback.packed_.get() == nullptr) {
    cxx_api::Throw("ValueError", "VisitContextSymbols: the callback is null");
  }
  VisitState state{&callback.packed_, nullptr};
  __tvmffi_cxx_visit_context_symbols(VisitOne, &state);
  if (state.error) std::rethrow_exception(state.error);
}

}  // namespace ffi
}  // namespace tvm
