//! Stable device names (`/dev/yizhan/<device>`): the udev rules that make them
//! (packaging/udev/60-yizhan.rules, installed in /usr/lib/udev/rules.d/), read back to explain a
//! name that is missing — which rule should have made it, which USB vendor, product and port it
//! expected, and which USB devices are plugged in instead. The same reader checks the rules'
//! syntax for the package test, where Debian 12's udevadm (systemd 252) has no `verify`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The rules as shipped, for a kiosk run from the source tree (no rules installed).
pub const SHIPPED_RULES: &str = include_str!("../../../packaging/udev/60-yizhan.rules");

/// Where the rules are read from, the first that exists: a site's own copy, then the package's.
pub const RULE_FILES: [&str; 3] = [
    "/etc/udev/rules.d/60-yizhan.rules",
    "/usr/lib/udev/rules.d/60-yizhan.rules",
    "/lib/udev/rules.d/60-yizhan.rules",
];

/// The folder the stable names live in.
pub const NAME_DIR: &str = "/dev/yizhan";

/// One rule that makes a stable name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRule {
    /// The name under /dev/yizhan/ (`printer`, `scanner`, …).
    pub device: String,
    /// The model it is for, from the comment above it.
    pub model: String,
    /// Its line in the file (1-based).
    pub line: usize,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    /// The physical port pattern (`ENV{ID_PATH}`).
    pub port: Option<String>,
    /// The bridge interface (`ENV{ID_USB_INTERFACE_NUM}`).
    pub interface: Option<String>,
}

impl NameRule {
    /// What the rule expects, in a technician's words.
    pub fn expectation(&self) -> String {
        let mut what = format!(
            "USB {}:{}",
            self.vendor.as_deref().unwrap_or("any"),
            self.product.as_deref().unwrap_or("any")
        );
        if let Some(serial) = &self.serial {
            what.push_str(&format!(" with serial {serial}"));
        }
        if let Some(port) = &self.port {
            what.push_str(&format!(" at port {port}"));
        }
        if let Some(interface) = &self.interface {
            what.push_str(&format!(" on interface {interface}"));
        }
        what
    }
}

/// One key of a rule: `KEY{attr} OP "value"`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pair {
    key: String,
    attr: Option<String>,
    op: String,
    value: String,
}

/// Splits one rule line into its pairs, or says what is wrong with it.
fn pairs(line: &str) -> Result<Vec<Pair>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let key_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let key = &rest[..key_end];
        if key.is_empty() {
            return Err(format!("a key was expected at `{rest}`"));
        }
        rest = &rest[key_end..];
        let mut attr = None;
        if let Some(after) = rest.strip_prefix('{') {
            let close = after.find('}').ok_or_else(|| format!("`{key}{{` is not closed"))?;
            attr = Some(after[..close].to_string());
            rest = &after[close + 1..];
        }
        rest = rest.trim_start();
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("`{key}` has no operator"))?;
        rest = rest[op.len()..].trim_start();
        let quoted = rest.strip_prefix('"').ok_or_else(|| format!("the value of `{key}` is not quoted"))?;
        let close = quoted.find('"').ok_or_else(|| format!("the value of `{key}` is not closed"))?;
        pairs.push(Pair {
            key: key.to_string(),
            attr,
            op: op.to_string(),
            value: quoted[..close].to_string(),
        });
        rest = quoted[close + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("a comma was expected before `{rest}`"));
        }
    }
    Ok(pairs)
}

/// Keys that only match, keys that only assign, and the ones that may do either (udev(7)).
const MATCH_ONLY: [&str; 13] = [
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "SUBSYSTEM",
    "DRIVER",
    "KERNELS",
    "SUBSYSTEMS",
    "DRIVERS",
    "ATTRS",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
];
const ASSIGN_ONLY: [&str; 8] = ["OWNER", "GROUP", "MODE", "LABEL", "GOTO", "RUN", "OPTIONS", "SECLABEL"];
const EITHER: [&str; 8] = ["NAME", "SYMLINK", "ENV", "TAG", "ATTR", "SYSCTL", "IMPORT", "CONST"];
/// Keys that take `{…}`.
const WITH_ATTR: [&str; 9] = ["ATTRS", "ATTR", "ENV", "SYSCTL", "TEST", "IMPORT", "RUN", "SECLABEL", "CONST"];

fn check_pair(pair: &Pair) -> Result<(), String> {
    let key = pair.key.as_str();
    let matching = pair.op == "==" || pair.op == "!=";
    if MATCH_ONLY.contains(&key) && !matching {
        return Err(format!("`{key}` only matches: use == or !="));
    }
    if ASSIGN_ONLY.contains(&key) && matching {
        return Err(format!("`{key}` only assigns: use =, += or :="));
    }
    if !MATCH_ONLY.contains(&key) && !ASSIGN_ONLY.contains(&key) && !EITHER.contains(&key) {
        return Err(format!("unknown key `{key}`"));
    }
    let needs_attr = matches!(key, "ATTRS" | "ATTR" | "ENV" | "SYSCTL" | "SECLABEL" | "CONST");
    if needs_attr && pair.attr.is_none() {
        return Err(format!("`{key}` needs {{…}}"));
    }
    if pair.attr.is_some() && !WITH_ATTR.contains(&key) {
        return Err(format!("`{key}` takes no {{…}}"));
    }
    if key == "MODE" && !(pair.value.len() == 4 && pair.value.chars().all(|c| ('0'..='7').contains(&c))) {
        return Err(format!("MODE \"{}\" is not four octal digits", pair.value));
    }
    Ok(())
}

/// Every syntax problem in a rules file, as `line N: what`. Each line must be a comment, blank,
/// or pairs udev(7) allows; every GOTO must have its LABEL.
pub fn syntax_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut labels = BTreeSet::new();
    let mut gotos = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.ends_with('\\') {
            problems.push(format!("line {number}: continued lines are not used here"));
            continue;
        }
        match pairs(line) {
            Ok(found) => {
                for pair in &found {
                    if let Err(problem) = check_pair(pair) {
                        problems.push(format!("line {number}: {problem}"));
                    }
                    match pair.key.as_str() {
                        "LABEL" => {
                            labels.insert(pair.value.clone());
                        }
                        "GOTO" => gotos.push((number, pair.value.clone())),
                        _ => {}
                    }
                }
                if !found.iter().any(|p| p.op != "==" && p.op != "!=") {
                    problems.push(format!("line {number}: a rule that assigns nothing"));
                }
            }
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    for (number, label) in gotos {
        if !labels.contains(&label) {
            problems.push(format!("line {number}: GOTO \"{label}\" has no LABEL"));
        }
    }
    problems
}

/// The rules that make a name under /dev/yizhan/, in file order.
pub fn name_rules(text: &str) -> Vec<NameRule> {
    let mut rules = Vec::new();
    let mut comment = String::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix('#') {
            comment = text.trim().to_string();
            continue;
        }
        let Ok(found) = pairs(line) else { continue };
        let value = |key: &str, attr: Option<&str>| {
            found.iter().find(|p| p.key == key && p.attr.as_deref() == attr).map(|p| p.value.clone())
        };
        let Some(device) = value("SYMLINK", None).and_then(|s| s.strip_prefix("yizhan/").map(str::to_string))
        else {
            continue;
        };
        // The comment reads `<device>: <model>`.
        let model = comment.split_once(": ").map_or(comment.clone(), |(_, model)| model.to_string());
        rules.push(NameRule {
            device,
            model,
            line: index + 1,
            vendor: value("ATTRS", Some("idVendor")),
            product: value("ATTRS", Some("idProduct")),
            serial: value("ATTRS", Some("serial")),
            port: value("ENV", Some("ID_PATH")),
            interface: value("ENV", Some("ID_USB_INTERFACE_NUM")),
        });
        comment.clear();
    }
    rules
}

/// The rules file in force and its text: the first of [`RULE_FILES`] that exists, else the
/// shipped text (a kiosk run from the source tree).
pub fn rules_in_force() -> (String, String) {
    for file in RULE_FILES {
        if let Ok(text) = std::fs::read_to_string(file) {
            return (file.to_string(), text);
        }
    }
    ("packaging/udev/60-yizhan.rules (not installed on this machine)".to_string(), SHIPPED_RULES.to_string())
}

/// A USB device plugged in, as sysfs lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsbDevice {
    pub vendor: String,
    pub product: String,
    /// The product string, when the device gives one.
    pub name: String,
    /// Its place on the bus (`1-2.1`).
    pub port: String,
}

/// The USB devices under `sysfs` (normally `/sys`), sorted by port.
pub fn usb_devices(sysfs: &Path) -> Vec<UsbDevice> {
    let Ok(entries) = std::fs::read_dir(sysfs.join("bus/usb/devices")) else { return Vec::new() };
    let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).map(|s| s.trim().to_string());
    let mut devices: Vec<UsbDevice> = entries
        .flatten()
        .filter_map(|entry| {
            let dir = entry.path();
            let vendor = read(&dir, "idVendor").ok()?;
            let product = read(&dir, "idProduct").ok()?;
            // Root hubs are the bus itself.
            if vendor == "1d6b" {
                return None;
            }
            Some(UsbDevice {
                vendor,
                product,
                name: read(&dir, "product").unwrap_or_default(),
                port: entry.file_name().to_string_lossy().to_string(),
            })
        })
        .collect();
    devices.sort_by(|a, b| a.port.cmp(&b.port));
    devices
}

/// Why `path` (a name under /dev/yizhan/) is not there, for `yizhan devices` and the doctor:
/// which rule should make it and what it expected, and what is plugged in instead. `None` when
/// the path is not a stable name or exists.
pub fn explain_missing(
    path: &Path,
    rules_file: &str,
    rules: &[NameRule],
    usb: &[UsbDevice],
) -> Option<String> {
    let device = path.strip_prefix(NAME_DIR).ok()?.to_str()?.to_string();
    if path.exists() {
        return None;
    }
    let mut text = format!("{} is missing.", path.display());
    let candidates: Vec<&NameRule> = rules.iter().filter(|r| r.device == device).collect();
    if candidates.is_empty() {
        text.push_str(&format!(
            " No rule in {rules_file} makes it: the configuration names a device the rules do not know."
        ));
        return Some(text);
    }
    for rule in &candidates {
        text.push_str(&format!(
            "\n  the rule at line {} of {rules_file} ({}) expects {}",
            rule.line,
            rule.model,
            rule.expectation()
        ));
        let same_id: Vec<&UsbDevice> = usb
            .iter()
            .filter(|d| rule.vendor.as_deref().is_none_or(|v| v == d.vendor))
            .filter(|d| rule.product.as_deref().is_none_or(|p| p == d.product))
            .collect();
        if same_id.is_empty() {
            text.push_str(": no such device is plugged in");
        } else {
            let ports: Vec<&str> = same_id.iter().map(|d| d.port.as_str()).collect();
            text.push_str(&format!(
                ": one is plugged in at {} — a different port, or the rule's port does not match this cabinet",
                ports.join(", ")
            ));
        }
    }
    if usb.is_empty() {
        text.push_str("\n  no USB device is plugged in at all");
    } else {
        text.push_str("\n  plugged in:");
        for d in usb {
            text.push_str(&format!("\n    {}:{} at {} {}", d.vendor, d.product, d.port, d.name));
        }
    }
    Some(text)
}

/// The stable names a configuration uses that are missing, each explained.
pub fn explain_all_missing(paths: &[(&'static str, PathBuf)], sysfs: &Path) -> Vec<(&'static str, String)> {
    let (file, text) = rules_in_force();
    let rules = name_rules(&text);
    let usb = usb_devices(sysfs);
    paths
        .iter()
        .filter_map(|(device, path)| explain_missing(path, &file, &rules, &usb).map(|why| (*device, why)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_have_no_syntax_problem_and_name_every_device() {
        assert_eq!(syntax_problems(SHIPPED_RULES), Vec::<String>::new());
        let names: BTreeSet<String> = name_rules(SHIPPED_RULES).into_iter().map(|r| r.device).collect();
        for device in [
            "printer",
            "scanner",
            "idcard",
            "idcard-slot",
            "eject-button",
            "iccard",
            "bankcard",
            "bankcard-slot",
            "cash",
        ] {
            assert!(names.contains(device), "no rule makes /dev/yizhan/{device}");
        }
    }

    #[test]
    fn syntax_problems_are_found_and_placed() {
        let text = "# fine\nSUBSYSTEM==\"tty\", SYMLINK+=\"yizhan/x\"\nSUBSYSTEM=\"tty\", MODE=\"0660\"\n\
                    ATTRS{idVendor}==\"1a86\" SYMLINK+=\"a\"\nGROUP==\"dialout\"\nFOO==\"1\", MODE=\"66\"\n\
                    ENV==\"x\", GOTO=\"nowhere\"\nSYMLINK+=\"open\n";
        let problems = syntax_problems(text);
        let expected = [
            "line 3: `SUBSYSTEM` only matches",
            "line 4: a comma was expected",
            "line 5: `GROUP` only assigns",
            "line 5: a rule that assigns nothing",
            "line 6: unknown key `FOO`",
            "line 6: MODE \"66\" is not four octal digits",
            "line 7: `ENV` needs {…}",
            "line 8: the value of `SYMLINK` is not closed",
            "line 7: GOTO \"nowhere\" has no LABEL",
        ];
        for want in expected {
            assert!(problems.iter().any(|p| p.starts_with(want)), "{want} not in {problems:#?}");
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }

    fn sysfs_with(devices: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (port, vendor, product) in devices {
            let dir = root.path().join("bus/usb/devices").join(port);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("idVendor"), format!("{vendor}\n")).unwrap();
            std::fs::write(dir.join("idProduct"), format!("{product}\n")).unwrap();
            std::fs::write(dir.join("product"), "USB Serial\n").unwrap();
        }
        root
    }

    #[test]
    fn a_missing_name_is_explained_by_its_rule_and_what_is_plugged_in() {
        let rules = name_rules(SHIPPED_RULES);
        // The printer's bridge is in, on another port than the rule's; the root hub is not listed.
        let sysfs = sysfs_with(&[("usb1", "1d6b", "0002"), ("1-3", "1a86", "7523")]);
        let usb = usb_devices(sysfs.path());
        assert_eq!(usb.len(), 1);
        let why = explain_missing(Path::new("/dev/yizhan/printer"), "60-yizhan.rules", &rules, &usb).unwrap();
        assert!(why.starts_with("/dev/yizhan/printer is missing."), "{why}");
        assert!(why.contains("the rule at line 18 of 60-yizhan.rules (a thermal kiosk printer"), "{why}");
        assert!(why.contains("expects USB 1a86:7523 at port *-usb-0:*.1:1.0"), "{why}");
        assert!(why.contains("one is plugged in at 1-3"), "{why}");
        assert!(why.contains("1a86:7523 at 1-3 USB Serial"), "{why}");

        // The scanner: two rules (Honeywell, Newland), neither device in.
        let why = explain_missing(Path::new("/dev/yizhan/scanner"), "f", &rules, &[]).unwrap();
        assert!(why.contains("(a Honeywell scan engine") && why.contains("USB 0c2e:any"), "{why}");
        assert!(why.contains("(a Newland scan engine") && why.contains("USB 1eab:any"), "{why}");
        assert!(
            why.contains("no such device is plugged in")
                && why.contains("no USB device is plugged in at all")
        );

        let why = explain_missing(Path::new("/dev/yizhan/coffee"), "f", &rules, &[]).unwrap();
        assert!(why.contains("No rule in f makes it"), "{why}");
        // Not a stable name: nothing to say.
        assert_eq!(explain_missing(Path::new("/dev/ttyUSB0"), "f", &rules, &[]), None);
    }
}
