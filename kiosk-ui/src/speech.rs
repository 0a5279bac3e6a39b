//! Speech: the kiosk's own voice (accessibility.md items 37–42, 53). The scripts come from
//! `kiosk_core::session::speech`; a [`Speaker`] only says them. espeak-ng speaks Mandarin offline
//! on Debian; a better voice plugs in behind the same trait.

use kiosk_core::session::Lang;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Says lines aloud. `say` interrupts whatever is being said (item 38).
pub trait Speaker: Send {
    fn say(&mut self, lines: &[String], lang: Lang);
    fn stop(&mut self);
    /// The customer's volume: this many dB above the lowest setting (item 41). A speaker that
    /// cannot change its volume ignores it.
    fn set_gain(&mut self, _gain_db: u8) {}
    /// Private mode (item 39): the voice goes to the headset only, the loudspeaker muted, or
    /// back to the loudspeaker. A sound card that mutes its speaker on its own ignores it.
    fn route(&mut self, _headset: bool) {}
}

/// Whether a headset is in the jack (None: this hardware cannot tell). The kiosk asks about once
/// a second, off the UI thread.
pub type HeadsetProbe = Arc<dyn Fn() -> Option<bool> + Send + Sync>;

/// The sound card's mixer through ALSA's `amixer`, for the volume steps beyond what espeak-ng's
/// own amplitude reaches (+6 dB) and for muting the loudspeaker in private mode.
#[derive(Clone, Debug)]
pub struct AlsaMixer {
    /// The playback control the steps move ("Master", "PCM", "Speaker").
    pub control: String,
    /// The control's level at the lowest step, in dB (the installer sets it so that this step
    /// gives ≥ 65 dB SPL at the customer's ear).
    pub base_db: i32,
    /// The loudspeaker's on/off switch ("Speaker"), turned off while a headset is in; None
    /// where the codec mutes the speaker itself when the jack is used.
    pub speaker_switch: Option<String>,
}

impl AlsaMixer {
    fn set(&self, gain_db: u8) {
        let level = format!("{}dB", self.base_db + i32::from(gain_db));
        amixer(&["-q", "sset", &self.control, "--", &level], "the volume");
    }

    fn route(&self, headset: bool) {
        if let Some(switch) = &self.speaker_switch {
            amixer(&switch_args(switch, !headset), "the loudspeaker switch");
        }
    }
}

fn amixer(args: &[&str], what: &str) {
    let status = Command::new("amixer").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !status.is_ok_and(|s| s.success()) {
        tracing::warn!(what, "speech: the ALSA mixer did not take the setting");
    }
}

/// `amixer` arguments that turn a playback switch on or off.
pub fn switch_args(switch: &str, on: bool) -> [&str; 4] {
    ["-q", "sset", switch, if on { "unmute" } else { "mute" }]
}

/// The "Headphone Jack" control of card 0, where the codec reports one.
pub fn alsa_headphone_jack() -> Option<bool> {
    let out = Command::new("amixer").args(["cget", "iface=CARD,name=Headphone Jack"]).output().ok()?;
    jack_state(&String::from_utf8_lossy(&out.stdout))
}

/// Reads `amixer cget`'s answer for a jack control: ": values=on" (plugged) or "=off".
pub fn jack_state(amixer_output: &str) -> Option<bool> {
    let values = amixer_output.lines().map(str::trim).find_map(|l| l.strip_prefix(": values="))?;
    match values.trim() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// espeak-ng's amplitude (100 is its default) for a gain in dB, as far as its 0–200 scale
/// reaches (+6 dB); louder steps need the mixer.
pub fn espeak_amplitude(gain_db: u8) -> u32 {
    (100.0 * 10f64.powf(f64::from(gain_db) / 20.0)).round().min(200.0) as u32
}

/// Says nothing (no speaker configured).
#[derive(Debug, Default)]
pub struct Silent;

impl Speaker for Silent {
    fn say(&mut self, _lines: &[String], _lang: Lang) {}
    fn stop(&mut self) {}
}

/// espeak-ng in a child process; stopping kills it.
#[derive(Debug)]
pub struct Espeak {
    program: String,
    /// Words per minute: slower than espeak's default 175 for older listeners.
    rate: u32,
    child: Option<Child>,
    /// espeak-ng's amplitude for the customer's volume (without a mixer).
    amplitude: u32,
    mixer: Option<AlsaMixer>,
}

impl Espeak {
    pub fn new(program: impl Into<String>, rate: u32) -> Espeak {
        Espeak { program: program.into(), rate, child: None, amplitude: 100, mixer: None }
    }

    /// Moves the volume with the sound card's mixer instead of espeak-ng's amplitude.
    pub fn with_mixer(mut self, mixer: AlsaMixer) -> Espeak {
        mixer.set(0);
        // The mixer outlives the process: a kiosk stopped in private mode left the loudspeaker
        // muted. Every start begins on the loudspeaker; a headset still in is heard of next.
        mixer.route(false);
        self.mixer = Some(mixer);
        self
    }

    /// Whether the program can be started at all (checked once at start-up).
    pub fn available(&self) -> bool {
        Command::new(&self.program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Speaker for Espeak {
    fn say(&mut self, lines: &[String], lang: Lang) {
        self.stop();
        let voice = match lang {
            Lang::Zh => "cmn",
            Lang::En => "en",
        };
        let spawned = Command::new(&self.program)
            .args(["-v", voice, "-s", &self.rate.to_string(), "-a", &self.amplitude.to_string(), "--"])
            .arg(kiosk_core::session::speech::utterance(lines, lang))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => self.child = Some(child),
            // Never a reason to stop the kiosk; the screen still says everything.
            Err(error) => tracing::warn!(%error, "speech: espeak-ng could not be started"),
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn set_gain(&mut self, gain_db: u8) {
        match &self.mixer {
            Some(mixer) => mixer.set(gain_db),
            None => self.amplitude = espeak_amplitude(gain_db),
        }
    }

    fn route(&mut self, headset: bool) {
        if let Some(mixer) = &self.mixer {
            mixer.route(headset);
        }
    }
}

impl Drop for Espeak {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a [`Recorder`] heard: `Said(lines)` or `Stopped`, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    Said(Lang, Vec<String>),
    Stopped,
    /// The volume set, in dB above the lowest.
    Gain(u8),
    /// The voice sent to the headset only (true) or to the loudspeaker.
    Route(bool),
}

/// Keeps what would have been said, for tests and for the screenshot tool's scripts.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub log: Arc<Mutex<Vec<Heard>>>,
    /// The jack as a test sets it (None: the hardware cannot tell).
    jack: Arc<Mutex<Option<bool>>>,
}

impl Recorder {
    pub fn heard(&self) -> Vec<Heard> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every line said so far, joined.
    pub fn transcript(&self) -> String {
        self.heard()
            .into_iter()
            .filter_map(|h| match h {
                Heard::Said(_, lines) => Some(lines.join(" ")),
                Heard::Stopped | Heard::Gain(_) | Heard::Route(_) => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn clear(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
    }

    /// Plugs a headset in (true) or pulls it out, as the probe will report it.
    pub fn plug(&self, headset: bool) {
        if let Ok(mut jack) = self.jack.lock() {
            *jack = Some(headset);
        }
    }

    /// The jack this recorder's test sets.
    pub fn probe(&self) -> HeadsetProbe {
        let jack = self.jack.clone();
        Arc::new(move || jack.lock().ok().and_then(|j| *j))
    }
}

impl Speaker for Recorder {
    fn say(&mut self, lines: &[String], lang: Lang) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Heard::Said(lang, lines.to_vec()));
        }
    }

    fn stop(&mut self) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Heard::Stopped);
        }
    }

    fn set_gain(&mut self, gain_db: u8) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Heard::Gain(gain_db));
        }
    }

    fn route(&mut self, headset: bool) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Heard::Route(headset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espeak_reaches_6_db_on_its_own_and_no_further() {
        assert_eq!(espeak_amplitude(0), 100);
        assert_eq!(espeak_amplitude(6), 200);
        assert_eq!(espeak_amplitude(12), 200, "louder steps need the mixer");
    }

    #[test]
    fn the_headphone_jack_reads_from_amixer() {
        let plugged = "numid=18,iface=CARD,name='Headphone Jack'\n  ; type=BOOLEAN,access=r-------,values=1\n  : values=on\n";
        assert_eq!(jack_state(plugged), Some(true));
        assert_eq!(jack_state(&plugged.replace("values=on", "values=off")), Some(false));
        assert_eq!(jack_state("amixer: Cannot find the given element from control hw:0\n"), None);
    }

    #[test]
    fn private_mode_mutes_the_loudspeaker_switch_and_unmutes_it_after() {
        assert_eq!(switch_args("Speaker", false), ["-q", "sset", "Speaker", "mute"]);
        assert_eq!(switch_args("Speaker", true), ["-q", "sset", "Speaker", "unmute"]);
    }
}
