#[tvmffi::export]
fn takes_a_vec(values: Vec<u8>) -> i64 {
    values.len() as i64
}

fn main() {}
