//! The process-wide tensor allocator (`write_to_global_context`), alone in its own test
//! process since it is shared by every thread: the reference's rules for which allocator a
//! thread sees, and that the CPU backend frees what it allocates.

use tvmffi_core::sys::DLPackManagedTensorAllocator;
use tvmffi_core::{DataType, Device};
use tvmffi_gpu::{Cpu, dlpack_allocator, env};

fn is_ours(allocator: DLPackManagedTensorAllocator) -> bool {
    allocator.map(|f| f as usize) == Some(dlpack_allocator as *const () as usize)
}

#[test]
fn the_process_allocator_serves_threads_without_their_own() {
    let live = Cpu::get().live_allocations();
    assert!(env::current_allocator().is_none());
    let previous = env::install_allocator(true).unwrap();
    assert!(previous.is_none());
    assert!(is_ours(env::current_allocator()));

    std::thread::spawn(move || {
        // No allocator of its own: the process's.
        assert!(is_ours(env::current_allocator()));
        let t = env::tensor_alloc(&[16], DataType::F32, Device::CPU).unwrap();
        assert_eq!(Cpu::get().live_allocations(), live + 1);
        drop(t);
        // Clearing the thread's own (it had none) changes nothing; what was set before is
        // reported from the thread's own slot only, as the reference does.
        // SAFETY: `None` is always allowed.
        let own = unsafe { env::set_allocator(None, false) }.unwrap();
        assert!(own.is_none(), "the thread's previous allocator, not the process's");
        assert!(is_ours(env::current_allocator()));
    })
    .join()
    .unwrap();
    assert_eq!(Cpu::get().live_allocations(), live, "the deleter freed the memory");

    // Clearing the process's allocator from here also clears this thread's.
    // SAFETY: `None` is always allowed.
    let own = unsafe { env::set_allocator(None, true) }.unwrap();
    assert!(is_ours(own));
    assert!(env::current_allocator().is_none());
    std::thread::spawn(|| assert!(env::current_allocator().is_none())).join().unwrap();
}
