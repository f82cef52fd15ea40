//! A tour of the TVM-FFI core ABI, with no allocator in the library:
//! values, objects in static memory and in a fixed pool, weak references, and a packed
//! function called through the C calling convention.
//!
//! Run it with `cargo run -p tvmffi-core --example tour`.

use core::ffi::{c_int, c_void};
use core::ptr;

use tvmffi_core::call::{self, CallError};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell};
use tvmffi_core::{
    Any, AnyView, DataType, Device, DeviceType, FunctionObj, Object, ObjectPool, ObjectRef,
    Payload, StaticObject, TypeIndex,
};

/// `axpy(a, x, y) -> a * x + y` as a packed C entry point: it checks its arguments and
/// returns -1 (the convention's error code) when they do not fit.
unsafe extern "C" fn axpy(
    _handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the caller passes `num_args` valid values, as the convention requires.
    let Ok(args) = (unsafe { call::args_from_raw(args, num_args) }) else { return -1 };
    let [a, x, y] = args else { return -1 };
    let (Ok(a), Ok(x), Ok(y)) = (a.get::<f64>(), x.get::<f64>(), y.get::<f64>()) else {
        return -1;
    };
    // SAFETY: `result` is the caller's writable result slot.
    unsafe { call::write_result(result, Any::from(a * x + y)) };
    0
}

/// A function object in static memory: no allocator, never freed.
static AXPY: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(axpy), cpp_call: ptr::null_mut() },
);

/// A payload of our own, with a dynamic type index.
#[derive(Debug)]
struct Sensor {
    reading: f32,
}

// SAFETY: `Sensor` objects are only ever created with `SENSOR_INDEX` below.
unsafe impl Payload for Sensor {
    const TYPE_KEY: &'static str = "demo.Sensor";
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == SENSOR_INDEX
    }
}
const SENSOR_INDEX: TypeIndex = TypeIndex(TypeIndex::DYN_OBJECT_BEGIN.0 + 1);

/// Four sensor objects' worth of storage, fixed at compile time.
static SENSORS: ObjectPool<Sensor, 4> = ObjectPool::new();

fn main() {
    println!("== values: 16 bytes each, tagged by type index");
    let values = [
        Any::from(42i32),
        Any::from(true),
        Any::from(2.5f64),
        Any::from(DataType::F32.with_lanes(4)),
        Any::from(Device::new(DeviceType::CUDA, 1)),
        Any::small_str("tvm").expect("3 bytes fit inline"),
    ];
    for v in &values {
        println!("  {v:?}");
    }
    println!("  an 8-byte string is too long to inline: {:?}", Any::small_str("12345678"));
    match Any::from(300i32).get::<i8>() {
        Ok(v) => println!("  300 as i8 = {v}"),
        Err(e) => println!("  300 as i8: {e}"),
    }
    match Any::from(1.5f64).get::<i64>() {
        Ok(v) => println!("  1.5 as int = {v}"),
        Err(e) => println!("  1.5 as int: {e}"),
    }

    println!("== a packed call through the C convention");
    let f: ObjectRef<FunctionObj> = AXPY.new_ref();
    let args = [AnyView::from(2.0f64), AnyView::from(3i32), AnyView::from(0.5f32)];
    let out = call::call(&f, &args).expect("axpy accepts numbers");
    println!("  axpy(2.0, 3, 0.5) = {}", out.get::<f64>().unwrap());
    let err = call::call(&f, &args[..2]).unwrap_err();
    assert_eq!(err, CallError::Raised { code: -1 });
    println!("  axpy with two arguments: {err}");

    println!("== objects in a fixed pool, with strong and weak references");
    let sensor = SENSORS.alloc(SENSOR_INDEX, Sensor { reading: 21.5 }).expect("room");
    let weak = sensor.downgrade();
    let shared = sensor.clone();
    println!(
        "  reading {} (strong {}, weak {}), pool has {} of {} free",
        shared.payload().reading,
        sensor.strong_count(),
        sensor.weak_count(),
        SENSORS.available(),
        SENSORS.capacity(),
    );
    let as_value = Any::from(shared);
    let back: ObjectRef<Object<Sensor>> = as_value.into_object().expect("a sensor");
    drop((sensor, back));
    println!(
        "  after the last strong reference: upgrade = {:?}, pool has {} free once weak refs go",
        weak.upgrade().map(|s| s.payload().reading),
        SENSORS.available(),
    );
    drop(weak);
    println!("  pool has {} free", SENSORS.available());
}
