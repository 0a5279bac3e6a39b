//! The bank card terminal's memory in the journal: reversal records bound to their payment, at
//! most one per order, closed but never deleted; approved purchases recorded once, with their
//! void and refunds. Real SQLite files, reopened to show what survives.

use crate::common;

use common::{fresh, ordered, T0};
use journal::{CardOpState, CardPurchase, CardRefund, CardReversalState, Journal, JournalError};

fn purchase(id: &str) -> CardPurchase {
    CardPurchase {
        payment_id: id.into(),
        amount_fen: 7950,
        voucher: "000042".into(),
        ref_no: "310000000042".into(),
        txn_date: "20240501".into(),
        batch: "000001".into(),
        auth_code: "A1B2C3".into(),
        card_tail: Some("0018".into()),
        void_state: None,
        refunds: Vec::new(),
    }
}

#[tokio::test]
async fn an_armed_reversal_is_bound_to_its_payment_and_survives_a_reopen() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    j.create_payment(&ordered("P2", T0)).await.unwrap();
    let card = j.card_terminal();
    card.arm("P2", 500, T0 + 20).await.unwrap();
    card.arm("P1", 7950, T0 + 10).await.unwrap();
    // Arming the same order again is the same row: at most one per order.
    card.arm("P1", 7950, T0 + 11).await.unwrap();
    let orphan = card.arm("NOPE", 100, T0).await;
    assert!(matches!(orphan, Err(JournalError::UnknownPayment { ref id }) if id == "NOPE"), "{orphan:?}");
    assert!(matches!(card.arm("P1", 0, T0).await, Err(JournalError::InvalidRecord { .. })));
    j.close().await;

    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let card = j.card_terminal();
    let armed = card.armed().await.unwrap();
    let ids: Vec<(&str, i64, i64)> =
        armed.iter().map(|r| (r.payment_id.as_str(), r.amount_fen, r.armed_at)).collect();
    assert_eq!(ids, [("P1", 7950, T0 + 11), ("P2", 500, T0 + 20)], "oldest first");
    assert!(armed.iter().all(|r| r.state == CardReversalState::Armed && r.detail.is_empty()));
}

#[tokio::test]
async fn closing_keeps_the_row_refused_stays_open_to_an_answer_and_nothing_is_deleted() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let card = j.card_terminal();
    card.arm("P1", 7950, T0).await.unwrap();
    assert!(card.close("P1", CardReversalState::Refused, "terminal code 12", T0 + 1).await.unwrap());
    assert!(card.armed().await.unwrap().is_empty(), "refused does not block new sales");
    let r = card.reversal("P1").await.unwrap().unwrap();
    assert_eq!(
        (r.state, r.detail.as_str(), r.updated_at),
        (CardReversalState::Refused, "terminal code 12", T0 + 1)
    );
    // The order's own later reversal answers it; after that nothing reopens it.
    assert!(card.close("P1", CardReversalState::Answered, "terminal code 00", T0 + 2).await.unwrap());
    assert!(!card.close("P1", CardReversalState::Refused, "late", T0 + 3).await.unwrap());
    assert!(!card.close("P2", CardReversalState::Answered, "none", T0 + 3).await.unwrap());
    assert_eq!(card.reversal("P1").await.unwrap().unwrap().state, CardReversalState::Answered);
    assert!(matches!(
        card.close("P1", CardReversalState::Armed, "", T0).await,
        Err(JournalError::InvalidRecord { .. })
    ));

    let mut raw = common::raw(&dir).await;
    let delete = sqlx::query("DELETE FROM card_reversals").execute(&mut raw).await;
    assert!(delete.is_err(), "reversal records are kept");
    let bad = sqlx::query("UPDATE card_reversals SET state = 'forgotten'").execute(&mut raw).await;
    assert!(bad.is_err(), "only the four states");
    let two = sqlx::query(
        "INSERT INTO card_reversals (payment_id, amount_fen, armed_at, state, updated_at)
         VALUES ('P1', 1, 0, 'armed', 0)",
    )
    .execute(&mut raw)
    .await;
    assert!(two.is_err(), "one record per order");
}

#[tokio::test]
async fn a_purchase_is_recorded_once_with_its_void_and_refunds() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let card = j.card_terminal();
    assert_eq!(card.purchase("P1").await.unwrap(), None);
    let mut p = purchase("P1");
    card.put_purchase(&p, T0 + 1).await.unwrap();
    p.refunds.push(CardRefund { refund_no: "P1R1".into(), amount_fen: 3000, state: CardOpState::InDoubt });
    card.put_purchase(&p, T0 + 2).await.unwrap();
    p.refunds[0].state = CardOpState::Done;
    p.refunds.push(CardRefund { refund_no: "P1R2".into(), amount_fen: 1000, state: CardOpState::Refused });
    p.void_state = Some(CardOpState::Refused);
    card.put_purchase(&p, T0 + 3).await.unwrap();
    j.close().await;

    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let card = j.card_terminal();
    assert_eq!(card.purchase("P1").await.unwrap(), Some(p.clone()));

    // The approval itself never changes, and a refund keeps its amount.
    let mut other = p.clone();
    other.ref_no = "310000000099".into();
    assert!(card.put_purchase(&other, T0 + 4).await.is_err());
    let mut more = p.clone();
    more.refunds[0].amount_fen = 3500;
    assert!(card.put_purchase(&more, T0 + 4).await.is_err());
    assert_eq!(card.purchase("P1").await.unwrap(), Some(p), "the failed writes changed nothing");
    let orphan = card.put_purchase(&purchase("NOPE"), T0).await;
    assert!(matches!(orphan, Err(JournalError::UnknownPayment { .. })), "{orphan:?}");

    let mut raw = common::raw(&dir).await;
    assert!(sqlx::query("DELETE FROM card_refunds").execute(&mut raw).await.is_err());
    assert!(sqlx::query("DELETE FROM card_purchases").execute(&mut raw).await.is_err());
}

#[tokio::test]
async fn no_card_number_column_exists() {
    let (dir, j) = fresh().await;
    drop(j);
    let mut raw = common::raw(&dir).await;
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p
          WHERE m.type = 'table' AND m.name LIKE 'card_%'",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    assert!(columns.contains(&"voucher".to_string()), "{columns:?}");
    assert!(
        columns.iter().all(|c| !c.contains("pan") && !c.contains("card_no") && !c.contains("track")),
        "{columns:?}"
    );
}

/// The receipt names the card by its last four digits; nothing more of the number can be kept,
/// and the tail of an approval never changes.
#[tokio::test]
async fn only_the_last_four_digits_of_a_card_are_kept() {
    let (_dir, j) = fresh().await;
    let card = j.card_terminal();
    for (id, tail) in [("P1", "622202******0018"), ("P2", "00018"), ("P3", "*018"), ("P4", "")] {
        j.create_payment(&ordered(id, T0)).await.unwrap();
        let p = CardPurchase { card_tail: Some(tail.into()), ..purchase(id) };
        assert!(card.put_purchase(&p, T0 + 1).await.is_err(), "{tail:?} is refused");
        assert_eq!(card.purchase(id).await.unwrap(), None, "nothing recorded");
    }
    j.create_payment(&ordered("P5", T0)).await.unwrap();
    let p = purchase("P5");
    card.put_purchase(&p, T0 + 1).await.unwrap();
    assert_eq!(card.purchase("P5").await.unwrap().unwrap().card_tail.as_deref(), Some("0018"));
    let other = CardPurchase { card_tail: Some("9999".into()), ..p.clone() };
    assert!(card.put_purchase(&other, T0 + 2).await.is_err(), "the tail of an approval is fixed");
    let none = CardPurchase { card_tail: None, ..purchase("P6") };
    j.create_payment(&ordered("P6", T0)).await.unwrap();
    card.put_purchase(&none, T0 + 1).await.unwrap();
    assert_eq!(card.purchase("P6").await.unwrap().unwrap().card_tail, None, "no number sent, none kept");
}

#[tokio::test]
async fn card_memory_writes_do_not_touch_the_chain() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let before = j.verify_chain().await.unwrap();
    let card = j.card_terminal();
    card.arm("P1", 7950, T0).await.unwrap();
    card.put_purchase(&purchase("P1"), T0 + 1).await.unwrap();
    card.close("P1", CardReversalState::Answered, "sale approved", T0 + 2).await.unwrap();
    // A transition after them still chains onto the same tip.
    j.record_transition(&common::to("P1", T0 + 3, "PAY_SENT")).await.unwrap();
    let after = j.verify_chain().await.unwrap();
    assert!(after.first_broken.is_none(), "{after:?}");
    assert_eq!(after.rows, before.rows + 1);
}
