//! The TVM-FFI core ABI on a Cortex-M0 without an allocator (BBC micro:bit, QEMU
//! `-machine microbit`): every check of [`firmware_checks::CORE`], reported through
//! semihosting; the exit status is 0 when all pass.
//!
//! Atomics: the M0 has no compare-and-swap, so this firmware enables `portable-atomic`'s
//! `critical-section` feature and `cortex-m`'s single-core critical section.
#![no_std]
#![no_main]

// Linked for its single-core `critical-section` implementation, which portable-atomic calls.
use cortex_m as _;
use cortex_m_rt::entry;
use firmware_checks::report::Semihosting;
use semihosting::{println, process};

#[entry]
fn main() -> ! {
    println!("tvmffi-rs on microbit (Cortex-M0, thumbv6m), atomics: critical-section");
    let checks = firmware_checks::CORE;
    let failed = firmware_checks::run(checks, &mut Semihosting);
    println!("microbit: {} of {} checks failed", failed, checks.len());
    process::exit(if failed == 0 { 0 } else { 1 })
}
