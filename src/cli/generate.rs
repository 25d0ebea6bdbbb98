//! `tagq generate`.

mod into_store;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::generate::{self, Config, Layout, RowFormat, Size, Summary};

use super::args::{GenerateArgs, GenerateFormatArg, SizeArg};
use super::{EXIT_OK, Failure, Outcome};

/// Runs `tagq generate`; with `--into-store`, into the store directory `store`.
pub fn run(args: &GenerateArgs, store: &Path, quiet: bool) -> Outcome {
    let config = config(args)?;
    let bar = progress_bar(config.emails, quiet);
    let started = Instant::now();
    if args.into_store {
        return into_store::run(&config, &args.out, store, &bar, quiet);
    }
    let result = generate::generate(&config, &args.out, &mut |rows| bar.set_position(rows));
    bar.finish_and_clear();
    let summary = result.map_err(|e| Failure::Message(e.to_string()))?;
    if !quiet {
        report(&summary, args, started);
    }
    Ok(EXIT_OK)
}

/// Prints the counts, sizes and rate of a dataset written as files.
fn report(summary: &Summary, args: &GenerateArgs, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let megabytes = summary.email_bytes as f64 / 1e6;
    let _ = writeln!(
        io::stderr().lock(),
        "tagq: wrote {} users, {} tags, {} email rows ({megabytes:.0} MB, {:.0} MB/s), {} alert \
         rows and {} campaigns to {} in {seconds:.1} s",
        summary.users,
        summary.tags.len(),
        summary.email_rows,
        megabytes / seconds.max(1e-9),
        summary.alert_rows,
        summary.campaigns,
        args.out.display(),
    );
}

fn config(args: &GenerateArgs) -> Result<Config, Failure> {
    let size = match args.size {
        SizeArg::S => Some(Size::S),
        SizeArg::M => Some(Size::M),
        SizeArg::L => Some(Size::L),
        SizeArg::Custom => None,
    };
    let users = args.users.or(size.map(Size::users));
    let emails = args.emails.or(size.map(Size::emails));
    let (Some(users), Some(emails)) = (users, emails) else {
        return Err(Failure::Message("--size custom needs --users N and --emails N".to_string()));
    };
    let format = match args.format {
        GenerateFormatArg::Ndjson => RowFormat::Ndjson,
        GenerateFormatArg::Csv => RowFormat::Csv,
    };
    let mut config = Config::new(args.seed, users, emails);
    config.zipf_exponent = args.zipf;
    config.layout = Layout { format, envelope: !args.plain };
    Ok(config)
}

/// Returns a bar of email rows on stderr, or a hidden one when stderr is not a terminal or
/// `--quiet` is given.
fn progress_bar(rows: u64, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    let template = "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} email rows ({eta} left)";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
