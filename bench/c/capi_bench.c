/*
 * The C API's hot paths, compiled against the reference's headers and linked against
 * "libtvm_ffi.so" with no rpath: ci/bench.sh runs the same binary on the reference library
 * and on ours by choosing LD_LIBRARY_PATH.
 *
 * Command lines: see harness.h; also `capi_bench --show-error`, which prints the error (and
 * its backtrace) that a C kernel raising three calls deep produces.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tvm/ffi/c_api.h>

#include "harness.h"

#define CHECK(expr)                                                                   \
  do {                                                                                \
    if ((expr) != 0) {                                                                \
      fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr);               \
      report_raised();                                                                \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

static void report_raised(void) {
  TVMFFIObjectHandle err = NULL;
  TVMFFIErrorMoveFromRaised(&err);
  if (err != NULL) {
    TVMFFIErrorCell* cell = (TVMFFIErrorCell*)((char*)err + sizeof(TVMFFIObject));
    fprintf(stderr, "  %.*s: %.*s\n", (int)cell->kind.size, cell->kind.data,
            (int)cell->message.size, cell->message.data);
    TVMFFIObjectDecRef(err);
  }
}

/* Keeps the optimiser from deleting work whose result is otherwise unused. */
static volatile int64_t sink;

/* ---- the callee of every packed call: does nothing, as cheap as a callee can be ---- */
static int noop_safe_call(void* self, const TVMFFIAny* args, int32_t num_args,
                          TVMFFIAny* result) {
  (void)self, (void)args, (void)num_args, (void)result;
  return 0;
}

/* ---- the floor: one indirect call to a function that does nothing ---- */
__attribute__((noinline)) static int floor_target(void* a, const TVMFFIAny* b, int32_t c,
                                                   TVMFFIAny* d) {
  __asm__ volatile("" ::: "memory");
  (void)a, (void)b, (void)c, (void)d;
  return 0;
}
static int (*volatile floor_ptr)(void*, const TVMFFIAny*, int32_t, TVMFFIAny*) = floor_target;

static void run_floor(long n) {
  TVMFFIAny result = {0};
  for (long i = 0; i < n; ++i) floor_ptr(NULL, NULL, 0, &result);
}

/* ---- packed calls ---- */
static TVMFFIObjectHandle noop_fn;
static TVMFFIAny call_args[8];

static void setup_calls(void) {
  CHECK(TVMFFIFunctionCreate(NULL, noop_safe_call, NULL, &noop_fn));
  for (int i = 0; i < 8; ++i) {
    call_args[i].type_index = (i % 2 == 0) ? kTVMFFIInt : kTVMFFIFloat;
    if (i % 2 == 0) call_args[i].v_int64 = i; else call_args[i].v_float64 = i * 0.5;
  }
}

static inline void call_n(long n, int32_t num_args) {
  for (long i = 0; i < n; ++i) {
    TVMFFIAny result = {0};
    if (TVMFFIFunctionCall(noop_fn, call_args, num_args, &result) != 0) abort();
  }
}
static void run_call0(long n) { call_n(n, 0); }
static void run_call3(long n) { call_n(n, 3); }
static void run_call8(long n) { call_n(n, 8); }

/* ---- reference counts ---- */
static void run_incdec(long n) {
  for (long i = 0; i < n; ++i) {
    TVMFFIObjectIncRef(noop_fn);
    TVMFFIObjectDecRef(noop_fn);
  }
}

/* ---- strings ---- */
static char text[1024];

static inline void string_n(long n, size_t size) {
  TVMFFIByteArray bytes = {text, size};
  for (long i = 0; i < n; ++i) {
    TVMFFIAny out;
    if (TVMFFIStringFromByteArray(&bytes, &out) != 0) abort();
    if (out.type_index >= kTVMFFIStaticObjectBegin) TVMFFIObjectDecRef(out.v_obj);
  }
}
static void setup_text(void) {
  for (size_t i = 0; i < sizeof(text); ++i) text[i] = (char)('a' + i % 26);
}
static void run_str_small(long n) { string_n(n, 5); }
static void run_str_32(long n) { string_n(n, 32); }
static void run_str_1k(long n) { string_n(n, 1024); }

/* ---- function objects ---- */
static void run_func_create(long n) {
  for (long i = 0; i < n; ++i) {
    TVMFFIObjectHandle f;
    if (TVMFFIFunctionCreate(NULL, noop_safe_call, NULL, &f) != 0) abort();
    TVMFFIObjectDecRef(f);
  }
}

/* ---- the global registry ---- */
static TVMFFIObjectHandle get_global(const char* name) {
  TVMFFIByteArray bytes = {name, strlen(name)};
  TVMFFIObjectHandle f = NULL;
  CHECK(TVMFFIFunctionGetGlobal(&bytes, &f));
  return f;
}

static inline void lookup_n(long n, const char* name) {
  TVMFFIByteArray bytes = {name, strlen(name)};
  for (long i = 0; i < n; ++i) {
    TVMFFIObjectHandle f = NULL;
    if (TVMFFIFunctionGetGlobal(&bytes, &f) != 0) abort();
    if (f != NULL) TVMFFIObjectDecRef(f);
  }
}
static void run_global_hit(long n) { lookup_n(n, "ffi.FunctionListGlobalNamesFunctor"); }
static void run_global_miss(long n) { lookup_n(n, "bench.no_such_function_anywhere"); }

/* ---- errors: raise with a backtrace, fetch, release ---- */
static void run_error(long n) {
  for (long i = 0; i < n; ++i) {
    TVMFFIErrorSetRaisedFromCStr("ValueError", "bench: a raised error");
    TVMFFIObjectHandle err = NULL;
    TVMFFIErrorMoveFromRaised(&err);
    if (err == NULL) abort();
    TVMFFIObjectDecRef(err);
  }
}

/* ---- containers through the global functions ---- */
static TVMFFIAny call_global(TVMFFIObjectHandle f, TVMFFIAny* args, int32_t num_args) {
  TVMFFIAny result = {0};
  CHECK(TVMFFIFunctionCall(f, args, num_args, &result));
  return result;
}

enum { ARRAY_N = 1000000, MAP_N = 100000 };
static TVMFFIObjectHandle array_fn, map_fn, map_get_fn;
static TVMFFIAny* bulk_args;

static void setup_array(void) {
  array_fn = get_global("ffi.Array");
  bulk_args = calloc(2 * (size_t)ARRAY_N, sizeof(TVMFFIAny));
  for (int64_t i = 0; i < ARRAY_N; ++i) {
    bulk_args[i].type_index = kTVMFFIInt;
    bulk_args[i].v_int64 = i;
  }
}

/* Build an Array of 1e6 ints (ffi.Array), sum it through its TVMFFISeqCell, release it. */
static void run_array(long n) {
  for (long r = 0; r < n; ++r) {
    TVMFFIAny arr = call_global(array_fn, bulk_args, ARRAY_N);
    const TVMFFISeqCell* cell = (const TVMFFISeqCell*)((char*)arr.v_obj + sizeof(TVMFFIObject));
    const TVMFFIAny* items = (const TVMFFIAny*)cell->data;
    int64_t sum = 0;
    for (int64_t i = 0; i < cell->size; ++i) sum += items[i].v_int64;
    if (sum != (int64_t)ARRAY_N * (ARRAY_N - 1) / 2) abort();
    sink = sum;
    TVMFFIObjectDecRef(arr.v_obj);
  }
}

static int setup_map(void) {
  map_fn = get_global("ffi.Map");
  map_get_fn = get_global("ffi.MapGetItem");
  if (map_fn == NULL || map_get_fn == NULL) return -1;
  bulk_args = calloc(2 * (size_t)MAP_N, sizeof(TVMFFIAny));
  for (int64_t i = 0; i < MAP_N; ++i) {
    bulk_args[2 * i].type_index = kTVMFFIInt;
    bulk_args[2 * i].v_int64 = i * 7919;
    bulk_args[2 * i + 1].type_index = kTVMFFIInt;
    bulk_args[2 * i + 1].v_int64 = i;
  }
  return 0;
}

/* Build a Map of 1e5 int -> int (ffi.Map), look every key up (ffi.MapGetItem), release. */
static void run_map(long n) {
  for (long r = 0; r < n; ++r) {
    TVMFFIAny map = call_global(map_fn, bulk_args, 2 * MAP_N);
    TVMFFIAny args[2];
    args[0] = map;
    int64_t sum = 0;
    for (int64_t i = 0; i < MAP_N; ++i) {
      args[1] = bulk_args[2 * i];
      sum += call_global(map_get_fn, args, 2).v_int64;
    }
    if (sum != (int64_t)MAP_N * (MAP_N - 1) / 2) abort();
    sink = sum;
    TVMFFIObjectDecRef(map.v_obj);
  }
}

/* ---- DLPack ---- */
static float tensor_data[64];
static int64_t tensor_shape[2] = {8, 8};
static int managed_deleted;
static void managed_deleter(struct DLManagedTensorVersioned* self) { (void)self; ++managed_deleted; }
static DLManagedTensorVersioned managed;
static TVMFFIObjectHandle tensor;

static void setup_dlpack(void) {
  managed.version.major = DLPACK_MAJOR_VERSION;
  managed.version.minor = DLPACK_MINOR_VERSION;
  managed.deleter = managed_deleter;
  managed.dl_tensor.data = tensor_data;
  managed.dl_tensor.device.device_type = kDLCPU;
  managed.dl_tensor.ndim = 2;
  managed.dl_tensor.dtype.code = kDLFloat;
  managed.dl_tensor.dtype.bits = 32;
  managed.dl_tensor.dtype.lanes = 1;
  managed.dl_tensor.shape = tensor_shape;
  CHECK(TVMFFITensorFromDLPackVersioned(&managed, 0, 0, &tensor));
}

/* Import a producer's DLManagedTensorVersioned as a tensor object, then release it (which
 * hands the tensor back to its producer's deleter). */
static void run_dlpack_import(long n) {
  for (long i = 0; i < n; ++i) {
    TVMFFIObjectHandle t;
    if (TVMFFITensorFromDLPackVersioned(&managed, 0, 0, &t) != 0) abort();
    TVMFFIObjectDecRef(t);
  }
}

/* Export a tensor object as a DLManagedTensorVersioned, then let the consumer delete it. */
static void run_dlpack_export(long n) {
  for (long i = 0; i < n; ++i) {
    DLManagedTensorVersioned* out;
    if (TVMFFITensorToDLPackVersioned(tensor, &out) != 0) abort();
    out->deleter(out);
  }
}

/* ---- the rows ---- */
static int setup_none(void) { return 0; }
static int setup_calls_row(void) { setup_calls(); return 0; }
static int setup_text_row(void) { setup_text(); return 0; }
static int setup_array_row(void) { setup_array(); return 0; }
static int setup_dlpack_row(void) { setup_dlpack(); return 0; }

static const BenchRow ROWS[] = {
    {"floor", setup_none, run_floor, 1},
    {"call0", setup_calls_row, run_call0, 1},
    {"call3", setup_calls_row, run_call3, 1},
    {"call8", setup_calls_row, run_call8, 1},
    {"incdec", setup_calls_row, run_incdec, 1},
    {"str_small", setup_text_row, run_str_small, 1},
    {"str_32", setup_text_row, run_str_32, 1},
    {"str_1k", setup_text_row, run_str_1k, 1},
    {"func_create", setup_none, run_func_create, 1},
    {"global_hit", setup_none, run_global_hit, 1},
    {"global_miss", setup_none, run_global_miss, 1},
    {"error", setup_none, run_error, 5},
    {"array_1e6", setup_array_row, run_array, 0},
    {"map_1e5", setup_map, run_map, 0},
    {"dlpack_import", setup_dlpack_row, run_dlpack_import, 1},
    {"dlpack_export", setup_dlpack_row, run_dlpack_export, 1},
};
enum { NUM_ROWS = sizeof(ROWS) / sizeof(ROWS[0]) };

/* An error raised three C calls deep, the way a C kernel raises one. */
__attribute__((noinline)) static void kernel_level3(void) {
  TVMFFIErrorSetRaisedFromCStr("ValueError", "raised three calls deep");
}
__attribute__((noinline)) static void kernel_level2(void) { kernel_level3(); sink = 2; }
__attribute__((noinline)) static void kernel_level1(void) { kernel_level2(); sink = 1; }

static int show_error(void) {
  kernel_level1();
  TVMFFIObjectHandle err = NULL;
  TVMFFIErrorMoveFromRaised(&err);
  if (err == NULL) return 1;
  TVMFFIErrorCell* cell = (TVMFFIErrorCell*)((char*)err + sizeof(TVMFFIObject));
  printf("%.*s: %.*s\n%.*s", (int)cell->kind.size, cell->kind.data, (int)cell->message.size,
         cell->message.data, (int)cell->backtrace.size, cell->backtrace.data);
  TVMFFIObjectDecRef(err);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--show-error") == 0) return show_error();
  int rc = bench_main(ROWS, NUM_ROWS, argc, argv);
  if (rc < 0) fprintf(stderr, "usage: see bench/c/harness.h\n");
  return rc < 0 ? 2 : rc;
}
