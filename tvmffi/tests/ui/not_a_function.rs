#[tvmffi::export]
struct Kernel;

fn main() {}
