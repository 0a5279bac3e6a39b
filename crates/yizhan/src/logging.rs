//! Logging through `tracing`: human-readable by default, JSON when configured, or structured
//! fields straight into the systemd journal ([`journald`]), every line passed
//! through the [`redact`](crate::redact) scrubber. Logs go to standard error so that standard
//! output carries only what a command prints for people (transitions, receipts). The newest
//! lines are also kept in memory ([`recent`]) for the hub's diagnostics command.

pub mod journald;
pub mod recent;

use crate::config::{LogFormat, LoggingSection};
use crate::redact::RedactingWriter;
use std::path::Path;
use tracing_subscriber::EnvFilter;

pub fn init(section: &LoggingSection) {
    // RUST_LOG, when set, overrides the configured level (for a technician at the kiosk).
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::try_new(&section.level).unwrap_or_else(|_| EnvFilter::new("info")));
    let writer = || RedactingWriter::new(std::io::stderr());
    // No colour codes: they would glue escape letters to field values and hide digit runs from
    // the scrubber; a kiosk's log is read by machines and staff, not a terminal.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false);
    let result = match section.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Journald => match journald::JournaldWriter::connect(Path::new(journald::JOURNAL_SOCKET)) {
            Ok(socket) => {
                let socket = std::sync::Mutex::new(RedactingWriter::new(socket));
                builder.json().with_writer(socket).try_init()
            }
            // Not under systemd: JSON on standard error, as the journal would have had it.
            Err(error) => {
                eprintln!(
                    "yizhan: the systemd journal cannot be reached ({error}); logging to standard error"
                );
                builder.json().try_init()
            }
        },
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
