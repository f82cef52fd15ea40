//! The TVM-FFI ABI on a Cortex-M3 with a 48 KiB heap (TI LM3S6965EVB, QEMU
//! `-machine lm3s6965evb`): every check of [`firmware_checks::CORE`] and
//! [`firmware_checks::ALLOC`], with `tvmffi-alloc`'s runtime as the C API provider, logged
//! with `defmt` over semihosting (decode with `defmt-print -e <elf>`); the exit status is 0
//! when all pass.
//!
//! Atomics: `portable-atomic` with `unsafe-assume-single-core` for the 64-bit refcount.
#![no_std]
#![no_main]

use core::mem::MaybeUninit;

// Linked for its single-core `critical-section` implementation (heap and defmt locks).
use cortex_m as _;
use cortex_m_rt::entry;
use defmt_semihosting as _;
use embedded_alloc::LlffHeap;
use firmware_checks::functions::SYSTEM_LIB;
use firmware_checks::heap::Counted;
use firmware_checks::{Check, Failure, Reporter};
use tvmffi_core::{AnyView, DataType};

#[global_allocator]
static HEAP: Counted<LlffHeap> = Counted(LlffHeap::empty());

const HEAP_SIZE: usize = 48 * 1024;

/// Results as `defmt` frames.
struct Defmt;

impl Reporter for Defmt {
    fn passed(&mut self, check: &Check) {
        defmt::info!("ok      {=str}", check.name);
    }

    fn failed(&mut self, check: &Check, f: &Failure) {
        defmt::error!(
            "FAILED  {=str}: `{=str}` at {=str}:{=u32}",
            check.name,
            f.condition,
            f.file,
            f.line
        );
    }
}

/// The core's own `defmt::Format` impls (its `defmt` feature) on values from packed calls.
fn log_core_values() {
    let Some(add) = SYSTEM_LIB.get("add") else { return };
    if let Ok(sum) = add.call(&[AnyView::from(2i64), AnyView::from(40i64)]) {
        defmt::info!("add(2, 40) -> {} ({})", sum.get::<i64>().ok(), sum.type_index());
    }
    if let Err(e) = add.call(&[AnyView::from(DataType::F32)]) {
        defmt::info!("add(float32) -> {}", e);
        // Fetch the raised error, so that the slot is left empty.
        drop(firmware_checks::errors::move_from_raised());
    }
}

#[entry]
fn main() -> ! {
    static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
    // SAFETY: `#[entry]` hands out `MEMORY` once, as a `&'static mut`, and the heap is
    // initialised before anything allocates.
    unsafe { HEAP.0.init(MEMORY.as_mut_ptr() as usize, HEAP_SIZE) };

    defmt::info!(
        "tvmffi-rs on lm3s6965evb (Cortex-M3, thumbv7m), atomics: single-core, heap: {=usize} bytes",
        HEAP_SIZE
    );
    let mut failed = 0;
    for (tier, checks) in [("core", firmware_checks::CORE), ("alloc", firmware_checks::ALLOC)] {
        let n = firmware_checks::run(checks, &mut Defmt);
        defmt::info!("{=str} tier: {=usize} of {=usize} checks failed", tier, n, checks.len());
        failed += n;
    }
    log_core_values();
    defmt::info!(
        "heap: {=usize} bytes live at exit, {=usize} at most",
        firmware_checks::heap::live_bytes(),
        firmware_checks::heap::peak_bytes()
    );
    semihosting::process::exit(if failed == 0 { 0 } else { 1 })
}
