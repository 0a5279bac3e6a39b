//! Pairing and identity: a one-time code, the hub's CA pinned by fingerprint, a key made on the
//! kiosk, mutual TLS from then on, revocation.

use crate::common;

use common::{scalar, texts, TestHub};
use fleet::{HubClient, IdentityFiles, PairError, PairingTicket};

/// An empty folder for a kiosk's identity (its key, certificate and the hub's CA), and its files.
fn fresh_identity() -> (tempfile::TempDir, IdentityFiles) {
    let dir = tempfile::tempdir().unwrap();
    let files = IdentityFiles::in_dir(dir.path());
    (dir, files)
}

#[tokio::test]
async fn a_pairing_code_works_once_and_the_kiosk_key_never_leaves_the_kiosk() {
    let hub = TestHub::start().await;
    let ticket = hub.ticket("SH-PD-001").await;
    let (dir, files) = fresh_identity();
    assert_eq!(fleet::pair(&ticket, &files).await.unwrap(), "SH-PD-001");
    let key = std::fs::read_to_string(&files.key).unwrap();
    assert!(key.contains("PRIVATE KEY"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777, 0o600);
    let audit = texts(hub.pool(), "SELECT action FROM audit_log ORDER BY id").await;
    assert_eq!(audit, vec!["kiosk.pairing_code", "kiosk.paired"]);
    let leaked =
        scalar(hub.pool(), "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%PRIVATE%'").await;
    assert_eq!(leaked, 0);

    let again = fleet::pair(&ticket, &IdentityFiles::in_dir(&dir.path().join("second"))).await.unwrap_err();
    assert!(
        matches!(again, PairError::Refused(ref why) if why.contains("unknown, used or expired")),
        "{again}"
    );
}

#[tokio::test]
async fn a_ticket_with_another_ca_fingerprint_is_refused_before_anything_is_sent() {
    let hub = TestHub::start().await;
    let mut ticket = hub.ticket("SH-PD-002").await;
    ticket.ca_fingerprint = "ab".repeat(32);
    let (_dir, files) = fresh_identity();
    let err = fleet::pair(&ticket, &files).await.unwrap_err();
    assert!(matches!(err, PairError::WrongCa { .. }), "{err}");
    let paired: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT paired_at FROM kiosks WHERE id = 'SH-PD-002'")
            .fetch_one(hub.pool())
            .await
            .unwrap();
    assert_eq!(paired, None, "the code was not spent on a hub impostor");
}

#[tokio::test]
async fn the_kiosk_api_refuses_a_request_without_a_live_certificate() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-PD-003").await;
    kiosk.shipper().await.ship_pending().await.unwrap();

    // No certificate at all: a client that trusts the hub but shows nothing.
    let ca = std::fs::read(&kiosk.files.hub_ca).unwrap();
    let anonymous = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let status = anonymous
        .post(format!("{}{}", hub.url(), fleet::wire::path::HEARTBEAT))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    hub::kiosks::revoke(hub.pool(), &kiosk.id, "admin").await.unwrap();
    let err = kiosk.shipper().await.ship_pending().await.unwrap_err();
    match err {
        fleet::ShipError::Hub(e) => assert!(e.is_revoked(), "{e}"),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test]
async fn pairing_again_replaces_the_old_certificate() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-PD-004").await;
    // The kiosk's disk is replaced: staff pair it again under the same id.
    let (_dir, files) = fresh_identity();
    fleet::pair(&hub.ticket("SH-PD-004").await, &files).await.unwrap();
    let fresh = HubClient::new(&hub.url(), &files).unwrap();
    let beat = common::healthy_beat();
    assert!(fresh.heartbeat(&beat).await.is_ok());
    let old = kiosk.client.heartbeat(&beat).await.unwrap_err();
    assert!(old.is_revoked(), "{old}");
}

#[test]
fn a_scanned_ticket_reads_back() {
    let ticket = PairingTicket {
        hub_url: "https://127.0.0.1:8443".into(),
        ca_fingerprint: "0f".repeat(32),
        code: "ABCD-EFGH".into(),
    };
    assert_eq!(PairingTicket::from_qr_text(&ticket.to_qr_text()).unwrap(), ticket);
}

#[tokio::test]
async fn wrong_pairing_codes_from_one_address_are_refused_for_a_while() {
    let hub = TestHub::start().await;
    let mut ticket = hub.ticket("SH-PD-005").await;
    let real = ticket.code.clone();
    ticket.code = "AAAA-AAAA".into();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..10 {
        let err = fleet::pair(&ticket, &IdentityFiles::in_dir(dir.path())).await.unwrap_err();
        assert!(err.to_string().contains("unknown, used or expired"), "{err}");
    }
    ticket.code = real;
    let refused = fleet::pair(&ticket, &IdentityFiles::in_dir(dir.path())).await.unwrap_err();
    assert!(refused.to_string().contains("too many wrong pairing codes"), "{refused}");
}

#[tokio::test]
async fn a_kiosk_needs_a_hall_and_a_new_code_never_moves_it_to_another() {
    use hub::kiosks::{issue_pairing_code, KioskError};
    let hub = TestHub::start().await;
    let pool = hub.pool();
    let empty = issue_pairing_code(pool, "SH-XH-0009", "  ", "admin").await;
    assert!(matches!(empty, Err(KioskError::BadHall(0))), "{empty:?}");
    let long = issue_pairing_code(pool, "SH-XH-0009", &"厅".repeat(65), "admin").await;
    assert!(matches!(long, Err(KioskError::BadHall(65))), "{long:?}");
    issue_pairing_code(pool, "SH-XH-0009", common::HALL, "admin").await.unwrap();
    let moved = issue_pairing_code(pool, "SH-XH-0009", "浦东新区塘桥数字小屋", "admin").await;
    assert!(matches!(moved, Err(KioskError::OtherHall { .. })), "{moved:?}");
    issue_pairing_code(pool, "SH-XH-0009", common::HALL, "admin").await.expect("a new code, same hall");
    let hall: String =
        sqlx::query_scalar("SELECT hall FROM kiosks WHERE id = 'SH-XH-0009'").fetch_one(pool).await.unwrap();
    assert_eq!(hall, common::HALL);
}
