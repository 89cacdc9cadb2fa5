//! Running blocking database work from wherever the caller is.

/// Runs `f`, which blocks on the network, without starving the async runtime: inside
/// `block_in_place` on a multi-threaded runtime (other tasks move to another worker), on a
/// scoped thread on a current-thread runtime (which must not block, and where PostgreSQL's
/// synchronous client cannot start its own), and directly outside any runtime.
pub(crate) fn run<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
    }
}
