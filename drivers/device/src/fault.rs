//! [`FaultPlan`]: what a serial simulator does wrong, and when — seeded, so every run repeats.
//!
//! hardware.md (general rules) asks every simulator for: drop reply, truncate reply, corrupt
//! checksum, delay beyond timeout, "device powered off" (no bytes at all); we add a garbage burst
//! before a reply (line noise). A plan is a script of faults for the next replies, then random
//! faults by per-mille odds from a small seeded generator (netem-style named presets:
//! [`FaultPlan::flaky_cable`], [`FaultPlan::powered_off`]). Simulators call
//! [`FaultPlan::apply`] on each reply they are about to send.

use std::collections::VecDeque;
use std::time::Duration;

/// One thing that can go wrong with one reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The device acts but never answers.
    DropReply,
    /// Only the first `keep` bytes of the reply are sent.
    Truncate {
        /// Bytes kept.
        keep: usize,
    },
    /// The checksum is wrong: [`FaultPlan::apply`] flips every bit of the last byte, where most
    /// frames carry it; a simulator whose checksum sits elsewhere handles this fault itself.
    CorruptChecksum,
    /// The reply is sent after this delay (beyond the driver's deadline to test timeouts).
    Delay(Duration),
    /// Powered off: no byte at all, to this or any later request, until the plan is changed.
    Silent,
    /// `len` bytes of noise before the reply.
    GarbageBurst {
        /// Noise bytes.
        len: usize,
    },
    /// The reply arrives twice (an echoing line, a repeater): the second copy is stale by the
    /// time the driver reads on.
    Duplicate,
}

/// What to send for one reply after the plan had its say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Bytes to write (possibly empty).
    pub bytes: Vec<u8>,
    /// Wait this long before writing.
    pub delay: Duration,
    /// The fault applied, if any (for the simulator's log).
    pub fault: Option<Fault>,
}

/// A named, seeded schedule of faults.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    name: String,
    rng: u64,
    script: VecDeque<Option<Fault>>,
    odds: Vec<(Fault, u16)>,
    silent: bool,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::none()
    }
}

impl FaultPlan {
    /// No faults: every reply goes out as it is.
    pub fn none() -> Self {
        FaultPlan::named("none")
    }

    /// An empty plan with a name (shown in simulator logs).
    pub fn named(name: impl Into<String>) -> Self {
        FaultPlan {
            name: name.into(),
            rng: 0x9E37_79B9_7F4A_7C15,
            script: VecDeque::new(),
            odds: Vec::new(),
            silent: false,
        }
    }

    /// A cable with a loose contact: 5 % garbage bursts, 5 % truncated replies, 5 % bad checksums.
    pub fn flaky_cable() -> Self {
        FaultPlan::named("flaky_cable")
            .with_odds(Fault::GarbageBurst { len: 7 }, 50)
            .with_odds(Fault::Truncate { keep: 1 }, 50)
            .with_odds(Fault::CorruptChecksum, 50)
    }

    /// The device is switched off: nothing ever comes back.
    pub fn powered_off() -> Self {
        FaultPlan::named("powered_off").then(Fault::Silent)
    }

    /// Seeds the random faults, so a failing run can be repeated exactly.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = seed ^ 0x9E37_79B9_7F4A_7C15;
        self
    }

    /// Applies `fault` to the next scripted reply.
    pub fn then(mut self, fault: Fault) -> Self {
        self.script.push_back(Some(fault));
        self
    }

    /// Lets the next scripted reply through untouched.
    pub fn then_ok(mut self) -> Self {
        self.script.push_back(None);
        self
    }

    /// After the script, applies `fault` to a reply with odds `per_mille`/1000.
    pub fn with_odds(mut self, fault: Fault, per_mille: u16) -> Self {
        self.odds.push((fault, per_mille.min(1000)));
        self
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Powers the device back on (clears [`Fault::Silent`]).
    pub fn power_on(&mut self) {
        self.silent = false;
    }

    /// True once a [`Fault::Silent`] has been drawn.
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64: tiny, good enough to pick faults, and identical on every platform.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Draws the fault for the next reply (script first, then the odds).
    pub fn next_fault(&mut self) -> Option<Fault> {
        if self.silent {
            return Some(Fault::Silent);
        }
        let fault = match self.script.pop_front() {
            Some(scripted) => scripted,
            None => {
                let mut picked = None;
                for i in 0..self.odds.len() {
                    let roll = (self.next_u64() % 1000) as u16;
                    if roll < self.odds[i].1 {
                        picked = Some(self.odds[i].0.clone());
                        break;
                    }
                }
                picked
            }
        };
        if fault == Some(Fault::Silent) {
            self.silent = true;
        }
        fault
    }

    /// Decides what to send instead of `reply`.
    pub fn apply(&mut self, mut reply: Vec<u8>) -> Outgoing {
        let fault = self.next_fault();
        let mut delay = Duration::ZERO;
        match &fault {
            None => {}
            Some(Fault::DropReply | Fault::Silent) => reply.clear(),
            Some(Fault::Truncate { keep }) => reply.truncate(*keep),
            Some(Fault::CorruptChecksum) => {
                if let Some(last) = reply.last_mut() {
                    *last ^= 0xFF;
                }
            }
            Some(Fault::Delay(d)) => delay = *d,
            Some(Fault::Duplicate) => {
                let copy = reply.clone();
                reply.extend_from_slice(&copy);
            }
            Some(Fault::GarbageBurst { len }) => {
                let mut noise: Vec<u8> = (0..*len).map(|_| self.next_u64() as u8).collect();
                noise.extend_from_slice(&reply);
                reply = noise;
            }
        }
        if let Some(f) = &fault {
            tracing::debug!(plan = %self.name, fault = ?f, "simulator fault");
        }
        Outgoing { bytes: reply, delay, fault }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_comes_first_then_clean_replies() {
        let mut p = FaultPlan::named("t").then(Fault::DropReply).then_ok().then(Fault::Truncate { keep: 2 });
        assert!(p.apply(vec![1, 2, 3]).bytes.is_empty());
        assert_eq!(p.apply(vec![1, 2, 3]).bytes, vec![1, 2, 3]);
        assert_eq!(p.apply(vec![1, 2, 3]).bytes, vec![1, 2]);
        assert_eq!(p.apply(vec![1, 2, 3]).fault, None);
    }

    #[test]
    fn corrupt_checksum_flips_the_last_byte() {
        // hardware.md §1.4 OK status frame; its XOR byte 94 becomes 6B.
        let ok = vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94];
        let out = FaultPlan::named("t").then(Fault::CorruptChecksum).apply(ok);
        assert_eq!(*out.bytes.last().unwrap(), 0x6B);
    }

    #[test]
    fn a_duplicated_reply_arrives_twice() {
        let out = FaultPlan::named("t").then(Fault::Duplicate).apply(vec![0x06, 0x02]);
        assert_eq!(out.bytes, vec![0x06, 0x02, 0x06, 0x02]);
    }

    #[test]
    fn powered_off_stays_silent() {
        let mut p = FaultPlan::powered_off();
        for _ in 0..3 {
            assert!(p.apply(vec![0x12]).bytes.is_empty());
        }
        p.power_on();
        assert_eq!(p.apply(vec![0x12]).bytes, vec![0x12]);
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let run = |seed| {
            let mut p = FaultPlan::flaky_cable().seed(seed);
            (0..200).map(|_| p.apply(vec![1, 2, 3])).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let faults = run(7).iter().filter(|o| o.fault.is_some()).count();
        assert!((10..60).contains(&faults), "about 15 % of 200: {faults}");
    }
}
