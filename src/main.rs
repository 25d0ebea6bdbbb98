//! The `tagq` command-line tool.

// The record pipeline allocates many small strings on rayon threads; glibc's allocator spent
// about a third of the filter's time in its own bookkeeping there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(tagq::cli::main());
}
