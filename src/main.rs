//! The `linkscope` binary: CLI subcommands, or the desktop app when none is given.

use clap::Parser;
use linkscope::cli::{self, Cli, Command};

fn main() {
    let args = Cli::parse();
    let code = match args.command {
        Some(Command::Inspect { file, json, pretty, only, member }) => {
            cli::inspect(&file, json, pretty, only, member.as_deref())
        }
        None => run_app(args),
    };
    std::process::exit(code);
}

#[cfg(feature = "gui")]
fn run_app(args: Cli) -> i32 {
    linkscope::gui::run(args.files, args.screenshot, args.view)
}

#[cfg(not(feature = "gui"))]
fn run_app(_args: Cli) -> i32 {
    use clap::CommandFactory;
    let _ = Cli::command().print_help();
    println!();
    2
}
