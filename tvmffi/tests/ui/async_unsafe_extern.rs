#[tvmffi::export]
async fn later() -> i64 {
    1
}

#[tvmffi::export]
unsafe fn trust_me(p: i64) -> i64 {
    p
}

#[tvmffi::export]
extern "C" fn already_c(x: i64) -> i64 {
    x
}

fn main() {}
