//! The bank card terminal's memory is the kiosk's journal: [`JournalMemory`] implements
//! `bankcard::TerminalMemory` over `journal::CardTerminalJournal` (tables `card_reversals`,
//! `card_purchases`, `card_refunds`), so the armed reversal and the approved purchases are
//! committed, like every payment state, to the one durable truth, bound to their payment. The
//! driver's JSON files of earlier versions are no longer written; [`import_legacy_files`] brings
//! any left behind into the journal once, at start-up.

use crate::clock;
use crate::config::DevicesSection;
use bankcard::{ArmedReversal, CardTxn, MemoryError, OpState, RefundRecord, ReversalState, TerminalMemory};
use journal::{
    CardOpState, CardPurchase, CardRefund, CardReversal, CardReversalState, CardTerminalJournal, JournalError,
};
use kiosk_core::{Fen, OrderRef};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The terminal's memory in the kiosk's journal.
#[derive(Clone, Debug)]
pub struct JournalMemory {
    journal: CardTerminalJournal,
}

impl JournalMemory {
    pub fn new(journal: CardTerminalJournal) -> JournalMemory {
        JournalMemory { journal }
    }

    /// The journal tables behind it.
    pub fn journal(&self) -> &CardTerminalJournal {
        &self.journal
    }
}

fn failed(e: JournalError) -> MemoryError {
    MemoryError(Box::new(e))
}

fn reversal_state(s: CardReversalState) -> ReversalState {
    match s {
        CardReversalState::Armed => ReversalState::Armed,
        CardReversalState::Answered => ReversalState::Answered,
        CardReversalState::Refused => ReversalState::Refused,
        CardReversalState::Settled => ReversalState::Settled,
    }
}

fn journal_reversal_state(s: ReversalState) -> CardReversalState {
    match s {
        ReversalState::Armed => CardReversalState::Armed,
        ReversalState::Answered => CardReversalState::Answered,
        ReversalState::Refused => CardReversalState::Refused,
        ReversalState::Settled => CardReversalState::Settled,
    }
}

fn op_state(s: CardOpState) -> OpState {
    match s {
        CardOpState::InDoubt => OpState::InDoubt,
        CardOpState::Done => OpState::Done,
        CardOpState::Refused => OpState::Refused,
    }
}

fn journal_op_state(s: OpState) -> CardOpState {
    match s {
        OpState::InDoubt => CardOpState::InDoubt,
        OpState::Done => CardOpState::Done,
        OpState::Refused => CardOpState::Refused,
    }
}

fn order_of(payment_id: &str) -> Result<OrderRef, MemoryError> {
    OrderRef::new(payment_id)
        .map_err(|_| MemoryError::msg(format!("card record of a bad order number {payment_id:?}")))
}

fn armed_reversal(r: CardReversal) -> Result<ArmedReversal, MemoryError> {
    Ok(ArmedReversal {
        order: order_of(&r.payment_id)?,
        amount: Fen(r.amount_fen),
        armed_at: r.armed_at,
        state: reversal_state(r.state),
    })
}

/// At most this many characters of the terminal's words are kept with a record.
const DETAIL_CHARS: usize = 120;

impl TerminalMemory for JournalMemory {
    async fn armed(&self) -> Result<Vec<ArmedReversal>, MemoryError> {
        self.journal.armed().await.map_err(failed)?.into_iter().map(armed_reversal).collect()
    }

    async fn reversal(&self, order: &OrderRef) -> Result<Option<ArmedReversal>, MemoryError> {
        self.journal.reversal(order.as_str()).await.map_err(failed)?.map(armed_reversal).transpose()
    }

    async fn arm(&self, r: &ArmedReversal) -> Result<(), MemoryError> {
        self.journal.arm(r.order.as_str(), r.amount.0, r.armed_at).await.map_err(failed)
    }

    async fn disarm(&self, order: &OrderRef, state: ReversalState, detail: &str) -> Result<(), MemoryError> {
        let detail: String = detail.chars().take(DETAIL_CHARS).collect();
        let state = journal_reversal_state(state);
        self.journal.close(order.as_str(), state, &detail, clock::now().0).await.map_err(failed)?;
        Ok(())
    }

    async fn txn(&self, order: &OrderRef) -> Result<Option<CardTxn>, MemoryError> {
        let Some(p) = self.journal.purchase(order.as_str()).await.map_err(failed)? else {
            return Ok(None);
        };
        Ok(Some(CardTxn {
            order: order_of(&p.payment_id)?,
            amount: Fen(p.amount_fen),
            voucher: p.voucher,
            ref_no: p.ref_no,
            date: p.txn_date,
            batch: p.batch,
            auth_code: p.auth_code,
            card_tail: p.card_tail,
            void: p.void_state.map(op_state),
            refunds: p
                .refunds
                .into_iter()
                .map(|r| RefundRecord {
                    refund_no: r.refund_no,
                    amount: Fen(r.amount_fen),
                    state: op_state(r.state),
                })
                .collect(),
        }))
    }

    async fn put_txn(&self, t: &CardTxn) -> Result<(), MemoryError> {
        let purchase = CardPurchase {
            payment_id: t.order.as_str().to_string(),
            amount_fen: t.amount.0,
            voucher: t.voucher.clone(),
            ref_no: t.ref_no.clone(),
            txn_date: t.date.clone(),
            batch: t.batch.clone(),
            auth_code: t.auth_code.clone(),
            card_tail: t.card_tail.clone(),
            void_state: t.void.map(journal_op_state),
            refunds: t
                .refunds
                .iter()
                .map(|r| CardRefund {
                    refund_no: r.refund_no.clone(),
                    amount_fen: r.amount.0,
                    state: journal_op_state(r.state),
                })
                .collect(),
        };
        self.journal.put_purchase(&purchase, clock::now().0).await.map_err(failed)
    }
}

/// File of the armed reversal the driver of earlier versions kept in its data directory.
pub const LEGACY_ARMED_FILE: &str = "armed-reversal.json";
/// Folder of the approved purchases it kept there, one `<ORDER>.json` each.
pub const LEGACY_TXN_DIR: &str = "txn";
/// What an imported file is renamed to (its name plus this).
pub const IMPORTED_SUFFIX: &str = ".imported";

#[derive(Deserialize)]
struct LegacyArmed {
    order: String,
    amount: i64,
    #[serde(default)]
    armed_at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum LegacyOp {
    InDoubt,
    Done,
    Refused,
}

#[derive(Deserialize)]
struct LegacyRefund {
    refund_no: String,
    amount: i64,
    state: LegacyOp,
}

#[derive(Deserialize)]
struct LegacyTxn {
    order: String,
    amount: i64,
    voucher: String,
    ref_no: String,
    date: String,
    batch: String,
    auth_code: String,
    #[serde(default)]
    void: Option<LegacyOp>,
    #[serde(default)]
    refunds: Vec<LegacyRefund>,
}

fn legacy_op(op: &LegacyOp) -> CardOpState {
    match op {
        LegacyOp::InDoubt => CardOpState::InDoubt,
        LegacyOp::Done => CardOpState::Done,
        LegacyOp::Refused => CardOpState::Refused,
    }
}

/// The folder earlier versions' driver kept its files in: `terminal.data_dir`, or `bankcard/`
/// of the kiosk's data directory.
fn legacy_dir(devices: &DevicesSection, data_dir: &Path) -> Option<PathBuf> {
    let entry = devices.bankcard.as_ref()?;
    Some(entry.terminal.data_dir.clone().unwrap_or_else(|| data_dir.join("bankcard")))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn mark_imported(path: &Path) -> Result<(), String> {
    let mut done = path.as_os_str().to_owned();
    done.push(IMPORTED_SUFFIX);
    std::fs::rename(path, &done).map_err(|e| format!("{}: {e}", path.display()))
}

/// Brings the records an earlier version's driver kept in JSON files (its armed reversal and its
/// approved purchases) into the journal, bound to their payments, then renames each file with
/// [`IMPORTED_SUFFIX`]; a second run finds nothing left to do. Call with the money lock held,
/// before the devices open and before recovery, which then settles an imported armed reversal
/// through its own payment like any other.
///
/// An armed reversal of an order this journal does not know is an error: a customer may have
/// been charged, and nothing here could ever reverse it. An approved purchase of an unknown order
/// is left in its file with a warning (only a void or refund of that order would need it).
/// Returns how many records were imported.
pub async fn import_legacy_files(
    devices: &DevicesSection,
    data_dir: &Path,
    journal: &CardTerminalJournal,
) -> Result<usize, String> {
    let Some(dir) = legacy_dir(devices, data_dir) else { return Ok(0) };
    let mut imported = 0;
    // Purchases first: an approval is on record before its reversal is looked at, as the
    // driver always did.
    let txns = dir.join(LEGACY_TXN_DIR);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&txns) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.path()).map_err(|e| format!("{}: {e}", txns.display())))
            .collect::<Result<_, _>>()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", txns.display())),
    };
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    for path in files {
        let Some(t) = read_json::<LegacyTxn>(&path)? else { continue };
        if journal.purchase(&t.order).await.map_err(|e| e.to_string())?.is_none() {
            let purchase = CardPurchase {
                payment_id: t.order.clone(),
                amount_fen: t.amount,
                voucher: t.voucher,
                ref_no: t.ref_no,
                txn_date: t.date,
                batch: t.batch,
                auth_code: t.auth_code,
                // The driver's old files kept no card number.
                card_tail: None,
                void_state: t.void.as_ref().map(legacy_op),
                refunds: t
                    .refunds
                    .iter()
                    .map(|r| CardRefund {
                        refund_no: r.refund_no.clone(),
                        amount_fen: r.amount,
                        state: legacy_op(&r.state),
                    })
                    .collect(),
            };
            match journal.put_purchase(&purchase, clock::now().0).await {
                Ok(()) => imported += 1,
                Err(JournalError::UnknownPayment { id }) => {
                    tracing::warn!(order = %id, file = %path.display(), "card purchase of an order this journal does not know; left in its file");
                    continue;
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        mark_imported(&path)?;
    }
    let armed_path = dir.join(LEGACY_ARMED_FILE);
    if let Some(a) = read_json::<LegacyArmed>(&armed_path)? {
        if journal.reversal(&a.order).await.map_err(|e| e.to_string())?.is_none() {
            let at = chrono::DateTime::parse_from_rfc3339(&a.armed_at)
                .map_or_else(|_| clock::now().0, |t| t.timestamp_millis());
            match journal.arm(&a.order, a.amount, at).await {
                Ok(()) => imported += 1,
                Err(JournalError::UnknownPayment { .. }) => {
                    return Err(format!(
                        "{} holds an armed reversal of order {} written by an earlier version, and this \
                         journal has no such payment: the customer may have been charged. Settle it with \
                         the terminal's last result and the statements, then remove the file",
                        armed_path.display(),
                        a.order
                    ))
                }
                Err(e) => return Err(format!("{}: {e}", armed_path.display())),
            }
        }
        mark_imported(&armed_path)?;
        tracing::warn!(order = %a.order, "armed card reversal of an earlier version imported into the journal");
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(dir: &Path) -> DevicesSection {
        let text = format!("[bankcard.terminal]\ndata_dir = {:?}\n", dir.display().to_string());
        toml::from_str(&text).unwrap()
    }

    async fn journal_with(dir: &Path, orders: &[&str]) -> journal::Journal {
        let j = journal::Journal::open(&dir.join("journal.db")).await.unwrap();
        for id in orders {
            let p = journal::NewPayment {
                id: (*id).into(),
                kiosk_id: "SH-TEST-0001".into(),
                created_at: 1,
                total_fen: 7950,
                channel: Some("bankcard".into()),
                state: "PAY_SENT".into(),
                terminal: false,
                parked: false,
                next_deadline: None,
                snapshot: "{}".into(),
                event: "test".into(),
                effects: String::new(),
                keys: Vec::new(),
            };
            j.create_payment(&p).await.unwrap();
        }
        j
    }

    const ARMED: &str =
        r#"{"order":"YZK1261123000042","amount":7950,"armed_at":"2026-01-01T08:00:00+08:00"}"#;
    const TXN: &str = r#"{"order":"YZK1261123000041","amount":1200,"voucher":"000007","ref_no":"310000000007",
        "date":"20260101","batch":"000001","auth_code":"A1B2C3","void":null,
        "refunds":[{"refund_no":"YZK1261123000041R1","amount":200,"state":"done"}]}"#;

    #[tokio::test]
    async fn an_earlier_versions_files_are_imported_once_bound_to_their_payments() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("bankcard-old");
        std::fs::create_dir_all(old.join(LEGACY_TXN_DIR)).unwrap();
        std::fs::write(old.join(LEGACY_ARMED_FILE), ARMED).unwrap();
        std::fs::write(old.join(LEGACY_TXN_DIR).join("YZK1261123000041.json"), TXN).unwrap();
        let j = journal_with(dir.path(), &["YZK1261123000041", "YZK1261123000042"]).await;
        let card = j.card_terminal();

        assert_eq!(import_legacy_files(&devices(&old), dir.path(), &card).await, Ok(2));
        let armed = card.armed().await.unwrap();
        assert_eq!(armed.len(), 1);
        assert_eq!((armed[0].payment_id.as_str(), armed[0].amount_fen), ("YZK1261123000042", 7950));
        assert_eq!(armed[0].armed_at, 1_767_225_600_000, "2026-01-01T00:00:00Z");
        let purchase = card.purchase("YZK1261123000041").await.unwrap().unwrap();
        assert_eq!((purchase.amount_fen, purchase.refunds.len()), (1200, 1));
        assert_eq!(purchase.refunds[0].state, CardOpState::Done);
        assert!(!old.join(LEGACY_ARMED_FILE).exists());
        assert!(old.join("armed-reversal.json.imported").exists());

        assert_eq!(import_legacy_files(&devices(&old), dir.path(), &card).await, Ok(0), "once");
    }

    #[tokio::test]
    async fn an_armed_reversal_of_an_unknown_order_stops_the_kiosk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bankcard")).unwrap();
        std::fs::write(dir.path().join("bankcard").join(LEGACY_ARMED_FILE), ARMED).unwrap();
        let j = journal_with(dir.path(), &[]).await;
        let section: DevicesSection = toml::from_str("[bankcard]\n").unwrap();
        let refused = import_legacy_files(&section, dir.path(), &j.card_terminal()).await.unwrap_err();
        assert!(refused.contains("YZK1261123000042") && refused.contains("remove the file"), "{refused}");
        assert!(dir.path().join("bankcard").join(LEGACY_ARMED_FILE).exists(), "left for staff");
    }
}
