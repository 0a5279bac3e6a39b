//! Carrying out the operator's commands from the hub. Each is journaled first, as a staff
//! action under the operator's name (`hub:<operator>`) with the hub's command id, then done, then
//! acknowledged. A command handed over again (the acknowledgement was lost) is found in the
//! journal and only acknowledged again, never done twice.

use std::path::Path;

use fleet::wire::{Command, CommandAck, CommandAction};
use fleet::HubClient;
use journal::OutboxReader;

use crate::backend::Backend;

/// The staff action's name for a hub command.
const ACTION: &str = "hub-command";

/// The file in the data directory that keeps the operator's out-of-service order across
/// restarts and for every process that moves money (`yizhan pay` as much as the screens).
fn hold_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("service-hold")
}

/// The operator's out-of-service reason, if the kiosk is held out of service.
pub fn held_out_of_service(data_dir: &Path) -> Option<String> {
    let reason = std::fs::read_to_string(hold_file(data_dir)).ok()?;
    tracing::warn!(%reason, "out of service by the operator's order (from the hub)");
    Some(reason)
}

/// Journals, carries out and acknowledges `command`. Returns false when it could not be
/// journaled (nothing was done; the hub hands it over again).
///
/// A command already on record is not journaled again. Taking out of and back into service are
/// done again all the same (they are idempotent, and a power cut may have fallen between the
/// record and the deed), and diagnostics answered afresh (a lost acknowledgement must not lose
/// the report). A settling that would wait for a customer paying now is left for the next
/// heartbeat (the hub hands it over again), so the heartbeat never waits behind a customer.
pub async fn carry_out(
    backend: &Backend,
    client: &HubClient,
    reader: &OutboxReader,
    settings: &super::HubSettings,
    command: Command,
) -> Result<bool, fleet::HubError> {
    // Before anything is journaled: a deferred settling must not be on record as handed over,
    // or the next heartbeat would take it for one already carried out.
    let settles = matches!(
        command.action,
        CommandAction::SettleSuspense { .. }
            | CommandAction::ReconcileSuspense { .. }
            | CommandAction::ResendWriteOff { .. }
            | CommandAction::RefundPerStatement { .. }
    );
    if settles && backend.runtime.customer_paying_now() {
        tracing::info!(id = command.id, "a settling from the hub waits for the customer paying now");
        return Ok(true);
    }
    let on_record = match reader.has_staff_action(ACTION, &format!("#{} ", command.id)).await {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, id = command.id, "the journal could not be read; the hub command waits");
            return Ok(false);
        }
    };
    if !on_record {
        if let Err(error) = journal_it(backend, &command).await {
            tracing::error!(%error, id = command.id, "a hub command could not be journaled; not carried out");
            return Ok(false);
        }
    }
    let ack = match &command.action {
        CommandAction::SettleSuspense { order_ref, outcome, reason } => {
            let (done, detail) =
                settle(backend, &command.operator, order_ref, outcome, reason, on_record).await;
            CommandAck { id: command.id, done, detail }
        }
        CommandAction::ReconcileSuspense { order_ref, evidence } => {
            let (done, detail) = reconcile(backend, order_ref, evidence).await;
            CommandAck { id: command.id, done, detail }
        }
        CommandAction::RefundPerStatement { order_ref, source, amount_fen, files } => {
            let finding = kiosk_core::Event::ChargedPerStatement {
                staff_id: format!("hub:{}", command.operator),
                source: source.clone(),
                amount: kiosk_core::Fen(*amount_fen),
                files: files.clone(),
            };
            let (done, detail) = refund_per_statement(backend, order_ref, finding, on_record).await;
            CommandAck { id: command.id, done, detail }
        }
        CommandAction::ResendWriteOff { order_ref, reference } => {
            let staff = format!("hub:{}", command.operator);
            let (done, detail) = match backend.runtime.write_off_again(order_ref, reference, &staff).await {
                Ok(found) => (found.written_off(), format!("{reference}: {}", found.describe())),
                Err(error) => (false, error.to_string()),
            };
            CommandAck { id: command.id, done, detail }
        }
        CommandAction::PushConfig { version, config, sha256 } => {
            let staged =
                settings.config_place.stage(&settings.running, *version, config, sha256, &command.operator);
            let (done, detail) = match staged {
                Ok(super::config_push::Staged::Waiting(v)) => {
                    (true, format!("version {v} checked and staged; it goes in place between customers"))
                }
                Ok(super::config_push::Staged::AlreadyHere(v)) => {
                    (true, format!("version {v} is here already"))
                }
                Err(why) => (false, format!("refused: {why}")),
            };
            CommandAck { id: command.id, done, detail }
        }
        CommandAction::InstallUpdate { package, version, sha256 } => {
            match super::update_offer::offer(client, settings, command.id, package, version, sha256) {
                super::update_offer::Answer::Now(done, detail) => CommandAck { id: command.id, done, detail },
                // Fetched and staged in the background, which acknowledges it.
                super::update_offer::Answer::Later => return Ok(true),
            }
        }
        CommandAction::CancelUpdate { version } => {
            let (done, detail) = super::update_offer::withdraw(settings, version);
            CommandAck { id: command.id, done, detail }
        }
        _ => act(backend, reader, &settings.data_dir, &command).await,
    };
    client.ack(&ack).await?;
    Ok(true)
}

/// The staff-action detail of a command: its id first, so a repeat is recognised.
fn detail_of(command: &Command) -> String {
    let what = match &command.action {
        CommandAction::TakeOutOfService { reason } => format!("take out of service: {reason}"),
        CommandAction::ReturnToService => "return to service".to_owned(),
        CommandAction::Diagnostics => "diagnostics".to_owned(),
        CommandAction::Unsupported => "a command this software does not know".to_owned(),
        CommandAction::SettleSuspense { order_ref, outcome, reason } => {
            format!("settle {order_ref} as {outcome}: {reason}")
        }
        CommandAction::ReconcileSuspense { order_ref, evidence } => {
            format!("reconcile {order_ref} from files sha256 {}", evidence.files.join(" "))
        }
        CommandAction::ResendWriteOff { order_ref, reference } => {
            format!(
                "ask the biller about write-off {reference} of {order_ref}, sent again if it never had it"
            )
        }
        CommandAction::RefundPerStatement { order_ref, source, amount_fen, files } => format!(
            "give {order_ref} back whole: {} in the {source} statement, files sha256 {}",
            kiosk_core::Fen(*amount_fen),
            files.join(" ")
        ),
        // The text may hold addresses and account ids: its hash identifies it.
        CommandAction::PushConfig { version, sha256, .. } => {
            format!("push configuration v{version} sha256 {sha256}")
        }
        CommandAction::InstallUpdate { package, version, sha256 } => {
            format!("install {package} {version} sha256 {sha256}")
        }
        CommandAction::CancelUpdate { version } => format!("withdraw update {version}"),
    };
    format!("#{} {what}", command.id)
}

async fn journal_it(backend: &Backend, command: &Command) -> Result<(), journal::JournalError> {
    backend
        .runtime
        .journal
        .record_staff_action(&journal::StaffAction {
            at: chrono::Utc::now().timestamp_millis(),
            staff_id: format!("hub:{}", command.operator),
            action: ACTION.to_owned(),
            payment_id: None,
            detail: detail_of(command),
        })
        .await
        .map(drop)
}

async fn act(backend: &Backend, reader: &OutboxReader, data_dir: &Path, command: &Command) -> CommandAck {
    let runtime = &backend.runtime;
    let (done, detail) = match &command.action {
        CommandAction::TakeOutOfService { reason } => {
            let kept = super::write_durably(&hold_file(data_dir), reason);
            runtime.set_service_hold(Some(reason.clone()));
            tracing::warn!(%reason, operator = %command.operator, "taken out of service by the operator");
            match kept {
                Ok(()) => (true, "out of service after the customer now paying, if any".to_owned()),
                Err(e) => (
                    true,
                    format!("out of service until the next restart (the order could not be kept: {e})"),
                ),
            }
        }
        CommandAction::ReturnToService => {
            runtime.set_service_hold(None);
            match std::fs::remove_file(hold_file(data_dir)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Still held after a restart: say so rather than "in service".
                Err(e) => {
                    let detail = format!("in service until the next restart (the order file stays: {e})");
                    return CommandAck { id: command.id, done: false, detail };
                }
            }
            tracing::info!(operator = %command.operator, "returned to service by the operator");
            (true, "in service".to_owned())
        }
        CommandAction::Diagnostics => (true, diagnostics(backend, reader).await),
        // From a newer hub: said so, and the commands after it still come.
        CommandAction::Unsupported => (
            false,
            format!("this kiosk's software ({}) does not know this command", env!("CARGO_PKG_VERSION")),
        ),
        CommandAction::SettleSuspense { .. }
        | CommandAction::ReconcileSuspense { .. }
        | CommandAction::ResendWriteOff { .. }
        | CommandAction::RefundPerStatement { .. }
        | CommandAction::PushConfig { .. }
        | CommandAction::InstallUpdate { .. }
        | CommandAction::CancelUpdate { .. } => {
            unreachable!("carried out in carry_out")
        }
    };
    CommandAck { id: command.id, done, detail }
}

/// Settles a parked payment as finance decided, through the same journal-first machinery as a
/// staff member at the kiosk (`Runtime::resolve_parked`, waiting for a customer paying now to
/// finish). Handed over again after it was done, it finds the payment settled and says so.
async fn settle(
    backend: &Backend,
    operator: &str,
    order_ref: &str,
    outcome: &str,
    reason: &str,
    on_record: bool,
) -> (bool, String) {
    let outcome: kiosk_core::StaffOutcome = match outcome.parse() {
        Ok(outcome) => outcome,
        Err(why) => return (false, why),
    };
    let staff = format!("hub:{operator}");
    match backend.runtime.resolve_parked(order_ref, &staff, outcome, reason, &crate::runtime::Quiet).await {
        Ok(payment) => (true, format!("{order_ref} is {}", payment.state.label())),
        Err(crate::runtime::RuntimeError::NotParked(..)) if on_record => (true, "already settled".into()),
        Err(error) => (false, error.to_string()),
    }
}

/// Feeds the hub's statement evidence to a payment in suspense as its `Reconciled` event, through
/// the journal-first machinery of the kiosk's own payments (`Runtime::settle_externally`): the
/// transition names the files' hashes, and what the new state needs (a refund, say) is carried
/// out here and now. A payment no longer in suspense, or evidence that settles nothing, changes
/// nothing and says why.
async fn reconcile(
    backend: &Backend,
    order_ref: &str,
    evidence: &kiosk_core::payment::StatementEvidence,
) -> (bool, String) {
    let payment = match backend.runtime.load(order_ref).await {
        Ok(payment) => payment,
        Err(error) => return (false, error.to_string()),
    };
    if !matches!(payment.state, kiosk_core::State::Suspense { .. }) {
        return (true, format!("{order_ref} is {} already: nothing to settle", payment.state.label()));
    }
    let before = payment.state.label();
    let why = evidence.why_unsettled();
    let event = kiosk_core::Event::Reconciled { evidence: evidence.clone() };
    // Settled from the statements days later: its customer is long gone, so nothing is printed.
    let gone = crate::runtime::CustomerGone(&crate::runtime::Quiet);
    match backend.runtime.settle_externally(payment, event, &gone).await {
        Ok(after) if after.state.label() == before => {
            (false, format!("{order_ref} stays in suspense: {why}"))
        }
        Ok(after) => (true, format!("{order_ref} is {} per the statements", after.state.label())),
        Err(error) => (false, error.to_string()),
    }
}

/// Gives back the whole order a channel's statement shows charged while the kiosk's journal holds
/// it as never charged: the payment's own `ChargedPerStatement` step, through the journal-first
/// machinery of every refund (`Runtime::settle_externally`), the refund sent here and now,
/// printing nothing (its customer is long gone). Anything else changes nothing and says so; the
/// same command handed over again (its acknowledgement lost) finds its own step journaled.
async fn refund_per_statement(
    backend: &Backend,
    order_ref: &str,
    finding: kiosk_core::Event,
    on_record: bool,
) -> (bool, String) {
    let payment = match backend.runtime.load(order_ref).await {
        Ok(payment) => payment,
        Err(error) => return (false, error.to_string()),
    };
    let before = payment.state.label();
    match backend.runtime.settle_externally(payment, finding, &crate::runtime::CustomerGone(&crate::runtime::Quiet)).await {
        Ok(after) if after.state.label() != before => {
            (true, format!("{order_ref} is {}: the whole order goes back through its channel", after.state.label()))
        }
        Ok(after) if on_record && given_back_before(backend, order_ref).await => {
            (true, format!("{order_ref} is {}: given back at this command already", after.state.label()))
        }
        Ok(_) => (
            false,
            format!("{order_ref} is {before}: not this order's charge, or not an order this kiosk holds as never charged; nothing sent"),
        ),
        Err(error) => (false, error.to_string()),
    }
}

/// Whether the payment's journal holds a `ChargedPerStatement` step.
async fn given_back_before(backend: &Backend, order_ref: &str) -> bool {
    let transitions = backend.runtime.journal.transitions(order_ref).await.unwrap_or_default();
    transitions.iter().any(|t| t.event.starts_with("charged_per_statement"))
}

/// Lines of the kiosk's log a diagnostics report carries (the rest are in journald).
const LOG_LINES_IN_DIAGNOSTICS: usize = 40;

/// Every device's line, the journal's state, what is unsettled and the newest log lines (already
/// scrubbed of personal data), as text for the operator.
async fn diagnostics(backend: &Backend, reader: &OutboxReader) -> String {
    use crate::ui::status::{report_from, JournalFacts, JournalView};
    use kiosk_core::session::Lang;
    let facts = JournalFacts::read(reader).await;
    let report = report_from(backend, JournalView::ReadOnly(&facts)).await;
    let mut lines: Vec<String> = report
        .devices
        .iter()
        .map(|d| {
            format!(
                "{}: {}{}",
                d.name.in_lang(Lang::En),
                d.status.in_lang(Lang::En),
                if d.ok { "" } else { " (NOT READY)" }
            )
        })
        .collect();
    match reader.head().await {
        Ok(head) => lines.push(format!("journal: {} transitions, head {}", head.seq, &head.hash[..12])),
        Err(e) => lines.push(format!("journal: cannot be read ({e})")),
    }
    lines.extend(report.suspense.iter().map(|s| format!("unsettled: {}", s.in_lang(Lang::En))));
    lines.push(format!("takes money now: {}", report.availability.can_take_money()));
    let log = crate::logging::recent::last(LOG_LINES_IN_DIAGNOSTICS);
    lines.push(format!("last {} log lines:", log.len()));
    lines.extend(log);
    lines.join("\n")
}
