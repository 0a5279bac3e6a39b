//! The slot task: the only owner of the slot's serial port, with a pre-emptive forced eject.
//!
//! Everyone (the reader, the session, the button) talks to the slot through a cloneable
//! [`SlotHandle`]. Commands queue on a channel and run one at a time. A forced eject does not
//! queue: it wakes the task through a `Notify`, which is polled first (`biased`) both between
//! commands and *while a command runs*. The running command's future is dropped, EOT is sent so
//! the reader abandons it (hardware.md §1.8, CRT-310 §6.1B), and the card goes to the gate and
//! is held there (`32 31`); on a jam, "reset + eject front" (`30 31`) is tried; if that fails too
//! the slot is declared out of service and [`IdEvent::EjectFailed`] is raised. The caller of the
//! abandoned command gets [`SlotError::PreEmpted`].
//!
//! Because the task is spawned once and owns its port, a busy or hung UI or payment flow cannot
//! block it: the button task only needs the [`SlotHandle`] it was given. Its first command is
//! the reader's init, `30 30` (hardware.md §2.5); a card left inside is then held at the gate.

use super::codec::{CardPosition, Entry, Operation, Position, ResetMode, SlotCommand};
use super::port::{SlotError, SlotPort, SlotStatus};
use crate::event::IdEvent;
use device::reconnect::Connector;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

enum Job {
    Status(oneshot::Sender<Result<SlotStatus, SlotError>>),
    Operate(SlotCommand, oneshot::Sender<Result<(), SlotError>>),
}

/// A cloneable handle to the slot task.
#[derive(Clone, Debug)]
pub struct SlotHandle {
    jobs: mpsc::Sender<Job>,
    force: Arc<Notify>,
    forced: Arc<watch::Sender<u64>>,
    events: broadcast::Sender<IdEvent>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Status(_) => f.write_str("Status"),
            Job::Operate(c, _) => write!(f, "Operate({c:?})"),
        }
    }
}

/// The spawned slot task.
///
/// Dropping this does **not** stop the task: it ends by itself once every [`SlotHandle`] is gone,
/// after finishing what it is doing, so a forced eject already triggered still puts the card at
/// the gate even if its caller was dropped. [`SlotTask::abort`] stops it at once.
#[derive(Debug)]
pub struct SlotTask {
    task: JoinHandle<()>,
}

impl SlotTask {
    /// Stops the task now (the port closes; a card inside stays where it is).
    pub fn abort(&self) {
        self.task.abort();
    }

    /// True once the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts the slot task on `port`. Must run inside a tokio runtime.
pub fn spawn<C>(port: SlotPort<C>) -> (SlotHandle, SlotTask)
where
    C: Connector + 'static,
    C::Io: 'static,
{
    let (jobs, rx) = mpsc::channel(16);
    let force = Arc::new(Notify::new());
    let (forced, _) = watch::channel(0u64);
    let (events, _) = broadcast::channel(64);
    let handle = SlotHandle { jobs, force: force.clone(), forced: Arc::new(forced), events: events.clone() };
    let task = tokio::spawn(run(port, rx, force, events));
    (handle, SlotTask { task })
}

async fn run<C: Connector>(
    mut port: SlotPort<C>,
    mut jobs: mpsc::Receiver<Job>,
    force: Arc<Notify>,
    events: broadcast::Sender<IdEvent>,
) {
    // Until the reader has answered its init (it may power up after the kiosk), the init is
    // tried again before each command.
    let (mut initialised, mut out_of_service) = try_start_up(&mut port, &force, &events).await;
    loop {
        let job = tokio::select! {
            biased;
            _ = force.notified() => {
                out_of_service |= forced_eject(&mut port, &events, false).await;
                continue;
            }
            job = jobs.recv() => match job {
                Some(j) => j,
                None => return,
            },
        };
        if !initialised {
            let (answered, broken) = try_start_up(&mut port, &force, &events).await;
            initialised = answered;
            out_of_service |= broken;
        }
        match job {
            Job::Status(reply) => {
                // A slot whose forced eject failed is out of service until staff restart it;
                // its status says so (hardware.md §1.8: disable the slot, raise an alarm).
                if out_of_service {
                    let _ = reply.send(Err(SlotError::OutOfService));
                    continue;
                }
                let r = preemptible(&force, port.status()).await;
                initialised &= !reader_gone(&r);
                out_of_service |= answer(reply, r, &mut port, &events).await;
            }
            Job::Operate(cmd, reply) => {
                if out_of_service {
                    let _ = reply.send(Err(SlotError::OutOfService));
                    continue;
                }
                let r = preemptible(&force, port.operate(cmd)).await;
                initialised &= !reader_gone(&r);
                out_of_service |= answer(reply, r, &mut port, &events).await;
            }
        }
    }
}

/// hardware.md §2.5: the reader's first command after power-up is its init (`30 30`, the card
/// left where it is), then the entry is closed until a read asks for a card; a card found
/// inside (the kiosk restarted mid-read) is held at the gate for its owner, never kept or
/// captured.
async fn start_up<C: Connector>(port: &mut SlotPort<C>) -> Result<(), SlotError> {
    port.operate(SlotCommand::Reset(ResetMode::Keep)).await?;
    port.operate(SlotCommand::Entry(Entry::Forbid)).await?;
    let found = port.status().await?.position;
    if found.is_inside() || found == CardPosition::RearHold {
        tracing::warn!("id slot: an ID card was inside at start-up; holding it at the gate");
        port.operate(SlotCommand::Move(Position::Gate)).await?;
    }
    Ok(())
}

/// The reader went silent or its port went away: when it answers again it may have powered up
/// anew, so its init goes first again (hardware.md §2.5).
fn reader_gone<T>(result: &Option<Result<T, SlotError>>) -> bool {
    match result {
        Some(Err(SlotError::NoAck)) => true,
        Some(Err(SlotError::Transport(e))) => e.is_link_lost(),
        _ => false,
    }
}

/// [`start_up`] unless a forced eject comes first: whether the reader answered the init, and
/// whether the slot must go out of service (the forced eject failed).
async fn try_start_up<C: Connector>(
    port: &mut SlotPort<C>,
    force: &Notify,
    events: &broadcast::Sender<IdEvent>,
) -> (bool, bool) {
    match preemptible(force, start_up(port)).await {
        Some(Ok(())) => (true, false),
        Some(Err(error)) => {
            tracing::warn!(%error, "id slot: no answer to the init; tried again before the next command");
            (false, false)
        }
        None => (false, forced_eject(port, events, true).await),
    }
}

/// Runs one command unless a forced eject comes first (`None`: the command's future was
/// dropped mid-exchange).
async fn preemptible<T>(force: &Notify, command: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        _ = force.notified() => None,
        r = command => Some(r),
    }
}

/// Hands a finished command's result to its caller, or, when it was pre-empted, tells the
/// caller so and does the forced eject. Returns true when the slot must go out of service.
async fn answer<T, C: Connector>(
    reply: oneshot::Sender<Result<T, SlotError>>,
    result: Option<Result<T, SlotError>>,
    port: &mut SlotPort<C>,
    events: &broadcast::Sender<IdEvent>,
) -> bool {
    match result {
        Some(r) => {
            let _ = reply.send(r);
            false
        }
        None => {
            let _ = reply.send(Err(SlotError::PreEmpted));
            forced_eject(port, events, true).await
        }
    }
}

/// Aborts (when a command was running), ejects to the gate, falls back to reset + eject.
/// Returns true when the slot must go out of service.
async fn forced_eject<C: Connector>(
    port: &mut SlotPort<C>,
    events: &broadcast::Sender<IdEvent>,
    interrupted: bool,
) -> bool {
    tracing::warn!(interrupted, "id slot: forced eject");
    if interrupted {
        port.abort().await;
    }
    let first = port.operate(SlotCommand::Move(Position::Gate)).await;
    let outcome = match first {
        Ok(()) => Ok(true),
        Err(SlotError::Operation(Operation::NoCard)) => Ok(false),
        Err(e) => {
            tracing::warn!(error = %e, "id slot: eject to gate failed; trying reset + eject front");
            match port.operate(SlotCommand::Reset(ResetMode::EjectFront)).await {
                Ok(()) => Ok(true),
                Err(SlotError::Operation(Operation::NoCard)) => Ok(false),
                Err(e2) => Err(e2),
            }
        }
    };
    match outcome {
        Ok(true) => {
            let _ = events.send(IdEvent::CardEjected { forced: true });
            false
        }
        Ok(false) => {
            let _ = events.send(IdEvent::NothingToEject);
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "id slot: forced eject failed; slot out of service, staff needed");
            let _ = events.send(IdEvent::EjectFailed);
            true
        }
    }
}

impl SlotHandle {
    async fn status_job(&self) -> Result<SlotStatus, SlotError> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Status(tx)).await.map_err(|_| SlotError::Stopped)?;
        rx.await.map_err(|_| SlotError::Stopped)?
    }

    async fn operate(&self, cmd: SlotCommand) -> Result<(), SlotError> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Operate(cmd, tx)).await.map_err(|_| SlotError::Stopped)?;
        rx.await.map_err(|_| SlotError::Stopped)?
    }

    /// Reads the slot status (`31 30`).
    pub async fn status(&self) -> Result<SlotStatus, SlotError> {
        self.status_job().await
    }

    /// Resets the slot and ejects a card left inside to the front (never kept, never captured).
    /// The task's own start-up init is gentler: it holds such a card at the gate.
    pub async fn reset(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Reset(ResetMode::EjectFront)).await
    }

    /// Lets a card in from the front.
    pub async fn allow_entry(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Entry(Entry::Allow)).await
    }

    /// Refuses further cards.
    pub async fn forbid_entry(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Entry(Entry::Forbid)).await
    }

    /// Moves the card over the RF antenna for the SAM (and holds it there).
    pub async fn hold_for_reading(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Move(Position::Rf)).await
    }

    /// Allows entry and waits until a card is inside, then holds it at the RF position and
    /// forbids further entry. Polls every `poll` until `deadline`.
    pub async fn accept_card(&self, poll: Duration, deadline: Instant) -> Result<bool, SlotError> {
        self.allow_entry().await?;
        loop {
            let s = self.status().await?;
            if s.position.is_inside() {
                let _ = self.events.send(IdEvent::CardInserted);
                self.hold_for_reading().await?;
                self.forbid_entry().await?;
                return Ok(true);
            }
            if Instant::now() + poll >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Takes the card out of the RF field and back (gate, then antenna): the SAM then sees it
    /// presented anew.
    pub async fn reseat(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Move(Position::Gate)).await?;
        self.operate(SlotCommand::Move(Position::Rf)).await
    }

    /// Ejects the card to the gate and holds it there for the customer to take.
    pub async fn eject(&self) -> Result<(), SlotError> {
        self.operate(SlotCommand::Move(Position::Gate)).await?;
        let _ = self.events.send(IdEvent::CardEjected { forced: false });
        Ok(())
    }

    /// Waits until the card at the gate has been taken (polls every `poll`). `Ok(false)` when
    /// `deadline` passed with the card still there.
    pub async fn wait_taken(&self, poll: Duration, deadline: Instant) -> Result<bool, SlotError> {
        loop {
            if self.status().await?.position == CardPosition::NoCard {
                let _ = self.events.send(IdEvent::CardTaken);
                return Ok(true);
            }
            if Instant::now() + poll >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Forced eject: returns at once; the slot task abandons whatever it runs and ejects to the
    /// gate. Every pending [`crate::IdCardReader::read_card`] ends with
    /// [`crate::IdError::ForceEjected`].
    pub fn force_eject(&self) {
        let _ = self.events.send(IdEvent::ForceEject);
        self.forced.send_modify(|g| *g = g.wrapping_add(1));
        self.force.notify_one();
    }

    /// Changes once per forced eject (a generation counter): the reader selects on it.
    pub fn forced(&self) -> watch::Receiver<u64> {
        self.forced.subscribe()
    }

    /// Events of the slot and its button.
    pub fn subscribe(&self) -> broadcast::Receiver<IdEvent> {
        self.events.subscribe()
    }

    /// Publishes an event (the button task uses it for press/release feedback).
    pub fn publish(&self, e: IdEvent) {
        let _ = self.events.send(e);
    }
}
