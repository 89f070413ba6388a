//! Per-frame CPU time of the desktop app's relocation view with 1,000,000 rows, measured with no
//! window: each frame is `Context::run_ui` (the whole app UI) + `Context::tessellate`.
//!
//! Run in release: `cargo run --release --example frame_bench`.
//!
//! Scenarios (1280×800 window, hex pane on, as a user would see it):
//! * baseline: the 58-row relocation table of the bundled `autoimport.exe`, idle;
//! * idle: the 1,000,000-row table, nothing happening;
//! * wheel: the 1,000,000-row table scrolled by the mouse wheel every frame;
//! * jump: every frame selects a random row anywhere in the table (scroll + hex pane follow);
//! * disassembly: the Disassembly view of a synthetic image of 1,200,000 instructions (real x64
//!   code repeated), idle, scrolled and jumping (only visible rows are decoded and formatted).
//!
//! Prints mean / median / p95 / max in milliseconds, and each scenario as a ratio of the baseline.

use std::time::{Duration, Instant};

use eframe::egui::{self, pos2, vec2, Event, Modifiers, MouseWheelUnit, RawInput, Rect};
use linkscope::gui::action::TableAction;
use linkscope::gui::{Action, App, Settings, TableId, Target, View};

mod support {
    include!("support/million.rs");
}

const FRAMES: usize = 600;
const WARMUP: usize = 30;
const ROWS: usize = 1_000_000;

struct Stats {
    mean: f64,
    median: f64,
    p95: f64,
    max: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = v.len().max(1);
    Stats {
        mean: v.iter().map(|d| ms(*d)).sum::<f64>() / n as f64,
        median: v.get(n / 2).map_or(0.0, |d| ms(*d)),
        p95: v.get(n * 95 / 100).map_or(0.0, |d| ms(*d)),
        max: v.last().map_or(0.0, |d| ms(*d)),
    }
}

/// Run `frames` frames of `app`, calling `input` to fill each frame's events; returns frame times.
fn run(app: &mut App, frames: usize, mut input: impl FnMut(usize, &mut App, &mut Vec<Event>)) -> Vec<Duration> {
    let ctx = egui::Context::default();
    linkscope::gui::theme::install(&ctx);
    ctx.set_theme(egui::Theme::Dark);
    let mut times = Vec::with_capacity(frames);
    for frame in 0..WARMUP + frames {
        let mut events = Vec::new();
        if frame == 0 {
            events.push(Event::PointerMoved(pos2(700.0, 300.0)));
        }
        if frame >= WARMUP {
            input(frame - WARMUP, app, &mut events);
        }
        let raw = RawInput {
            screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 800.0))),
            time: Some(frame as f64 / 60.0),
            predicted_dt: 1.0 / 60.0,
            events,
            ..Default::default()
        };
        let t0 = Instant::now();
        let mut out = ctx.run_ui(raw, |ui| app.ui_contents(ui));
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        let dt = t0.elapsed();
        out.textures_delta.clear();
        std::hint::black_box(prims);
        if frame >= WARMUP {
            times.push(dt);
        }
    }
    times
}

/// One mouse-wheel notch down.
fn wheel_event() -> Event {
    Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: vec2(0.0, -120.0),
        modifiers: Modifiers::NONE,
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
    }
}

fn report(name: &str, s: &Stats, base: Option<&Stats>) {
    let ratio = base.map_or_else(String::new, |b| format!("   {:.2}× baseline (mean)", s.mean / b.mean));
    println!(
        "{name:<34} mean {:>6.3} ms   median {:>6.3}   p95 {:>6.3}   max {:>6.3}{ratio}",
        s.mean, s.median, s.p95, s.max
    );
}

fn main() {
    let sample_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/autoimport.exe");
    let mut small = App::new(vec![sample_path.clone()], Settings::default());
    if !small.wait_for_loads(Duration::from_secs(60)) || small.docs.is_empty() {
        eprintln!("could not load {}", small.load_errors.first().map_or("the sample".into(), |e| e.1.clone()));
        std::process::exit(1);
    }
    small.apply(Action::Navigate { doc: None, target: Target::View(View::Relocations) });
    let baseline = stats(run(&mut small, FRAMES, |_, _, _| {}));

    let t0 = Instant::now();
    let core = support::million_reloc_core(ROWS);
    let build = t0.elapsed();
    let mut app = App::new(Vec::new(), Settings::default());
    app.add_core(core, View::Relocations);
    let idle = stats(run(&mut app, FRAMES, |_, _, _| {}));
    let wheel = stats(run(&mut app, FRAMES, |_, _, ev| ev.push(wheel_event())));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let jump = stats(run(&mut app, FRAMES, |_, app, _| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let row = (seed % ROWS as u64) as usize;
        app.apply(Action::Navigate { doc: None, target: Target::Row(TableId::Relocations, row) });
    }));
    let t1 = Instant::now();
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(1, Some("padding".into()))));
    app.wait_for_orders(Duration::from_secs(120));
    let filter = t1.elapsed();
    app.apply(Action::Table(TableId::Relocations, TableAction::Facet(1, None)));
    let t2 = Instant::now();
    app.apply(Action::Table(TableId::Relocations, TableAction::SortBy(6)));
    app.wait_for_orders(Duration::from_secs(120));
    let sort = t2.elapsed();

    // The disassembly of a million-instruction image (real x64 code, repeated).
    let exe = std::fs::read(&sample_path).unwrap_or_default();
    let code = linkscope::load(&exe)
        .ok()
        .and_then(|b| b.sections.iter().find(|s| s.name == ".text").map(|s| s.bytes(&exe).to_vec()))
        .unwrap_or_else(|| vec![0x90]);
    let t3 = Instant::now();
    let dcore = support::million_insn_core(&code, 1_200_000);
    let dbuild = t3.elapsed();
    let insns = dcore.refs.insns.len();
    let mut dapp = App::new(Vec::new(), Settings::default());
    dapp.add_core(dcore, View::Disassembly);
    let d_idle = stats(run(&mut dapp, FRAMES, |_, _, _| {}));
    let d_wheel = stats(run(&mut dapp, FRAMES, |_, _, ev| ev.push(wheel_event())));
    let d_jump = stats(run(&mut dapp, FRAMES, |_, app, _| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let row = (seed % insns.max(1) as u64) as usize;
        app.apply(Action::Navigate { doc: None, target: Target::Row(TableId::Disasm, row) });
    }));

    println!("linkscope frame benchmark: {FRAMES} frames per scenario after {WARMUP} warm-up frames, 1280×800, run_ui + tessellate");
    println!(
        "(synthetic image with {ROWS} base relocations built and indexed in {:.0} ms)",
        build.as_secs_f64() * 1000.0
    );
    report("baseline: 58-row table, idle", &baseline, None);
    report("1,000,000 rows, idle", &idle, Some(&baseline));
    report("1,000,000 rows, wheel scrolling", &wheel, Some(&baseline));
    report("1,000,000 rows, jump to random row", &jump, Some(&baseline));
    println!(
        "(synthetic image with {insns} instructions scanned and indexed in {:.0} ms)",
        dbuild.as_secs_f64() * 1000.0
    );
    report("disassembly, idle", &d_idle, Some(&baseline));
    report("disassembly, wheel scrolling", &d_wheel, Some(&baseline));
    report("disassembly, jump to random row", &d_jump, Some(&baseline));
    println!(
        "off the UI thread: filter by kind {:.0} ms, sort by target {:.0} ms",
        filter.as_secs_f64() * 1000.0,
        sort.as_secs_f64() * 1000.0
    );
}
