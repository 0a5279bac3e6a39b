//! The UI glue: taps from the Slint screens become session inputs; the session's commands become
//! runtime calls on tokio; their results come back as inputs. The session machine
//! (`kiosk_core::session`) decides the flow, the payment machine decides money, and the screens
//! (`kiosk-ui`) only render. Everything here runs on the UI thread except the jobs.

pub mod app;
pub mod heap;
mod jobs;
mod observer;
pub mod screenshot;
mod staff;
pub mod status;

pub use staff::StaffDirectory;

use crate::backend::Backend;
use kiosk_core::session::{EjectFeedback, Input, Key, Lang, Session, SessionTiming, Stage};
use kiosk_core::{Payment, Ts};
use kiosk_ui::speech::{HeadsetProbe, Speaker};
use kiosk_ui::view::{self, KioskFacts};
use kiosk_ui::{Action, Kiosk, KioskWindow, MirrorWindow, Theme};
use slint::ComponentHandle;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

/// How often the headphone jack is read: a headset pulled out is heard of within this.
const HEADSET_EVERY: Duration = Duration::from_millis(500);
/// A jack reading that takes longer counts as unknown.
const HEADSET_READ_LIMIT: Duration = Duration::from_secs(2);
/// This many unknown readings in a row count as no headset: the voice goes back to the
/// loudspeaker rather than nowhere.
const HEADSET_UNKNOWN_LIMIT: u32 = 3;

/// News from the jobs to the UI thread. News for one session carries its generation: news for a
/// session that has ended (a slow look-up after 取消并退出) is dropped, never shown to the next
/// customer.
#[derive(Debug)]
pub enum News {
    Input(u64, Input),
    /// A payment ended: kept (until the session ends) for the receipt the customer may ask for.
    Payment(u64, Box<Payment>),
    /// What works now: for every session.
    Facts(status::StatusReport),
    /// The forced-eject button: for whoever is at the kiosk now.
    Eject(EjectFeedback),
    /// The headphone jack changed: private mode on or off.
    Headset(bool),
}

/// How the kiosk UI is set up.
pub struct UiOptions {
    pub portrait: bool,
    pub mirror: bool,
    pub staff: StaffDirectory,
    pub timing: SessionTiming,
    pub speaker: Box<dyn Speaker>,
    /// Where the headphone jack is read (None: no jack to watch).
    pub headset: Option<HeadsetProbe>,
    /// Where "now" comes from: the wall clock in the kiosk, a hand-moved one in tests.
    pub clock: Box<dyn Fn() -> Ts>,
    /// With simulated devices, a simulated customer shows a payment code and inserts cards
    /// when the screen asks (the demo); tests play the customer themselves.
    pub demo_customer: bool,
    /// The fleet hub, with a `[hub]` section: the staff panel pairs with it.
    pub hub: Option<Arc<crate::hub_link::pairing::HubConnection>>,
}

/// The kiosk's screens and their controller; lives on the UI thread.
pub struct KioskUi {
    pub window: KioskWindow,
    pub mirror: Option<MirrorWindow>,
    session: Session,
    facts: KioskFacts,
    speaker: Box<dyn Speaker>,
    clock: Box<dyn Fn() -> Ts>,
    backend: Arc<Backend>,
    tokio: tokio::runtime::Handle,
    news_tx: Sender<News>,
    news_rx: Receiver<News>,
    /// The payment of this session, for 打印凭条; wiped at session end.
    last_payment: Option<Payment>,
    /// Ends the scanner's wait for a payment code (停止等待).
    stop_scan: Option<tokio::sync::oneshot::Sender<()>>,
    /// Ends the acceptor's intake (结束投币).
    stop_cash: Arc<std::sync::atomic::AtomicBool>,
    staff: StaffDirectory,
    shown_lang: Option<Lang>,
    /// The countdown second last drawn.
    last_seconds: Option<i64>,
    /// Which session the jobs' news is for; moves on when a session's data is wiped.
    generation: u64,
    demo_customer: bool,
    hub: Option<Arc<crate::hub_link::pairing::HubConnection>>,
}

impl KioskUi {
    /// Creates the windows (not shown yet) and wires every tap to the controller.
    pub fn new(
        backend: Arc<Backend>,
        tokio: tokio::runtime::Handle,
        options: UiOptions,
    ) -> Result<Rc<RefCell<KioskUi>>, slint::PlatformError> {
        heap::limit_arenas();
        let window = KioskWindow::new()?;
        let mirror = if options.mirror { Some(MirrorWindow::new()?) } else { None };
        let (news_tx, news_rx) = channel();
        let options_headset = options.headset;
        let mut session = Session::new(options.timing);
        session.service_phone = backend.runtime.identity.service_phone.clone();
        session.headset_jack = options_headset.is_some();
        let ui = Rc::new(RefCell::new(KioskUi {
            window,
            mirror,
            session,
            facts: KioskFacts {
                portrait: options.portrait,
                has_mirror: options.mirror,
                ..Default::default()
            },
            speaker: options.speaker,
            clock: options.clock,
            backend,
            tokio,
            news_tx,
            news_rx,
            last_payment: None,
            stop_scan: None,
            stop_cash: Default::default(),
            staff: options.staff,
            shown_lang: None,
            last_seconds: None,
            generation: 0,
            demo_customer: options.demo_customer,
            hub: options.hub,
        }));
        let weak = Rc::downgrade(&ui);
        ui.borrow().window.global::<Kiosk<'_>>().on_key(move |text| {
            if let Some(ui) = weak.upgrade() {
                if let Ok(mut ui) = ui.try_borrow_mut() {
                    ui.key(&text);
                }
            }
        });
        let weak = Rc::downgrade(&ui);
        ui.borrow().window.global::<Kiosk<'_>>().on_tap(move |action, arg| {
            if let Some(ui) = weak.upgrade() {
                // A tap that arrives while the controller is busy (re-entrant) is dropped, like
                // any tap on a screen that is changing.
                if let Ok(mut ui) = ui.try_borrow_mut() {
                    ui.tap(action, arg);
                }
            }
        });
        {
            let mut this = ui.borrow_mut();
            this.render();
            this.refresh_status();
            this.watch_id_slot();
            this.watch_headset(options_headset);
        }
        Ok(ui)
    }

    /// The red forced-eject button: feedback when it is pressed, let go early, when the card is
    /// out, taken, or cannot come out. Runs for the life of the kiosk, whatever the screen or the
    /// reader is doing.
    fn watch_id_slot(&self) {
        let (backend, tx) = (self.backend.clone(), self.news_tx.clone());
        self.tokio.spawn(async move {
            let Some(device) = &backend.runtime.devices.idcard else { return };
            let Some(mut events) = device.driver.lock().await.subscribe() else { return };
            loop {
                let feedback = match events.recv().await {
                    Ok(idcard::IdEvent::ButtonPressed) => EjectFeedback::Held,
                    Ok(idcard::IdEvent::ButtonReleased { .. }) => EjectFeedback::Released,
                    Ok(idcard::IdEvent::CardEjected { .. }) => EjectFeedback::Ejected,
                    Ok(idcard::IdEvent::CardTaken) => EjectFeedback::Taken,
                    Ok(idcard::IdEvent::EjectFailed) => EjectFeedback::Failed,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                if tx.send(News::Eject(feedback)).is_err() {
                    return;
                }
            }
        });
    }

    /// The headphone jack, read twice a second off the UI thread; news only when it changes.
    /// A reading that hangs or cannot tell counts as unknown, and a run of unknowns as no
    /// headset, so a broken jack never leaves the kiosk silent in private mode.
    fn watch_headset(&self, probe: Option<HeadsetProbe>) {
        let Some(probe) = probe else { return };
        let tx = self.news_tx.clone();
        self.tokio.spawn(async move {
            let (mut known, mut unknown) = (None, 0);
            loop {
                let read = probe.clone();
                let reading =
                    tokio::time::timeout(HEADSET_READ_LIMIT, tokio::task::spawn_blocking(move || read()));
                let plugged = match reading.await {
                    Ok(Ok(Some(plugged))) => {
                        unknown = 0;
                        Some(plugged)
                    }
                    _ => {
                        unknown += 1;
                        if unknown == HEADSET_UNKNOWN_LIMIT {
                            tracing::warn!("ui: the headphone jack cannot be read; taken as no headset");
                        }
                        (unknown >= HEADSET_UNKNOWN_LIMIT).then_some(false)
                    }
                };
                if let Some(plugged) = plugged.filter(|p| known != Some(*p)) {
                    known = Some(plugged);
                    if tx.send(News::Headset(plugged)).is_err() {
                        return;
                    }
                }
                tokio::time::sleep(HEADSET_EVERY).await;
            }
        });
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The devices have been asked at least once (the staff panel has their status).
    pub fn devices_known(&self) -> bool {
        !self.facts.devices.is_empty()
    }

    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    pub fn now(&self) -> Ts {
        (self.clock)()
    }

    /// A tap from the screen: the action the .slint files send, and its argument.
    pub fn tap(&mut self, action: Action, arg: i32) {
        match kiosk_ui::taps::intent(action, arg) {
            Some(intent) => self.feed(Input::Tap(intent)),
            None => tracing::warn!(?action, arg, "ui: a tap with an argument out of range was ignored"),
        }
    }

    /// A key of the physical keypad, by the text Slint gives it.
    pub fn key(&mut self, text: &str) {
        let key = match text {
            "\n" | "\r" => Key::Enter,
            "\u{8}" | "\u{7f}" => Key::Clear,
            "\u{1b}" => Key::Cancel,
            "*" => Key::Repeat,
            "#" => Key::Volume,
            t => match t.parse::<u8>() {
                Ok(d) if d <= 9 && t.len() == 1 => Key::Digit(d),
                _ => return,
            },
        };
        if let Some(intent) = self.session.key_intent(key) {
            self.feed(Input::Tap(intent));
        }
    }

    /// Feeds one input to the session, carries out its commands, and redraws.
    pub fn feed(&mut self, input: Input) {
        let now = self.now();
        if matches!(input, Input::Finished(_)) && !matches!(self.session.stage, Stage::Paying(_)) {
            // The pay job starts on the paying screen, which cannot be left while money may
            // move: an end arriving elsewhere is a bug to find. The journal holds the payment.
            tracing::warn!(
                screen = self.session.screen().code(),
                "ui: a payment's end arrived off the paying screen"
            );
        }
        let commands = self.session.step(input, now);
        for command in commands {
            self.run(command);
        }
        self.render();
    }

    /// Takes in everything the jobs reported, then lets time pass (deadlines, countdowns).
    /// Returns whether anything arrived.
    pub fn pump(&mut self) -> bool {
        let mut any = false;
        while let Ok(news) = self.news_rx.try_recv() {
            any = true;
            self.take(news);
        }
        self.tick();
        any
    }

    /// Lets time pass. Redraws only when something on screen changed (a warning, a countdown
    /// second, a new screen), so an idle kiosk does not repaint every 50 ms.
    fn tick(&mut self) {
        let now = self.now();
        // Whether 呼叫工作人员 reaches the hub is read afresh at every tick, not with the 15 s
        // status, so the words said at a press are true at that moment.
        self.session.availability.staff_line = self.backend.runtime.help.has_line();
        let before = (self.session.screen(), self.session.warning, self.shown_seconds(now));
        let commands = self.session.step(Input::Tick, now);
        let changed = !commands.is_empty()
            || before != (self.session.screen(), self.session.warning, self.shown_seconds(now))
            || self.shown_seconds(now) != self.last_seconds;
        for command in commands {
            self.run(command);
        }
        if changed {
            self.render();
        }
    }

    /// The seconds a countdown on screen shows now (the code window or the timeout warning).
    fn shown_seconds(&self, now: Ts) -> Option<i64> {
        match self.session.phase() {
            Some(kiosk_core::session::PayPhase::WaitingForCode { until_ms }) => {
                Some((until_ms - now.0) / 1000)
            }
            _ if self.session.warning => self.session.seconds_left(now),
            _ => None,
        }
    }

    /// Waits (really) up to `limit` for news, taking each as it comes, until `done` holds.
    pub fn pump_until(&mut self, limit: Duration, done: impl Fn(&KioskUi) -> bool) -> bool {
        let until = std::time::Instant::now() + limit;
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Ok(news) = self.news_rx.recv_timeout(left.min(Duration::from_millis(50))) {
                self.take(news);
            }
        }
    }

    fn take(&mut self, news: News) {
        match news {
            News::Input(generation, input) if generation == self.generation => self.feed(input),
            News::Payment(generation, payment) if generation == self.generation => {
                self.last_payment = Some(*payment)
            }
            News::Input(..) | News::Payment(..) => tracing::debug!("ui: news for an ended session dropped"),
            News::Eject(feedback) => self.feed(Input::Eject(feedback)),
            News::Headset(plugged) => self.feed(Input::Headset(plugged)),
            News::Facts(report) => {
                self.facts.devices = report.devices;
                self.facts.suspense = report.suspense;
                self.feed(Input::Availability(report.availability));
            }
        }
    }

    /// Asks the devices what works now (at start-up, on a timer, and for the staff panel).
    pub fn refresh_status(&self) {
        let (backend, tx) = (self.backend.clone(), self.news_tx.clone());
        self.tokio.spawn(async move {
            let report = status::report(&backend).await;
            let _ = tx.send(News::Facts(report));
        });
    }

    /// Shows both windows.
    pub fn show(&self) -> Result<(), slint::PlatformError> {
        self.window.show()?;
        if let Some(mirror) = &self.mirror {
            mirror.show()?;
        }
        Ok(())
    }

    /// Puts the session on both screens.
    pub fn render(&mut self) {
        let now = self.now();
        self.last_seconds = self.shown_seconds(now);
        if self.shown_lang != Some(self.session.lang) {
            kiosk_ui::select_language(self.session.lang);
            self.shown_lang = Some(self.session.lang);
        }
        let size = if self.facts.portrait { kiosk_ui::PORTRAIT } else { kiosk_ui::LANDSCAPE };
        if self.window.window().size() != size {
            self.window.window().set_size(size);
        }
        view::apply(&self.window, &self.session, &self.facts, now);
        let theme = self.window.global::<Theme<'_>>();
        theme.set_large(self.session.large);
        theme.set_mirror(false);
        if let Some(mirror) = &self.mirror {
            if mirror.window().size() != kiosk_ui::PORTRAIT {
                mirror.window().set_size(kiosk_ui::PORTRAIT);
            }
            // The mirror is a portrait panel whatever the main screen's orientation.
            let facts = KioskFacts { portrait: true, ..self.facts.clone() };
            view::apply(&mirror, &self.session, &facts, now);
            let theme = mirror.global::<Theme<'_>>();
            theme.set_large(self.session.large);
            theme.set_mirror(true);
        }
    }
}
