//! CSV export of transitions: header, ISO times, RFC 4180 quoting, formula neutralising.

use crate::common;

use common::{fresh, ordered, to, T0};

#[tokio::test]
async fn export_quotes_fields_properly() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let mut odd = to("P1", T0 + 1_500, "PAY_PENDING");
    odd.event = "USERPAYING, \"enter PIN\"\nretry".into();
    j.record_transition(&odd).await.unwrap();
    let mut formula = to("P1", T0 + 2_000, "PAID");
    formula.event = "=HYPERLINK(\"x\")".into();
    j.record_transition(&formula).await.unwrap();

    let mut out = Vec::new();
    assert_eq!(j.export_csv(&mut out).await.unwrap(), 3);
    let text = String::from_utf8(out).unwrap();
    let ts = j.transitions("P1").await.unwrap();

    let expected = format!(
        "payment_id,seq,at,from_state,to_state,event,hash\r\n\
         P1,1,2024-05-01T08:00:00.000Z,,ORDERED,confirm,{h1}\r\n\
         P1,2,2024-05-01T08:00:01.500Z,ORDERED,PAY_PENDING,\"USERPAYING, \"\"enter PIN\"\"\nretry\",{h2}\r\n\
         P1,3,2024-05-01T08:00:02.000Z,PAY_PENDING,PAID,\"'=HYPERLINK(\"\"x\"\")\",{h3}\r\n",
        h1 = ts[0].hash,
        h2 = ts[1].hash,
        h3 = ts[2].hash,
    );
    assert_eq!(text, expected);
}

#[tokio::test]
async fn export_of_empty_journal_is_just_the_header() {
    let (_dir, j) = fresh().await;
    let mut out = Vec::new();
    assert_eq!(j.export_csv(&mut out).await.unwrap(), 0);
    assert_eq!(out, b"payment_id,seq,at,from_state,to_state,event,hash\r\n");
}
