//! The service example's own unit test (a job in the test mode), run with the
//! workspace's tests: the example's file is included here as a module, so its
//! `#[cfg(test)]` tests compile and run (`cargo test --example service` runs them too).

#[path = "../service.rs"]
#[allow(dead_code)]
mod service;
