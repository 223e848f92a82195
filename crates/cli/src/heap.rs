//! The binary's global allocator — mimalloc (feature `mimalloc`) or the system's — behind a
//! counter of live heap bytes that stays off until a command turns it on.
//!
//! `soak` turns it on to judge leaks by what was allocated and not freed. Resident memory
//! cannot tell that apart from an allocator keeping freed pages for reuse: a round that holds
//! more at its peak (more calls, a larger ledger) leaves a higher plateau behind without
//! leaking a byte. Off, the counter costs one relaxed load of a flag per allocation, so `bench`
//! measures the allocator as it is.
//!
//! This is the binary's only `unsafe` code: the `GlobalAlloc` methods forward to the inner
//! allocator with the caller's arguments unchanged. (The library forbids `unsafe`.)

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};

#[cfg(feature = "mimalloc")]
type Inner = mimalloc::MiMalloc;
#[cfg(not(feature = "mimalloc"))]
type Inner = std::alloc::System;

#[cfg(feature = "mimalloc")]
const INNER: Inner = mimalloc::MiMalloc;
#[cfg(not(feature = "mimalloc"))]
const INNER: Inner = std::alloc::System;

#[global_allocator]
static GLOBAL: Counted = Counted(INNER);

/// Whether allocations are being counted.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while counting (negative when more that was allocated
/// before counting began was freed than was allocated since).
static NET: AtomicI64 = AtomicI64::new(0);

/// The inner allocator with a switchable live-bytes counter.
struct Counted(Inner);

/// Adds `delta` bytes to the count, when counting.
#[inline(always)]
fn count(delta: i64) {
    if COUNTING.load(Relaxed) {
        NET.fetch_add(delta, Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to the inner allocator, whose
// contract is the same, and returns what it returned; counting touches only two atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counted {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Starts counting live heap bytes (from zero), for the rest of the process.
pub(crate) fn start_counting() {
    NET.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
}

/// Heap bytes allocated and not freed since [`start_counting`]; `None` before it.
pub(crate) fn live_bytes_since_start() -> Option<i64> {
    COUNTING.load(Relaxed).then(|| NET.load(Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_sees_a_block_held_and_not_one_freed() {
        // Other tests of this binary allocate on other threads meanwhile: the blocks here are
        // far larger than anything they hold (zeroed, so the pages are never touched).
        const BLOCK: usize = 256 << 20;
        const NOISE: i64 = 64 << 20;
        start_counting();
        let before = live_bytes_since_start().expect("counting");
        let held = vec![0u8; BLOCK];
        drop(vec![0u8; BLOCK]);
        let during = live_bytes_since_start().expect("counting") - before;
        assert!(
            (during - BLOCK as i64).abs() < NOISE,
            "one block held: {during}"
        );
        drop(held);
        let after = live_bytes_since_start().expect("counting") - before;
        assert!(after.abs() < NOISE, "nothing held: {after}");
    }
}
