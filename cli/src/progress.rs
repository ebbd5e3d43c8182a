//! A progress line on standard error for long reads: bytes read, rate and
//! time left. Only when standard error is a terminal and the files to read
//! are over 50 MB together; never on a pipe, never on standard output, and
//! cleared when the run ends.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dorsal_engine::capture::FILE_BYTES_READ;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a progress line helps.
const MIN_BYTES: u64 = 50 * 1000 * 1000;
const TICK: Duration = Duration::from_millis(200);

/// A running progress line; dropping it clears it.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the line for reading `paths` `passes` times, if it is wanted.
    pub fn start(paths: &[String], passes: u64) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let size: u64 = paths
            .iter()
            .filter(|p| p.as_str() != "-")
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if size < MIN_BYTES {
            return None;
        }
        let total = size.saturating_mul(passes);
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bytes}/{total_bytes} read, {binary_bytes_per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let start = FILE_BYTES_READ.load(Ordering::Relaxed);
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let read = FILE_BYTES_READ
                    .load(Ordering::Relaxed)
                    .saturating_sub(start);
                bar.set_position(read.min(total));
                std::thread::park_timeout(TICK);
            }
            bar.finish_and_clear();
        });
        Some(Progress {
            done,
            thread: Some(thread),
        })
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
