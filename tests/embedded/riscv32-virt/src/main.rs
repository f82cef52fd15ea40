//! The TVM-FFI core ABI on RV32IMAC without an allocator (QEMU `-machine virt -bios none`):
//! every check of [`firmware_checks::CORE`], reported through semihosting; the exit status
//! is 0 when all pass.
//!
//! Atomics: 32-bit AMOs are native; the 64-bit refcount uses `portable-atomic` with
//! `unsafe-assume-single-core` (one hart, machine mode).
#![no_std]
#![no_main]

use firmware_checks::report::Semihosting;
use semihosting::{println, process};

#[riscv_rt::entry]
fn main() -> ! {
    println!("tvmffi-rs on riscv32 virt (RV32IMAC), atomics: single-core");
    let checks = firmware_checks::CORE;
    let failed = firmware_checks::run(checks, &mut Semihosting);
    println!("riscv32-virt: {} of {} checks failed", failed, checks.len());
    process::exit(if failed == 0 { 0 } else { 1 })
}
