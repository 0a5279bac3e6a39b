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
}

impl Espeak {
    pub fn new(program: impl Into<String>, rate: u32) -> Espeak {
        Espeak { program: program.into(), rate, child: None }
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
            .args(["-v", voice, "-s", &self.rate.to_string(), "--"])
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
}

/// Keeps what would have been said, for tests and for the screenshot tool's scripts.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub log: Arc<Mutex<Vec<Heard>>>,
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
                Heard::Stopped => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn clear(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
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
}
