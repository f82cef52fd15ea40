//! Object types defined in Rust, used from Python: `#[derive(Object)]` makes each struct an
//! FFI object type whose fields, methods and copies the reference's Python package and C++
//! runtime see through reflection, exactly as they see a C++ type's. `run.py` beside this
//! crate loads the library with `tvm_ffi.load_module` and uses them.

use tvmffi::prelude::*;

/// A point in the plane.
#[derive(Object, Clone, Default)]
#[tvmffi(type_key = "rust_object.Point", eq_hash_kind = TREE_NODE, methods = point_methods)]
#[repr(C)]
pub struct Point {
    /// The abscissa.
    pub x: FieldCell<f64>,
    /// The ordinate.
    pub y: FieldCell<f64>,
    /// A name, which structural equality and hashing ignore.
    #[tvmffi(default = tvmffi::String::new(), kw_only, structural = false)]
    pub label: FieldCell<tvmffi::String>,
}

fn point_methods(
    r: tvmffi::object_type::Reflection<Point>,
) -> tvmffi::object_type::Reflection<Point> {
    r.def("norm", |p: ObjectRef<Object<Point>>| p.x.get().hypot(p.y.get()))
}

/// A point that weighs something; a `Point` to everything that expects one.
#[derive(Object, Clone, Default)]
#[tvmffi(type_key = "rust_object.WeightedPoint", parent = Point, final)]
#[repr(C)]
pub struct WeightedPoint {
    base: Point,
    /// The weight, fixed once made (read-only).
    #[tvmffi(default = 1.0)]
    pub weight: f64,
}

// Known to the runtime as soon as Python loads the library, so Python may name them first.
tvmffi::register_types!(Point, WeightedPoint);

/// A point at (x, y).
#[tvmffi::export]
fn make_point(x: f64, y: f64) -> Result<ObjectRef<Object<Point>>, Error> {
    let p = Point { x: x.into(), y: y.into(), label: FieldCell::default() };
    tvmffi::object_type::new_object(p)
}

/// A weighted point at (x, y).
#[tvmffi::export]
fn make_weighted(x: f64, y: f64, weight: f64) -> Result<ObjectRef<Object<WeightedPoint>>, Error> {
    let base = Point { x: x.into(), y: y.into(), label: FieldCell::default() };
    tvmffi::object_type::new_object(WeightedPoint { base, weight })
}

/// The distance of a point (or a weighted one) from the origin, read in Rust.
#[tvmffi::export]
fn norm(p: ObjectRef<Object<Point>>) -> f64 {
    p.x.get().hypot(p.y.get())
}

/// Move a point in place: Rust writes its fields, Python sees the change.
#[tvmffi::export]
fn shift(p: ObjectRef<Object<Point>>, dx: f64, dy: f64) {
    p.x.set(p.x.get() + dx);
    p.y.set(p.y.get() + dy);
}

/// The total weight of some weighted points.
#[tvmffi::export]
fn total_weight(points: Array<ObjectRef<Object<WeightedPoint>>>) -> Result<f64, Error> {
    Ok(points.to_vec()?.iter().map(|p| p.weight).sum())
}
