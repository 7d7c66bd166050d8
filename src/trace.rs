//! What a command spent its time on, for `--verbose`: each stage with its wall time and
//! what it did ("render 41 ms: 8628 placements, 20 rendered, 8608 unchanged"). Off unless
//! the command line turns it on; recording costs one relaxed load when it is off.
//!
//! Times are wall-clock and go to stderr only: they never reach an output file.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
static LINES: Mutex<Vec<Line>> = Mutex::new(Vec::new());

struct Line {
    stage: &'static str,
    took: Option<Duration>,
    what: String,
    /// The process's resident memory when the stage ended (where the system tells it).
    rss: Option<u64>,
}

/// The resident set size of this process in bytes, from `/proc/self/statm` (Linux only).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet` (for this process): no line that is not a diagnostic, such as "waiting for
/// another fleetgen run".
pub fn set_quiet() {
    QUIET.store(true, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Starts recording (for this process).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn push(line: Line) {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// Runs `f` as the stage `stage`, recording how long it took.
pub fn stage<T>(stage: &'static str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    // A line that says nothing marks where the stage began: stages running side by side are
    // listed in the order they began, not ended.
    push(Line {
        stage,
        took: None,
        what: String::new(),
        rss: None,
    });
    let start = Instant::now();
    let out = f();
    push(Line {
        stage,
        took: Some(start.elapsed()),
        what: String::new(),
        rss: rss(),
    });
    out
}

/// Says what a stage did; `what` is built only when recording.
pub fn note(stage: &'static str, what: impl FnOnce() -> String) {
    if enabled() {
        push(Line {
            stage,
            took: None,
            what: what(),
            rss: None,
        });
    }
}

/// The recorded lines, one per stage in the order each first began (or was first noted;
/// times of a stage that ran more than once are added up), and forgets them.
pub fn take() -> String {
    let lines = std::mem::take(&mut *LINES.lock().unwrap_or_else(|e| e.into_inner()));
    type Stage = (&'static str, Option<Duration>, Vec<String>, Option<u64>);
    let mut stages: Vec<Stage> = Vec::new();
    for line in lines {
        let at = match stages.iter().position(|(s, ..)| *s == line.stage) {
            Some(i) => i,
            None => {
                stages.push((line.stage, None, Vec::new(), None));
                stages.len() - 1
            }
        };
        let entry = &mut stages[at];
        if let Some(t) = line.took {
            entry.1 = Some(entry.1.unwrap_or_default() + t);
        }
        if !line.what.is_empty() {
            entry.2.push(line.what);
        }
        if line.rss.is_some() {
            entry.3 = line.rss;
        }
    }
    let mut text = String::new();
    for (stage, took, what, rss) in stages {
        text.push_str("fleetgen: ");
        text.push_str(stage);
        if let Some(t) = took {
            text.push_str(&format!(" {:.1} ms", t.as_secs_f64() * 1000.0));
        }
        if let Some(bytes) = rss {
            text.push_str(&format!(" (rss {} MiB)", bytes >> 20));
        }
        if !what.is_empty() {
            text.push_str(": ");
            text.push_str(&what.join("; "));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_listed_in_the_order_they_began_and_a_stage_run_twice_once() {
        enable();
        stage("trace-test-outer", || {
            stage("trace-test-inner", || note("trace-test-inner", || "did".into()));
        });
        stage("trace-test-inner", || ());
        // Other tests of this binary may record stages meanwhile: only these lines count.
        let text = take();
        let ours: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("fleetgen: trace-test-"))
            .map(|l| l.split(' ').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(ours, ["trace-test-outer", "trace-test-inner"], "{text}");
        assert!(text.contains(": did\n"), "{text}");
    }
}
