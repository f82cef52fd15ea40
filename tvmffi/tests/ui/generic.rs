#[tvmffi::export]
fn identity<T: Copy>(x: T) -> T {
    x
}

#[tvmffi::export]
fn sized<const N: usize>() -> i64 {
    N as i64
}

fn main() {}
