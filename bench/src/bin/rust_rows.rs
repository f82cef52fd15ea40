//! `rust_rows --count ROW N`: run a Rust row's operation N times, for callgrind (the
//! difference between two counts is exactly N operations). `rust_rows --list`: the rows.

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
        _ => {
            eprintln!("usage: rust_rows --list | --count ROW N");
            ExitCode::from(2)
        }
    }
}
