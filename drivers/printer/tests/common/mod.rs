//! Shared fixtures: a realistic receipt, the demo key, a quick serial config.

#![allow(dead_code)]

use device::SerialConfig;
use ed25519_dalek::{SigningKey, VerifyingKey};
use kiosk_core::money::Fen;
use kiosk_core::receipt::{Receipt, ReceiptKind, Row};
use printer::proof::{self, ClaimOutcome, ReceiptClaim};
use printer::{PaperWidth, PrinterConfig, ReceiptPrinter};
use std::path::{Path, PathBuf};

fn row(label: &str, value: &str) -> Row {
    Row { label: label.into(), value: value.into() }
}

/// What `kiosk_core::receipt::build` makes of a paid joint water + gas bill.
pub fn receipt() -> Receipt {
    Receipt {
        kind: ReceiptKind::Receipt,
        title: "一站缴费 缴费凭条 / Payment receipt".into(),
        header: vec![
            row("终端 Kiosk", "SH-PD-0001"),
            row("时间 Time", "2026-11-23 10:42:05"),
            row("订单号 Order", "YZK1261123000042"),
            row("渠道 Channel", "微信支付 wechat"),
            row("交易号 Txn", "4200001234202611230000001"),
        ],
        lines: vec![
            vec![
                row("水费 Water", "31***0001"),
                row("金额 Amount", "¥31.50"),
                row("结果 Result", "已销账 Paid (W-9)"),
            ],
            vec![
                row("燃气费 Gas", "51****0011"),
                row("金额 Amount", "¥48.00"),
                row("结果 Result", "已销账 Paid (G-3)"),
            ],
        ],
        totals: vec![row("合计 Total", "¥79.50"), row("已缴 Paid", "¥79.50")],
        outcome: "缴费成功 / Paid".into(),
        footer: vec!["客服电话 Service phone: 021-96000".into()],
    }
}

pub fn claim() -> ReceiptClaim {
    ReceiptClaim {
        order_ref: "YZK1261123000042".into(),
        amount: Fen(7950),
        channel_txn: "4200001234202611230000001".into(),
        kiosk_id: "SH-PD-0001".into(),
        time: 1_795_405_325,
        outcome: ClaimOutcome::Paid,
    }
}

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys")
}

/// The demo-only kiosk key in `config/sim-keys`.
pub fn demo_keys() -> (SigningKey, VerifyingKey) {
    let sk = proof::load_signing_key(&keys_dir().join("receipt-ed25519-demo-private.pem")).unwrap();
    let vk = proof::load_verifying_key(&keys_dir().join("receipt-ed25519-demo-public.pem")).unwrap();
    (sk, vk)
}

pub fn quick_serial(path: &Path) -> SerialConfig {
    device::sim::quick_serial(path, 400)
}

pub fn printer_on(path: &Path, paper: PaperWidth) -> ReceiptPrinter {
    let mut cfg = PrinterConfig::serial(path);
    cfg.serial = Some(quick_serial(path));
    cfg.paper = paper;
    ReceiptPrinter::from_config(&cfg).unwrap()
}
