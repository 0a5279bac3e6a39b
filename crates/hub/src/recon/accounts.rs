//! The merchant accounts whose files the hub reads, and fetching them. The hub reaches each
//! channel and biller with the same clients and the same `[payments.*]` and `[billers.*]`
//! sections as a kiosk's configuration (a merchant account shared by the fleet is configured
//! once, here). Every file is stored as received, with its hash, before anything parses it.

use chrono::NaiveDate;
use kiosk_core::recon::{Day, Source};
use kiosk_core::Utility;
use serde::Deserialize;
use sqlx::PgPool;

use super::files::biller_source;
use crate::statements;

/// A registered account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// `Source::code()`, or `biller:<utility>`.
    pub source: String,
    pub merchant: String,
    /// The fee agreed, parts per million of a charge.
    pub fee_ppm: Option<u32>,
}

pub async fn list(pool: &PgPool) -> Result<Vec<Account>, sqlx::Error> {
    let rows: Vec<(String, String, Option<i32>)> =
        sqlx::query_as("SELECT source, merchant, fee_ppm FROM merchant_accounts ORDER BY source, merchant")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(source, merchant, fee)| Account {
            source,
            merchant,
            fee_ppm: fee.and_then(|f| u32::try_from(f).ok()),
        })
        .collect())
}

/// Registers (or updates) an account.
pub async fn register(pool: &PgPool, account: &Account) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO merchant_accounts (source, merchant, fee_ppm) VALUES ($1, $2, $3) \
         ON CONFLICT (source, merchant) DO UPDATE SET fee_ppm = EXCLUDED.fee_ppm",
    )
    .bind(&account.source)
    .bind(&account.merchant)
    .bind(account.fee_ppm.and_then(|f| i32::try_from(f).ok()))
    .execute(pool)
    .await
    .map(drop)
}

/// The accounts file: the `[payments]` and `[billers]` sections of a kiosk configuration
/// (other sections are ignored, so a kiosk's own file can be given as it is).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AccountsFile {
    #[serde(default)]
    pub payments: payments::PaymentsConfig,
    #[serde(default)]
    pub billers: Option<billers::BillersConfig>,
}

/// Why the accounts file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {detail}")]
    Invalid { path: String, detail: String },
}

/// The clients of every account in the file.
pub struct Clients {
    channels: payments::ChannelClients,
    billers: Option<billers::Billers>,
}

impl AccountsFile {
    pub fn load(path: &std::path::Path) -> Result<AccountsFile, AccountsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| AccountsError::Read { path: shown.clone(), source })?;
        toml::from_str(&text).map_err(|e| AccountsError::Invalid { path: shown, detail: e.to_string() })
    }

    pub fn clients(&self) -> Result<Clients, AccountsError> {
        let invalid = |detail: String| AccountsError::Invalid { path: "accounts".into(), detail };
        let channels = payments::ChannelClients::new(&self.payments).map_err(|e| invalid(e.to_string()))?;
        let billers = self
            .billers
            .as_ref()
            .map(|config| billers::Billers::new(config, "hub"))
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Clients { channels, billers })
    }
}

/// What one fetch did.
#[derive(Debug, Default)]
pub struct Fetched {
    /// (source, merchant, day, sha256, new)
    pub stored: Vec<(String, String, NaiveDate, String, bool)>,
    /// Files that could not be fetched, in words.
    pub failed: Vec<String>,
}

impl Clients {
    /// Fetches every account's files of `days`, stores each as received, and registers the
    /// accounts (with the fee each channel client is configured with).
    pub async fn fetch(&self, pool: &PgPool, days: &[Day]) -> Result<Fetched, sqlx::Error> {
        let mut out = Fetched::default();
        // Registered before fetching: an account whose file cannot be fetched still counts, so
        // its channel's files are not whole without it.
        for (channel, merchant) in self.channels.merchants() {
            let source = Source::of(channel);
            if !source.is_read() {
                continue;
            }
            let fee_ppm = self.channels.fee_rate(channel).map(|r| r.ppm);
            let account = Account { source: source.code().to_string(), merchant, fee_ppm };
            register(pool, &account).await?;
            for &day in days {
                match self.channels.fetch_statement(channel, day.date()).await {
                    Ok(bytes) => keep(pool, &mut out, &account, day.date(), &bytes).await?,
                    Err(error) => out.failed.push(format!("{error} ({})", day.date())),
                }
            }
        }
        let Some(billers) = &self.billers else { return Ok(out) };
        for utility in Utility::ALL {
            let account = Account {
                source: biller_source(utility),
                merchant: utility.code().to_string(),
                fee_ppm: None,
            };
            register(pool, &account).await?;
            for &day in days {
                let date = day.date();
                match billers.get(utility).fetch_reconciliation(&date.to_string()).await {
                    Ok(bytes) => keep(pool, &mut out, &account, date, &bytes).await?,
                    Err(error) => out.failed.push(format!("{utility} reconciliation file {date}: {error}")),
                }
            }
        }
        Ok(out)
    }
}

async fn keep(
    pool: &PgPool,
    out: &mut Fetched,
    account: &Account,
    date: NaiveDate,
    bytes: &[u8],
) -> Result<(), sqlx::Error> {
    let stored = statements::store(pool, &account.merchant, &account.source, date, bytes).await?;
    out.stored.push((account.source.clone(), account.merchant.clone(), date, stored.sha256, stored.new));
    Ok(())
}
