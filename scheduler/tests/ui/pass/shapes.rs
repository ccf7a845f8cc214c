//! Tuple and unit structs; the generated code needs nothing imported (no `Job`, no
//! `Option`, no `String` in scope) and shadowing prelude names does not break it.
#![deny(warnings)]
#![no_implicit_prelude]

extern crate runloom;
extern crate serde;
extern crate std;

use std::{assert_eq, string::ToString};

#[allow(dead_code)]
struct Option;
#[allow(dead_code)]
struct String;

#[derive(serde::Serialize, serde::Deserialize, runloom::Job)]
#[job(unique = "0, 2", max_attempts = 2)]
struct Pair(u32, std::string::String, bool);

#[derive(serde::Serialize, serde::Deserialize, runloom::Job)]
#[job(unique)]
struct Tick;

#[derive(serde::Serialize, serde::Deserialize, runloom::Job)]
#[job(unique = "1")]
struct Newtype(u8, std::string::String);

fn main() {
    let pair = Pair(4, "ignored".to_string(), true);
    assert_eq!(pair.1, "ignored");
    assert_eq!(
        <Pair as runloom::Job>::unique_key(&pair).as_deref(),
        std::option::Option::Some("pair:4:true")
    );
    assert_eq!(
        <Pair as runloom::Job>::options(),
        runloom::JobOptions::new().max_attempts(2)
    );
    assert_eq!(<Tick as runloom::Job>::NAME, "tick");
    assert_eq!(
        <Tick as runloom::Job>::unique_key(&Tick).as_deref(),
        std::option::Option::Some("tick:null")
    );
    let n = Newtype(1, "x".to_string());
    assert_eq!(n.0, 1);
    assert_eq!(
        <Newtype as runloom::Job>::unique_key(&n).as_deref(),
        std::option::Option::Some("newtype:\"x\"")
    );
}
