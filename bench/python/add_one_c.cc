// The kernels of examples/add_one written in C++ with the reference's macros, with the same
// checks as the Rust ones: the C side of the Python row of ci/bench.sh.
#include <tvm/ffi/tvm_ffi.h>

#include <cstdint>

namespace bench_add_one {

/*! \brief Perform vector add one: y = x + 1 (1-D float32). */
void AddOne(tvm::ffi::TensorView x, tvm::ffi::TensorView y) {
  TVM_FFI_CHECK(x.ndim() == 1 && y.ndim() == 1 && x.size(0) == y.size(0), ValueError)
      << "add_one expects two 1-D tensors of one shape";
  DLDataType f32{kDLFloat, 32, 1};
  TVM_FFI_CHECK(x.dtype() == f32 && y.dtype() == f32, TypeError) << "add_one expects float32";
  TVM_FFI_CHECK(x.IsContiguous() && y.IsContiguous(), ValueError)
      << "add_one expects contiguous tensors";
  int64_t n = x.size(0);
  const float* in = static_cast<const float*>(x.data_ptr());
  float* out = static_cast<float*>(y.data_ptr());
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] + 1;
}

/*! \brief x + 1 for an integer. */
int64_t AddOneInt(int64_t x) {
  TVM_FFI_CHECK(x != INT64_MAX, ValueError) << x << " + 1 overflows int64";
  return x + 1;
}

TVM_FFI_DLL_EXPORT_TYPED_FUNC(add_one, bench_add_one::AddOne)
TVM_FFI_DLL_EXPORT_TYPED_FUNC(add_one_int, bench_add_one::AddOneInt)

}  // namespace bench_add_one
