//! Peak resident memory of the desktop app with one file open after every view was shown, measured
//! with no window: the app loads the file as it does from the command line, then each view is
//! drawn for a few frames (the Patch, Diff and Link views run their jobs to the end), and the
//! process's peak and current resident set are read from `/proc/self/status`.
//!
//! Run in release: `cargo run --release --example app_memory [FILE]` (default: the llvmlite.dll
//! that `scripts/bench.sh` fetches into `target/bench/`). Prints the file size, the peak and the
//! issue's bound (2 × the file + 200 MiB).

use std::time::{Duration, Instant};

use eframe::egui::{self, pos2, vec2, RawInput, Rect};
use linkscope::gui::{Action, App, Settings, Target, View};

/// A field of `/proc/self/status` in KiB.
fn status_kib(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix(key)?.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/llvmlite.dll"));
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_else(|e| {
        eprintln!("{}: {e} (scripts/bench.sh fetches the default file)", path.display());
        std::process::exit(2);
    });
    let t0 = Instant::now();
    let mut app = App::new(vec![path.clone()], Settings::default());
    if !app.wait_for_loads(Duration::from_secs(600)) || app.docs.is_empty() {
        eprintln!("could not load {}", path.display());
        std::process::exit(1);
    }
    let loaded = t0.elapsed();
    let after_load = status_kib("VmHWM:");
    let ctx = egui::Context::default();
    linkscope::gui::theme::install(&ctx);
    let mut frame = 0u64;
    let mut draw = |app: &mut App| {
        let raw = RawInput {
            screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 800.0))),
            time: Some(frame as f64 / 60.0),
            ..Default::default()
        };
        frame += 1;
        let mut out = ctx.run_ui(raw, |ui| app.ui_contents(ui));
        out.textures_delta.clear();
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
    };
    for view in View::ALL {
        app.apply(Action::Navigate { doc: None, target: Target::View(view) });
        let until = Instant::now() + Duration::from_secs(600);
        for _ in 0..5 {
            draw(&mut app);
        }
        while app.busy() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
            draw(&mut app);
        }
        println!("{view:?}: peak {} MiB", status_kib("VmHWM:") / 1024);
    }
    let mib = |k: u64| k as f64 / 1024.0;
    let file = size as f64 / (1 << 20) as f64;
    let peak = mib(status_kib("VmHWM:"));
    println!(
        "{}: {file:.1} MiB, loaded in {:.1} s; peak after loading {:.0} MiB, after every view {peak:.0} MiB \
         (now {:.0} MiB); bound 2 × file + 200 = {:.0} MiB: {}",
        path.display(),
        loaded.as_secs_f64(),
        mib(after_load),
        mib(status_kib("VmRSS:")),
        2.0 * file + 200.0,
        if peak <= 2.0 * file + 200.0 { "met" } else { "NOT met" }
    );
}
