struct Counter(i64);

impl Counter {
    #[tvmffi::export]
    fn get(&self) -> i64 {
        self.0
    }
}

fn main() {}
