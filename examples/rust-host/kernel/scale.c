/*
 * A C kernel library: `scale(x, y, k)` sets y = k * x for 1-D float32 tensors, exported as
 * `__tvm_ffi_scale` with the packed calling convention. Bad arguments raise a `ValueError`
 * or a `TypeError` through the runtime of the process that loaded the library.
 */
#include "abi.h"

#define EXPORT __attribute__((visibility("default")))

static Tensor* tensor_of(const AnyValue* v) {
  if (v->type_index == kTypeTensor) return (Tensor*)((char*)v->v_obj + sizeof(ObjectHeader));
  if (v->type_index == kTypeDLTensorPtr) return (Tensor*)v->v_ptr;
  return 0;
}

static int is_f32_vector(const Tensor* t) {
  return t->ndim == 1 && t->dtype.code == 2 && t->dtype.bits == 32 && t->dtype.lanes == 1 &&
         t->device.device_type == 1 && (t->strides == 0 || t->strides[0] == 1);
}

EXPORT int __tvm_ffi_scale(void* self, const AnyValue* args, int32_t num_args, AnyValue* result) {
  (void)self;
  Tensor *x, *y;
  if (num_args != 3 || !(x = tensor_of(&args[0])) || !(y = tensor_of(&args[1])) ||
      args[2].type_index != kTypeFloat) {
    TVMFFIErrorSetRaisedFromCStr("TypeError", "scale(x: Tensor, y: Tensor, k: float)");
    return -1;
  }
  if (!is_f32_vector(x) || !is_f32_vector(y) || x->shape[0] != y->shape[0]) {
    TVMFFIErrorSetRaisedFromCStr("ValueError", "x and y must be float32 vectors of one length");
    return -1;
  }
  const float* in = (const float*)((char*)x->data + x->byte_offset);
  float* out = (float*)((char*)y->data + y->byte_offset);
  float k = (float)args[2].v_float64;
  for (int64_t i = 0; i < x->shape[0]; ++i) out[i] = k * in[i];
  result->type_index = kTypeNone;
  result->padding = 0;
  result->v_int64 = 0;
  return 0;
}
