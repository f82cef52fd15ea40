/*
 * The reference's own language-level paths, written with its C++ API (header-only, inline
 * over libtvm_ffi.so): the counterpart of the Rust rows in bench/src/lib.rs. Built against
 * the reference's headers and run on the reference's library.
 *
 * Command lines: see ../c/harness.h.
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <cstdint>
#include <cstdlib>
#include <optional>

#include "../c/harness.h"

namespace ffi = tvm::ffi;

namespace {

volatile int64_t sink;

// ---- a typed C++ function called from C++ through the packed ABI ----
std::optional<ffi::TypedFunction<int64_t(int64_t, int64_t)>> add;

int setup_typed() {
  add = ffi::TypedFunction<int64_t(int64_t, int64_t)>([](int64_t a, int64_t b) { return a + b; });
  return 0;
}

void run_typed_call(long n) {
  int64_t acc = 0;
  for (long i = 0; i < n; ++i) acc = (*add)(acc, 1);
  sink = acc;
}

// ---- reference counts: copy and destroy an ObjectRef ----
std::optional<ffi::Function> held;

int setup_held() {
  held = ffi::Function::FromPacked([](ffi::PackedArgs, ffi::Any*) {});
  return 0;
}

void run_incdec(long n) {
  for (long i = 0; i < n; ++i) {
    ffi::Function copy = *held;
    __asm__ volatile("" : : "r"(copy.get()) : "memory");
  }
}

// ---- containers ----
constexpr int64_t kArrayN = 1000000;
constexpr int64_t kMapN = 100000;

int setup_none() { return 0; }

// Build an Array<int64_t> of 1e6 ints and sum it.
void run_array(long n) {
  for (long r = 0; r < n; ++r) {
    ffi::Array<int64_t> a;
    a.reserve(kArrayN);
    for (int64_t i = 0; i < kArrayN; ++i) a.push_back(i);
    int64_t sum = 0;
    for (int64_t v : a) sum += v;
    if (sum != kArrayN * (kArrayN - 1) / 2) std::abort();
    sink = sum;
  }
}

// Insert 1e5 int -> int entries into a Map and look each key up.
void run_map(long n) {
  for (long r = 0; r < n; ++r) {
    ffi::Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < kMapN; ++i) m.Set(i * 7919, i);
    int64_t sum = 0;
    for (int64_t i = 0; i < kMapN; ++i) sum += m.at(i * 7919);
    if (sum != kMapN * (kMapN - 1) / 2) std::abort();
    sink = sum;
  }
}

const BenchRow kRows[] = {
    {"typed_call", setup_typed, run_typed_call, 1},
    {"incdec", setup_held, run_incdec, 1},
    {"array_1e6", setup_none, run_array, 0},
    {"map_1e5", setup_none, run_map, 0},
};

}  // namespace

int main(int argc, char** argv) {
  int rc = bench_main(kRows, sizeof(kRows) / sizeof(kRows[0]), argc, argv);
  return rc < 0 ? 2 : rc;
}
