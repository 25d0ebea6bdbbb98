//! Synthetic datasets in the shapes of real exports, for benchmarks and scale tests.
//!
//! [`generate`] writes, from a seed, into one folder:
//!
//! - `directory.csv`: users and groups in tagq's simple directory CSV (see [`crate::directory`]);
//! - `tags/<flavour>-<size>.members.txt`: a tag's direct members, one address per line, as
//!   `tagq tag import` reads them, and `tags/<flavour>-<size>.users.txt`: the users the tag
//!   covers after group expansion, for checking query results;
//! - `emails.ndjson` or `emails.csv`: Advanced Hunting `EmailEvents` rows, one per message and
//!   recipient, in time order;
//! - `alerts.ndjson` or `alerts.csv`: `AlertEvidence` rows, one per alert and named user;
//! - `campaigns.csv`: one row per campaign that has emails, linked to emails by
//!   `EmailClusterId`;
//! - `manifest.json`: the [`Summary`].
//!
//! The same seed, sizes, options and tagq version give the same bytes, whatever the number of
//! threads: rows are generated in fixed chunks, each from its own random stream, and written
//! in chunk order.

mod format;
mod mail;
mod people;
mod rng;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use people::{Flavour, user_address};

use mail::{CampaignStats, Chunk, MailPlan};
use people::Tag;
use rng::{Rng, Zipf};

/// Rows per email chunk: the unit of parallel work and of the random streams.
const CHUNK_ROWS: u64 = 16_384;
/// Users per directory chunk.
const USER_CHUNK: u64 = 65_536;
/// Output buffer size.
const WRITE_BUFFER: usize = 8 << 20;
/// Tag sizes. A size is generated when the organisation has at least twice as many users.
pub const TAG_SIZES: [u64; 6] = [10, 100, 250, 1_000, 10_000, 100_000];
/// Maximum number of campaigns.
const MAX_CAMPAIGNS: u64 = 5_000;
/// First timestamp of the emails: 2026-10-01T00:00:00Z, in milliseconds since the epoch.
const START_MS: u64 = 1_790_812_800_000;
/// Time covered by the emails: 30 days.
const SPAN_MS: u64 = 30 * 86_400_000;
/// Stream number of the tags.
const STREAM_TAGS: u64 = 1;

/// A named dataset size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// 100,000 users and 1 million email rows (about 0.5 GB of NDJSON).
    S,
    /// 1 million users and 10 million email rows.
    M,
    /// 5 million users and 100 million email rows.
    L,
}

impl Size {
    /// Returns the number of users.
    pub fn users(self) -> u64 {
        match self {
            Size::S => 100_000,
            Size::M => 1_000_000,
            Size::L => 5_000_000,
        }
    }

    /// Returns the number of email rows (message × recipient).
    pub fn emails(self) -> u64 {
        match self {
            Size::S => 1_000_000,
            Size::M => 10_000_000,
            Size::L => 100_000_000,
        }
    }
}

/// The row format of the email and alert files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowFormat {
    /// One JSON object per line.
    Ndjson,
    /// The CSV export columns with a header row.
    Csv,
}

impl RowFormat {
    /// Returns the file extension.
    pub fn extension(self) -> &'static str {
        match self {
            RowFormat::Ndjson => "ndjson",
            RowFormat::Csv => "csv",
        }
    }
}

/// The row format and, for NDJSON, the envelope choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// NDJSON or CSV.
    pub format: RowFormat,
    /// For NDJSON: wrap each row in the streaming envelope
    /// `{"time":…,"tenantId":…,"operationName":"Publish","category":"AdvancedHunting-<Table>",
    /// "properties":{…}}`; otherwise write the columns as a plain object.
    pub envelope: bool,
}

/// The seed, counts and row layout of a dataset.
#[derive(Clone, Debug)]
pub struct Config {
    /// The seed of every random stream.
    pub seed: u64,
    /// Number of users; at least 1.
    pub users: u64,
    /// Number of email rows (message × recipient).
    pub emails: u64,
    /// Exponent `s` of the Zipf distribution of recipients; 0 is uniform.
    pub zipf_exponent: f64,
    /// Row format of emails and alerts.
    pub layout: Layout,
}

impl Config {
    /// Creates a configuration with the default Zipf exponent 1.0 and enveloped NDJSON.
    pub fn new(seed: u64, users: u64, emails: u64) -> Config {
        Config {
            seed,
            users,
            emails,
            zipf_exponent: 1.0,
            layout: Layout { format: RowFormat::Ndjson, envelope: true },
        }
    }

    fn validate(&self) -> Result<(), GenerateError> {
        if self.users == 0 || self.users > u64::from(u32::MAX) {
            return Err(GenerateError::InvalidConfig(format!(
                "invalid user count {}: give 1 to {}",
                self.users,
                u32::MAX
            )));
        }
        if !(0.0..=10.0).contains(&self.zipf_exponent) {
            return Err(GenerateError::InvalidConfig(format!(
                "invalid Zipf exponent {}: give a number from 0 to 10",
                self.zipf_exponent
            )));
        }
        Ok(())
    }

    fn campaigns(&self) -> u64 {
        (self.emails / 200).clamp(1, MAX_CAMPAIGNS)
    }
}

/// A generated tag, as listed in the manifest.
#[derive(Clone, Debug, Serialize)]
pub struct TagSummary {
    /// The tag name, `<flavour>-<size>` such as `uniform-10k`.
    pub name: String,
    /// The rule that chose its users.
    pub flavour: Flavour,
    /// The number of users it covers after group expansion.
    pub users: u64,
    /// The member file, relative to the output folder.
    pub members_file: String,
    /// The file of covered user addresses, relative to the output folder.
    pub users_file: String,
}

/// Counts and files of a generated dataset; also written as `manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// The tagq version that generated the data.
    pub version: String,
    /// Number of users.
    pub users: u64,
    /// Number of groups (those of nested tags).
    pub groups: u64,
    /// Number of email rows.
    pub email_rows: u64,
    /// Number of messages.
    pub messages: u64,
    /// Number of messages sent to 100–5,000 recipients.
    pub blasts: u64,
    /// Number of alerts.
    pub alerts: u64,
    /// Number of alert rows (one per alert and user).
    pub alert_rows: u64,
    /// Number of campaigns with at least one email.
    pub campaigns: u64,
    /// The Zipf exponent of recipients.
    pub zipf_exponent: f64,
    /// Row format of emails and alerts.
    pub format: RowFormat,
    /// Whether NDJSON rows are wrapped in the streaming envelope.
    pub envelope: bool,
    /// Timestamp of the first email.
    pub first_timestamp: String,
    /// Timestamp of the last email.
    pub last_timestamp: String,
    /// Bytes written to the email file.
    pub email_bytes: u64,
    /// The tags.
    pub tags: Vec<TagSummary>,
}

/// An error that stops generation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The configuration cannot be generated.
    #[error("{0}")]
    InvalidConfig(String),
    /// A file could not be created or written.
    #[error("failed to write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io { path: path.to_path_buf(), source }
}

/// A destination of the email rows in place of the file `emails.<ext>`, such as a pipe into an
/// ingest.
pub struct EmailWriter {
    /// The destination's name in error messages.
    pub name: String,
    /// The destination. It is dropped, and so closed, after the alert file is complete.
    pub writer: Box<dyn Write + Send>,
}

/// A buffered output that remembers its path or name for error messages.
struct Output {
    path: PathBuf,
    writer: BufWriter<Box<dyn Write + Send>>,
    bytes: u64,
}

impl Output {
    fn create(path: PathBuf) -> Result<Output, GenerateError> {
        let file = File::create(&path).map_err(io_error(&path))?;
        Ok(Output::new(path, Box::new(file)))
    }

    fn new(path: PathBuf, writer: Box<dyn Write + Send>) -> Output {
        Output { writer: BufWriter::with_capacity(WRITE_BUFFER, writer), path, bytes: 0 }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), GenerateError> {
        self.bytes += bytes.len() as u64;
        self.writer.write_all(bytes).map_err(io_error(&self.path))
    }

    fn finish(mut self) -> Result<u64, GenerateError> {
        self.writer.flush().map_err(io_error(&self.path))?;
        Ok(self.bytes)
    }
}

/// Writes a dataset into `out` (created when missing; existing files of the same names are
/// replaced) and returns its summary. `progress` is called with the number of email rows
/// written so far, from the calling thread.
///
/// # Errors
///
/// [`GenerateError::InvalidConfig`] for a user count of 0 or over `u32::MAX`, or a Zipf
/// exponent outside 0–10; [`GenerateError::Io`] when a file cannot be written.
pub fn generate(
    config: &Config,
    out: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary, GenerateError> {
    generate_dataset(config, out, None, progress)
}

/// Writes a dataset like [`generate`], except that the email rows go to `emails` instead of a
/// file. `emails` is closed after the alert file is complete, so the alert file can be read
/// as soon as a pipe behind `emails` ends. The campaign file and the manifest come later.
///
/// # Errors
///
/// As for [`generate`]; a failed write to `emails` is reported with its name.
pub fn generate_with_emails(
    config: &Config,
    out: &Path,
    emails: EmailWriter,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary, GenerateError> {
    generate_dataset(config, out, Some(emails), progress)
}

fn generate_dataset(
    config: &Config,
    out: &Path,
    emails: Option<EmailWriter>,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary, GenerateError> {
    config.validate()?;
    let tags_dir = out.join("tags");
    fs::create_dir_all(&tags_dir).map_err(io_error(&tags_dir))?;
    let recipient_zipf = Zipf::new(config.users, config.zipf_exponent);

    let mut groups = Vec::new();
    let tags = build_tags(config, &recipient_zipf, &mut groups);
    write_directory(config, &groups, &out.join("directory.csv"))?;
    let tag_summaries = write_tags(&tags, &groups, &tags_dir)?;

    let mut summary = Summary {
        seed: config.seed,
        version: env!("CARGO_PKG_VERSION").to_string(),
        users: config.users,
        groups: groups.len() as u64,
        email_rows: 0,
        messages: 0,
        blasts: 0,
        alerts: 0,
        alert_rows: 0,
        campaigns: 0,
        zipf_exponent: config.zipf_exponent,
        format: config.layout.format,
        envelope: config.layout.envelope && config.layout.format == RowFormat::Ndjson,
        first_timestamp: timestamp_text(START_MS),
        last_timestamp: timestamp_text(START_MS),
        email_bytes: 0,
        tags: tag_summaries,
    };
    let campaigns = write_mail(config, &recipient_zipf, out, emails, &mut summary, progress)?;
    summary.campaigns = write_campaigns(config, &campaigns, &out.join("campaigns.csv"))?;

    let manifest = out.join("manifest.json");
    let mut text = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    text.push(b'\n');
    fs::write(&manifest, text).map_err(io_error(&manifest))?;
    Ok(summary)
}

fn timestamp_text(epoch_ms: u64) -> String {
    let mut out = Vec::with_capacity(24);
    format::push_timestamp(&mut out, epoch_ms);
    String::from_utf8_lossy(&out).into_owned()
}

/// Builds every tag whose size fits: three flavours per size, from one random stream each.
fn build_tags(config: &Config, zipf: &Zipf, groups: &mut Vec<people::Group>) -> Vec<Tag> {
    let mut tags = Vec::new();
    for (size_index, size) in TAG_SIZES.iter().enumerate() {
        if size * 2 > config.users {
            continue;
        }
        for (flavour_index, flavour) in Flavour::ALL.iter().enumerate() {
            let stream = (size_index * Flavour::ALL.len() + flavour_index) as u64;
            let mut rng = Rng::for_stream(config.seed, STREAM_TAGS, stream);
            tags.push(people::build_tag(&mut rng, zipf, config.users, *flavour, *size, groups));
        }
    }
    tags
}

fn write_directory(
    config: &Config,
    groups: &[people::Group],
    path: &Path,
) -> Result<(), GenerateError> {
    let mut output = Output::create(path.to_path_buf())?;
    output.write(people::DIRECTORY_HEADER.as_bytes())?;
    let chunks = config.users.div_ceil(USER_CHUNK);
    let batch = (rayon::current_num_threads() as u64 * 4).max(1);
    let mut next = 0;
    while next < chunks {
        let end = (next + batch).min(chunks);
        let parts: Vec<Vec<u8>> = (next..end)
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * USER_CHUNK;
                let last = (first + USER_CHUNK).min(config.users);
                let mut buffer = Vec::with_capacity(USER_CHUNK as usize * 110);
                people::push_user_rows(&mut buffer, first..last);
                buffer
            })
            .collect();
        for part in &parts {
            output.write(part)?;
        }
        next = end;
    }
    let mut buffer = Vec::new();
    people::push_group_rows(&mut buffer, groups);
    output.write(&buffer)?;
    output.finish().map(drop)
}

fn write_tags(
    tags: &[Tag],
    groups: &[people::Group],
    dir: &Path,
) -> Result<Vec<TagSummary>, GenerateError> {
    let mut summaries = Vec::with_capacity(tags.len());
    for tag in tags {
        let members_file = format!("{}.members.txt", tag.name);
        let users_file = format!("{}.users.txt", tag.name);
        let mut buffer = Vec::new();
        people::push_member_lines(&mut buffer, tag, groups);
        let path = dir.join(&members_file);
        fs::write(&path, &buffer).map_err(io_error(&path))?;
        buffer.clear();
        people::push_user_lines(&mut buffer, &tag.users);
        let path = dir.join(&users_file);
        fs::write(&path, &buffer).map_err(io_error(&path))?;
        summaries.push(TagSummary {
            name: tag.name.clone(),
            flavour: tag.flavour,
            users: tag.size,
            members_file: format!("tags/{members_file}"),
            users_file: format!("tags/{users_file}"),
        });
    }
    Ok(summaries)
}

/// Writes the email and alert files and returns the per-campaign totals.
fn write_mail(
    config: &Config,
    recipient_zipf: &Zipf,
    out: &Path,
    email_writer: Option<EmailWriter>,
    summary: &mut Summary,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<CampaignStats>, GenerateError> {
    let campaign_zipf = Zipf::new(config.campaigns(), 1.0);
    let plan = MailPlan {
        seed: config.seed,
        users: config.users,
        total_rows: config.emails,
        start_ms: START_MS,
        span_ms: SPAN_MS,
        campaigns: config.campaigns(),
        layout: config.layout,
        recipient_zipf,
        campaign_zipf: &campaign_zipf,
    };
    let extension = config.layout.format.extension();
    let mut emails = match email_writer {
        Some(sink) => Output::new(PathBuf::from(sink.name), sink.writer),
        None => Output::create(out.join(format!("emails.{extension}")))?,
    };
    let mut alerts = Output::create(out.join(format!("alerts.{extension}")))?;
    if config.layout.format == RowFormat::Csv {
        emails.write(csv_header(&mail::EMAIL_COLUMNS).as_bytes())?;
        alerts.write(csv_header(&mail::ALERT_COLUMNS).as_bytes())?;
    }
    let mut campaigns = vec![CampaignStats::default(); plan.campaigns as usize];
    let chunks = config.emails.div_ceil(CHUNK_ROWS);
    let batch = (rayon::current_num_threads() as u64 * 2).max(1);
    // Two sets of chunk buffers: one is filled in parallel while the other is written, and
    // reusing them avoids a page fault per fresh page of output.
    let mut filling: Vec<Chunk> = (0..batch).map(|_| Chunk::new(plan.campaigns)).collect();
    let mut writing: Vec<Chunk> = (0..batch).map(|_| Chunk::new(plan.campaigns)).collect();
    let mut pending = 0;
    let mut next = 0;
    loop {
        let end = (next + batch).min(chunks);
        let filled = (end - next) as usize;
        let (written, ()) = rayon::join(
            || write_chunks(&writing[..pending], &mut emails, &mut alerts, summary, &mut campaigns),
            || {
                filling[..filled].par_iter_mut().enumerate().for_each(|(offset, chunk)| {
                    let index = next + offset as u64;
                    let first_row = index * CHUNK_ROWS;
                    let rows = CHUNK_ROWS.min(config.emails - first_row);
                    mail::generate_chunk(&plan, index, first_row, rows, chunk);
                })
            },
        );
        written?;
        progress(summary.email_rows);
        if pending == 0 && filled == 0 {
            break;
        }
        std::mem::swap(&mut filling, &mut writing);
        pending = filled;
        next = end;
    }
    if config.emails > 0 {
        let last_row = config.emails - 1;
        let last_ms = START_MS
            + (u128::from(last_row) * u128::from(SPAN_MS) / u128::from(config.emails)) as u64;
        summary.last_timestamp = timestamp_text(last_ms);
    }
    // The alert file is complete before the email writer closes: see `generate_with_emails`.
    alerts.finish()?;
    summary.email_bytes = emails.finish()?;
    Ok(campaigns)
}

fn write_chunks(
    chunks: &[Chunk],
    emails: &mut Output,
    alerts: &mut Output,
    summary: &mut Summary,
    campaigns: &mut [CampaignStats],
) -> Result<(), GenerateError> {
    for chunk in chunks {
        emails.write(&chunk.emails)?;
        alerts.write(&chunk.alerts)?;
        add_chunk(summary, campaigns, chunk);
    }
    Ok(())
}

fn add_chunk(summary: &mut Summary, campaigns: &mut [CampaignStats], chunk: &Chunk) {
    summary.email_rows += chunk.rows;
    summary.messages += chunk.messages;
    summary.blasts += chunk.blasts;
    summary.alerts += chunk.alert_count;
    summary.alert_rows += chunk.alert_rows;
    for (total, part) in campaigns.iter_mut().zip(&chunk.campaigns) {
        total.merge(part);
    }
}

fn csv_header(columns: &[&str]) -> String {
    let mut header = columns.join(",");
    header.push('\n');
    header
}

/// Column names of the campaign file.
const CAMPAIGN_COLUMNS: [&str; 10] = [
    "CampaignId",
    "Name",
    "Type",
    "StartDate",
    "LastSeen",
    "EmailCount",
    "RecipientCount",
    "SampleSubject",
    "EmailClusterId",
    "ThreatTypes",
];

/// Writes one row per campaign with emails and returns their number.
fn write_campaigns(
    config: &Config,
    campaigns: &[CampaignStats],
    path: &Path,
) -> Result<u64, GenerateError> {
    let mut buffer = csv_header(&CAMPAIGN_COLUMNS).into_bytes();
    let mut written = 0;
    for (index, stats) in campaigns.iter().enumerate() {
        if stats.messages == 0 {
            continue;
        }
        let index = index as u64;
        format::push_guid(&mut buffer, rng::mix(config.seed ^ index ^ 0xca3a), index);
        buffer.extend_from_slice(format!(",Campaign {index},").as_bytes());
        let threats = mail::threat_types(stats.threat);
        let kind = if threats.starts_with("Phish") { "Phish" } else { threats };
        format::push_csv_field(&mut buffer, kind);
        buffer.push(b',');
        format::push_timestamp(&mut buffer, stats.first_ms);
        buffer.push(b',');
        format::push_timestamp(&mut buffer, stats.last_ms);
        buffer.push(b',');
        format::push_int(&mut buffer, stats.messages);
        buffer.push(b',');
        format::push_int(&mut buffer, stats.rows);
        buffer.push(b',');
        format::push_csv_field(&mut buffer, mail::subject(stats.subject));
        buffer.push(b',');
        format::push_int(&mut buffer, mail::CAMPAIGN_CLUSTER_BASE + index);
        buffer.push(b',');
        format::push_csv_field(&mut buffer, threats);
        buffer.push(b'\n');
        written += 1;
    }
    fs::write(path, &buffer).map_err(io_error(path))?;
    Ok(written)
}

#[cfg(test)]
mod tests;
