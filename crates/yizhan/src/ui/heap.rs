//! Keeps the kiosk's heap small between customers (docs/performance.md: under 40 MiB PSS idle).
//!
//! glibc keeps what a payment freed — the HTTP bodies, the journal's pages, the receipt's
//! raster — in its arenas, one per thread that ever met contention, and the process stays at
//! its peak until the next customer. Two arenas are plenty for one UI thread and a small tokio
//! pool, and at the end of each session the free pages go back to the kernel.

/// Caps glibc's malloc arenas. Call once, early (arenas are made on first contention).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; it reads no memory of ours.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns freed heap pages to the kernel; cheap (well under a millisecond on a kiosk's heap),
/// and called only when a session ends, never mid-payment.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim walks glibc's own arenas under their locks; no pointer of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}
