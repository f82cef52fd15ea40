/*
 * Structural hashing and equality of a 100,000-node tree through the global functions
 * (ffi.StructuralHash, ffi.StructuralEqual), compiled against the reference's headers and
 * linked with no rpath: ci/bench.sh runs the same binary on the reference's libtvm_ffi.so and
 * on ours (LD_LIBRARY_PATH), appending its rows to capi_bench's results.
 *
 * Two trees of 100,000 nodes each:
 * - objects: a reflected type defined here through the C API ("bench.structural.Node", a
 *   tree node with an int field and two Any children), as a compiler IR would be; the
 *   algorithms read it through its field getters;
 * - arrays: the same shape as nested ffi.Array values [value, left, right].
 * Equality compares two distinct, equal copies, so it walks every node.
 *
 * Command lines: see harness.h.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tvm/ffi/c_api.h>

#include "harness.h"

#define CHECK(expr)                                                     \
  do {                                                                  \
    if ((expr) != 0) {                                                  \
      fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #expr); \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

enum { TREE_N = 100000 };

static volatile int64_t sink;

/* ---- the reflected node type ---- */
typedef struct {
  TVMFFIObject header;
  int64_t value;
  TVMFFIAny left;
  TVMFFIAny right;
} Node;

/* Every object body is preceded by its allocation header (delete_space NULL: the deleter
 * frees the block itself). */
typedef struct {
  TVMFFIObjectAllocHeader alloc;
  Node node;
} NodeBlock;

static int32_t node_type_index = -1;

static void release(TVMFFIAny* v) {
  if (v->type_index >= kTVMFFIStaticObjectBegin) TVMFFIObjectDecRef(v->v_obj);
}

static void node_deleter(void* self, int flags) {
  Node* n = (Node*)self;
  if (flags & kTVMFFIObjectDeleterFlagBitMaskStrong) {
    release(&n->left);
    release(&n->right);
  }
  if (flags & kTVMFFIObjectDeleterFlagBitMaskWeak) {
    free((char*)self - offsetof(NodeBlock, node));
  }
}

static int get_any(void* field, TVMFFIAny* result) {
  TVMFFIAny v = *(TVMFFIAny*)field;
  if (v.type_index >= kTVMFFIStaticObjectBegin) TVMFFIObjectIncRef(v.v_obj);
  *result = v;
  return 0;
}

static int get_int(void* field, TVMFFIAny* result) {
  memset(result, 0, sizeof(*result));
  result->type_index = kTVMFFIInt;
  result->v_int64 = *(int64_t*)field;
  return 0;
}

static TVMFFIByteArray text(const char* s) {
  TVMFFIByteArray a = {s, strlen(s)};
  return a;
}

static void add_field(const char* name, int64_t offset, int64_t size, TVMFFIFieldGetter getter,
                      int32_t static_index, const char* metadata) {
  TVMFFIFieldInfo info;
  memset(&info, 0, sizeof(info));
  info.name = text(name);
  info.metadata = text(metadata);
  info.size = size;
  info.alignment = 8;
  info.offset = offset;
  info.getter = getter;
  info.default_value_or_factory.type_index = kTVMFFINone;
  info.field_static_type_index = static_index;
  CHECK(TVMFFITypeRegisterField(node_type_index, &info));
}

static void register_node_type(void) {
  if (node_type_index >= 0) return;
  TVMFFIByteArray key = text("bench.structural.Node");
  node_type_index = TVMFFITypeGetOrAllocIndex(&key, -1, 1, 0, 1, kTVMFFIObject);
  if (node_type_index < 0) exit(1);
  add_field("value", offsetof(Node, value), 8, get_int, kTVMFFIInt,
            "{\"type_schema\":\"{\\\"type\\\":\\\"int\\\"}\"}");
  add_field("left", offsetof(Node, left), 16, get_any, kTVMFFIAny,
            "{\"type_schema\":\"{\\\"type\\\":\\\"Any\\\"}\"}");
  add_field("right", offsetof(Node, right), 16, get_any, kTVMFFIAny,
            "{\"type_schema\":\"{\\\"type\\\":\\\"Any\\\"}\"}");
  TVMFFITypeMetadata meta;
  memset(&meta, 0, sizeof(meta));
  meta.total_size = sizeof(Node);
  meta.structural_eq_hash_kind = kTVMFFISEqHashKindTreeNode;
  CHECK(TVMFFITypeRegisterMetadata(node_type_index, &meta));
}

static TVMFFIAny none(void) {
  TVMFFIAny v;
  memset(&v, 0, sizeof(v));
  return v;
}

static TVMFFIAny new_node(int64_t value, TVMFFIAny left, TVMFFIAny right) {
  NodeBlock* b = (NodeBlock*)malloc(sizeof(NodeBlock));
  if (b == NULL) abort();
  b->alloc.delete_space = NULL;
  memset(&b->node.header, 0, sizeof(b->node.header));
  b->node.header.combined_ref_count = 1 | ((uint64_t)1 << 32);
  b->node.header.type_index = node_type_index;
  b->node.header.deleter = node_deleter;
  b->node.value = value;
  b->node.left = left; /* ownership moves in */
  b->node.right = right;
  TVMFFIAny v = none();
  v.type_index = node_type_index;
  v.v_obj = &b->node.header;
  return v;
}

/* A complete binary tree of TREE_N nodes, built bottom-up: node i has children 2i+1, 2i+2. */
static TVMFFIAny build_tree(TVMFFIAny (*make)(int64_t, TVMFFIAny, TVMFFIAny)) {
  TVMFFIAny* nodes = calloc(TREE_N, sizeof(TVMFFIAny));
  if (nodes == NULL) abort();
  for (int64_t i = TREE_N - 1; i >= 0; --i) {
    TVMFFIAny l = 2 * i + 1 < TREE_N ? nodes[2 * i + 1] : none();
    TVMFFIAny r = 2 * i + 2 < TREE_N ? nodes[2 * i + 2] : none();
    nodes[i] = make(i % 97, l, r);
  }
  TVMFFIAny root = nodes[0];
  free(nodes);
  return root;
}

/* ---- the same tree as nested arrays ---- */
static TVMFFIObjectHandle array_fn;

static TVMFFIAny new_array_node(int64_t value, TVMFFIAny left, TVMFFIAny right) {
  TVMFFIAny args[3];
  args[0] = none();
  args[0].type_index = kTVMFFIInt;
  args[0].v_int64 = value;
  args[1] = left;
  args[2] = right;
  TVMFFIAny result = none();
  CHECK(TVMFFIFunctionCall(array_fn, args, 3, &result));
  release(&left); /* the array took its own references */
  release(&right);
  return result;
}

/* ---- the rows ---- */
static TVMFFIObjectHandle hash_fn, equal_fn;
static TVMFFIAny obj_a, obj_b, arr_a, arr_b;

static TVMFFIObjectHandle get_global(const char* name) {
  TVMFFIByteArray n = text(name);
  TVMFFIObjectHandle f = NULL;
  if (TVMFFIFunctionGetGlobal(&n, &f) != 0) return NULL;
  return f;
}

static int setup(void) {
  if (hash_fn != NULL) return 0;
  hash_fn = get_global("ffi.StructuralHash");
  equal_fn = get_global("ffi.StructuralEqual");
  array_fn = get_global("ffi.Array");
  if (hash_fn == NULL || equal_fn == NULL || array_fn == NULL) return -1;
  register_node_type();
  obj_a = build_tree(new_node);
  obj_b = build_tree(new_node);
  arr_a = build_tree(new_array_node);
  arr_b = build_tree(new_array_node);
  return 0;
}

static TVMFFIAny flag(int v) {
  TVMFFIAny a = none();
  a.type_index = kTVMFFIBool;
  a.v_int64 = v;
  return a;
}

static void run_hash(long n, TVMFFIAny tree) {
  for (long i = 0; i < n; ++i) {
    TVMFFIAny args[3] = {tree, flag(0), flag(0)};
    TVMFFIAny result = none();
    CHECK(TVMFFIFunctionCall(hash_fn, args, 3, &result));
    sink = result.v_int64;
  }
}

static void run_equal(long n, TVMFFIAny a, TVMFFIAny b) {
  for (long i = 0; i < n; ++i) {
    TVMFFIAny args[4] = {a, b, flag(0), flag(0)};
    TVMFFIAny result = none();
    CHECK(TVMFFIFunctionCall(equal_fn, args, 4, &result));
    if (result.v_int64 != 1) abort(); /* equal copies */
    sink = result.v_int64;
  }
}

static void run_hash_objects(long n) { run_hash(n, obj_a); }
static void run_equal_objects(long n) { run_equal(n, obj_a, obj_b); }
static void run_hash_arrays(long n) { run_hash(n, arr_a); }
static void run_equal_arrays(long n) { run_equal(n, arr_a, arr_b); }

static const BenchRow ROWS[] = {
    {"structural_hash_tree_1e5", setup, run_hash_objects, 0},
    {"structural_equal_tree_1e5", setup, run_equal_objects, 0},
    {"structural_hash_array_tree_1e5", setup, run_hash_arrays, 0},
    {"structural_equal_array_tree_1e5", setup, run_equal_arrays, 0},
};

int main(int argc, char** argv) {
  int rc = bench_main(ROWS, (int)(sizeof(ROWS) / sizeof(ROWS[0])), argc, argv);
  if (rc < 0) {
    fprintf(stderr, "usage: %s [--smoke | --list | --count ROW N]\n", argv[0]);
    return 2;
  }
  return rc;
}
