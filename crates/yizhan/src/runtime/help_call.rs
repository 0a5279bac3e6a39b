//! 呼叫工作人员 (accessibility.md item 51): the customer's call for help, from the press until
//! staff sign in at this kiosk. The hub link's heartbeat carries it to the operators, who get it
//! as an alert (`help_called`); opening a call sends a heartbeat at once rather than in up to
//! 30 s. Each call and each answer is also a kiosk action in the journal, so a call outlives a
//! restart and the hub's copy shows when help was asked for and how long it took to come.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::Runtime;

const CALLED: &str = "help.called";
const ANSWERED: &str = "help.answered";

/// The open call, if any, and whether anyone hears it.
#[derive(Debug, Default)]
pub struct HelpCall {
    /// When the first press of the open call was made (ms since the epoch). Later presses keep
    /// it: the operators see how long the customer has been waiting.
    since_ms: Mutex<Option<i64>>,
    /// Until when the hub is taken to hear a call: one heartbeat past the next one due after
    /// the last it answered (monotonic, so a clock step changes nothing). `None`: never.
    heard_until: Mutex<Option<Instant>>,
    /// Wakes the heartbeat for a new call.
    opened: Notify,
}

impl HelpCall {
    /// The hub answered a heartbeat just now; the next is due within `every`.
    pub fn hub_answered(&self, every: Duration) {
        self.hub_answered_at(Instant::now(), every);
    }

    /// Whether a call now reaches anyone: the hub answered lately. A kiosk with no hub, an
    /// unpaired one, or one whose hub is down or refuses it says so to the customer.
    pub fn has_line(&self) -> bool {
        self.has_line_at(Instant::now())
    }

    fn hub_answered_at(&self, now: Instant, every: Duration) {
        *self.heard_until.lock().unwrap_or_else(|p| p.into_inner()) = now.checked_add(every * 2);
    }

    fn has_line_at(&self, now: Instant) -> bool {
        self.heard_until.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|until| now < until)
    }

    /// When the open call began, if one is open.
    pub fn open_since(&self) -> Option<i64> {
        *self.since_ms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a call is opened.
    pub async fn opened(&self) {
        self.opened.notified().await
    }

    /// Opens a call at `at_ms`, or keeps the one already open. True when it opened one; only
    /// then is the heartbeat woken (a customer pressing again and again must not make the
    /// hub's beat-counted alerts count faster).
    fn press(&self, at_ms: i64) -> bool {
        let opened = {
            let mut since = self.since_ms.lock().unwrap_or_else(|p| p.into_inner());
            let opened = since.is_none();
            since.get_or_insert(at_ms);
            opened
        };
        if opened {
            // `notify_one` keeps the wake-up for a heartbeat loop that is busy sending now.
            self.opened.notify_one();
        }
        opened
    }

    /// Closes the open call; when it began, if one was open.
    fn answer(&self) -> Option<i64> {
        self.since_ms.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Runtime {
    /// The customer pressed 呼叫工作人员.
    pub async fn call_for_help(&self) {
        let now = crate::clock::now().0;
        let heard = self.help.has_line();
        tracing::warn!(reaches_operators = heard, "the customer called for staff");
        if self.help.press(now) {
            let detail = format!("a customer pressed Call staff (the hub heard lately: {heard})");
            // The journaled time is the call's own: a restart reopens the call under the same
            // time, so the hub sees the same alert, not a new one notified again.
            if let Err(error) = self.record_kiosk_action_at(now, CALLED, None, detail).await {
                tracing::error!(%error, "the help call could not be journaled");
            }
        }
    }

    /// Staff `staff_id` signed in at the kiosk: an open call is answered.
    pub async fn staff_arrived(&self, staff_id: &str) {
        let Some(since) = self.help.answer() else { return };
        let waited_s = (crate::clock::now().0 - since).max(0) / 1000;
        let detail = format!("{staff_id} signed in at the kiosk {waited_s} s after the call");
        if let Err(error) = self.record_kiosk_action(ANSWERED, None, detail).await {
            tracing::error!(%error, "the answer to the help call could not be journaled");
        }
    }

    /// At start: a call the journal shows unanswered is open again (a restart, a pushed
    /// configuration taken up, a power cut must not clear the operators' alert as if staff had
    /// come).
    pub async fn reopen_help_call(&self) {
        match self.journal.latest_staff_action_of(&[CALLED, ANSWERED]).await {
            Ok(Some(row)) if row.action == CALLED => {
                self.help.since_ms.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(row.at);
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "an open help call could not be looked for"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_stays_open_from_its_first_press_until_it_is_answered() {
        let call = HelpCall::default();
        assert!(call.press(1_000));
        assert!(!call.press(5_000), "a second press keeps the call");
        assert_eq!(call.open_since(), Some(1_000), "the wait counts from the first press");
        assert_eq!(call.answer(), Some(1_000));
        assert_eq!(call.open_since(), None);
        assert_eq!(call.answer(), None, "answered once");
    }

    #[test]
    fn a_call_reaches_someone_only_while_the_hub_answers() {
        let call = HelpCall::default();
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        assert!(!call.has_line_at(start), "no hub has ever answered");
        call.hub_answered_at(at(10), Duration::from_secs(30));
        assert!(call.has_line_at(at(10)) && call.has_line_at(at(69)));
        assert!(!call.has_line_at(at(70)), "two beats missed: the hub no longer hears the kiosk");
    }

    #[tokio::test]
    async fn only_a_new_call_wakes_the_heartbeat() {
        let call = HelpCall::default();
        let woken = |call: &HelpCall| {
            let waiting = std::pin::pin!(call.opened());
            futures_now(waiting)
        };
        call.press(1_000);
        assert!(woken(&call), "a new call wakes it");
        call.press(2_000);
        assert!(!woken(&call), "pressing again does not");
        call.answer();
        call.press(3_000);
        assert!(woken(&call), "the next call does");
    }

    /// Whether `future` is ready at its first poll.
    fn futures_now(future: std::pin::Pin<&mut impl std::future::Future<Output = ()>>) -> bool {
        let waker = std::task::Waker::noop();
        future.poll(&mut std::task::Context::from_waker(waker)).is_ready()
    }
}
