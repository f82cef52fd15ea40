//! A structural type used before anything else starts the runtime: its index lookup must
//! not wait for the start-up it triggers (the runtime registers the type while starting).

use tvmffi_alloc::structural::AccessPath;

#[test]
fn a_path_is_the_first_thing_made() {
    let p = AccessPath::root().unwrap().attr("x").unwrap();
    assert_eq!(p.to_string(), "<root>.x");
}
