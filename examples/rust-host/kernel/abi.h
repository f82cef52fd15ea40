/*
 * The part of the TVM-FFI C ABI that kernel/scale.c uses, declared here so that the example
 * builds with a C compiler alone. A real kernel includes the reference's <tvm/ffi/c_api.h>
 * (and <dlpack/dlpack.h>), which declare the same layouts.
 */
#ifndef RUST_HOST_EXAMPLE_ABI_H_
#define RUST_HOST_EXAMPLE_ABI_H_

#include <stdint.h>

/* Type indices of the values this kernel takes. */
enum { kTypeNone = 0, kTypeFloat = 3, kTypeDLTensorPtr = 7, kTypeTensor = 70 };

/* One packed value: 16 bytes. */
typedef struct {
  int32_t type_index;
  uint32_t padding;
  union {
    int64_t v_int64;
    double v_float64;
    void* v_ptr;
    void* v_obj;
  };
} AnyValue;

/* Every object starts with this 24-byte header. */
typedef struct {
  uint64_t combined_ref_count;
  int32_t type_index;
  uint32_t padding;
  void* deleter;
} ObjectHeader;

/* DLPack's tensor; a tensor object holds one right after its header. */
typedef struct {
  void* data;
  struct { int32_t device_type, device_id; } device;
  int32_t ndim;
  struct { uint8_t code, bits; uint16_t lanes; } dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
} Tensor;

/* Raise an error in the runtime the kernel was loaded into (the host's). */
void TVMFFIErrorSetRaisedFromCStr(const char* kind, const char* message);

#endif
