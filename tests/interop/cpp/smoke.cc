// The harness itself: the reference's C++ Function calls a function object that lives in our
// static memory, and its ObjectRef refcounting works on our header.
#include <tvm/ffi/function.h>

#include "check.h"

extern "C" void* rs_smoke_answer_function();

int main() {
  using namespace tvm::ffi;
  {
    Function f = detail::ObjectUnsafe::ObjectRefFromObjectPtr<Function>(
        detail::ObjectUnsafe::ObjectPtrFromOwned<Object>(
            static_cast<TVMFFIObject*>(rs_smoke_answer_function())));
    CHECK(f.defined());
    CHECK(f->type_index() == TypeIndex::kTVMFFIFunction);
    int64_t v = f().cast<int64_t>();
    CHECK(v == 42);
    Function g = f;
    CHECK(g.use_count() == f.use_count());
  }
  return REPORT("smoke");
}
