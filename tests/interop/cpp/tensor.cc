// Tensors across the boundary. The reference's C++ Tensor reads, writes, views and exports
// (DLPack) tensor objects our Rust builds; our Rust reads and exports tensors the reference's
// C++ builds (FromNDAlloc, FromDLPack, as_strided). Deleters of DLPack tensors are counted
// through interposed wrappers: each runs exactly once, after the last reference is gone.
#include <tvm/ffi/any.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "check.h"

extern "C" {
void* rs_tensor_iota_f32(const int64_t* shape, size_t ndim);
void* rs_tensor_transpose(void* obj);
int32_t rs_tensor_describe(void* obj, int64_t* shape, int64_t* strides, size_t cap,
                           DLDataType* dtype, double* sum);
DLManagedTensor* rs_tensor_to_dlpack(void* obj);
DLManagedTensorVersioned* rs_tensor_to_dlpack_versioned(void* obj);
void* rs_tensor_from_dlpack(DLManagedTensor* m, size_t align, bool contiguous, char* msg,
                            size_t cap);
void* rs_tensor_from_dlpack_versioned(DLManagedTensorVersioned* m, size_t align,
                                      bool contiguous, char* msg, size_t cap);
void* rs_tensor_data_ptr(void* obj);
bool rs_tensor_is_valid(void* obj);
void* rs_tensor_view_sum();
}

using namespace tvm::ffi;

static Tensor Adopt(void* raw) {
  return Tensor(detail::ObjectUnsafe::ObjectPtrFromOwned<TensorObj>(static_cast<TVMFFIObject*>(raw)));
}

static void* Raw(const ObjectRef& ref) {
  return detail::ObjectUnsafe::TVMFFIObjectPtrFromObjectRef(ref);
}

static Tensor RustIota(std::vector<int64_t> shape) {
  return Adopt(rs_tensor_iota_f32(shape.data(), shape.size()));
}

static float At(const Tensor& t, std::vector<int64_t> idx) {
  int64_t off = 0;
  for (size_t i = 0; i < idx.size(); ++i) off += idx[i] * t.stride(static_cast<int64_t>(i));
  return reinterpret_cast<const float*>(static_cast<char*>(t.data_ptr()) + t.byte_offset())[off];
}

struct Described {
  int32_t ndim;
  std::vector<int64_t> shape, strides;
  DLDataType dtype;
  double sum;
};

static Described Describe(const Tensor& t) {
  Described d;
  d.shape.resize(8);
  d.strides.resize(8);
  d.ndim = rs_tensor_describe(Raw(t), d.shape.data(), d.strides.data(), 8, &d.dtype, &d.sum);
  if (d.ndim >= 0) {
    d.shape.resize(d.ndim);
    d.strides.resize(d.ndim);
  }
  return d;
}

// Counting wrappers around deleters: the original is kept per wrapped tensor in a map-free
// way (one slot per test step suffices, the steps are sequential).
static int g_legacy_calls = 0, g_versioned_calls = 0, g_legacy2_calls = 0;
static void (*g_legacy_orig)(DLManagedTensor*) = nullptr;
static void (*g_legacy2_orig)(DLManagedTensor*) = nullptr;
static void (*g_versioned_orig)(DLManagedTensorVersioned*) = nullptr;
static void CountLegacy(DLManagedTensor* m) { ++g_legacy_calls; g_legacy_orig(m); }
static void CountLegacy2(DLManagedTensor* m) { ++g_legacy2_calls; g_legacy2_orig(m); }
static void CountVersioned(DLManagedTensorVersioned* m) { ++g_versioned_calls; g_versioned_orig(m); }

// A C++ producer: a DLManagedTensor owning its data and shape, deleted by a counter.
static int g_producer_calls = 0;
struct Producer {
  DLManagedTensor managed;
  std::vector<float> data;
  std::vector<int64_t> shape, strides;
};
static void DeleteProducer(DLManagedTensor* m) {
  ++g_producer_calls;
  delete reinterpret_cast<Producer*>(m);
}
static DLManagedTensor* Produce(std::vector<int64_t> shape, std::vector<int64_t> strides) {
  Producer* p = new Producer();
  int64_t n = 1;
  for (int64_t e : shape) n *= e;
  p->data.resize(n < 1 ? 1 : n);
  for (int64_t i = 0; i < n; ++i) p->data[i] = static_cast<float>(10 * i);
  p->shape = std::move(shape);
  p->strides = std::move(strides);
  p->managed.dl_tensor.data = p->data.data();
  p->managed.dl_tensor.device = DLDevice{kDLCPU, 0};
  p->managed.dl_tensor.ndim = static_cast<int32_t>(p->shape.size());
  p->managed.dl_tensor.dtype = DLDataType{kDLFloat, 32, 1};
  p->managed.dl_tensor.shape = p->shape.data();
  p->managed.dl_tensor.strides = p->strides.empty() ? nullptr : p->strides.data();
  p->managed.dl_tensor.byte_offset = 0;
  p->managed.manager_ctx = p;
  p->managed.deleter = DeleteProducer;
  return &p->managed;
}

struct CPUNDAlloc {
  void AllocData(DLTensor* t) { t->data = std::malloc(GetDataSize(*t)); }
  void FreeData(DLTensor* t) { std::free(t->data); }
};

// Our tensors read, written and exported by the reference's C++.
static void CppReadsRustTensors() {
  // The layout our Rust mirrors (alloc-tier tensor::LAYOUTS): the DLTensor base right
  // after the 24-byte header.
  CHECK(sizeof(TensorObj) == 24 + sizeof(DLTensor));
  Tensor t = RustIota({2, 3});
  const TensorObj* obj = static_cast<const TensorObj*>(static_cast<const Object*>(Raw(t)));
  CHECK(reinterpret_cast<const char*>(static_cast<const DLTensor*>(obj)) -
            reinterpret_cast<const char*>(obj) ==
        24);
  CHECK(t.defined() && t->type_index() == TypeIndex::kTVMFFITensor);
  CHECK(t.use_count() == 1);
  CHECK(t.ndim() == 3 - 1 && t.numel() == 6 && t.size(0) == 2 && t.size(-1) == 3);
  CHECK(t.stride(0) == 3 && t.stride(1) == 1 && t.strides().size() == 2);
  CHECK(t.dtype() == (DLDataType{kDLFloat, 32, 1}));
  CHECK(t.device().device_type == kDLCPU && t.device().device_id == 0);
  CHECK(t.byte_offset() == 0 && t.IsContiguous() && t.IsAligned(64));
  CHECK(GetDataSize(t) == 24);
  for (int i = 0; i < 6; ++i) CHECK(static_cast<float*>(t.data_ptr())[i] == i);
  CHECK(TVMFFITensorGetDLTensorPtr(Raw(t)) == t.GetDLTensorPtr());

  // Any / TensorView / DLTensor* conversions of our object.
  Any any = t;
  CHECK(t.use_count() == 2);
  CHECK(any.as<Tensor>().value().data_ptr() == t.data_ptr());
  CHECK(any.cast<DLTensor*>() == t.GetDLTensorPtr());
  TensorView tv = t;
  CHECK(tv.shape()[1] == 3 && tv.strides()[0] == 3 && tv.data_ptr() == t.data_ptr());
  any = Any();
  CHECK(t.use_count() == 1);

  // C++ writes through the shared buffer; our Rust reads the change.
  static_cast<float*>(t.data_ptr())[5] = 100.0f;
  Described d = Describe(t);
  CHECK(d.ndim == 2 && d.shape == (std::vector<int64_t>{2, 3}));
  CHECK(d.sum == 0 + 1 + 2 + 3 + 4 + 100);

  // Exported to DLPack by the reference's own ToDLPack on our object.
  DLManagedTensor* m = t.ToDLPack();
  CHECK(t.use_count() == 2);
  CHECK(m->dl_tensor.data == t.data_ptr() && m->dl_tensor.ndim == 2);
  CHECK(m->dl_tensor.shape[0] == 2 && m->dl_tensor.strides[0] == 3);
  {
    Tensor back = Tensor::FromDLPack(m);  // takes `m` over
    CHECK(back.data_ptr() == t.data_ptr() && At(back, {1, 1}) == 4.0f);
    CHECK(rs_tensor_is_valid(Raw(back)));
  }
  CHECK(t.use_count() == 1);
  DLManagedTensorVersioned* v = t.ToDLPackVersioned();
  CHECK(v->version.major == DLPACK_MAJOR_VERSION && v->version.minor == DLPACK_MINOR_VERSION);
  v->deleter(v);
  CHECK(t.use_count() == 1);

  // The reference's C API on our object.
  DLManagedTensor* m2 = nullptr;
  CHECK(TVMFFITensorToDLPack(Raw(t), &m2) == 0 && m2->dl_tensor.data == t.data_ptr());
  m2->deleter(m2);
  CHECK(t.use_count() == 1);
}

// Our views, read by C++; and C++ views (TVMFFITensorCreateUnsafeView in libtvm_ffi) of our
// tensors, read by our Rust.
static void Views() {
  Tensor t = RustIota({2, 3});
  {
    Tensor tr = Adopt(rs_tensor_transpose(Raw(t)));
    CHECK(tr.defined() && t.use_count() == 2);
    CHECK(tr.size(0) == 3 && tr.size(1) == 2 && tr.stride(0) == 1 && tr.stride(1) == 3);
    CHECK(!tr.IsContiguous() && tr.data_ptr() == t.data_ptr());
    CHECK(At(tr, {0, 1}) == 3.0f && At(tr, {2, 0}) == 2.0f && At(tr, {2, 1}) == 5.0f);
    Described d = Describe(tr);  // our Rust reads our view through its strides
    CHECK(d.ndim == 2 && d.strides == (std::vector<int64_t>{1, 3}) && d.sum == 15);

    // The reference's as_strided on our tensor, read by our Rust.
    Tensor row = t.as_strided({3}, {1}, 3);
    CHECK(t.use_count() == 3);
    CHECK(static_cast<char*>(row.data_ptr()) == static_cast<char*>(t.data_ptr()) + 12);
    Described r = Describe(row);
    CHECK(r.ndim == 1 && r.shape[0] == 3 && r.sum == 3 + 4 + 5);
    CHECK(rs_tensor_transpose(Raw(row)) == nullptr);  // 1-D: refused, no crash
  }
  CHECK(t.use_count() == 1);
  // A view outlives its source.
  Tensor tr = Adopt(rs_tensor_transpose(Raw(t)));
  void* data = t.data_ptr();
  t = Tensor();
  CHECK(tr.data_ptr() == data && At(tr, {1, 1}) == 4.0f);
}

// Tensors the reference's C++ builds, read and exported back by our Rust.
static void RustReadsCppTensors() {
  Tensor t = Tensor::FromNDAlloc(CPUNDAlloc(), Shape({2, 2}), DLDataType{kDLFloat, 32, 1},
                                 DLDevice{kDLCPU, 0});
  for (int i = 0; i < 4; ++i) static_cast<float*>(t.data_ptr())[i] = 1.5f * i;
  Described d = Describe(t);
  CHECK(d.ndim == 2 && d.shape == (std::vector<int64_t>{2, 2}));
  CHECK(d.strides == (std::vector<int64_t>{2, 1}) && d.sum == 9.0);
  CHECK(d.dtype.code == kDLFloat && d.dtype.bits == 32 && d.dtype.lanes == 1);

  // Our export of a C++ tensor, taken over by C++.
  {
    Tensor back = Tensor::FromDLPack(rs_tensor_to_dlpack(Raw(t)));
    CHECK(t.use_count() == 2 && back.data_ptr() == t.data_ptr() && At(back, {1, 0}) == 3.0f);
    Tensor back2 = Tensor::FromDLPackVersioned(rs_tensor_to_dlpack_versioned(Raw(t)), 0, true);
    CHECK(t.use_count() == 3 && back2.shape()[1] == 2);
  }
  CHECK(t.use_count() == 1);

  // A strided C++ tensor, and a 0-d one.
  Tensor s = Tensor::FromNDAllocStrided(CPUNDAlloc(), Shape({2, 3}), Shape({1, 2}),
                                        DLDataType{kDLFloat, 32, 1}, DLDevice{kDLCPU, 0});
  for (int i = 0; i < 6; ++i) static_cast<float*>(s.data_ptr())[i] = 1.0f;
  Described sd = Describe(s);
  CHECK(sd.ndim == 2 && sd.strides == (std::vector<int64_t>{1, 2}) && sd.sum == 6.0);
  Tensor scalar = Tensor::FromNDAlloc(CPUNDAlloc(), Shape(std::vector<int64_t>{}),
                                      DLDataType{kDLFloat, 32, 1}, DLDevice{kDLCPU, 0});
  *static_cast<float*>(scalar.data_ptr()) = 7.0f;
  Described z = Describe(scalar);
  CHECK(z.ndim == 0 && z.sum == 7.0);
  Tensor empty = Tensor::FromNDAlloc(CPUNDAlloc(), Shape({3, 0}), DLDataType{kDLFloat, 32, 1},
                                     DLDevice{kDLCPU, 0});
  Described e = Describe(empty);
  CHECK(e.ndim == 2 && e.sum == 0.0);
}

// A C++ producer's tensor, taken over by C++ FromDLPack, read by Rust, exported by Rust and
// taken back by C++: the producer's deleter runs once, after everything is gone.
static void CppDLPackThroughRust() {
  g_producer_calls = 0;
  {
    Tensor c = Tensor::FromDLPack(Produce({4}, {}));
    Described d = Describe(c);
    CHECK(d.ndim == 1 && d.strides[0] == 1 && d.sum == 0 + 10 + 20 + 30);
    DLManagedTensorVersioned* v = rs_tensor_to_dlpack_versioned(Raw(c));
    CHECK(v != nullptr && v->flags == 0 && v->version.major == 1 && v->dl_tensor.data == c.data_ptr());
    c = Tensor();
    CHECK(g_producer_calls == 0);  // our export holds the C++ object
    {
      Tensor again = Tensor::FromDLPackVersioned(v);
      CHECK(again.shape()[0] == 4 && At(again, {3}) == 30.0f);
    }
  }
  CHECK(g_producer_calls == 1);

  // Taken over by our Rust directly.
  g_producer_calls = 0;
  char msg[256] = {0};
  void* r = rs_tensor_from_dlpack(Produce({2, 2}, {1, 2}), 0, false, msg, sizeof(msg));
  CHECK(r != nullptr);
  {
    Tensor t = Adopt(r);
    CHECK(t.stride(0) == 1 && t.stride(1) == 2 && At(t, {1, 0}) == 10.0f);
    CHECK(!t.IsContiguous());
  }
  CHECK(g_producer_calls == 1);
}

// The full round trip Rust -> DLPack -> C++ FromDLPack -> DLPack -> Rust, data pointer kept,
// each deleter once.
static void RoundTrip() {
  g_legacy_calls = g_legacy2_calls = g_versioned_calls = 0;
  Tensor r = RustIota({3, 2});
  void* data = r.data_ptr();

  DLManagedTensor* m1 = rs_tensor_to_dlpack(Raw(r));
  g_legacy_orig = m1->deleter;
  m1->deleter = CountLegacy;
  CHECK(r.use_count() == 2);
  Tensor c = Tensor::FromDLPack(m1, 64, true);
  CHECK(c.data_ptr() == data);

  DLManagedTensor* m2 = c.ToDLPack();
  g_legacy2_orig = m2->deleter;
  m2->deleter = CountLegacy2;
  char msg[256] = {0};
  Tensor r2 = Adopt(rs_tensor_from_dlpack(m2, 64, true, msg, sizeof(msg)));
  CHECK(r2.defined() && rs_tensor_data_ptr(Raw(r2)) == data);
  CHECK(!r2.same_as(r) && !r2.same_as(c));

  DLManagedTensorVersioned* v = rs_tensor_to_dlpack_versioned(Raw(r2));
  g_versioned_orig = v->deleter;
  v->deleter = CountVersioned;
  Tensor c2 = Tensor::FromDLPackVersioned(v);
  CHECK(c2.data_ptr() == data && At(c2, {2, 1}) == 5.0f);

  c = Tensor();
  r2 = Tensor();
  CHECK(g_legacy_calls == 0 && g_legacy2_calls == 0 && g_versioned_calls == 0);
  c2 = Tensor();  // the whole chain unwinds
  CHECK(g_versioned_calls == 1 && g_legacy2_calls == 1 && g_legacy_calls == 1);
  CHECK(r.use_count() == 1);
}

// Bad input refused by our Rust with the reference's message where it has one; the managed
// tensor stays with the caller, whose deleter call is the only one.
static std::string ReferenceMessage(DLManagedTensor* m, size_t align, bool contiguous) {
  try {
    Tensor::FromDLPack(m, align, contiguous);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

static void Rejections() {
  char msg[256];
  g_producer_calls = 0;

  DLManagedTensor* m = Produce({2, 3}, {1, 2});
  CHECK(rs_tensor_from_dlpack(m, 0, true, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg) == "FromDLPack: Tensor is not contiguous.");
  CHECK(std::string(msg) == ReferenceMessage(m, 0, true));
  m->dl_tensor.byte_offset = 2;
  CHECK(rs_tensor_from_dlpack(m, 64, false, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg) == ReferenceMessage(m, 64, false));
  CHECK(std::string(msg) == "FromDLPack: Data is not aligned to 64 bytes.");

  m->dl_tensor.byte_offset = 0;
  m->dl_tensor.data = nullptr;
  CHECK(rs_tensor_from_dlpack(m, 0, false, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg).find("null") != std::string::npos);
  m->dl_tensor.data = reinterpret_cast<Producer*>(m)->data.data();
  m->dl_tensor.shape[1] = -3;
  CHECK(rs_tensor_from_dlpack(m, 0, false, msg, sizeof(msg)) == nullptr);
  m->dl_tensor.shape[1] = 3;
  m->dl_tensor.ndim = -1;
  CHECK(rs_tensor_from_dlpack(m, 0, false, msg, sizeof(msg)) == nullptr);
  m->dl_tensor.ndim = 2;
  m->dl_tensor.dtype = DLDataType{99, 32, 1};
  CHECK(rs_tensor_from_dlpack(m, 0, false, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg) == "DLDataType contains unknown type_code=99");
  CHECK(rs_tensor_from_dlpack(nullptr, 0, false, msg, sizeof(msg)) == nullptr);
  CHECK(g_producer_calls == 0);
  m->deleter(m);
  CHECK(g_producer_calls == 1);

  // An unsupported DLPack major version: refused before anything but the version is read.
  DLManagedTensorVersioned* v = Tensor(RustIota({2})).ToDLPackVersioned();
  v->version.major = 2;
  CHECK(rs_tensor_from_dlpack_versioned(v, 0, false, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg).find("not supported") != std::string::npos);
  v->flags = DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED;
  v->version.major = 1;
  CHECK(rs_tensor_from_dlpack_versioned(v, 0, false, msg, sizeof(msg)) == nullptr);
  CHECK(std::string(msg) == "Subbyte type padded is not yet supported");
  v->deleter(v);
}

// A Rust function taking a TensorView, called as C++ calls kernels: with a TensorView (a
// DLTensor*, the reference's kernel argument type), with a Tensor object, and with a
// malformed DLTensor, which is refused with an error, never read past.
static void RustTakesTensorViews() {
  Function sum = Function(detail::ObjectUnsafe::ObjectPtrFromOwned<FunctionObj>(
      static_cast<TVMFFIObject*>(rs_tensor_view_sum())));
  Tensor cpp = Tensor::FromNDAlloc(CPUNDAlloc(), Shape({2, 3}), DLDataType{kDLFloat, 32, 1},
                                   DLDevice{kDLCPU, 0});
  for (int i = 0; i < 6; ++i) static_cast<float*>(cpp.data_ptr())[i] = static_cast<float>(i);
  Tensor rust = RustIota({2, 3});

  for (const Tensor* t : {&cpp, &rust}) {
    Array<Any> r = sum(TensorView(*t)).cast<Array<Any>>();
    CHECK(r[0].cast<double>() == 15.0 && !r[1].cast<bool>());
    CHECK(t->use_count() == 1);  // borrowed: no reference was taken
    r = sum(*t).cast<Array<Any>>();
    CHECK(r[0].cast<double>() == 15.0 && r[1].cast<bool>());
  }

  // A DLTensor of C's own, strides null (compact), then malformed.
  float data[4] = {1, 2, 3, 4};
  int64_t shape[2] = {2, 2};
  DLTensor dl{data, DLDevice{kDLCPU, 0}, 2, DLDataType{kDLFloat, 32, 1}, shape, nullptr, 0};
  CHECK(sum(&dl).cast<Array<Any>>()[0].cast<double>() == 10.0);
  shape[1] = -2;
  bool refused = false;
  try {
    sum(&dl);
  } catch (const Error& e) {
    refused = std::string(e.message()).find("DLTensor*") != std::string::npos;
  }
  CHECK(refused);
  shape[1] = 2;
  dl.dtype = DLDataType{kDLInt, 32, 1};
  refused = false;
  try {
    sum(&dl);
  } catch (const Error& e) {
    refused = std::string(e.message()).find("int32") != std::string::npos;
  }
  CHECK(refused);
}

int main() {
  CppReadsRustTensors();
  Views();
  RustReadsCppTensors();
  CppDLPackThroughRust();
  RoundTrip();
  Rejections();
  RustTakesTensorViews();
  return REPORT("tensor");
}
