#[tvmffi::export(name = "not-an-identifier")]
fn dashed() {}

#[tvmffi::export(nmae = "typo")]
fn typo() {}

#[tvmffi::export(name = "a", name = "b")]
fn twice() {}

fn main() {}
