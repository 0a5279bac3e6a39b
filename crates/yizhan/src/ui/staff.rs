//! Staff assist (帮办): who may sign in, and the staff panel's actions. Every action is journaled
//! with the staff number (never the PIN).

use crate::backend::Backend;
use crate::runtime::{Quiet, Rewritten};
use journal::{PrintKind, StaffAction};
use kiosk_core::session::{Notice, Text};

/// The staff list from `[[staff]]`: numbers and salted argon2id PIN hashes.
#[derive(Clone, Debug, Default)]
pub struct StaffDirectory {
    members: Vec<(String, String)>,
}

impl StaffDirectory {
    pub fn new(members: &[crate::config::StaffMember]) -> StaffDirectory {
        StaffDirectory { members: members.iter().map(|m| (m.id.clone(), m.pin_hash.clone())).collect() }
    }

    /// The staff number whose PIN this is. Slow on purpose (argon2 per member): call it off the
    /// UI thread. Two members matching one PIN sign nobody in: the PIN alone names who acts.
    pub fn check(&self, pin: &str) -> Option<&str> {
        let mut matching = self.members.iter().filter(|(_, hash)| crate::staff_pin::matches(pin, hash));
        let first = matching.next()?;
        if matching.next().is_some() {
            tracing::error!("two staff members share one PIN: nobody is signed in; give each their own");
            return None;
        }
        Some(first.0.as_str())
    }
}

/// Journals one staff action; a journal failure is logged, never shown to the customer.
pub async fn journal(
    backend: &Backend,
    staff_id: &str,
    action: &str,
    payment_id: Option<String>,
    detail: String,
) {
    let record = StaffAction {
        at: crate::clock::now().0,
        staff_id: staff_id.to_string(),
        action: action.to_string(),
        payment_id,
        detail,
    };
    if let Err(error) = backend.runtime.journal.record_staff_action(&record).await {
        tracing::error!(%error, action, "staff action not journaled");
    }
}

/// Reprints the receipt of this session's payment, or else the kiosk's latest one.
pub async fn reprint(backend: &Backend, payment_id: Option<String>) -> (Option<String>, Notice) {
    let runtime = &backend.runtime;
    let id = match payment_id {
        Some(id) => Some(id),
        None => runtime.journal.list(1, 0).await.ok().and_then(|rows| rows.into_iter().next()).map(|r| r.id),
    };
    let Some(id) = id else {
        return (None, Notice::info(Text::new("There is no receipt to reprint yet.")));
    };
    let payment = match runtime.load(&id).await {
        Ok(payment) => payment,
        Err(error) => {
            tracing::warn!(%error, "reprint: payment not loaded");
            return (Some(id), Notice::error(Text::new("That payment could not be found.")));
        }
    };
    let notice = match runtime.print_and_record(&payment, PrintKind::Reprint, &Quiet).await {
        Ok(true) => Notice::info(Text::with("Receipt {} reprinted.", [Text::verbatim(id.to_string())])),
        _ => Notice::error(Text::with(
            "Receipt {} did not print; check the printer.",
            [Text::verbatim(id.to_string())],
        )),
    };
    (Some(id), notice)
}

/// 补写卡: writes the purchase waiting for the gas card in the slot again.
pub async fn rewrite_card(backend: &Backend) -> (Option<String>, Notice) {
    let runtime = &backend.runtime;
    let result = runtime.rewrite_gas_card(&Quiet).await;
    runtime.return_gas_card().await;
    match result {
        Ok(Rewritten::Journaled(payment)) if !payment.state.is_parked() => (
            Some(payment.id().to_string()),
            Notice::info(Text::new("The card is written; please take the gas card.")),
        ),
        Ok(Rewritten::Journaled(payment)) => (
            Some(payment.id().to_string()),
            Notice::error(Text::new("The card was not written; insert it again and retry.")),
        ),
        // Sold elsewhere: there is no payment of this kiosk to reprint.
        Ok(Rewritten::FromBiller { .. }) => {
            (None, Notice::info(Text::new("The gas bought elsewhere is written; please take the gas card.")))
        }
        Err(error) => {
            tracing::warn!(%error, "ui: the card could not be rewritten");
            (
                None,
                Notice::error(Text::new(
                    "The card cannot be rewritten now: check it is the card that waits for its gas, or see the log.",
                )),
            )
        }
    }
}

/// 清机 from the staff panel: the box's count since the last collection is journaled (with who
/// did it) and printed on the collection slip.
pub async fn collect_cash(backend: &Backend, staff_id: &str) -> Notice {
    match backend.runtime.collect_cash(staff_id).await {
        Ok(collected) => {
            let count = &collected.collection.count;
            let (notes, sum) = (count.notes.to_string(), kiosk_core::Fen(count.sum_fen).to_string());
            let args = [Text::verbatim(notes), Text::verbatim(sum)];
            match collected.printed.as_str() {
                "printed" => Notice::info(Text::with(
                    "Cash collected: {0} notes, {1}. Count them against the slip.",
                    args,
                )),
                _ => Notice::error(Text::with(
                    "Cash collected: {0} notes, {1}. The slip did not print; check the printer.",
                    args,
                )),
            }
        }
        Err(error) => {
            tracing::warn!(%error, "staff: cash collection refused");
            Notice::error(Text::new("The cash box cannot be collected now: a payment is still being finished, or the journal is not available."))
        }
    }
}

/// How long the staff panel waits for the pairing QR to be held up.
const PAIRING_SCAN_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// 配对 from the staff panel: the console's QR is scanned, the kiosk pairs with the hub it names
/// and its link starts at once. Returns the id the hub knows the kiosk by (journaled with the
/// action; the ticket's one-time code is not) and what the panel says.
pub async fn pair_with_hub(
    backend: &std::sync::Arc<Backend>,
    hub: Option<std::sync::Arc<crate::hub_link::pairing::HubConnection>>,
    news: &std::sync::mpsc::Sender<super::News>,
    generation: u64,
) -> (Option<String>, Notice) {
    let Some(hub) = hub else {
        return (
            None,
            Notice::error(Text::new(
                "This kiosk has no fleet hub in its configuration ([hub]); a technician adds it.",
            )),
        );
    };
    let ask = Notice::info(Text::new("Hold the pairing QR from the fleet console to the scanner."));
    let _ = news.send(super::News::Input(generation, kiosk_core::session::Input::StaffNews(ask)));
    let text = match backend.runtime.scan_pairing_ticket(PAIRING_SCAN_WINDOW).await {
        Ok(text) => text,
        Err(problem) => return (None, Notice::error(problem.words())),
    };
    match hub.pair(backend, text.expose()).await {
        Ok(kiosk_id) => {
            let words = Text::with("Paired with the fleet hub as {}.", [Text::verbatim(kiosk_id.clone())]);
            (Some(kiosk_id), Notice::info(words))
        }
        Err(failure) => {
            tracing::warn!(error = %failure, "staff panel: pairing failed");
            (None, Notice::error(failure.words()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StaffMember;

    fn member(id: &str, pin: &str) -> StaffMember {
        StaffMember { id: id.into(), pin_hash: crate::staff_pin::hash(pin).unwrap(), pin_sha256: None }
    }

    #[test]
    fn a_pin_signs_in_its_member_only() {
        let directory = StaffDirectory::new(&[member("S001", "246810"), member("S002", "135790")]);
        assert_eq!(directory.check("246810"), Some("S001"));
        assert_eq!(directory.check("135790"), Some("S002"));
        assert_eq!(directory.check("000000"), None);
    }

    #[test]
    fn two_members_with_one_pin_sign_nobody_in() {
        let directory = StaffDirectory::new(&[member("S001", "246810"), member("S002", "246810")]);
        assert_eq!(directory.check("246810"), None);
    }
}
