// Array and List across the boundary. The reference's C++ Array<T> / List<T> read, iterate,
// and mutate (copy-on-write for Array, in place for List, including growing our List's
// buffer) objects our Rust builds; our Rust reads, mutates and drops arrays and lists that
// the reference's C++ builds. Element reference counts are checked on a function object in
// Rust static memory.
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/list.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <cstdint>
#include <utility>

#include "check.h"

extern "C" {
void* rs_seq_function();
uint32_t rs_seq_function_strong();
void* rs_seq_make_mixed_array();
void* rs_seq_make_int_array(int64_t n);
void* rs_seq_make_str_array();
void* rs_seq_make_list(int64_t n);
void* rs_seq_make_empty_list();
int32_t rs_seq_check_pushed_list(void* list, int64_t n, const char* text);
int64_t rs_seq_grow_list(void* list, int64_t k);
int32_t rs_seq_consume_array(void* array, const char* long_text);
void* rs_seq_edit_cpp_list(void* list);
void* rs_seq_to_array(void* obj);
}

using namespace tvm::ffi;

// Take over the strong reference a Rust function returned.
template <typename T>
static T Adopt(void* raw) {
  return details::ObjectUnsafe::ObjectRefFromObjectPtr<T>(
      details::ObjectUnsafe::ObjectPtrFromOwned<Object>(static_cast<TVMFFIObject*>(raw)));
}

// Give our strong reference away to Rust.
static void* Release(ObjectRef ref) {
  return details::ObjectUnsafe::MoveObjectRefToTVMFFIObjectPtr(std::move(ref));
}

static void* Raw(const ObjectRef& ref) {
  return details::ObjectUnsafe::TVMFFIObjectPtrFromObjectRef(ref);
}

static Function RustFunction() { return Adopt<Function>(rs_seq_function()); }

// Our Array read by the reference's Array<Any>, typed views, copy-on-write.
static void ReadRustArrays() {
  const uint32_t base = rs_seq_function_strong();
  {
    Array<Any> a = Adopt<Array<Any>>(rs_seq_make_mixed_array());
    CHECK(a->type_index() == TypeIndex::kTVMFFIArray);
    CHECK(a.size() == 8 && a.capacity() == 8 && a.use_count() == 1);
    CHECK(a[0].cast<int64_t>() == 1);
    CHECK(a[1].cast<double>() == 2.5);
    CHECK(a[2].cast<bool>());
    CHECK(a[3].cast<String>() == "hi");
    CHECK(a[4].cast<String>() == "a string longer than seven bytes");
    CHECK(a[5].cast<Function>()().cast<int64_t>() == 7);
    CHECK(rs_seq_function_strong() == base + 1);
    Array<int64_t> nested = a[6].cast<Array<int64_t>>();
    CHECK(nested.size() == 2 && nested[0] == 10 && nested[1] == 20);
    CHECK(a[7] == nullptr);
    CHECK(a.front().cast<int64_t>() == 1 && a.back() == nullptr);
    int n = 0;
    for (const Any& v : a) {
      n += v != nullptr;
    }
    CHECK(n == 7);
    // Elements sit inline, right after the ArrayObj.
    CHECK(reinterpret_cast<const char*>(a.GetArrayObj()->begin()) ==
          reinterpret_cast<const char*>(a.get()) + sizeof(ArrayObj));

    // Shared: a mutation copies (copy-on-write) and leaves ours untouched.
    Array<Any> b = a;
    b.push_back(Any(int64_t{9}));
    CHECK(!b.same_as(a) && a.size() == 8 && b.size() == 9);
    CHECK(rs_seq_function_strong() == base + 2);
    b.Set(5, Any(int64_t{0}));
    CHECK(rs_seq_function_strong() == base + 1);
  }
  CHECK(rs_seq_function_strong() == base);

  {
    // Typed views of our arrays pass the reference's strict element checks: no copy.
    Any any_ints = Adopt<Array<Any>>(rs_seq_make_int_array(5));
    Array<int64_t> ints = any_ints.cast<Array<int64_t>>();
    CHECK(ints.same_as(any_ints.cast<Array<Any>>()));
    int64_t sum = 0;
    for (int64_t v : ints) sum += v;
    CHECK(sum == 10 && ints.size() == 5);
    CHECK(!any_ints.try_cast<Array<String>>().has_value());
    Any any_strs = Adopt<Array<Any>>(rs_seq_make_str_array());
    Array<String> strs = any_strs.cast<Array<String>>();
    CHECK(strs.same_as(any_strs.cast<Array<Any>>()));
    CHECK(strs[0] == "a" && strs[1] == "a long string in a Rust array" && strs[2] == "c");
    // A Rust List converts to a C++ Array by copy (kOtherTypeIndex).
    Any rust_list = Adopt<List<Any>>(rs_seq_make_list(3));
    Array<int64_t> copied = rust_list.cast<Array<int64_t>>();
    CHECK(copied.size() == 3 && copied[2] == 2 && !copied.same_as(rust_list.cast<List<Any>>()));
  }

  {
    // Held alone, our Array is mutated in place by C++ (Set, pop_back, clear): our
    // destructor must then follow the cell it finds.
    Array<Any> c = Adopt<Array<Any>>(rs_seq_make_int_array(3));
    const Object* before = c.get();
    c.Set(0, RustFunction());
    c.Set(1, Any(String("a replacement string, not small")));
    c.pop_back();
    CHECK(c.get() == before && c.size() == 2 && c.capacity() == 3);
    CHECK(rs_seq_function_strong() == base + 1);
    // push_back fills the spare slot in place.
    c.push_back(RustFunction());
    CHECK(c.get() == before && c.size() == 3);
    CHECK(rs_seq_function_strong() == base + 2);
    // Beyond capacity: the elements move into a new C++ ArrayObj, ours is emptied and freed.
    c.push_back(Any(int64_t{4}));
    CHECK(c.get() != before && c.size() == 4);
    CHECK(rs_seq_function_strong() == base + 2);
    Array<Any> d = Adopt<Array<Any>>(rs_seq_make_int_array(4));
    d.clear();
    CHECK(d.size() == 0);
  }
  CHECK(rs_seq_function_strong() == base);
}

// Our List mutated in place by the reference's List<Any>, including growing its buffer.
static void MutateRustList() {
  const uint32_t base = rs_seq_function_strong();
  const char* text = "pushed from C++, longer than seven bytes";
  {
    List<Any> l = Adopt<List<Any>>(rs_seq_make_list(4));
    CHECK(l->type_index() == TypeIndex::kTVMFFIList);
    CHECK(l.size() == 4 && l.capacity() == 4);
    CHECK(l[3].cast<int64_t>() == 3);
    List<Any> alias = l;  // shared: no copy-on-write for lists
    const Any* old_data = l.GetListObj()->begin();
    l.push_back(RustFunction());  // full: C++ allocates a new buffer and frees ours
    CHECK(l.capacity() == 8 && l.GetListObj()->begin() != old_data);
    CHECK(alias.size() == 5 && alias.same_as(l));
    l.push_back(Any(String(text)));
    l.insert(l.begin(), Any(int64_t{-1}));
    CHECK(l.size() == 7 && l[0].cast<int64_t>() == -1);
    CHECK(rs_seq_function_strong() == base + 1);
    CHECK(rs_seq_check_pushed_list(Raw(l), 4, text) == 0);

    // Rust grows the buffer C++ allocated: it frees it through the cell's deleter.
    int64_t cap = rs_seq_grow_list(Raw(l), 5);
    CHECK(cap == 16 && l.capacity() == 16);
    // Rust pushed 100..104, popped 104, removed the -1 at 0.
    CHECK(l.size() == 10 && l[0].cast<int64_t>() == 0 && l[9].cast<int64_t>() == 103);
    CHECK(l[5].cast<String>() == text);
    // And C++ once more: erase, Set, grow past 16.
    l.erase(l.begin() + 1);
    l.Set(0, Any(String("set by C++ into a Rust list")));
    for (int i = 0; i < 8; ++i) l.push_back(Any(int64_t{i}));
    CHECK(l.size() == 17 && l.capacity() == 32);
    int64_t ints = 0;
    for (const Any& v : l) ints += v.type_index() == TypeIndex::kTVMFFIInt;
    CHECK(ints == 14);
    l.pop_back();
    l.clear();
    CHECK(l.size() == 0 && alias.size() == 0 && l.capacity() == 32);
    CHECK(rs_seq_function_strong() == base);
    l.push_back(RustFunction());
  }
  CHECK(rs_seq_function_strong() == base);
  {
    // An empty Rust list has no buffer; C++ grows it from nothing.
    List<Any> e = Adopt<List<Any>>(rs_seq_make_empty_list());
    CHECK(e.size() == 0 && e.capacity() == 0 && e.GetListObj()->begin() == nullptr);
    e.reserve(0);
    int64_t caps = 0;
    for (int i = 0; i < 5; ++i) {
      e.push_back(Any(int64_t{i}));
      caps = caps * 10 + static_cast<int64_t>(e.capacity());
    }
    CHECK(caps == 12448 && e.back().cast<int64_t>() == 4);
    // A Rust list made from elements has room for 4.
    List<Any> f = Adopt<List<Any>>(rs_seq_make_list(0));
    CHECK(f.size() == 0 && f.capacity() == 4);
  }
}

// Arrays and lists the reference's C++ builds, read, edited and dropped by our Rust.
static void RustReadsCppObjects() {
  const uint32_t base = rs_seq_function_strong();
  const char* long_text = "a long string made by the C++ side";
  {
    Array<Any> arr{Any(int64_t{1}),
                   Any(String("short")),
                   Any(String(long_text)),
                   Any(Array<Any>{Any(int64_t{2}), Any(int64_t{3})}),
                   Any(RustFunction()),
                   Any(List<Any>{Any(int64_t{4}), Any(int64_t{5})})};
    CHECK(rs_seq_function_strong() == base + 1);
    Array<Any> keep = arr;
    CHECK(rs_seq_consume_array(Release(std::move(arr)), long_text) == 0);
    CHECK(keep.use_count() == 1);
    // Now Rust drops the only reference, which runs the C++ destructor.
    CHECK(rs_seq_consume_array(Release(std::move(keep)), long_text) == 0);
    CHECK(!keep.defined() && !arr.defined());  // NOLINT(bugprone-use-after-move)
  }
  CHECK(rs_seq_function_strong() == base);

  {
    List<Any> l{Any(int64_t{1}), Any(int64_t{2})};
    CHECK(l.capacity() == 4);
    const Any* cpp_buffer = l.GetListObj()->begin();
    void* back = rs_seq_edit_cpp_list(Release(std::move(l)));
    CHECK(back != nullptr);
    List<Any> edited = Adopt<List<Any>>(back);
    CHECK(edited.size() == 5 && edited.capacity() == 8);
    CHECK(edited.GetListObj()->begin() != cpp_buffer);
    CHECK(edited[0].cast<String>() == "front of a C++ list");
    CHECK(edited[1].cast<Function>()().cast<int64_t>() == 7);
    CHECK(edited[2].cast<int64_t>() == 3 && edited[4].cast<int64_t>() == 5);
    CHECK(rs_seq_function_strong() == base + 1);
    // C++ grows the buffer Rust allocated, then its destructor frees through our deleter.
    for (int i = 0; i < 4; ++i) edited.push_back(Any(int64_t{i}));
    CHECK(edited.capacity() == 16 && edited.size() == 9);
    Array<Any> snapshot = Adopt<Array<Any>>(rs_seq_to_array(Raw(edited)));
    CHECK(snapshot.size() == 9 && snapshot.capacity() == 9);
    CHECK(snapshot[8].cast<int64_t>() == 3);
    CHECK(rs_seq_function_strong() == base + 2);
    // Our array of a C++ array is the same object.
    Array<Any> same = Adopt<Array<Any>>(rs_seq_to_array(Raw(snapshot)));
    CHECK(same.same_as(snapshot));
    CHECK(rs_seq_to_array(Raw(RustFunction())) == nullptr);
  }
  CHECK(rs_seq_function_strong() == base);
}

int main() {
  ReadRustArrays();
  MutateRustList();
  RustReadsCppObjects();
  return REPORT("seq");
}
