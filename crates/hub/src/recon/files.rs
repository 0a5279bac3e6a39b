//! The stored statements and biller files of some days, read into the pure matcher's
//! [`Files`]. A source's file of a day counts as *whole* only when every registered merchant
//! account of that source has its file of the day, received (or confirmed) after the day was
//! final and read without error: a missing or unreadable file can never make an absence count.

use chrono::NaiveDate;
use kiosk_core::recon::{BillerRow, Day, FeeRate, Files, Source};
use kiosk_core::{Ts, Utility};
use serde::Serialize;
use sqlx::PgPool;

use super::accounts::{self, Account};
use crate::statements;

/// One file the run read: what the evidence names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileRead {
    pub source: String,
    pub merchant: String,
    pub day: NaiveDate,
    pub sha256: String,
    /// Received after its day was final.
    pub final_copy: bool,
}

/// What was read for a run.
#[derive(Debug, Default)]
pub struct ReadFiles {
    pub files: Files,
    pub read: Vec<FileRead>,
    /// (account, day) pairs read whole, final.
    finals: Vec<(String, String, NaiveDate)>,
    /// Every registered account, by source.
    accounts: Vec<(String, String)>,
    /// Files that are missing or could not be read, in words for finance.
    pub unreadable: Vec<String>,
}

impl ReadFiles {
    /// Whether every registered account's file of `days` was read, final.
    pub fn all_final(&self, days: [Day; 2]) -> bool {
        !self.accounts.is_empty()
            && self.accounts.iter().all(|(source, merchant)| {
                days.iter().all(|d| {
                    self.finals.iter().any(|(s, m, day)| s == source && m == merchant && *day == d.date())
                })
            })
    }

    /// The files read of `sources` (statements, billers) on `days`.
    pub fn of(&self, sources: &[String], days: [Day; 2]) -> Vec<&FileRead> {
        let dates = days.map(Day::date);
        self.read.iter().filter(|f| sources.contains(&f.source) && dates.contains(&f.day)).collect()
    }
}

/// Reads every registered account's files of `days`, as they stand at `now`.
pub async fn read(pool: &PgPool, days: &[Day], now: Ts) -> Result<ReadFiles, sqlx::Error> {
    let accounts = accounts::list(pool).await?;
    let mut out = ReadFiles {
        accounts: accounts.iter().map(|a| (a.source.clone(), a.merchant.clone())).collect(),
        ..ReadFiles::default()
    };
    for source in Source::ALL.into_iter().filter(|s| s.is_read()) {
        let of_source: Vec<&Account> = accounts.iter().filter(|a| a.source == source.code()).collect();
        if of_source.is_empty() {
            continue;
        }
        if let Some(rate) = one_fee_rate(&of_source) {
            out.files.set_fee_rate(source, rate);
        }
        for &day in days {
            let parse = |body: &[u8], date, account: &Account| {
                payments::parse_statement(source.channel(), body, date, &account.merchant)
                    .map_err(|e| e.to_string())
            };
            let (rows, whole) = read_accounts(pool, &mut out, &of_source, day, now, parse).await?;
            out.files.add_statement(source, day, rows, whole);
        }
    }
    for utility in Utility::ALL {
        let source = biller_source(utility);
        let of_biller: Vec<&Account> = accounts.iter().filter(|a| a.source == source).collect();
        if of_biller.is_empty() {
            continue;
        }
        for &day in days {
            let parse = |body: &[u8], _, _: &Account| {
                billers::reconciliation_rows(body)
                    .map(|rows| rows.into_iter().map(BillerRow::from).collect::<Vec<_>>())
                    .map_err(|e| e.to_string())
            };
            let (rows, whole) = read_accounts(pool, &mut out, &of_biller, day, now, parse).await?;
            out.files.add_biller_file(utility, day, rows, whole);
        }
    }
    Ok(out)
}

/// The source code the hub files a biller's reconciliation file under.
pub fn biller_source(utility: Utility) -> String {
    format!("biller:{}", utility.code())
}

/// Every account's file of one source and `day`, parsed and merged: the rows, and whether every
/// one of them was read final.
async fn read_accounts<R>(
    pool: &PgPool,
    out: &mut ReadFiles,
    accounts: &[&Account],
    day: Day,
    now: Ts,
    parse: impl Fn(&[u8], NaiveDate, &Account) -> Result<Vec<R>, String>,
) -> Result<(Vec<R>, bool), sqlx::Error> {
    let mut rows = Vec::new();
    let mut whole = true;
    for account in accounts {
        match read_one(pool, out, account, day, now, |body, date| parse(body, date, account)).await? {
            Some((file_rows, final_copy)) => {
                rows.extend(file_rows);
                whole &= final_copy;
            }
            None => whole = false,
        }
    }
    Ok((rows, whole))
}

/// One account's newest file of `day`, parsed: its rows and whether it is a final copy; `None`
/// (and a line in `unreadable`) when it is missing or cannot be read.
async fn read_one<R>(
    pool: &PgPool,
    out: &mut ReadFiles,
    account: &Account,
    day: Day,
    now: Ts,
    parse: impl Fn(&[u8], NaiveDate) -> Result<Vec<R>, String>,
) -> Result<Option<(Vec<R>, bool)>, sqlx::Error> {
    let date = day.date();
    let Some(file) = statements::latest(pool, &account.merchant, &account.source, date).await? else {
        if now >= day.final_at() {
            out.unreadable.push(format!("{} {} of {date}: not fetched", account.source, account.merchant));
        }
        return Ok(None);
    };
    match parse(&file.body, date) {
        Ok(rows) => {
            let final_copy = file.confirmed_at.timestamp_millis() >= day.final_at().0;
            if final_copy {
                out.finals.push((account.source.clone(), account.merchant.clone(), date));
            }
            out.read.push(FileRead {
                source: account.source.clone(),
                merchant: account.merchant.clone(),
                day: date,
                sha256: file.sha256,
                final_copy,
            });
            Ok(Some((rows, final_copy)))
        }
        Err(why) => {
            out.unreadable.push(format!(
                "{} {} of {date} (sha256 {}): {why}",
                account.source, account.merchant, file.sha256
            ));
            Ok(None)
        }
    }
}

/// The rate all of a source's accounts agreed; accounts with different rates leave fees of that
/// source unchecked (its rows do not say which account they are of once read together).
fn one_fee_rate(accounts: &[&Account]) -> Option<FeeRate> {
    let first = accounts.first()?.fee_ppm?;
    accounts.iter().all(|a| a.fee_ppm == Some(first)).then_some(FeeRate { ppm: first })
}
