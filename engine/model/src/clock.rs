//! Where the engine reads "now" from. Retention, the future-timestamp bound and the sealing of
//! span windows all ask the engine's `Options::clock`, never the system clock
//! directly, so tests and embedders can pin time (a test written today passes unchanged in
//! 2030, and an embedder replaying old data can run it at the data's own time).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time in milliseconds since the Unix epoch. Cheap to clone (an
/// `Arc`); two clocks are equal when they are the same clock.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The operating system's wall clock (the default).
    pub fn system() -> Clock {
        Clock(Arc::new(system_now_ms))
    }

    /// A clock that always reads `now_ms`.
    pub fn fixed(now_ms: i64) -> Clock {
        Clock(Arc::new(move || now_ms))
    }

    /// A clock read from `f` (called from any thread, often: keep it cheap).
    pub fn from_fn(f: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    /// The current time, milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock(now = {} ms)", self.now_ms())
    }
}

impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Clock {}

/// A clock a test or an embedder moves by hand: [`ManualClock::clock`] gives the [`Clock`] to
/// put in the options, [`ManualClock::set`] and [`ManualClock::advance`] move it.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now_ms)))
    }

    /// A [`Clock`] that reads this one.
    pub fn clock(&self) -> Clock {
        let t = Arc::clone(&self.0);
        Clock::from_fn(move || t.load(Ordering::Acquire))
    }

    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::Release);
    }

    pub fn advance(&self, by_ms: i64) {
        self.0.fetch_add(by_ms, Ordering::AcqRel);
    }

    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Acquire)
    }
}

fn system_now_ms() -> i64 {
    // The one read of the wall clock in the engine.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_and_fixed_clock_does_not() {
        let m = ManualClock::new(1_000);
        let c = m.clock();
        assert_eq!(c.now_ms(), 1_000);
        m.advance(500);
        assert_eq!(c.now_ms(), 1_500);
        m.set(7);
        assert_eq!(c.now_ms(), 7);
        assert_eq!(Clock::fixed(42).now_ms(), 42);
        assert_eq!(c, c.clone());
        assert_ne!(c, Clock::fixed(7));
        assert!(Clock::system().now_ms() > 1_600_000_000_000);
    }
}
