//! Text encodings of inputs: byte-order marks, UTF-16 detection and streaming decoding to UTF-8.

use std::fmt;
use std::io::{self, Cursor, Read};

use super::error::ReadError;

/// The text encoding of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
}

impl Encoding {
    /// Returns the lower-case name used on the command line (`utf-8`, `utf-16le`, `utf-16be`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }

    /// Parses an encoding name, ignoring ASCII case and the hyphen (`utf8`, `UTF-16LE`).
    pub fn parse(name: &str) -> Option<Encoding> {
        let folded: String =
            name.trim().chars().filter(|c| *c != '-' && *c != '_').collect::<String>();
        match folded.to_ascii_lowercase().as_str() {
            "utf8" => Some(Encoding::Utf8),
            "utf16le" => Some(Encoding::Utf16Le),
            "utf16be" => Some(Encoding::Utf16Be),
            _ => None,
        }
    }

    fn to_encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Utf8 => encoding_rs::UTF_8,
            Encoding::Utf16Le => encoding_rs::UTF_16LE,
            Encoding::Utf16Be => encoding_rs::UTF_16BE,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A boxed byte stream, as the readers pass it between layers.
pub(super) type ByteStream = Box<dyn Read + Send>;

/// The first bytes of a stream, read ahead for detection, followed by the rest of the stream.
pub(super) struct Prefix {
    pub(super) bytes: Vec<u8>,
    rest: ByteStream,
    eof: bool,
}

impl Prefix {
    pub(super) fn new(rest: ByteStream) -> Prefix {
        Prefix { bytes: Vec::new(), rest, eof: false }
    }

    /// Reads ahead until `done` accepts the bytes, the stream ends or `max` bytes are buffered.
    pub(super) fn fill_until(
        &mut self,
        max: usize,
        mut done: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
        while !self.eof && self.bytes.len() < max && !done(&self.bytes) {
            let want = chunk.len().min(max - self.bytes.len());
            let n = match self.rest.read(&mut chunk[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.eof = true;
            }
            self.bytes.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        Ok(())
    }

    /// Returns true when `bytes` contains the whole stream.
    pub(super) fn at_eof(&self) -> bool {
        self.eof
    }

    /// Drops the first `n` buffered bytes (a byte-order mark).
    pub(super) fn skip(&mut self, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
    }

    /// Returns the buffered bytes followed by the rest of the stream.
    pub(super) fn into_stream(self) -> ByteStream {
        Box::new(Cursor::new(self.bytes).chain(self.rest))
    }
}

/// Maximum bytes read ahead to look for a byte-order mark and NUL interleaving.
const SNIFF_BYTES: usize = 256;

/// Wraps `input` so that it yields UTF-8: strips a UTF-8 byte-order mark, decodes UTF-16 (given
/// by `encoding` or by its byte-order mark) and rejects UTF-16 that has no mark and no explicit
/// encoding.
pub(super) fn decode_input(
    file: &str,
    input: ByteStream,
    encoding: Option<Encoding>,
) -> Result<(ByteStream, Encoding), ReadError> {
    let mut prefix = Prefix::new(input);
    prefix.fill_until(SNIFF_BYTES, |b| b.len() >= SNIFF_BYTES).map_err(|source| ReadError::Io {
        file: file.to_string(),
        line: 1,
        source,
    })?;
    let from_bom = bom_encoding(&prefix.bytes);
    let chosen = match (encoding, from_bom) {
        (Some(given), _) => given,
        (None, Some(found)) => found,
        (None, None) => {
            if let Some(suggested) = utf16_without_bom(&prefix.bytes) {
                return Err(ReadError::Utf16WithoutBom { file: file.to_string(), suggested });
            }
            Encoding::Utf8
        }
    };
    if chosen == Encoding::Utf8 {
        if from_bom == Some(Encoding::Utf8) {
            prefix.skip(3);
        }
        return Ok((prefix.into_stream(), chosen));
    }
    let decoder = chosen.to_encoding_rs().new_decoder_with_bom_removal();
    Ok((Box::new(Utf16Reader::new(prefix.into_stream(), decoder)), chosen))
}

fn bom_encoding(bytes: &[u8]) -> Option<Encoding> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Some(Encoding::Utf8)
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        Some(Encoding::Utf16Le)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// Detects UTF-16 text without a mark: in at least half of the leading byte pairs one byte is
/// NUL and the other is not, which text in UTF-8 does not produce.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static str> {
    let pairs = bytes.chunks_exact(2);
    let total = pairs.len();
    if total == 0 {
        return None;
    }
    let (mut little, mut big) = (0usize, 0usize);
    for pair in pairs {
        match pair {
            [a, 0] if *a != 0 => little += 1,
            [0, b] if *b != 0 => big += 1,
            _ => {}
        }
    }
    if little * 2 >= total {
        Some("utf-16le")
    } else if big * 2 >= total {
        Some("utf-16be")
    } else {
        None
    }
}

/// The payload of the `io::Error` that [`Utf16Reader`] returns on malformed input.
#[derive(Debug)]
pub(super) struct MalformedInput {
    pub(super) encoding: &'static str,
}

impl fmt::Display for MalformedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} text", self.encoding)
    }
}

impl std::error::Error for MalformedInput {}

/// Returns the encoding name when `error` came from malformed encoded input.
pub(super) fn malformed_encoding(error: &io::Error) -> Option<&'static str> {
    error.get_ref().and_then(|e| e.downcast_ref::<MalformedInput>()).map(|m| m.encoding)
}

const DECODE_CHUNK: usize = 64 * 1024;

/// A reader that decodes UTF-16 to UTF-8 chunk by chunk, so memory stays bounded.
struct Utf16Reader {
    inner: ByteStream,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
}

impl Utf16Reader {
    fn new(inner: ByteStream, decoder: encoding_rs::Decoder) -> Utf16Reader {
        Utf16Reader {
            inner,
            decoder,
            input: vec![0; DECODE_CHUNK],
            start: 0,
            end: 0,
            // Each UTF-16 code unit (2 bytes) becomes at most 3 bytes of UTF-8.
            output: vec![0; DECODE_CHUNK * 2 + 16],
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
        }
    }

    fn refill_input(&mut self) -> io::Result<()> {
        if self.start < self.end || self.eof {
            return Ok(());
        }
        loop {
            match self.inner.read(&mut self.input) {
                Ok(n) => {
                    self.start = 0;
                    self.end = n;
                    self.eof = n == 0;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn decode_chunk(&mut self) -> io::Result<()> {
        self.refill_input()?;
        let input = self.input.get(self.start..self.end).unwrap_or_default();
        let (result, read, written) =
            self.decoder.decode_to_utf8_without_replacement(input, &mut self.output, self.eof);
        self.start += read;
        self.out_start = 0;
        self.out_end = written;
        match result {
            encoding_rs::DecoderResult::InputEmpty => {
                self.finished = self.eof;
                Ok(())
            }
            encoding_rs::DecoderResult::OutputFull => Ok(()),
            encoding_rs::DecoderResult::Malformed(_, _) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                MalformedInput { encoding: self.decoder.encoding().name() },
            )),
        }
    }
}

impl Read for Utf16Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_start == self.out_end {
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            self.decode_chunk()?;
        }
        let available = self.output.get(self.out_start..self.out_end).unwrap_or_default();
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], encoding: Option<Encoding>) -> Result<String, String> {
        let (mut stream, _) =
            decode_input("t.csv", Box::new(Cursor::new(bytes.to_vec())), encoding)
                .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out).map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf8_bom_is_stripped() {
        assert_eq!(decode_all(b"\xEF\xBB\xBFa,b\n", None).as_deref(), Ok("a,b\n"));
    }

    #[test]
    fn utf16le_with_bom_decodes() {
        let text = "\u{FEFF}Severity\r\nhigh\r\n";
        assert_eq!(decode_all(&utf16le(text), None).as_deref(), Ok("Severity\r\nhigh\r\n"));
    }

    #[test]
    fn utf16be_with_bom_decodes() {
        let text = "\u{FEFF}Severity\r\nhigh\r\n";
        assert_eq!(decode_all(&utf16be(text), None).as_deref(), Ok("Severity\r\nhigh\r\n"));
    }

    #[test]
    fn utf16_without_bom_rejected() {
        let error = decode_all(&utf16le("Severity\r\nhigh\r\n"), None).unwrap_err();
        assert!(error.contains("without a byte-order mark; pass --encoding utf-16le"), "{error}");
        let error = decode_all(&utf16be("Severity\r\nhigh\r\n"), None).unwrap_err();
        assert!(error.contains("pass --encoding utf-16be"), "{error}");
    }

    #[test]
    fn utf16_without_bom_loads_when_given() {
        let decoded = decode_all(&utf16le("Severity\r\nhigh\r\n"), Some(Encoding::Utf16Le));
        assert_eq!(decoded.as_deref(), Ok("Severity\r\nhigh\r\n"));
    }

    #[test]
    fn utf16_long_input_crosses_chunks() {
        let text: String = "ä€😀,x\n".repeat(40_000);
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le(&text));
        assert_eq!(decode_all(&bytes, None), Ok(text));
    }

    #[test]
    fn utf16_unpaired_surrogate_is_error() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("a,b\n"));
        bytes.extend([0x00, 0xD8, b'x', 0x00]);
        let error = decode_all(&bytes, None).unwrap_err();
        assert!(error.contains("invalid UTF-16LE"), "{error}");
    }

    #[test]
    fn encoding_names_parse() {
        assert_eq!(Encoding::parse("UTF-16LE"), Some(Encoding::Utf16Le));
        assert_eq!(Encoding::parse("utf16be"), Some(Encoding::Utf16Be));
        assert_eq!(Encoding::parse("utf8"), Some(Encoding::Utf8));
        assert_eq!(Encoding::parse("latin1"), None);
    }
}
