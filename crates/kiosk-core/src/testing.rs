//! Fixtures for tests and benches (the `testing` feature; never in a product build).

use crate::{AccountNo, Bill, Fen, Utility};

/// A plain bill of `utility` for `fen` on account 3100000011: `B-<utility>` version 1, due
/// 2026-12-15, holder 王*, no period, no recent payments. Tests that need another value set it
/// with `Bill { version: 3, ..bill(Utility::Water, 100) }`.
pub fn bill(utility: Utility, fen: i64) -> Bill {
    Bill {
        utility,
        account: AccountNo::from_trusted("3100000011"),
        bill_id: format!("B-{utility}"),
        version: 1,
        amount_due: Fen(fen),
        due_date: "2026-12-15".into(),
        period: None,
        holder_masked: "王*".into(),
        address_masked: String::new(),
        prepayment: false,
        recent_payments: vec![],
    }
}
