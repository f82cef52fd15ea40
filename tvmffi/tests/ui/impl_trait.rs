#[tvmffi::export]
fn takes(x: impl Into<i64>) -> i64 {
    x.into()
}

#[tvmffi::export]
fn gives() -> impl Copy {
    1i64
}

fn main() {}
