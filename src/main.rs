//! The `tagq` command-line tool.

fn main() {
    std::process::exit(tagq_main());
}

fn tagq_main() -> i32 {
    0
}
