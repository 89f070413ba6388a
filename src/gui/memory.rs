//! The app's one allocator setting. glibc's malloc hands a block of 128 KiB or more to the system
//! when it is freed, but raises that threshold to the size of each such block freed (up to 32
//! MiB): after the scan's and the views' large temporary tables are freed, later blocks of that
//! size come from the heaps, and the pieces freed among live data stay resident. With llvmlite.dll
//! open and every view shown, that is about 100 MiB of resident memory holding nothing
//! (`cargo run --release --example app_memory`). The app fixes the threshold at glibc's default,
//! so large blocks always go back when freed.

/// Fix glibc's mmap threshold at 128 KiB for the process (once; nothing elsewhere).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            #[allow(unsafe_code)]
            // SAFETY: `mallopt` only sets a tuning parameter of glibc's allocator, under the
            // allocator's own lock; it touches no memory of ours.
            let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        });
    }
}
