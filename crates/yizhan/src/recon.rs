//! Reconciliation (对账, payments.md §6): fetching the channels' statements and the billers' files
//! of a day and the next, and reading the whole journal, for the pure matching in
//! [`kiosk_core::recon`] (which statement can hold a payment's rows, the evidence for a payment in
//! SUSPENSE, the flags of the day).
//!
//! Flags follow the CEBA model: matched; channel-only (渠道多); biller-only (缴费单位多);
//! local-only (本地多); amount differs. A file counts towards "complete" only when it was read
//! without error after its day was final ([`Day::final_at`]): before that, a missing row proves
//! nothing.

pub use kiosk_core::recon::{match_day, BillerRow, Day, Files, Flag, Source};

use crate::runtime::Runtime;
use kiosk_core::{Payment, Ts, Utility};

/// A file that could not be read, in words for staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread(pub String);

/// Reads every statement the kiosk reads and every biller's file, of each of `days`. A file that
/// fails is left out (and reported): the payments it could hold stay unsettled until a later run.
/// A source with no file (the cash box's count) is never fetched and never complete.
pub async fn read_files(runtime: &Runtime, days: &[Day], now: Ts) -> (Files, Vec<Unread>) {
    let mut files = Files::new();
    let mut unread = Vec::new();
    for source in Source::ALL.into_iter().filter(|s| s.is_read()) {
        if let Some(rate) = runtime.channels.fee_rate(source.channel()) {
            files.set_fee_rate(source, rate);
        }
    }
    for &day in days {
        let date = day.date();
        let whole = now >= day.final_at();
        for source in Source::ALL.into_iter().filter(|s| s.is_read()) {
            match runtime.channels.statement(source.channel(), date).await {
                Ok(rows) => files.add_statement(source, day, rows, whole),
                // A channel the kiosk does not use has no payments to reconcile.
                Err(payments::StatementError::NotConfigured { .. }) => {}
                Err(error) => {
                    files.expect_statement(source);
                    unread.push(Unread(format!("{error} ({date})")));
                }
            }
        }
        for utility in Utility::ALL {
            match runtime.billers.get(utility).reconciliation(&date.to_string()).await {
                Ok(rows) => {
                    files.add_biller_file(utility, day, rows.into_iter().map(Into::into).collect(), whole)
                }
                Err(error) => unread.push(Unread(format!("{utility} reconciliation file {date}: {error}"))),
            }
        }
    }
    (files, unread)
}

/// Every payment the journal holds: rows of any day can name any of them (a refund days later, a
/// charge after midnight).
pub async fn journal_payments(runtime: &Runtime) -> Result<Vec<Payment>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let rows = runtime.journal.list(500, offset).await?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as u32;
        for row in rows {
            // A payment journaled meanwhile shifts the pages: a row may come twice, never not at all.
            if seen.insert(row.id.clone()) {
                out.push(crate::runtime::journaling::restore(&row)?);
            }
        }
    }
    Ok(out)
}

/// What [`settle_suspense`] did with one payment in SUSPENSE.
#[derive(Clone, Debug)]
pub enum Settled {
    /// The files settled it: the `Reconciled` transition is journaled. `left_for_kiosk` names the
    /// calls the new state needs, which only the running kiosk carries out (it resumes unfinished
    /// payments); empty when the payment is finished or has nothing to call.
    Corrected { payment: Payment, left_for_kiosk: Vec<String> },
    /// The files do not settle it (why, in words); nothing was journaled.
    Unsettled { payment: Payment, why: &'static str },
    /// The kiosk moved it from SUSPENSE meanwhile (to `stored`): left to the kiosk.
    Left { payment: Payment, stored: String },
}

impl Settled {
    /// The payment as the journal now holds it (as far as this process knows).
    pub fn payment(&self) -> &Payment {
        match self {
            Settled::Corrected { payment, .. }
            | Settled::Unsettled { payment, .. }
            | Settled::Left { payment, .. } => payment,
        }
    }

    /// One line for staff.
    pub fn describe(&self) -> String {
        let id = self.payment().id();
        match self {
            Settled::Corrected { payment, left_for_kiosk } => {
                let unfinished = !payment.state.is_terminal() && !payment.state.is_parked();
                let left = if !left_for_kiosk.is_empty() {
                    format!("; left for the running kiosk to carry out: {}", left_for_kiosk.join(", "))
                } else if unfinished {
                    "; left for the running kiosk to resume".to_string()
                } else {
                    String::new()
                };
                format!("CORRECTED      {id} SUSPENSE -> {} (per statements{left})", payment.state.label())
            }
            Settled::Unsettled { why, .. } => format!("UNSETTLED      {id} stays in SUSPENSE ({why})"),
            Settled::Left { stored, .. } => {
                format!("LEFT           {id}: the kiosk moved it to {stored} meanwhile; left to it")
            }
        }
    }
}

/// How often a write that lost the race with the kiosk's own is tried again.
const ATTEMPTS: usize = 3;

/// Feeds the files' evidence to `payment` (read from the journal in SUSPENSE) and *journals* the
/// step, if any, guarded by the state it was read in: the journal refuses if the kiosk moved the
/// payment meanwhile, and then it is left to the kiosk. No effect is carried out here — no refund,
/// no query, no print: this may run in another process beside the kiosk, which resumes what the
/// new state needs.
pub async fn settle_suspense(
    runtime: &Runtime,
    mut payment: Payment,
    files: &Files,
) -> Result<Settled, Box<dyn std::error::Error>> {
    use kiosk_core::{Event, State};
    let id = payment.id().to_string();
    for _ in 0..ATTEMPTS {
        // Read again right before deciding: the kiosk may have moved it since the caller read it
        // (even away and back to SUSPENSE). The write is then refused unless the payment is still
        // at the transition read here.
        let row = runtime.journal.get(&id).await?.ok_or_else(|| format!("{id} is not in the journal"))?;
        let read_at_seq = row.last_seq;
        payment = crate::runtime::journaling::restore(&row)?;
        if !matches!(payment.state, State::Suspense { .. }) {
            let stored = payment.state.label().to_string();
            return Ok(Settled::Left { payment, stored });
        }
        let evidence = files.evidence_for(&payment);
        let event = Event::Reconciled { evidence: evidence.clone() };
        let summary = event.summary();
        let from = payment.state.label();
        let now = crate::clock::now();
        let mut after = payment.clone();
        let stepped = after.step(event, now, &runtime.policy);
        if !stepped.changed {
            return Ok(Settled::Unsettled { payment, why: evidence.why_unsettled() });
        }
        let mut record = crate::runtime::journaling::transition(
            &after,
            from,
            now,
            &format!("{summary} [recon]"),
            &stepped.effects,
        );
        record.expected_seq = Some(read_at_seq);
        match runtime.journal.record_transition(&record).await {
            Ok(_) => {
                tracing::warn!(order = %id, to = after.state.label(), "suspense settled by reconciliation");
                let left_for_kiosk = stepped
                    .effects
                    .iter()
                    .filter(|e| e.needs_the_kiosk())
                    .map(kiosk_core::Effect::summary)
                    .collect();
                return Ok(Settled::Corrected { payment: after, left_for_kiosk });
            }
            Err(journal::JournalError::StaleState { stored, .. }) => {
                return Ok(Settled::Left { payment: runtime.load(&id).await?, stored });
            }
            // The kiosk appended meanwhile: read the payment again (next round) on the new tail.
            Err(journal::JournalError::TailChanged { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Err(format!("the journal kept changing while journaling {id}; reconcile again later").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn days_and_dates_convert_both_ways_in_beijing_time() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(Day::from_date(date).date(), date);
        let day_of = Day::from_date;
        let noon = crate::clock::beijing().from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap()).unwrap();
        assert_eq!(Day::of(Ts(noon.timestamp_millis())), day_of(date));
        let just_before =
            crate::clock::beijing().from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap()).unwrap();
        assert_eq!(Day::of(Ts(just_before.timestamp_millis() - 1)), day_of(date.pred_opt().unwrap()));
    }
}
