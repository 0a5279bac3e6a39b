//! One reconciliation run of an accounting day over the central journal: the stored files of the
//! day and the next read into the pure matcher, every difference through the scratch pool, what
//! is reported put on the exception desk with its evidence, and each payment in suspense that
//! the files settle sent back to its kiosk as a `ReconcileSuspense` command.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use fleet::wire::CommandAction;
use kiosk_core::recon::{match_day, Day, Flag, Source};
use kiosk_core::scratch_pool::{Held, ScratchPool};
use kiosk_core::{Event, Payment, Policy, State, Ts};
use sqlx::PgPool;

use super::files::{self, biller_source, ReadFiles};
use super::journal_view::{self, CentralJournal, Origin};
use super::{desk, OPERATOR};

/// What a run found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: i64,
    pub day: NaiveDate,
    /// Payments of the day whose books agree.
    pub matched: usize,
    /// Differences reported by this run (each on the desk once).
    pub exceptions: usize,
    /// Differences waiting in the scratch pool for a later day's files.
    pub held: usize,
    /// Payments in suspense the files settle: a command sent to their kiosk.
    pub settled: usize,
    /// Files missing or unreadable, and journal snapshots that are not payments.
    pub unreadable: Vec<String>,
}

impl RunSummary {
    /// The line `scripts/run-hub.sh --once` prints.
    pub fn line(&self) -> String {
        format!("reconciled: {} matched, {} exceptions", self.matched, self.exceptions)
    }
}

/// Held (as a transaction lock) by the run under way: runs of any hub instance or command take
/// turns, so the pool is read and written by one at a time and no settling is sent twice.
const RUN_LOCK: i64 = 0x0072_6563_6f6f; // "recoo" in ASCII

/// Reconciles accounting day `day` as things stand at `now`, after any run under way.
pub async fn run_day(pool: &PgPool, day: NaiveDate, now: Ts) -> Result<RunSummary, sqlx::Error> {
    // A transaction lock on a connection of its own: released however the run ends.
    let mut turn = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(RUN_LOCK).execute(&mut *turn).await?;
    let summary = run_locked(pool, Day::from_date(day), now).await;
    turn.commit().await?;
    summary
}

async fn run_locked(pool: &PgPool, day: Day, now: Ts) -> Result<RunSummary, sqlx::Error> {
    let mut pool_state = load_pool(pool).await?;
    // The files of the day and the next, and of every held day and its next.
    let days: BTreeSet<Day> =
        pool_state.held.iter().map(|h| h.day).chain([day]).flat_map(|d| d.booking_days()).collect();
    let days: Vec<Day> = days.into_iter().collect();
    let read = files::read(pool, &days, now).await?;
    // The payments that moved from the day before the first day read to the day after the last
    // (a payment is read as it stands now, whenever it moved last), then every older order the
    // files name (a refund days later): not the whole journal, which at a fleet's size is
    // tens of millions of payments.
    let since = days.first().copied().unwrap_or(day).previous().starts_at().0;
    let until = days.last().copied().unwrap_or(day).next().starts_at().0;
    let (mut journal, mut unreadable_snapshots) = journal_view::payments(pool, since, until).await?;
    let named: Vec<String> = read.files.order_numbers().map(str::to_owned).collect();
    unreadable_snapshots += journal.add_named(pool, named).await?;
    let payments = &journal.payments;

    let flags = match_day(day, payments, &read.files);
    let flags_matched: Vec<Flag> =
        flags.iter().filter(|f| matches!(f, Flag::Matched { .. })).cloned().collect();
    let matched = flags_matched.len();
    let reported = pool_state.run(day, flags, |held| match_day(held, payments, &read.files));

    let mut unreadable = read.unreadable.clone();
    if unreadable_snapshots > 0 {
        unreadable.push(format!("{unreadable_snapshots} journal snapshots are not payments"));
    }
    let files_json = serde_json::json!({ "read": read.read, "unreadable": unreadable });
    // Complete: every account's file of the day and the next read final, nothing unreadable.
    let complete = unreadable.is_empty() && read.all_final(day.booking_days());
    let owners = Owners::of(&journal);
    // The cash boxes collected this day and counted: a difference is final (no later file
    // explains it), so it goes to the desk at once; an agreeing count is matched.
    let collections = super::cash::of_day(pool, day.date()).await?;
    let cash_differences: Vec<(&super::cash::CashCollection, Flag)> =
        collections.iter().filter_map(|c| c.flag().map(|flag| (c, flag))).collect();
    let cash_agreed = collections.iter().filter(|c| c.counted_fen.is_some()).count() - cash_differences.len();
    let mut by_source: std::collections::BTreeMap<String, i64> = Default::default();
    if cash_agreed > 0 {
        by_source.insert(super::cash::SOURCE.to_string(), cash_agreed as i64);
    }
    for flag in flags_matched.iter() {
        let owner = owners.find(flag).map(|i| &journal.payments[i]);
        if let Some(source) = source_of(flag, owner) {
            *by_source.entry(source).or_default() += 1;
        }
    }
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO recon_runs (day, matched, exceptions, held, settled, files, complete, by_source) \
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7) RETURNING id",
    )
    .bind(day.date())
    .bind(matched as i32)
    .bind((reported.len() + cash_differences.len()) as i32)
    .bind(pool_state.held.len() as i32)
    .bind(&files_json)
    .bind(complete)
    .bind(serde_json::json!(by_source))
    .fetch_one(pool)
    .await?;

    for report in &reported {
        let owner = owners.find(&report.flag).map(|i| (&journal.payments[i], &journal.origins[i]));
        let evidence = evidence_of(&read, owner);
        let names = owner.map(|(payment, origin)| (origin.kiosk_id.as_str(), payment.id()));
        let source = source_of(&report.flag, owner.map(|(payment, _)| payment));
        let first_seen = report.first_seen.date();
        desk::file(pool, run_id, first_seen, &report.flag, names, source.as_deref(), evidence).await?;
    }
    for (collection, flag) in &cash_differences {
        let key = flag.subject().to_string();
        let names = Some((collection.kiosk_id.as_str(), key.as_str()));
        let evidence = super::cash::evidence(collection);
        desk::file(pool, run_id, day.date(), flag, names, Some(super::cash::SOURCE), evidence).await?;
    }
    // Only once every reported difference is on the desk does the pool forget it.
    save_pool(pool, &pool_state).await?;
    let merchants = kiosk_merchants(pool).await?;
    let settled = settle(pool, &journal, &read, &merchants, now).await?;
    sqlx::query("UPDATE recon_runs SET settled = $2 WHERE id = $1")
        .bind(run_id)
        .bind(settled as i32)
        .execute(pool)
        .await?;
    Ok(RunSummary {
        run_id,
        day: day.date(),
        matched,
        exceptions: reported.len() + cash_differences.len(),
        held: pool_state.held.len(),
        settled,
        unreadable,
    })
}

/// Which payment of the journal (its index) a flag is about: by its order number, a refund
/// number or a write-off reference.
struct Owners<'a> {
    by_key: HashMap<&'a str, usize>,
}

impl<'a> Owners<'a> {
    fn of(journal: &'a CentralJournal) -> Owners<'a> {
        let mut by_key = HashMap::new();
        for (index, payment) in journal.payments.iter().enumerate() {
            by_key.insert(payment.id(), index);
            for line in &payment.order.lines {
                by_key.insert(line.biller_ref.as_str(), index);
            }
            for refund in &payment.refunds {
                by_key.insert(refund.refund_no.as_str(), index);
            }
        }
        Owners { by_key }
    }

    fn find(&self, flag: &Flag) -> Option<usize> {
        self.by_key.get(flag.subject()).copied()
    }
}

/// The evidence kept with an exception: the files read (for the payment's own sources when it
/// is known) and the journal transition the payment was read from.
fn evidence_of(read: &ReadFiles, owner: Option<(&Payment, &Origin)>) -> serde_json::Value {
    let files: Vec<&files::FileRead> = match owner.and_then(|(p, _)| Some((p, p.channel?))) {
        Some((payment, channel)) => {
            let sources = sources_of(payment, channel);
            read.of(&sources, Day::of(payment.order.created_at).booking_days())
        }
        None => read.read.iter().collect(),
    };
    serde_json::json!({
        "files": files,
        "journal": owner.map(|(payment, origin)| serde_json::json!({
            "kiosk_id": origin.kiosk_id,
            "seq": origin.seq,
            "state": payment.state.label(),
            "total_fen": payment.order.total().0,
        })),
    })
}

/// The statement or biller file a flag is of: a write-off's biller, or the payment's channel.
fn source_of(flag: &Flag, owner: Option<&Payment>) -> Option<String> {
    if let Flag::ChannelOnly { source, .. } = flag {
        return Some(source.code().to_string());
    }
    let payment = owner?;
    let line = payment.order.lines.iter().find(|l| l.biller_ref == flag.subject());
    match line {
        Some(line) => Some(biller_source(line.utility)),
        None => payment.channel.map(|c| Source::of(c).code().to_string()),
    }
}

/// The files that can hold `payment`'s rows: its channel's statement, its lines' billers'.
fn sources_of(payment: &Payment, channel: kiosk_core::Channel) -> Vec<String> {
    let mut sources = vec![Source::of(channel).code().to_string()];
    sources.extend(payment.order.lines.iter().map(|l| biller_source(l.utility)));
    sources
}

/// Sends each payment in suspense that the files settle its evidence, once.
async fn settle(
    pool: &PgPool,
    journal: &CentralJournal,
    read: &ReadFiles,
    merchants: &KioskMerchants,
    now: Ts,
) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    let all = journal.payments.iter().zip(&journal.origins);
    for (payment, origin) in all.filter(|(p, _)| matches!(p.state, State::Suspense { .. })) {
        let Some(channel) = payment.channel else { continue };
        let mut evidence = read.files.evidence_for(payment);
        // The absence of a charge says something only in the files of the account the kiosk
        // takes money into, read final: another account's files could never hold its rows.
        let days = Day::of(payment.order.created_at).booking_days();
        if evidence.complete && !own_account_read(read, merchants, &origin.kiosk_id, channel, days) {
            evidence.complete = false;
        }
        // Only what the files show: a charge, or complete files without one.
        if !evidence.complete && !evidence.charged {
            continue;
        }
        // Would the kiosk's own machine move on this evidence? Only then is it worth a command.
        let mut trial = payment.clone();
        if !trial.step(Event::Reconciled { evidence: evidence.clone() }, now, &Policy::default()).changed {
            continue;
        }
        let sources = sources_of(payment, channel);
        evidence.files = read.of(&sources, days).into_iter().map(|f| f.sha256.clone()).collect();
        if already_sent(pool, &origin.kiosk_id, payment.id()).await? {
            continue;
        }
        let action = CommandAction::ReconcileSuspense { order_ref: payment.id().to_string(), evidence };
        crate::commands::enqueue(pool, &origin.kiosk_id, OPERATOR, &action).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The merchant account each kiosk said (in its last heartbeat) it takes money into, by
/// (kiosk, statement source).
type KioskMerchants = HashMap<(String, String), String>;

async fn kiosk_merchants(pool: &PgPool) -> Result<KioskMerchants, sqlx::Error> {
    let rows: Vec<(String, Option<serde_json::Value>)> =
        sqlx::query_as("SELECT id, last_heartbeat->'merchants' FROM kiosks").fetch_all(pool).await?;
    let mut out = HashMap::new();
    for (kiosk, merchants) in rows {
        let merchants: Vec<fleet::wire::MerchantAccount> =
            merchants.and_then(|m| serde_json::from_value(m).ok()).unwrap_or_default();
        for m in merchants {
            out.insert((kiosk.clone(), m.source), m.merchant);
        }
    }
    Ok(out)
}

/// Whether the files read include, final, the kiosk's own account's statement of both days.
fn own_account_read(
    read: &ReadFiles,
    merchants: &KioskMerchants,
    kiosk: &str,
    channel: kiosk_core::Channel,
    days: [Day; 2],
) -> bool {
    let source = Source::of(channel).code();
    let Some(merchant) = merchants.get(&(kiosk.to_string(), source.to_string())) else {
        return false;
    };
    days.iter().all(|day| {
        read.read
            .iter()
            .any(|f| f.source == source && &f.merchant == merchant && f.day == day.date() && f.final_copy)
    })
}

/// A settling of this order already waiting, or carried out.
async fn already_sent(pool: &PgPool, kiosk_id: &str, order_ref: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM commands WHERE kiosk_id = $1 \
         AND action->>'kind' = 'reconcile_suspense' AND action->>'order_ref' = $2 \
         AND (acked_at IS NULL OR done))",
    )
    .bind(kiosk_id)
    .bind(order_ref)
    .fetch_one(pool)
    .await
}

async fn load_pool(pool: &PgPool) -> Result<ScratchPool, sqlx::Error> {
    let rows: Vec<(String, NaiveDate)> =
        sqlx::query_as("SELECT key, day FROM recon_pool ORDER BY day, key").fetch_all(pool).await?;
    Ok(ScratchPool {
        held: rows.into_iter().map(|(key, day)| Held { key, day: Day::from_date(day) }).collect(),
    })
}

async fn save_pool(pool: &PgPool, state: &ScratchPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM recon_pool").execute(&mut *tx).await?;
    for held in &state.held {
        sqlx::query("INSERT INTO recon_pool (key, day) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(&held.key)
            .bind(held.day.date())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
