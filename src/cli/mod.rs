//! The command line: argument definitions and one module per command group.
//!
//! Only this module talks to the terminal. Data goes to stdout, messages to stderr. Exit status:
//! 0 when something matched (or a command succeeded), 1 when nothing matched, 2 on error.

mod args;
mod audit;
mod config;
mod directory;
mod filter;
mod generate;
mod ingest;
mod output;
mod query;
mod report;
mod role;
mod tag;
mod views;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Parser;

pub use args::Cli;
use args::Command;

/// Exit status: something matched, or the command succeeded.
pub const EXIT_OK: i32 = 0;
/// Exit status: nothing matched.
pub const EXIT_NO_MATCH: i32 = 1;
/// Exit status: an error.
pub const EXIT_ERROR: i32 = 2;

/// A failure of a command: a message for stderr, and whether it is a quiet broken pipe.
#[derive(Debug)]
pub enum Failure {
    /// Stdout was closed by the reader (`tagq filter … | head`): end quietly.
    BrokenPipe,
    /// An error to print; the text may span several lines.
    Message(String),
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("failed to write output: {error}"))
        }
    }
}

/// The result of a command: an exit status, or a failure.
pub type Outcome = Result<i32, Failure>;

/// Runs the command line given by the process arguments and returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = error.print();
            return code;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(Failure::BrokenPipe) => EXIT_OK,
        Err(Failure::Message(message)) => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "tagq: {}", message.trim_end());
            EXIT_ERROR
        }
    }
}

fn run(cli: Cli) -> Outcome {
    let store = store_dir(&cli);
    if store.exists() && !store.is_dir() {
        return Err(Failure::Message(format!(
            "the store path {} is a file, not a folder; give a folder with --store or TAGQ_STORE",
            store.display()
        )));
    }
    let existed = store.exists();
    let quiet = cli.quiet;
    let outcome = dispatch(cli, &store);
    // Without this message, a mistyped --store or TAGQ_STORE gives empty results silently.
    if !existed && store.is_dir() && !quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "tagq: created a new store at {}; check --store or TAGQ_STORE if you meant another one",
            store.display()
        );
    }
    outcome
}

fn dispatch(cli: Cli, store: &Path) -> Outcome {
    let store = store.to_path_buf();
    tag::set_actor(cli.actor.clone());
    match cli.command {
        Command::Filter(args) => filter::run(&args, &store, cli.quiet),
        Command::Explain(args) if args.plan => query::explain_plan(&args, &store),
        Command::Explain(args) => filter::explain(&args),
        Command::Directory(command) => directory::run(command, &store, cli.quiet),
        Command::Tag(command) => tag::run(command, &store, cli.quiet),
        Command::Role(command) => role::run(command, &store, cli.quiet),
        Command::Audit(args) => audit::run(&args, &store),
        Command::Config(command) => config::run(command, &store, cli.quiet),
        Command::Ingest(args) => ingest::run(&args, &store, cli.quiet),
        Command::Query(args) => query::run(&args, &store, cli.quiet),
        Command::Index(command) => query::index(command, &store, cli.quiet),
        Command::Generate(args) => generate::run(&args, &store, cli.quiet),
        Command::Report(args) => report::run(&args, &store, cli.quiet),
    }
}

/// Returns the store directory: `--store`, else `TAGQ_STORE` (both handled by clap), else the
/// per-user default.
fn store_dir(cli: &Cli) -> PathBuf {
    cli.store.clone().unwrap_or_else(crate::store::default_dir)
}
