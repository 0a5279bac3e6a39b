//! The two money requests the kiosk sends to a biller, built from a journaled order line so that
//! a retry after a restart sends exactly the same thing under the same reference.

use crate::wire::{PurchaseBody, WriteOffBody};
use kiosk_core::{AccountNo, Channel, Fen, LineKind, OrderLine, Ts};

/// A write-off (销账) of a paid postpaid bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOffRequest {
    /// Our idempotency key at the biller: `OrderLine.biller_ref`.
    pub reference: String,
    pub account: AccountNo,
    pub bill_id: String,
    /// The bill version the customer saw; a stale one is refused with `BILL_CHANGED` (F17).
    pub bill_version: u32,
    pub amount: Fen,
    pub channel: Channel,
    /// The channel's transaction id of the payment that covers this line.
    pub channel_txn: String,
    pub paid_at: Ts,
}

/// A prepaid card purchase (gas IC card top-up, payments.md §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseRequest {
    pub reference: String,
    pub account: AccountNo,
    pub card_no: String,
    /// The purchase count read from the card (购气次数); the biller issues count + 1.
    pub purchase_count: u32,
    pub amount: Fen,
    pub channel: Channel,
    pub channel_txn: String,
    pub paid_at: Ts,
}

impl WriteOffRequest {
    /// The write-off of a bill line; `None` for a card top-up line.
    pub fn for_line(line: &OrderLine, channel: Channel, channel_txn: &str, paid_at: Ts) -> Option<Self> {
        let LineKind::Bill { bill_id, bill_version, .. } = &line.kind else {
            return None;
        };
        Some(WriteOffRequest {
            reference: line.biller_ref.clone(),
            account: line.account.clone(),
            bill_id: bill_id.clone(),
            bill_version: *bill_version,
            amount: line.amount,
            channel,
            channel_txn: channel_txn.to_string(),
            paid_at,
        })
    }
}

impl PurchaseRequest {
    /// The purchase of a card top-up line; `None` for a bill line.
    pub fn for_line(line: &OrderLine, channel: Channel, channel_txn: &str, paid_at: Ts) -> Option<Self> {
        let LineKind::CardTopUp(purchase) = &line.kind else {
            return None;
        };
        Some(PurchaseRequest {
            reference: line.biller_ref.clone(),
            account: line.account.clone(),
            card_no: purchase.card_no.clone(),
            purchase_count: purchase.purchase_count,
            amount: line.amount,
            channel,
            channel_txn: channel_txn.to_string(),
            paid_at,
        })
    }
}

/// What a reply about one of our references must say to be believed: the account and amount we
/// sent under it and, for a card purchase, the purchase count the card had (the biller issues
/// count + 1). A status or a "done" naming anything else is another request's, never ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOffExpectation {
    /// Our reference: `OrderLine.biller_ref`.
    pub reference: String,
    pub account: AccountNo,
    pub amount: Fen,
    /// For a card purchase, the purchase count read from the card; `None` for a bill.
    pub purchase_count: Option<u32>,
}

impl WriteOffExpectation {
    /// What the biller must hold under the reference of a journaled order line.
    pub fn for_line(line: &OrderLine) -> WriteOffExpectation {
        let purchase_count = match &line.kind {
            LineKind::Bill { .. } => None,
            LineKind::CardTopUp(purchase) => Some(purchase.purchase_count),
        };
        WriteOffExpectation {
            reference: line.biller_ref.clone(),
            account: line.account.clone(),
            amount: line.amount,
            purchase_count,
        }
    }
}

impl From<&WriteOffRequest> for WriteOffExpectation {
    fn from(r: &WriteOffRequest) -> Self {
        WriteOffExpectation {
            reference: r.reference.clone(),
            account: r.account.clone(),
            amount: r.amount,
            purchase_count: None,
        }
    }
}

impl From<&PurchaseRequest> for WriteOffExpectation {
    fn from(r: &PurchaseRequest) -> Self {
        WriteOffExpectation {
            reference: r.reference.clone(),
            account: r.account.clone(),
            amount: r.amount,
            purchase_count: Some(r.purchase_count),
        }
    }
}

impl From<&WriteOffRequest> for WriteOffBody {
    fn from(r: &WriteOffRequest) -> Self {
        WriteOffBody {
            reference: r.reference.clone(),
            account: r.account.as_str().to_string(),
            bill_id: r.bill_id.clone(),
            bill_version: r.bill_version,
            amount_fen: r.amount.0,
            channel: r.channel.code().to_string(),
            channel_txn: r.channel_txn.clone(),
            paid_at: rfc3339(r.paid_at),
        }
    }
}

impl From<&PurchaseRequest> for PurchaseBody {
    fn from(r: &PurchaseRequest) -> Self {
        PurchaseBody {
            reference: r.reference.clone(),
            account: r.account.as_str().to_string(),
            card_no: r.card_no.clone(),
            purchase_count: r.purchase_count,
            amount_fen: r.amount.0,
            channel: r.channel.code().to_string(),
            channel_txn: r.channel_txn.clone(),
            paid_at: rfc3339(r.paid_at),
        }
    }
}

/// "2026-11-23T14:05:09+08:00": Shanghai time, as billers expect.
pub(crate) fn rfc3339(ts: Ts) -> String {
    let utc = chrono::DateTime::from_timestamp_millis(ts.millis()).unwrap_or_default();
    utc.with_timezone(&crate::shanghai()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::{Bill, Order, OrderRef, Utility};

    #[test]
    fn a_bill_line_becomes_a_write_off_under_its_biller_ref() {
        let bill = Bill { version: 3, ..kiosk_core::testing::bill(Utility::Water, 3150) };
        let order = Order::for_bill(OrderRef::new("YZTEST00000001").unwrap(), "K1", Ts(0), &bill).unwrap();
        let request = WriteOffRequest::for_line(&order.lines[0], Channel::WeChat, "4200001", Ts(0)).unwrap();
        assert_eq!(request.reference, "YZTEST00000001-1");
        assert_eq!(request.bill_version, 3);
        assert!(PurchaseRequest::for_line(&order.lines[0], Channel::WeChat, "4200001", Ts(0)).is_none());
        let body = WriteOffBody::from(&request);
        assert_eq!(body.paid_at, "1970-01-01T08:00:00+08:00");
        assert_eq!(body.channel, "wechat");
        let expected = WriteOffExpectation::for_line(&order.lines[0]);
        assert_eq!(expected, WriteOffExpectation::from(&request));
        assert_eq!(
            (expected.reference.as_str(), expected.amount, expected.purchase_count),
            ("YZTEST00000001-1", Fen(3150), None)
        );
    }

    #[test]
    fn a_top_up_line_is_expected_with_its_purchase_count() {
        let purchase = kiosk_core::CardPurchase { card_no: "8800000013".into(), purchase_count: 3 };
        let line = OrderLine {
            utility: Utility::Gas,
            account: AccountNo::from_trusted("3300000019"),
            amount: Fen(5000),
            kind: LineKind::CardTopUp(purchase),
            biller_ref: "YZTEST00000002-1".into(),
        };
        let request = PurchaseRequest::for_line(&line, Channel::Alipay, "A1", Ts(0)).unwrap();
        let expected = WriteOffExpectation::for_line(&line);
        assert_eq!(expected, WriteOffExpectation::from(&request));
        assert_eq!((expected.amount, expected.purchase_count), (Fen(5000), Some(3)));
    }
}
