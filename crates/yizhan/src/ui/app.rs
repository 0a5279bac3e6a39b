//! The kiosk on real screens: the touch window and the mirror, driven by the Slint event loop on
//! the main thread while tokio runs the jobs.

use super::{KioskUi, StaffDirectory, UiOptions};
use crate::backend::Backend;
use crate::config::{KioskConfig, Layout};
use crate::hub_link::pairing::HubConnection;
use kiosk_core::session::SessionTiming;
use kiosk_core::Ts;
use kiosk_ui::speech::{alsa_headphone_jack, AlsaMixer, Espeak, HeadsetProbe, Silent, Speaker};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the UI takes in news and lets time pass; well under the 100 ms the mirror may lag.
const PUMP_EVERY: Duration = Duration::from_millis(50);
/// How often the devices are asked what works.
const STATUS_EVERY: Duration = Duration::from_secs(15);

/// How the screens' event loop ended.
#[derive(Debug)]
pub enum UiEnd {
    /// The windows were closed (or could not be shown): the process ends with this code.
    Closed(ExitCode),
    /// Nobody was at the kiosk and `restart_wanted` said yes: the caller starts the kiosk
    /// afresh (a configuration pushed from the hub goes in place).
    Restart,
}

/// Opens the kiosk's windows and runs until they are closed. Call on the main thread, inside a
/// tokio runtime (the jobs are spawned on it). `restart_wanted` is asked at every status refresh
/// while nobody is at the kiosk ([`kiosk_core::session::Session::between_customers`]);
/// `healthy` = (settle, report) is called from the event loop once it has run for `settle`.
pub fn run(
    backend: Arc<Backend>,
    config: &KioskConfig,
    hub: Option<Arc<HubConnection>>,
    restart_wanted: impl Fn() -> bool + 'static,
    healthy: (Duration, impl FnOnce() + 'static),
) -> UiEnd {
    let started = Instant::now();
    let one_output = match choose_backend(config.ui.backend) {
        Ok(one_output) => one_output,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return UiEnd::Closed(ExitCode::from(2));
        }
    };
    if one_output && config.ui.mirror {
        tracing::warn!("ui: LinuxKMS drives one output; the mirror is not shown (docs/appliance.md)");
    }
    let options = UiOptions {
        portrait: config.ui.layout == Layout::Portrait,
        mirror: config.ui.mirror && !one_output,
        staff: StaffDirectory::new(&config.staff),
        timing: SessionTiming::default(),
        speaker: speaker(config),
        headset: config.ui.headset_jack.then(|| Arc::new(alsa_headphone_jack) as HeadsetProbe),
        clock: Box::new(move || Ts(started.elapsed().as_millis() as i64)),
        demo_customer: config.devices.simulated,
        hub,
    };
    let ui = match KioskUi::new(backend, tokio::runtime::Handle::current(), options) {
        Ok(ui) => ui,
        Err(error) => {
            eprintln!("yizhan: the screens could not be created: {error}");
            return UiEnd::Closed(ExitCode::from(1));
        }
    };
    if let Err(error) = ui.borrow().show() {
        eprintln!("yizhan: the screens could not be shown (is there a display? DISPLAY=…): {error}");
        return UiEnd::Closed(ExitCode::from(1));
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, "ui: windows shown");
    let pump = slint::Timer::default();
    let weak = Rc::downgrade(&ui);
    pump.start(slint::TimerMode::Repeated, PUMP_EVERY, move || {
        if let Some(ui) = weak.upgrade() {
            if let Ok(mut ui) = ui.try_borrow_mut() {
                ui.pump();
            }
        }
    });
    let status = slint::Timer::default();
    let weak = Rc::downgrade(&ui);
    let restart = Rc::new(std::cell::Cell::new(false));
    let restart_asked = restart.clone();
    status.start(slint::TimerMode::Repeated, STATUS_EVERY, move || {
        if let Some(ui) = weak.upgrade() {
            if let Ok(ui) = ui.try_borrow() {
                // Ended here, within this tick, no tap can come between the check and the end.
                if ui.session().between_customers(ui.now()) && restart_wanted() {
                    restart_asked.set(true);
                    let _ = slint::quit_event_loop();
                    return;
                }
                ui.refresh_status();
            }
        }
    });
    // systemd's watchdog is fed from this event loop, so a hung screen trips it.
    let watchdog = crate::service::Watchdog::from_env();
    watchdog.watch_async_runtime();
    let watchdog_turns = slint::Timer::default();
    if let Some(every) = watchdog.every() {
        watchdog_turns.start(slint::TimerMode::Repeated, every, move || watchdog.turn());
    }
    // Fired by this event loop: the screens are up and turning, not merely the process.
    let (settle, report_healthy) = healthy;
    slint::Timer::single_shot(settle, report_healthy);
    let ended = slint::run_event_loop();
    if !restart.get() {
        // Starting afresh in place (the same process) is no stop.
        crate::service::stopping();
    }
    match ended {
        Ok(()) if restart.get() => UiEnd::Restart,
        Ok(()) => UiEnd::Closed(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("yizhan: the screen stopped: {error}");
            UiEnd::Closed(ExitCode::from(1))
        }
    }
}

use std::rc::Rc;

/// Selects Slint's backend as `[ui] backend` says; true when it drives a single output (no
/// mirror). LinuxKMS takes its output and rotation from `SLINT_DRM_OUTPUT` and
/// `SLINT_KMS_ROTATION` (set in the unit: packaging/systemd/yizhan.service).
fn choose_backend(backend: crate::config::UiBackend) -> Result<bool, String> {
    match backend {
        // Slint's own default: winit, under X11.
        crate::config::UiBackend::Winit => Ok(false),
        #[cfg(feature = "kms")]
        crate::config::UiBackend::Linuxkms => slint::BackendSelector::new()
            .backend_name("linuxkms".into())
            .renderer_name("software".into())
            .select()
            .map(|()| true)
            .map_err(|e| format!("the LinuxKMS backend could not be selected: {e}")),
        #[cfg(not(feature = "kms"))]
        crate::config::UiBackend::Linuxkms => {
            Err("[ui] backend = \"linuxkms\", but this build has no LinuxKMS \
             backend: build with --features kms (scripts/package.sh does)"
                .into())
        }
    }
}

fn speaker(config: &KioskConfig) -> Box<dyn Speaker> {
    if config.ui.speech == "off" {
        return Box::new(Silent);
    }
    let espeak = Espeak::new("espeak-ng", config.ui.speech_rate);
    if espeak.available() {
        match &config.ui.speech_mixer {
            Some(control) => Box::new(espeak.with_mixer(AlsaMixer {
                control: control.clone(),
                base_db: config.ui.speech_mixer_base_db,
                speaker_switch: config.ui.speaker_switch.clone(),
            })),
            None => Box::new(espeak),
        }
    } else {
        tracing::warn!("speech: espeak-ng is not installed; the kiosk runs without a voice");
        Box::new(Silent)
    }
}
