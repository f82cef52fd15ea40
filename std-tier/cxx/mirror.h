// The C++ entry points of libtvm_ffi.so: the few declarations they need.
//
// C++ code built against the reference headers calls functions such as
// `tvm::ffi::json::Parse(const String&, String*)` by their Itanium-mangled names, passing
// and returning the reference's classes by their C++ ABI. This header declares classes
// with the same names, namespaces and layouts (each a single `TVMFFIAny` or object
// pointer, non-trivially copyable so that they travel by reference and come back through a
// hidden result pointer, as the reference's do), which is all the mangled names and the
// calling convention depend on. It is ours, written from the C ABI, not the reference's
// headers: the shim builds without them.
//
// Nothing here is exported except what `cxx_api.cc` and `module.cc` mark `TVMFFI_CXX_API`
// (the library is compiled with hidden visibility).
#ifndef TVMFFI_RS_CXX_MIRROR_H_
#define TVMFFI_RS_CXX_MIRROR_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#define TVMFFI_CXX_API __attribute__((visibility("default")))

// ---- The C ABI (c_api.h), as this project's core crate declares it ----------------------

extern "C" {
typedef void* TVMFFIObjectHandle;

struct TVMFFIObject {
  uint64_t combined_ref_count;
  int32_t type_index;
  uint32_t padding;
  void* deleter;
};

struct TVMFFIByteArray {
  const char* data;
  size_t size;
};

struct TVMFFIAny {
  int32_t type_index;
  uint32_t zero_padding;
  union {
    int64_t v_int64;
    double v_float64;
    void* v_ptr;
    TVMFFIObject* v_obj;
    char v_bytes[8];
  };
};

struct TVMFFISeqCell {
  TVMFFIAny* data;
  int64_t size;
  int64_t capacity;
  void (*data_deleter)(void*);
};

struct TVMFFIErrorCell {
  TVMFFIByteArray kind;
  TVMFFIByteArray message;
  TVMFFIByteArray backtrace;
  void (*update_backtrace)(TVMFFIObjectHandle, const TVMFFIByteArray*, int32_t);
  TVMFFIObjectHandle cause_chain;
  TVMFFIObjectHandle extra_context;
};

int TVMFFIObjectIncRef(TVMFFIObjectHandle obj);
int TVMFFIObjectDecRef(TVMFFIObjectHandle obj);
int TVMFFIFunctionGetGlobal(const TVMFFIByteArray* name, TVMFFIObjectHandle* out);
int TVMFFIFunctionCall(TVMFFIObjectHandle func, TVMFFIAny* args, int32_t num_args,
                       TVMFFIAny* result);
void TVMFFIErrorMoveFromRaised(TVMFFIObjectHandle* result);
int TVMFFIErrorCreate(const TVMFFIByteArray* kind, const TVMFFIByteArray* message,
                      const TVMFFIByteArray* backtrace, TVMFFIObjectHandle* out);
int TVMFFIStringFromByteArray(const TVMFFIByteArray* input, TVMFFIAny* out);

// Helpers the Rust side of tvmffi-std provides (std-tier/src/cxx_api.rs).
int __tvmffi_cxx_is_rust_module(TVMFFIObjectHandle module);
int __tvmffi_cxx_rust_module_imports(TVMFFIObjectHandle module, TVMFFIAny* out);
// Calls `visit` for each context symbol in registration order, until it returns non-zero.
void __tvmffi_cxx_visit_context_symbols(int (*visit)(void* ctx, const char* name, size_t len,
                                                     void* symbol),
                                        void* ctx);
}

// Type indices used here (`TVMFFITypeIndex`).
enum : int32_t {
  kNone = 0,
  kInt = 1,
  kBool = 2,
  kOpaquePtr = 4,
  kSmallStr = 11,
  kStaticObjectBegin = 64,
  kStr = 65,
  kError = 67,
  kFunction = 68,
  kArray = 71,
  kModule = 73,
};

namespace tvm {
namespace ffi {

// ---- Values ------------------------------------------------------------------------------

// An owned `TVMFFIAny`: what `Any`, `String` and `Optional<T>` of non-object T hold.
class AnyCell {
 public:
  AnyCell() { data_ = TVMFFIAny{}; }
  explicit AnyCell(const TVMFFIAny& owned) : data_(owned) {}
  AnyCell(const AnyCell& other) : data_(other.data_) {
    if (data_.type_index >= kStaticObjectBegin && data_.v_obj) TVMFFIObjectIncRef(data_.v_obj);
  }
  AnyCell& operator=(const AnyCell& other) {
    AnyCell copy(other);
    Swap(copy);
    return *this;
  }
  ~AnyCell() {
    if (data_.type_index >= kStaticObjectBegin && data_.v_obj) TVMFFIObjectDecRef(data_.v_obj);
  }
  void Swap(AnyCell& other) {
    TVMFFIAny t = data_;
    data_ = other.data_;
    other.data_ = t;
  }
  // A view of the value, for arguments.
  TVMFFIAny View() const { return data_; }
  // Take the value out, leaving None.
  TVMFFIAny Release() {
    TVMFFIAny out = data_;
    data_ = TVMFFIAny{};
    return out;
  }

 protected:
  TVMFFIAny data_;
};

class Any : public AnyCell {
 public:
  using AnyCell::AnyCell;
};

// A string value; empty by default (an inline string of length 0).
class String : public AnyCell {
 public:
  String() { data_.type_index = kSmallStr; }
  explicit String(const TVMFFIAny& owned) : AnyCell(owned) {}
};

// `Optional<String>`, `Bytes` and other values held in one `TVMFFIAny`; None by default.
class AnyHolder : public AnyCell {
 public:
  using AnyCell::AnyCell;
};

// ---- Objects -----------------------------------------------------------------------------

// The object header every object starts with.
class Object {
 protected:
  TVMFFIObject header_;

 public:
  TVMFFIObjectHandle Handle() const { return const_cast<TVMFFIObject*>(&header_); }
};

// A strong reference to an object, or null.
class ObjectRef {
 public:
  ObjectRef() : data_(nullptr) {}
  explicit ObjectRef(TVMFFIObjectHandle owned) : data_(static_cast<TVMFFIObject*>(owned)) {}
  ObjectRef(const ObjectRef& other) : data_(other.data_) {
    if (data_) TVMFFIObjectIncRef(data_);
  }
  ObjectRef& operator=(const ObjectRef& other) {
    ObjectRef copy(other);
    TVMFFIObject* t = data_;
    data_ = copy.data_;
    copy.data_ = t;
    return *this;
  }
  ~ObjectRef() {
    if (data_) TVMFFIObjectDecRef(data_);
  }
  TVMFFIObject* get() const { return data_; }
  TVMFFIObject* Release() {
    TVMFFIObject* out = data_;
    data_ = nullptr;
    return out;
  }
  // A view of the reference, for arguments (None when null).
  TVMFFIAny View() const {
    TVMFFIAny v{};
    if (data_) {
      v.type_index = data_->type_index;
      v.v_obj = data_;
    }
    return v;
  }

 protected:
  TVMFFIObject* data_;
};

class Function : public ObjectRef {
 public:
  using ObjectRef::ObjectRef;
};

// `Array<T>`, `Tuple<...>`, `Optional<ObjectRef>` and such: one object pointer.
class ObjectHolder : public ObjectRef {
 public:
  using ObjectRef::ObjectRef;
};

template <typename T, typename = void>
class Optional;

template <>
class Optional<int, void> : public AnyCell {};

template <typename FType>
class TypedFunction;

template <>
class TypedFunction<void(String, void*)> {
 public:
  Function packed_;
};

class Module : public ObjectRef {
 public:
  using ObjectRef::ObjectRef;
  TVMFFI_CXX_API static Module LoadFromFile(const String& file_name);
  TVMFFI_CXX_API static void VisitContextSymbols(
      const TypedFunction<void(String, void*)>& callback);
};

// `Error`: thrown by the entry points. Its layout is the reference's (an object reference
// beside `std::exception`, whose vtable comes first), so C++ code that catches
// `tvm::ffi::Error` reads kind and message through its own inline accessors.
class TVMFFI_CXX_API Error : public ObjectRef, public std::exception {
 public:
  explicit Error(TVMFFIObjectHandle owned) : ObjectRef(owned) {}
  Error(const Error& other) = default;
  const char* what() const noexcept override {
    const TVMFFIErrorCell* cell = Cell();
    return cell && cell->message.data ? cell->message.data : "";
  }
  const TVMFFIErrorCell* Cell() const {
    return data_ ? reinterpret_cast<const TVMFFIErrorCell*>(data_ + 1) : nullptr;
  }
};

// ---- Declarations of the entry points, with the reference's signatures ------------------

namespace json {
TVMFFI_CXX_API Any Parse(const String& json_str, String* error_msg);
TVMFFI_CXX_API String Stringify(const Any& value, const Optional<int>& indent);
}  // namespace json

TVMFFI_CXX_API Any ToJSONGraph(const Any& value, const Any& metadata);
TVMFFI_CXX_API Any FromJSONGraph(const Any& value);
TVMFFI_CXX_API Any DeepCopy(const Any& value);
TVMFFI_CXX_API String ReprPrint(const Any& value);
TVMFFI_CXX_API int64_t RecursiveHash(const Any& value);
TVMFFI_CXX_API bool RecursiveEq(const Any& lhs, const Any& rhs);
TVMFFI_CXX_API bool RecursiveLt(const Any& lhs, const Any& rhs);
TVMFFI_CXX_API bool RecursiveLe(const Any& lhs, const Any& rhs);
TVMFFI_CXX_API bool RecursiveGt(const Any& lhs, const Any& rhs);
TVMFFI_CXX_API bool RecursiveGe(const Any& lhs, const Any& rhs);

class StructuralEqual {
 public:
  TVMFFI_CXX_API static bool Equal(const Any& lhs, const Any& rhs, bool map_free_vars,
                                   bool skip_tensor_content);
  TVMFFI_CXX_API static ObjectHolder GetFirstMismatch(const Any& lhs, const Any& rhs,
                                                      bool map_free_vars,
                                                      bool skip_tensor_content);
};

class StructuralHash {
 public:
  TVMFFI_CXX_API static uint64_t Hash(const Any& value, bool map_free_vars,
                                      bool skip_tensor_content);
};

class VisitErrorContext : public ObjectRef {
 public:
  TVMFFI_CXX_API static ObjectHolder FindAccessPaths(const ObjectRef& root,
                                                     const VisitErrorContext& visit_context,
                                                     bool allow_prefix_match);
};

// ---- Calling into the runtime ------------------------------------------------------------

namespace cxx_api {

// Throw the error the runtime raised for a failed call returning `code`.
[[noreturn]] void ThrowRaised(int code);
// Throw a new error of `kind` with `message`.
[[noreturn]] void Throw(const char* kind, const std::string& message);
// Call the global function `name` with `args`; its owned result. Throws what it raises, or
// a RuntimeError when it is not registered.
TVMFFIAny CallGlobal(const char* name, TVMFFIAny* args, int32_t num_args);
// Views of arguments.
TVMFFIAny BoolView(bool value);
// Results: an owned value checked to be of the kind the C++ return type holds.
bool ToBool(TVMFFIAny owned, const char* func);
int64_t ToInt(TVMFFIAny owned, const char* func);
String ToString(TVMFFIAny owned, const char* func);
AnyHolder OptionalString(TVMFFIAny owned, const char* func);
// An object or None (a null reference); other kinds are a TypeError.
TVMFFIObject* ToObject(TVMFFIAny owned, const char* func);
// A new string value.
TVMFFIAny NewString(const char* data, size_t size);
// Release an owned value that is not returned.
void Drop(TVMFFIAny owned);

}  // namespace cxx_api
}  // namespace ffi
}  // namespace tvm

#endif  // TVMFFI_RS_CXX_MIRROR_H_
