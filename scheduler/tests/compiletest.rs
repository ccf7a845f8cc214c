//! `#[derive(Job)]` at compile time: every attribute in use (`tests/ui/pass`, which also
//! run and check the generated values) and every mistake with the exact errors the user
//! sees (`tests/ui/fail/*.stderr`). Regenerate the expected errors with
//! `TRYBUILD=overwrite cargo test -p runloom --test compiletest`, then read them.
#![cfg(feature = "derive")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
