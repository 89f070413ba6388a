//! The baseline of the data-reference benchmark: open and parse a file as `linkscope refs` does,
//! then a bare iced-x86 decode loop over the same code bytes (every executable section, linear,
//! no classification). `scripts/bench-refs.sh` times it beside `linkscope refs --summary --json`.
//!
//! `cargo run --release --example decode_bench -- FILE`

use iced_x86::{Decoder, DecoderOptions, Instruction};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: decode_bench FILE");
        std::process::exit(2);
    };
    let data = match linkscope::input::Input::open(std::path::Path::new(&path)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let bin = match linkscope::load(&data) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let bitness = linkscope::analysis::code::bitness(&bin).unwrap_or(64);
    let (mut n, mut rip) = (0u64, 0u64);
    let mut ins = Instruction::default();
    for r in linkscope::analysis::code::code_regions(&bin, &data) {
        let mut d = Decoder::with_ip(bitness, r.bytes, r.rva, DecoderOptions::NONE);
        while d.can_decode() {
            d.decode_out(&mut ins);
            n += 1;
            rip += u64::from(ins.is_ip_rel_memory_operand());
        }
    }
    println!("{n} instructions, {rip} RIP-relative operands");
}
