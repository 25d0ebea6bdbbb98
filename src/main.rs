//! The `tagq` command-line tool.

fn main() {
    std::process::exit(tagq::cli::main());
}
