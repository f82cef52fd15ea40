//! The Rust-level rows of the benchmark suite, measured as `bench/c/harness.h` measures the
//! C and C++ ones:
//!
//! ```text
//! rust_rows [--smoke]      every row: "row<TAB>median ns per op" lines
//! rust_rows --count ROW N  run ROW's operation N times after one warm-up (for callgrind:
//!                          the difference between two counts is exactly N operations)
//! rust_rows --list         the rows
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--list"] => {
            for row in tvmffi_bench::ROWS {
                println!("{row}");
            }
            ExitCode::SUCCESS
        }
        ["--count", row, n] => match n.parse() {
            Ok(n) if tvmffi_bench::count(row, n) => ExitCode::SUCCESS,
            _ => {
                eprintln!("unknown row {row} or bad count {n}");
                ExitCode::from(2)
            }
        },
        [] | ["--smoke"] => {
            let smoke = !args.is_empty();
            for row in tvmffi_bench::ROWS {
                match tvmffi_bench::measure(row, smoke) {
                    Some(ns) => println!("{row}\t{ns:.3}"),
                    None => println!("{row}\tn/a"),
                }
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: rust_rows [--smoke] | --list | --count ROW N");
            ExitCode::from(2)
        }
    }
}
