//! The `linkscope` binary: CLI subcommands, or the desktop app when none is given.

use clap::Parser;
use linkscope::cli::{self, Cli, Command};

fn main() {
    let args = Cli::parse();
    let code = match args.command {
        Some(Command::Inspect { file, json, pretty, only, member, pdb }) => {
            cli::inspect(&file, json, pretty, only, member.as_deref(), &pdb)
        }
        Some(Command::Refs { file, json, summary, only, to, bases, threads, pdb }) => {
            let threads = threads.unwrap_or_else(cli::default_threads);
            cli::refs::refs(&file, &cli::refs::RefsArgs { json, summary, only, to, bases, threads, pdb })
        }
        Some(Command::Disasm { file, section, range, symbol, json, threads, pdb }) => {
            let threads = threads.unwrap_or_else(cli::default_threads);
            cli::disasm::disasm(&file, &cli::disasm::Selection { section, range, symbol, pdb }, json, threads)
        }
        Some(Command::Strings { file, min, json }) => cli::strings::run(&file, min, json),
        Some(Command::Patch { image, plan, out, json }) => {
            cli::patch::run_patch(&plan.args(image), out.as_deref(), json)
        }
        Some(Command::Verify { image, dump, pid, module, plan, json, explain }) => {
            cli::patch::run_verify(&plan.args(image), &cli::patch::MemoryArgs { dump, pid, module }, json, explain)
        }
        Some(Command::Diff { a, b, dump, module, image_base, json, max_changes }) => {
            let d = cli::diff::DumpArgs {
                dump: dump.as_deref(),
                module: module.as_deref(),
                image_base: image_base.as_deref(),
            };
            cli::diff::run(&a, b.as_deref(), &d, json, max_changes)
        }
        Some(Command::Link { flavor, json, compare, map, write_image, args }) => {
            cli::link::run(flavor, &args, json, compare.as_deref(), map.as_deref(), write_image.as_deref())
        }
        None => run_app(args),
    };
    std::process::exit(code);
}

#[cfg(feature = "gui")]
fn run_app(args: Cli) -> i32 {
    let tour = args.tour.map(|t| (t, args.step.unwrap_or(1)));
    linkscope::gui::run(args.files, args.screenshot, args.view, args.compare, tour)
}

#[cfg(not(feature = "gui"))]
fn run_app(_args: Cli) -> i32 {
    use clap::CommandFactory;
    let _ = Cli::command().print_help();
    println!();
    2
}
