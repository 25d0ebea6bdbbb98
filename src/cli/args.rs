//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::records::RecordKind;

/// Find the alerts, emails and campaigns that involve tagged users.
///
/// Queries use a Kibana-style filter syntax with tag predicates, for example
/// `recipient.tag:"Priority account" and DeliveryAction:Delivered`.
#[derive(Debug, Parser)]
#[command(name = "tagq", version, about, max_term_width = 100)]
pub struct Cli {
    /// Store directory holding the directory snapshot and the tags [default: per-user data folder]
    #[arg(long, global = true, env = "TAGQ_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Print no summaries or notices on stderr (errors are still printed)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Act as this identity (a mail address or local:NAME), whose role groups the store's
    /// role table lists [default: the store's owner]
    #[arg(long = "as", global = true, env = "TAGQ_ACTOR", value_name = "ADDRESS")]
    pub actor: Option<String>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stream records from export files and print those matching a query
    Filter(FilterArgs),
    /// Show how a query is parsed: its canonical form and its tree
    Explain(ExplainArgs),
    /// Load or show the directory of users and groups
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Create tags, list them and manage their members
    #[command(subcommand)]
    Tag(TagCommand),
    /// Assign, list and remove the role groups of actors
    #[command(subcommand)]
    Role(RoleCommand),
    /// Show the audit log of changes to tags, members, roles, settings and the directory
    Audit(AuditArgs),
    /// Show and change the store's settings, such as the tag limits
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Add the records of export files to the store's index
    Ingest(IngestArgs),
    /// Print the indexed records matching a query
    Query(QueryArgs),
    /// Maintain the store's index
    #[command(subcommand)]
    Index(IndexCommand),
    /// Write a synthetic dataset (directory, tags, emails, alerts, campaigns) from a seed
    Generate(GenerateArgs),
    /// Summarise the indexed records matching a query as a report table or chart
    Report(ReportArgs),
}

/// Input format names for `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Delimited text with a header row
    Csv,
    /// A JSON array, or a JSON document wrapping records
    Json,
    /// One JSON object per line
    Ndjson,
}

/// Output format names for `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// Aligned text columns for reading
    Table,
    /// Comma-separated values with a header
    Csv,
    /// One JSON array
    Json,
    /// One JSON object per line
    Ndjson,
}

/// Text encodings for `--encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8, with or without a byte-order mark
    #[value(name = "utf-8")]
    Utf8,
    /// UTF-16 little-endian
    #[value(name = "utf-16le")]
    Utf16Le,
    /// UTF-16 big-endian
    #[value(name = "utf-16be")]
    Utf16Be,
}

/// How to read input files, shared by `filter` and `ingest`.
#[derive(Debug, Args)]
pub struct InputOptions {
    /// Input format [default: detected from the content]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// CSV field delimiter, one ASCII character [default: sniffed from the header]
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,

    /// Input text encoding [default: UTF-8, or UTF-16 when the file starts with its byte-order mark]
    #[arg(long, value_enum)]
    pub encoding: Option<EncodingArg>,
}

/// Options of the filter language shared by `filter` and `explain`.
#[derive(Debug, Args)]
pub struct QueryOptions {
    /// Time zone for dates without an offset and for day rounding: an IANA name or `+02:00`
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,

    /// Maximum nesting of groups, scopes and `not`
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_depth: usize,

    /// Maximum number of conditions in a query
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_conditions: usize,

    /// Maximum query size in UTF-8 bytes
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    pub max_query_bytes: usize,

    /// Reject values that start with a wildcard, which must scan every value
    #[arg(long)]
    pub no_leading_wildcards: bool,
}

/// Arguments of `tagq filter`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The query, in the Kibana-style filter syntax; an empty query matches every record
    pub query: String,

    /// Export files to read; `-` or none reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Read every record as this kind (alert, email, campaign), overriding detection
    /// [default: detected per record]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<RecordKind>,

    /// How to read the input files.
    #[command(flatten)]
    pub input: InputOptions,

    /// Output format [default: the input's format]
    #[arg(long, short, value_enum)]
    pub output: Option<OutputArg>,

    /// Print only the number of matching records
    #[arg(long, short)]
    pub count: bool,

    /// Add the tags of each involved user to every output record
    #[arg(long)]
    pub with_tags: bool,

    /// Query language options.
    #[command(flatten)]
    pub query_options: QueryOptions,
}

/// Arguments of `tagq explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The query to explain
    pub query: String,

    /// Resolve the query against this record kind's fields and show the resolved tree
    #[arg(long, value_name = "KIND")]
    pub kind: Option<RecordKind>,

    /// Output format; `json` prints the result, or the error, as one JSON object on stdout
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: ExplainOutput,

    /// Show the plan that `tagq query` would run over the store's index
    #[arg(long, conflicts_with = "output")]
    pub plan: bool,

    /// Query language options.
    #[command(flatten)]
    pub query_options: QueryOptions,
}

/// Output formats of `tagq explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainOutput {
    /// Canonical form and outlines for reading
    Text,
    /// One JSON object for programs
    Json,
}

/// `tagq directory …`
#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Replace the directory snapshot with the users and groups of an export
    Import {
        /// Entra ID export (Log Analytics CSV or Graph JSON) or tagq's simple CSV
        file: PathBuf,
    },
    /// Show the users and groups of the current snapshot
    Show {
        /// Output format
        #[arg(long, short, value_enum, default_value = "table")]
        output: ListOutput,
    },
}

/// Output formats of listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListOutput {
    /// Aligned text columns
    Table,
    /// Comma-separated values with a header
    Csv,
    /// One JSON array
    Json,
}

/// `tagq tag …`
#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Create a custom tag
    Create {
        /// The tag's name, unique ignoring case, accents' encoding and surrounding blanks
        name: String,
        /// A description shown in listings
        #[arg(long, value_name = "TEXT", default_value = "")]
        description: String,
    },
    /// List the tags with their members' counts
    List {
        /// Output format
        #[arg(long, short, value_enum, default_value = "table")]
        output: ListOutput,
    },
    /// Show one tag: its details, members and the filter that selects its records
    Show {
        /// The tag's name
        name: String,
        /// Output format
        #[arg(long, short, value_enum, default_value = "table")]
        output: ListOutput,
    },
    /// Change a custom tag's description (the system tag's description is fixed)
    Edit {
        /// The tag's name
        name: String,
        /// The new description; an empty text clears it
        #[arg(long, value_name = "TEXT")]
        description: String,
    },
    /// Delete a custom tag, after confirmation on a terminal
    Delete {
        /// The tag's name
        name: String,
        /// Delete without asking (required when stdin is not a terminal)
        #[arg(long, short)]
        yes: bool,
    },
    /// Print a tag's direct members, one address per line, in a form `tag import` reads
    Export {
        /// The tag's name
        name: String,
    },
    /// Tags cannot be renamed: this command always fails with that error
    #[command(hide = true)]
    Rename {
        /// The tag's name
        name: String,
        /// The name requested
        new_name: String,
    },
    /// Add users or groups to a tag, by address
    Add {
        /// The tag's name
        name: String,
        /// Addresses of mailbox users or groups
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Remove users or groups from a tag, by address
    Remove {
        /// The tag's name
        name: String,
        /// Addresses of members
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Add the users and groups listed in a file, one address per line
    Import {
        /// The tag's name
        name: String,
        /// The member file (UTF-8, one address per line; blank lines are ignored)
        file: PathBuf,
        /// Apply the valid lines even when some lines are invalid (the exit status is still 2)
        #[arg(long)]
        skip_invalid: bool,
    },
}

/// `tagq role …`
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Give an actor a role group, such as "Security Operator"
    Assign {
        /// The actor: a mail address or local:NAME
        address: String,
        /// Organization Management, Security Administrator, Security Operator, Global Reader
        /// or Security Reader (case, blanks and dashes are ignored)
        group: String,
    },
    /// List the store's owner and every role assignment
    List {
        /// Output format
        #[arg(long, short, value_enum, default_value = "table")]
        output: ListOutput,
    },
    /// Take one role group, or all of them, from an actor
    Remove {
        /// The actor: a mail address or local:NAME
        address: String,
        /// The role group to remove [default: every group of the actor]
        group: Option<String>,
    },
}

/// Arguments of `tagq audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Show changes at or after this time: RFC 3339 (`2026-12-01T08:00:00Z`) or a date,
    /// taken as midnight UTC
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Show only changes of this tag (names compare ignoring case and blanks)
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,

    /// Output format
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputArg,
}

/// `tagq config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// List every setting with its value
    List {
        /// Output format
        #[arg(long, short, value_enum, default_value = "table")]
        output: ListOutput,
    },
    /// Print one setting's value
    Get {
        /// The setting, such as limits.custom_tags
        key: String,
    },
    /// Change a setting
    Set {
        /// The setting, such as limits.custom_tags
        key: String,
        /// The new value: a whole number of at least 1
        value: String,
    },
}

/// Arguments of `tagq ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Export files to read; `-` or none reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Map every record as this kind (alert, email, campaign) [default: detected per record]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<RecordKind>,

    /// How to read the input files.
    #[command(flatten)]
    pub input: InputOptions,

    /// Records per index segment; applies only when the index is created
    #[arg(long, value_name = "N", default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub segment_size: u32,
}

/// Result orders for `--sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Oldest first; records without a time first
    Time,
    /// Newest first; records without a time last
    #[value(name = "-time")]
    TimeDesc,
}

/// Arguments of `tagq query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The query, in the Kibana-style filter syntax; an empty query matches every record
    pub query: String,

    /// Only records of this kind (alert, email, campaign) [default: every kind]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<RecordKind>,

    /// Output format [default: each record's input format]
    #[arg(long, short, value_enum)]
    pub output: Option<OutputArg>,

    /// Print only the number of matching records
    #[arg(long, short)]
    pub count: bool,

    /// Add the tags of each involved user to every output record
    #[arg(long)]
    pub with_tags: bool,

    /// Print at most N records
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Result order [default: ingest order]
    #[arg(long, value_enum, allow_hyphen_values = true)]
    pub sort: Option<SortArg>,

    /// Query language options.
    #[command(flatten)]
    pub query_options: QueryOptions,
}

/// `tagq index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Rebuild the bitmaps of every segment from the stored records
    Rebuild,
    /// Print the sizes of the index files and of their sections, in bytes and bytes per live
    /// record
    Stats {
        /// Output format
        #[arg(long, short = 'o', value_enum, default_value = "table")]
        output: StatsOutputArg,
    },
}

/// Output formats of `tagq index stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatsOutputArg {
    /// Aligned text columns
    Table,
    /// One JSON object
    Json,
}

/// Dataset sizes for `tagq generate --size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SizeArg {
    /// 100,000 users and 1 million email rows
    S,
    /// 1 million users and 10 million email rows
    M,
    /// 5 million users and 100 million email rows (about 50 GB of NDJSON)
    L,
    /// The counts given by --users and --emails
    Custom,
}

/// Row formats for `tagq generate --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormatArg {
    /// One JSON object per line
    Ndjson,
    /// The CSV export columns with a header row
    Csv,
}

/// Arguments of `tagq generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Seed of the random streams; the same seed and tagq version write the same bytes
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Dataset size
    #[arg(long, value_enum, default_value = "s")]
    pub size: SizeArg,

    /// Number of users [default: the size's count; required with --size custom]
    #[arg(long, value_name = "N")]
    pub users: Option<u64>,

    /// Number of email rows, one per message and recipient [default: the size's count;
    /// required with --size custom]
    #[arg(long, value_name = "N")]
    pub emails: Option<u64>,

    /// Output folder, created when missing; files of the same names are replaced
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Row format of the email and alert files
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: GenerateFormatArg,

    /// Write NDJSON rows as plain objects instead of the streaming envelope
    /// `{"category":"AdvancedHunting-<Table>","properties":{…}}`
    #[arg(long)]
    pub plain: bool,

    /// Exponent s of the Zipf distribution of recipients (0 is uniform)
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub zipf: f64,

    /// Stream the email rows into the index of the store (--store) instead of writing
    /// emails.FORMAT, then ingest the alerts and campaigns and import the directory and the
    /// tags into the store; the other files still go to --out
    #[arg(long)]
    pub into_store: bool,
}

/// Output formats of `tagq report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportOutputArg {
    /// Aligned text columns under a header line that names the time zone
    Table,
    /// Comma-separated values; text that a spreadsheet would run as a formula gets a leading '
    Csv,
    /// One JSON object with the title, time zone, columns and rows
    Json,
}

/// Arguments of `tagq report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report: alerts, threat-protection, priority-issues, explorer, campaigns, or email
    /// followed by a NETWORK_MESSAGE_ID in place of the query
    pub name: String,

    /// Only records matching this query, in the filter syntax [default: every record]
    #[arg(default_value = "", hide_default_value = true)]
    pub query: String,

    /// The email report's query, after its message id [default: every record of the message]
    #[arg(value_name = "EMAIL_QUERY")]
    pub email_query: Option<String>,

    /// Row order of the explorer report: time (oldest first) or -time (newest first, the
    /// default)
    #[arg(long, value_enum, value_name = "ORDER", allow_hyphen_values = true)]
    pub sort: Option<SortArg>,

    /// Only records at or after this time: a date (in --tz), a local date-time or RFC 3339
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records before this time; a date includes that whole day (in --tz)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Output format
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: ReportOutputArg,

    /// Also draw the report as an SVG chart into this file
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,

    /// Print at most N rows
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Leave out the first N rows
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: usize,

    /// Add a tag column with one group per tag of the involved users (threat-protection)
    #[arg(long)]
    pub by_tag: bool,

    /// Read these export files instead of the store's index
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub input: Vec<PathBuf>,

    /// How to read the files of --input.
    #[command(flatten)]
    pub read: InputOptions,

    /// Query language options; --tz also sets the zone of the report's days and times.
    #[command(flatten)]
    pub query_options: QueryOptions,
}
