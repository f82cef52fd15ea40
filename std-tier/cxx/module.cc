// `tvm::ffi::ModuleObj` (`module.h`): its vtable and type info, which C++ code defining
// its own module type needs from libtvm_ffi.so, and its exported methods.
//
// A module handle may be one of ours (made in Rust by tvmffi-std, with no C++ vtable) or
// one made by C++ code with a subclass of this class. The exported methods tell them
// apart first: ours go to the global functions `ffi.Module*`, C++ ones run the reference's
// algorithm through their virtual functions.
#include <string>
#include <vector>

#include "mirror.h"

namespace tvm {
namespace ffi {

// The reference's class, declared in the same order so that the vtable is laid out the
// same. The results travel as `ObjectHolder` (Optional<Function>, Array<String>) and
// `AnyHolder` (Optional<String>, Bytes): the same C++ ABI.
class TVMFFI_CXX_API ModuleObj : public Object {
 public:
  virtual const char* kind() const = 0;
  virtual int GetPropertyMask() const { return 0; }
  virtual ObjectHolder GetFunction(const String& name) = 0;
  virtual bool ImplementsFunction(const String& name) { return GetFunction(name).get() != nullptr; }
  virtual AnyHolder GetFunctionDoc(const String&) { return AnyHolder(); }
  virtual AnyHolder GetFunctionMetadata(const String&) { return AnyHolder(); }
  virtual void WriteToFile(const String&, const String&) const {
    cxx_api::Throw("RuntimeError",
                   std::string("Module[") + kind() + "] does not support WriteToFile");
  }
  virtual ObjectHolder GetWriteFormats() const {
    return ObjectHolder(cxx_api::ToObject(cxx_api::CallGlobal("ffi.Array", nullptr, 0), "ffi.Array"));
  }
  virtual AnyHolder SaveToBytes() const {
    cxx_api::Throw("RuntimeError",
                   std::string("Module[") + kind() + "] does not support SaveToBytes");
  }
  virtual String InspectSource(const String&) const { return String(); }
  virtual void ImportModule(const Module& other);
  virtual void ClearImports();
  ObjectHolder GetFunction(const String& name, bool query_imports);
  bool ImplementsFunction(const String& name, bool query_imports);
  AnyHolder GetFunctionDoc(const String& name, bool query_imports);
  AnyHolder GetFunctionMetadata(const String& name, bool query_imports);

  static ModuleObj* FromHandle(TVMFFIObject* handle) {
    return static_cast<ModuleObj*>(reinterpret_cast<Object*>(handle));
  }
  // The imports of any module, as owned module handles: the member of a module made in
  // C++, or asked of the runtime for one made in Rust.
  __attribute__((visibility("hidden"))) static std::vector<ObjectRef> ImportsOf(
      TVMFFIObject* module);

 protected:
  ObjectHolder imports_;

 private:
  ObjectHolder import_lookup_cache_;
};

namespace {

bool IsRust(const ModuleObj* m) { return __tvmffi_cxx_is_rust_module(m->Handle()) != 0; }

TVMFFIAny ModuleView(TVMFFIObjectHandle handle) {
  TVMFFIAny v{};
  v.type_index = kModule;
  v.v_ptr = handle;
  return v;
}

// The module handles in an `Array` of modules.
std::vector<ObjectRef> ModulesIn(const ObjectHolder& array) {
  std::vector<ObjectRef> out;
  if (array.get() == nullptr) return out;
  if (array.get()->type_index != kArray) cxx_api::Throw("TypeError", "imports_ is not an Array");
  const TVMFFISeqCell* seq = reinterpret_cast<const TVMFFISeqCell*>(array.get() + 1);
  for (int64_t i = 0; i < seq->size; ++i) {
    const TVMFFIAny& item = seq->data[i];
    if (item.type_index != kModule) {
      cxx_api::Throw("TypeError", "an import of a module is not an ffi.Module");
    }
    TVMFFIObjectIncRef(item.v_obj);
    out.emplace_back(item.v_obj);
  }
  return out;
}

}  // namespace

std::vector<ObjectRef> ModuleObj::ImportsOf(TVMFFIObject* module) {
  ModuleObj* m = FromHandle(module);
  if (!IsRust(m)) return ModulesIn(m->imports_);
  TVMFFIAny out{};
  if (int code = __tvmffi_cxx_rust_module_imports(module, &out)) cxx_api::ThrowRaised(code);
  return ModulesIn(ObjectHolder(cxx_api::ToObject(out, "the imports of a module")));
}

ObjectHolder ModuleObj::GetFunction(const String& name, bool query_imports) {
  if (IsRust(this)) {
    TVMFFIAny args[] = {ModuleView(Handle()), name.View(), cxx_api::BoolView(query_imports)};
    const char* f = "ffi.ModuleGetFunction";
    return ObjectHolder(cxx_api::ToObject(cxx_api::CallGlobal(f, args, 3), f));
  }
  ObjectHolder found = this->GetFunction(name);
  if (found.get() != nullptr || !query_imports) return found;
  for (const ObjectRef& import : ModuleObj::ImportsOf(static_cast<TVMFFIObject*>(Handle()))) {
    found = FromHandle(import.get())->GetFunction(name, true);
    if (found.get() != nullptr) return found;
  }
  return found;
}

bool ModuleObj::ImplementsFunction(const String& name, bool query_imports) {
  if (IsRust(this)) {
    TVMFFIAny args[] = {ModuleView(Handle()), name.View(), cxx_api::BoolView(query_imports)};
    const char* f = "ffi.ModuleImplementsFunction";
    return cxx_api::ToBool(cxx_api::CallGlobal(f, args, 3), f);
  }
  if (this->ImplementsFunction(name)) return true;
  if (!query_imports) return false;
  for (const ObjectRef& import : ModuleObj::ImportsOf(static_cast<TVMFFIObject*>(Handle()))) {
    if (FromHandle(import.get())->ImplementsFunction(name, true)) return true;
  }
  return false;
}

namespace {
// GetFunctionDoc / GetFunctionMetadata: the same walk, `own` for a C++ module itself.
template <typename Own>
AnyHolder TextOf(ModuleObj* m, const char* global, const String& name, bool query_imports,
                 Own own, AnyHolder (ModuleObj::*recurse)(const String&, bool)) {
  if (IsRust(m)) {
    TVMFFIAny args[] = {ModuleView(m->Handle()), name.View(), cxx_api::BoolView(query_imports)};
    return cxx_api::OptionalString(cxx_api::CallGlobal(global, args, 3), global);
  }
  AnyHolder found = own(m);
  if (found.View().type_index != kNone || !query_imports) return found;
  for (const ObjectRef& import : ModuleObj::ImportsOf(static_cast<TVMFFIObject*>(m->Handle()))) {
    found = (ModuleObj::FromHandle(import.get())->*recurse)(name, true);
    if (found.View().type_index != kNone) return found;
  }
  return found;
}
}  // namespace

AnyHolder ModuleObj::GetFunctionDoc(const String& name, bool query_imports) {
  return TextOf(
      this, "ffi.ModuleGetFunctionDoc", name, query_imports,
      [&](ModuleObj* m) { return m->GetFunctionDoc(name); }, &ModuleObj::GetFunctionDoc);
}

AnyHolder ModuleObj::GetFunctionMetadata(const String& name, bool query_imports) {
  return TextOf(
      this, "ffi.ModuleGetFunctionMetadata", name, query_imports,
      [&](ModuleObj* m) { return m->GetFunctionMetadata(name); },
      &ModuleObj::GetFunctionMetadata);
}

void ModuleObj::ImportModule(const Module& other) {
  TVMFFIObjectHandle self = Handle();
  if (IsRust(this)) {
    TVMFFIAny args[] = {ModuleView(self), other.View()};
    cxx_api::Drop(cxx_api::CallGlobal("ffi.ModuleImportModule", args, 2));
    return;
  }
  if (other.get() == nullptr || other.get()->type_index != kModule) {
    cxx_api::Throw("TypeError", "ImportModule: the import is not an ffi.Module");
  }
  // Refuse an import through which this module would import itself.
  std::vector<TVMFFIObject*> visited{other.get()};
  std::vector<ObjectRef> stack;
  stack.push_back(other);
  while (!stack.empty()) {
    ObjectRef next = stack.back();
    stack.pop_back();
    for (ObjectRef& import : ModuleObj::ImportsOf(next.get())) {
      bool seen = false;
      for (TVMFFIObject* v : visited) seen = seen || v == import.get();
      if (seen) continue;
      visited.push_back(import.get());
      stack.push_back(import);
    }
  }
  for (TVMFFIObject* v : visited) {
    if (v == self) cxx_api::Throw("RuntimeError", "Cyclic dependency detected during import");
  }
  // Copy on write: a new array of the old imports and `other`.
  std::vector<TVMFFIAny> items;
  for (const ObjectRef& import : ModuleObj::ImportsOf(static_cast<TVMFFIObject*>(self))) {
    items.push_back(import.View());
  }
  items.push_back(other.View());
  TVMFFIAny array = cxx_api::CallGlobal("ffi.Array", items.data(), static_cast<int32_t>(items.size()));
  imports_ = ObjectHolder(cxx_api::ToObject(array, "ffi.Array"));
}

void ModuleObj::ClearImports() {
  if (IsRust(this)) {
    TVMFFIAny args[] = {ModuleView(Handle())};
    cxx_api::Drop(cxx_api::CallGlobal("ffi.ModuleClearImports", args, 1));
    return;
  }
  imports_ = ObjectHolder(cxx_api::ToObject(cxx_api::CallGlobal("ffi.Array", nullptr, 0), "ffi.Array"));
}

}  // namespace ffi
}  // namespace tvm
