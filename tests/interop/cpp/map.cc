// Map and Dict across the boundary. The reference's C++ Map<K, V> / Dict<K, V> read, look
// up, iterate and change maps our Rust builds (small and dense, in place and by
// copy-on-write, including C++ switching our Dict's storage in place); our Rust reads and
// changes maps the reference's C++ builds; and the same random operations, replayed by both
// sides, must give identical tables slot for slot. Reference counts are checked on a
// function object in Rust static memory.
#include <tvm/ffi/big_int.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/dict.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "check.h"

extern "C" {
void* rs_map_function();
uint32_t rs_map_function_strong();
void* rs_map_make(int64_t n, bool dict);
int32_t rs_map_check_cpp(void* map, void* order, int64_t n);
int64_t rs_map_grow_dict(void* dict, int64_t k);
void* rs_map_edit_cpp_map(void* map);
void* rs_map_replay(uint64_t seed, int64_t ops, uint64_t domain, bool dict);
int32_t rs_map_same_layout(void* a, void* b);
void* rs_map_make_big(int64_t n);
int32_t rs_map_big_lookups(void* dict, int64_t n);
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

static Function RustFunction() { return Adopt<Function>(rs_map_function()); }

// Key i of the maps both sides build: even i an int, odd i a string, short or long.
static Any Key(int64_t i) {
  switch (i % 4) {
    case 1:
      return String("k" + std::to_string(i));
    case 3:
      return String("a long string key number " + std::to_string(i));
    default:
      return i;
  }
}

// The keys of a map or dict in the reference's iteration order.
template <typename M>
static std::vector<Any> Keys(const M& m) {
  std::vector<Any> out;
  for (const auto& kv : m) out.push_back(kv.first);
  return out;
}

static bool SameKeys(const std::vector<Any>& got, const std::vector<Any>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!AnyEqual()(got[i], want[i])) return false;
  }
  return true;
}

// key(0) .. key(n - 1), then "fn": what rs_map_make inserts.
static std::vector<Any> Made(int64_t n) {
  std::vector<Any> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(Key(i));
  out.push_back(String("fn"));
  return out;
}

// Our maps and dicts, small and dense, read by the reference's inline code.
static void ReadRustMaps() {
  const uint32_t base = rs_map_function_strong();
  for (int64_t n : {0, 1, 3, 4, 5, 1000}) {
    for (bool dict : {false, true}) {
      void* raw = rs_map_make(n, dict);
      std::vector<Any> keys;
      bool found = true;
      if (dict) {
        Dict<Any, Any> d = Adopt<Dict<Any, Any>>(raw);
        CHECK(d->type_index() == TypeIndex::kTVMFFIDict);
        CHECK(d.size() == static_cast<size_t>(n + 1));
        for (int64_t i = 0; i < n; ++i) found &= d.at(Key(i)).cast<int64_t>() == i * 10;
        found &= d.count(Any(int64_t{n})) == 0 && !d.Get(String("absent")).has_value();
        found &= d.at(String("fn")).type_index() == TypeIndex::kTVMFFIFunction;
        keys = Keys(d);
        CHECK(rs_map_function_strong() == base + 1);
      } else {
        Map<Any, Any> m = Adopt<Map<Any, Any>>(raw);
        CHECK(m->type_index() == TypeIndex::kTVMFFIMap);
        CHECK(m.size() == static_cast<size_t>(n + 1));
        for (int64_t i = 0; i < n; ++i) found &= m[Key(i)].cast<int64_t>() == i * 10;
        for (int64_t i = 0; i < n; ++i) found &= m.find(Key(i)) != m.end();
        found &= m.count(Any(int64_t{-1})) == 0 && m.find(String("absent")) == m.end();
        keys = Keys(m);
        // A typed view of a Map<Any, Any> holding only ints and strings is the same
        // object only where every key is a string; here it must be a checked copy.
        using IntMap = Map<int64_t, int64_t>;
        CHECK(!Any(m).try_cast<IntMap>().has_value());
        CHECK(rs_map_function_strong() == base + 1);
      }
      CHECK(found);
      CHECK(SameKeys(keys, Made(n)));  // insertion order
      CHECK(rs_map_function_strong() == base);  // the map, with its value, is gone
    }
  }
  CHECK(rs_map_function_strong() == base);
}

// The reference's Map and Dict changing objects our Rust made.
static void CppChangesRustMaps() {
  const uint32_t base = rs_map_function_strong();
  {
    // Our small Map of 2, held alone: full, so C++ builds a new one (4 slots).
    Map<Any, Any> m = Adopt<Map<Any, Any>>(rs_map_make(1, false));
    const Object* ours = m.get();
    m.Set(Any(int64_t{100}), Any(RustFunction()));
    CHECK(m.get() != ours && m.size() == 3);
    CHECK(rs_map_function_strong() == base + 2);
    m.erase(String("fn"));
    CHECK(m.size() == 2 && rs_map_function_strong() == base + 1);
  }
  CHECK(rs_map_function_strong() == base);
  {
    // Our small Map of 4 (4 slots): setting a key makes it dense, that key last.
    Map<Any, Any> m = Adopt<Map<Any, Any>>(rs_map_make(3, false));
    m.Set(Key(1), Any(int64_t{11}));
    CHECK(SameKeys(Keys(m), {Key(0), Key(2), String("fn"), Key(1)}));
    CHECK(m.at(Key(1)).cast<int64_t>() == 11);
  }
  {
    // Our dense Map: C++ changes it in place, rehashes it (moving pairs out of our blocks
    // and freeing them through our deleter), and copies it when shared.
    Map<Any, Any> m = Adopt<Map<Any, Any>>(rs_map_make(1000, false));
    Map<Any, Any> shared = m;
    m.Set(Any(int64_t{-5}), Any(RustFunction()));  // shared: C++ copies our table first
    CHECK(!m.same_as(shared) && shared.size() == 1001 && m.size() == 1002);
    CHECK(rs_map_function_strong() == base + 3);
    shared = Map<Any, Any>();
    for (int64_t i = 0; i < 1000; i += 2) m.erase(Key(i));
    for (int64_t i = 0; i < 3000; ++i) m.Set(Any(int64_t{100000 + i}), Any(i));
    bool ok = m.size() == 3502;
    for (int64_t i = 1; i < 1000; i += 2) ok &= m.at(Key(i)).cast<int64_t>() == i * 10;
    for (int64_t i = 0; i < 3000; ++i) ok &= m.at(Any(int64_t{100000 + i})).cast<int64_t>() == i;
    CHECK(ok);
    CHECK(rs_map_function_strong() == base + 2);
  }
  CHECK(rs_map_function_strong() == base);
  {
    // Our Dict: C++ grows it, switching its storage in place (small to small, then to
    // dense written into our object); Rust grows it again, replacing C++'s blocks.
    Dict<Any, Any> d = Adopt<Dict<Any, Any>>(rs_map_make(1, true));
    Dict<Any, Any> alias = d;
    const Object* ours = d.get();
    for (int64_t i = 0; i < 10; ++i) d.Set(Any(int64_t{100 + i}), Any(i));
    CHECK(d.get() == ours && alias.size() == 12);
    int64_t len = rs_map_grow_dict(Raw(d), 50);
    CHECK(len == 61 && alias.size() == 61);
    std::vector<Any> want = {String("fn")};
    for (int64_t i = 0; i < 10; ++i) want.push_back(Any(int64_t{100 + i}));
    for (int64_t i = 1; i < 50; ++i) want.push_back(Any(int64_t{10000 + i}));
    want.push_back(Any(int64_t{0}));  // set again in a dense dict: moved last
    CHECK(SameKeys(Keys(d), want));
    CHECK(d.at(Any(int64_t{0})).type_index() == TypeIndex::kTVMFFIFunction);
    CHECK(!d.count(Any(int64_t{10000})) && d.at(Any(int64_t{10049})).cast<int64_t>() == 49);
    CHECK(rs_map_function_strong() == base + 2);
    d.erase(String("fn"));
    for (int64_t i = 0; i < 100; ++i) d.Set(Any(int64_t{-i}), Any(i));  // -0 replaces key 0
    CHECK(alias.size() == 159 && rs_map_function_strong() == base);
    alias.clear();
    CHECK(d.size() == 0);
    d.Set(String("again"), Any(RustFunction()));
  }
  CHECK(rs_map_function_strong() == base);
}

// Maps and dicts the reference's C++ builds, read and changed by our Rust.
static void RustReadsCppMaps() {
  const uint32_t base = rs_map_function_strong();
  for (int64_t n : {0, 2, 4, 5, 1000}) {
    Map<Any, Any> m;
    Dict<Any, Any> d;
    for (int64_t i = 0; i < n; ++i) {
      m.Set(Key(i), Any(i * 10));
      d.Set(Key(i), Any(i * 10));
    }
    std::vector<Any> mkeys = Keys(m), dkeys = Keys(d);
    Array<Any> morder(mkeys.begin(), mkeys.end()), dorder(dkeys.begin(), dkeys.end());
    CHECK(rs_map_check_cpp(Raw(m), Raw(morder), n) == 0);
    CHECK(rs_map_check_cpp(Raw(d), Raw(dorder), n) == 0);

    // Rust grows the C++ dict in place: a small one switches to dense inside C++'s object,
    // a dense one gets new blocks (C++'s freed through BlockDeleter).
    Dict<Any, Any> alias = d;
    int64_t len = rs_map_grow_dict(Raw(d), 100);
    const int64_t want = n + 99 + (n == 0);  // key 0 is new to an empty dict
    CHECK(len == want && alias.size() == static_cast<size_t>(want));
    bool ok = true;
    for (int64_t i = 1; i < n; ++i) ok &= d.at(Key(i)).cast<int64_t>() == i * 10;
    for (int64_t i = 1; i < 100; ++i) ok &= d.at(Any(int64_t{10000 + i})).cast<int64_t>() == i;
    CHECK(ok && !d.count(Any(int64_t{10000})));
    CHECK(Keys(d).back().cast<int64_t>() == 0);  // key 0, set by Rust, last
    CHECK(rs_map_function_strong() == base + 1);

    // A C++ map handed to Rust: changed in place when Rust holds it alone, copied when not.
    if (n >= 4) {
      Map<Any, Any> keep = m;
      Map<Any, Any> edited = Adopt<Map<Any, Any>>(rs_map_edit_cpp_map(Release(std::move(m))));
      CHECK(edited.defined() && !edited.same_as(keep));
      CHECK(keep.size() == static_cast<size_t>(n) && keep.at(Key(2)).cast<int64_t>() == 20);
      CHECK(edited.size() == static_cast<size_t>(n) && edited.at(Key(2)).cast<int64_t>() == -2);
      CHECK(!edited.count(Any(int64_t{0})) && edited.count(String("added by Rust")));
      const Object* alone = keep.get();
      Map<Any, Any> again = Adopt<Map<Any, Any>>(rs_map_edit_cpp_map(Release(std::move(keep))));
      CHECK(again.get() == alone);  // held alone by Rust: changed in place
    }
  }
  CHECK(rs_map_function_strong() == base);
}

// SplitMix64, as in src/map.rs.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

// n * 2^70 + n: a BigInt object for n > 0, hashed and compared through its type attributes.
static Any Big(int64_t n) {
  BigInt b(n);
  b <<= BigInt(70);
  b += BigInt(n);
  return b;
}

static Any RandomKey(Rng& rng, uint64_t domain) {
  int64_t n = static_cast<int64_t>(rng.Below(domain));
  switch (rng.Below(6)) {
    case 0:
    case 1:
      return n - 8;
    case 2:
      return n % 2 == 0;
    case 3:
      return String("k" + std::to_string(n));
    case 4:
      return Big(n);
    default:
      return String("a longer text key " + std::to_string(n));
  }
}

// The same random sets and erases in the reference and in Rust (rs_map_replay): the tables
// must match slot for slot, and each side must iterate and find the other's keys.
template <typename M>
static void Replay(uint64_t seed, int64_t ops, uint64_t domain, bool dict) {
  Rng rng{seed};
  M m;
  for (int64_t i = 0; i < ops; ++i) {
    Any k = RandomKey(rng, domain);
    bool set = rng.Below(3) != 0;
    int64_t v = static_cast<int64_t>(rng.Below(1000));
    if (set) {
      m.Set(k, Any(v));
    } else {
      m.erase(k);
    }
  }
  M rust = Adopt<M>(rs_map_replay(seed, ops, domain, dict));
  CHECK(rs_map_same_layout(Raw(m), Raw(rust)) == 0);
  CHECK(SameKeys(Keys(rust), Keys(m)));
  bool found = rust.size() == m.size();
  for (const auto& kv : m) found &= rust.at(kv.first).template cast<int64_t>() == kv.second.template cast<int64_t>();
  CHECK(found);
}

// BigInt keys: distinct objects of equal value are one key, on both sides, because both
// hash and compare them through the __any_hash__ / __any_equal__ the reference registers.
static void BigIntKeys() {
  const int64_t n = 40;
  Dict<Any, Any> ours = Adopt<Dict<Any, Any>>(rs_map_make_big(n));
  bool found = ours.size() == static_cast<size_t>(n);
  for (int64_t i = 1; i <= n; ++i) found &= ours.at(Big(i)).cast<int64_t>() == i;
  CHECK(found && ours.at(Big(3)).type_index() == TypeIndex::kTVMFFIInt);
  CHECK(Big(3).type_index() == TypeIndex::kTVMFFIBigInt && !ours.count(Big(n + 1)));
  ours.Set(Big(2), Any(int64_t{-2}));
  CHECK(ours.size() == static_cast<size_t>(n) && ours.at(Big(2)).cast<int64_t>() == -2);
  Dict<Any, Any> theirs;
  for (int64_t i = 1; i <= n; ++i) theirs.Set(Big(i), Any(i));
  CHECK(rs_map_big_lookups(Raw(theirs), n) == 0);
  found = theirs.size() == static_cast<size_t>(2 * n);
  for (int64_t i = 1; i <= 2 * n; ++i) found &= theirs.at(Big(i)).cast<int64_t>() == i;
  CHECK(found);
}

static void ReplayBothSides() {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const uint64_t domain = 20 + seed * seed * 40;  // from a few keys to about 2600
    Replay<Map<Any, Any>>(seed, 4000, domain, false);
    Replay<Dict<Any, Any>>(seed, 4000, domain, true);
  }
}

int main() {
  ReadRustMaps();
  CppChangesRustMaps();
  RustReadsCppMaps();
  BigIntKeys();
  ReplayBothSides();
  return REPORT("map");
}
