//! Handing freed heap memory back to the system after a burst that needed a lot of it (argon2's
//! 19 MiB buffers). How is the allocator's business: the binary, which picks the allocator, says
//! how with [`set_release`]; without it, glibc's `malloc_trim`.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Sets how free memory goes back to the system (once; later calls are ignored).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Returns free heap memory to the system, as well as the allocator allows.
pub(crate) fn release() {
    if let Some(release) = RELEASE.get() {
        release();
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns unused heap pages to the kernel; it is thread-safe.
        #[allow(unsafe_code)]
        unsafe {
            malloc_trim(0);
        }
    }
}
