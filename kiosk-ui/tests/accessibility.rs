//! accessibility.md §2, checked on every screen × {landscape, portrait} × {normal, 长辈模式} and
//! on the mirror, with the real software renderer (real font metrics, so wrapped text takes its
//! real height): every interactive element has a role and a label; every hit area is one;
//! targets meet their size in millimetres; adjacent targets keep 4 mm apart; nothing operational
//! falls outside the screen; no text lies under a button or on another text; 确认缴费 never
//! shares a row with 返回/取消.

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions,
};
use kiosk_core::session::{Intent, Lang};
use kiosk_ui::gallery::{demo_facts, shots};
use kiosk_ui::{view, Kiosk, KioskWindow, MirrorWindow, Theme, LANDSCAPE, PORTRAIT};
use slint::ComponentHandle;

/// 21.5" 1920x1080 panel: 0.248 mm per px (accessibility.md §0). The kiosk runs at scale 1.
const MM_PER_PX: f32 = 0.248;

fn px(mm: f32) -> f32 {
    mm / MM_PER_PX
}

#[derive(Clone, Debug)]
struct Target {
    label: String,
    primary: bool,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Target {
    fn of(e: &ElementHandle) -> Target {
        let (p, s) = (e.absolute_position(), e.size());
        Target {
            label: e.accessible_label().map(|l| l.to_string()).unwrap_or_default(),
            primary: e.accessible_id().as_deref() == Some("primary"),
            x: p.x,
            y: p.y,
            w: s.width,
            h: s.height,
        }
    }

    /// The gap between two rectangles (negative when they overlap).
    fn gap(&self, o: &Target) -> f32 {
        let dx = (o.x - (self.x + self.w)).max(self.x - (o.x + o.w));
        let dy = (o.y - (self.y + self.h)).max(self.y - (o.y + o.h));
        dx.max(dy)
    }

    fn same_row(&self, o: &Target) -> bool {
        self.y < o.y + o.h && o.y < self.y + self.h
    }
}

fn init() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("one platform per test thread");
}

fn visible(e: &ElementHandle) -> bool {
    e.is_valid() && e.computed_opacity() > 0.0 && e.size().width > 0.0 && e.size().height > 0.0
}

/// The visible buttons, each once (the query meets a component's root element more than once).
fn buttons(root: &impl i_slint_backend_testing::ElementRoot) -> Vec<ElementHandle> {
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for e in ElementQuery::from_root(root)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
    {
        if !visible(&e) {
            continue;
        }
        let t = Target::of(&e);
        let key = (t.label.clone(), t.x as i32, t.y as i32, t.w as i32, t.h as i32);
        if !seen.contains(&key) {
            seen.push(key);
            found.push(e);
        }
    }
    found
}

/// Checks one rendered screen; returns the problems found.
fn check_screen(
    root: &impl i_slint_backend_testing::ElementRoot,
    name: &str,
    size: slint::PhysicalSize,
    large: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let targets: Vec<Target> = buttons(root).iter().map(Target::of).collect();
    let (w, h) = (size.width as f32, size.height as f32);
    for t in &targets {
        if t.label.trim().is_empty() {
            problems.push(format!("{name}: a button without a label at ({}, {})", t.x, t.y));
        }
        let min = if t.primary { px(if large { 20.0 } else { 16.0 }) } else { px(10.0) };
        if t.w + 0.5 < min || t.h + 0.5 < min {
            problems.push(format!("{name}: {:?} is {}x{} px, under {min:.0} px", t.label, t.w, t.h));
        }
        if t.x < -0.5 || t.y < -0.5 || t.x + t.w > w + 0.5 || t.y + t.h > h + 0.5 {
            problems.push(format!(
                "{name}: {:?} is outside the screen ({}, {}, {}x{})",
                t.label, t.x, t.y, t.w, t.h
            ));
        }
    }
    for (i, a) in targets.iter().enumerate() {
        for b in &targets[i + 1..] {
            if a.gap(b) + 0.5 < px(4.0) {
                problems.push(format!(
                    "{name}: {:?} and {:?} are {:.1} px apart (< 4 mm)",
                    a.label,
                    b.label,
                    a.gap(b)
                ));
            }
        }
    }
    let confirm = targets.iter().filter(|t| ["确认缴费", "Confirm"].contains(&t.label.as_str()));
    for c in confirm {
        let leave = ["返回", "返回修改", "取消并退出", "Back", "Change", "Cancel and exit"];
        for t in targets.iter().filter(|t| leave.contains(&t.label.as_str())) {
            if c.same_row(t) {
                problems.push(format!("{name}: 确认缴费 shares a row with {:?}", t.label));
            }
        }
    }
    // Operational text and pictures are never pushed off the screen.
    for t in texts(root).into_iter().chain(pictures(root)) {
        if t.y + t.h > h + 0.5 || t.x + t.w > w + 0.5 {
            problems.push(format!("{name}: text {:?} runs off the screen", t.label));
        }
    }
    problems.extend(overlaps(root, name));
    problems.extend(clipped_or_outside(root, name, w, h));
    problems
}

/// Issue 11 item 2, the rest of the fit check: no text is given less room than its words need
/// (each `Words` says "clipped" then), and nothing at all lies outside the panel — a layout
/// whose minimum exceeds the panel pushes something past its edge, and a real window would
/// grow past the panel instead (1966x1080 once, in English 长辈模式).
fn clipped_or_outside(
    root: &impl i_slint_backend_testing::ElementRoot,
    name: &str,
    w: f32,
    h: f32,
) -> Vec<String> {
    let mut problems = Vec::new();
    // Not `visible`: a text squeezed to nothing is the worst clipping of all.
    let shown = |e: &ElementHandle| e.is_valid() && e.computed_opacity() > 0.0;
    for e in ElementQuery::from_root(root).match_descendants().find_all().into_iter().filter(shown) {
        let t = Target::of(&e);
        let what = || {
            let kind = e.type_name().map(|n| n.to_string()).unwrap_or_default();
            format!("{kind} at ({:.0}, {:.0}, {:.0}x{:.0})", t.x, t.y, t.w, t.h)
        };
        let mut found = Vec::new();
        if e.accessible_description().is_some_and(|d| d == "clipped") {
            found.push(format!("{name}: the text of {} is clipped", what()));
        }
        if t.x < -0.5 || t.y < -0.5 || t.x + t.w > w + 0.5 || t.y + t.h > h + 0.5 {
            found.push(format!("{name}: {} lies outside the {w}x{h} panel", what()));
        }
        // An element reached through several of its components is one problem.
        problems.extend(found.into_iter().filter(|p| !problems.contains(p)).collect::<Vec<_>>());
    }
    problems
}

/// The visible texts (facts, prompts, the amount, outcomes), each once.
fn texts(root: &impl i_slint_backend_testing::ElementRoot) -> Vec<Target> {
    with_role(root, AccessibleRole::Text)
}

/// The visible pictures (the "where" picture), each once.
fn pictures(root: &impl i_slint_backend_testing::ElementRoot) -> Vec<Target> {
    with_role(root, AccessibleRole::Image)
}

fn with_role(root: &impl i_slint_backend_testing::ElementRoot, role: AccessibleRole) -> Vec<Target> {
    let mut found: Vec<Target> = Vec::new();
    for e in ElementQuery::from_root(root).match_descendants().match_accessible_role(role).find_all() {
        let t = Target::of(&e);
        let again = found.iter().any(|f| f.label == t.label && f.x == t.x && f.y == t.y);
        if visible(&e) && !again {
            found.push(t);
        }
    }
    found
}

/// Issue 11 item 2 (part of the fit check): no text or picture lies under a button or on
/// another text — the amount due once sat under the footer in 长辈模式, and the mirror's prompt
/// on a fact.
fn overlaps(root: &impl i_slint_backend_testing::ElementRoot, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut texts = texts(root);
    texts.extend(pictures(root));
    let targets: Vec<Target> = buttons(root).iter().map(Target::of).collect();
    for (i, a) in texts.iter().enumerate() {
        for b in targets.iter().chain(&texts[i + 1..]) {
            // Touching edges are fine; a pixel of rounding too.
            if a.gap(b) < -1.0 {
                problems.push(format!("{name}: text {:?} overlaps {:?}", a.label, b.label));
            }
        }
    }
    problems
}

/// The main window, shown, in Chinese (the kiosk's first language).
fn shown_main_window() -> KioskWindow {
    init();
    let main = KioskWindow::new().unwrap();
    kiosk_ui::select_language(kiosk_core::session::Lang::Zh);
    main.show().unwrap();
    main
}

#[test]
fn every_screen_meets_the_checklist_in_every_theme_and_layout() {
    let main = shown_main_window();
    let mut problems = Vec::new();
    let mut checked = 0;
    for lang in [Lang::Zh, Lang::En] {
        kiosk_ui::select_language(lang);
        for shot in shots() {
            for (layout, portrait, size) in [("landscape", false, LANDSCAPE), ("portrait", true, PORTRAIT)] {
                for large in [false, true] {
                    let mut session = shot.session.clone();
                    session.large = large;
                    session.lang = lang;
                    main.window().set_size(size);
                    view::apply(&main, &session, &demo_facts(portrait), shot.now);
                    main.global::<Theme<'_>>().set_large(large);
                    let theme = if large { "large" } else { "normal" };
                    let name = format!("{}-{layout}-{theme}-{lang:?}", shot.name);
                    problems.extend(check_screen(&main, &name, size, large));
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, shots().len() * 8);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_mirror_shows_every_screen_legibly_and_takes_no_taps() {
    init();
    let mirror = MirrorWindow::new().unwrap();
    kiosk_ui::select_language(kiosk_core::session::Lang::Zh);
    mirror.show().unwrap();
    mirror.window().set_size(PORTRAIT);
    mirror.global::<Theme<'_>>().set_mirror(true);
    let mut problems = Vec::new();
    let variants = [Lang::En, Lang::Zh].into_iter().flat_map(|l| [(l, false), (l, true)]);
    for ((lang, large), shot) in variants.flat_map(|v| shots().into_iter().map(move |s| (v, s))) {
        kiosk_ui::select_language(lang);
        let mut session = shot.session.clone();
        session.lang = lang;
        session.large = large;
        mirror.global::<Theme<'_>>().set_large(large);
        view::apply(&mirror, &session, &demo_facts(true), shot.now);
        let name = format!("{}-mirror-{}-{lang:?}", shot.name, if large { "large" } else { "normal" });
        for t in texts(&mirror) {
            if t.y + t.h > PORTRAIT.height as f32 + 0.5 {
                problems.push(format!("{name}: mirror text {:?} runs off the screen", t.label));
            }
        }
        problems.extend(overlaps(&mirror, &name));
        let (w, h) = (PORTRAIT.width as f32, PORTRAIT.height as f32);
        problems.extend(clipped_or_outside(&mirror, &name, w, h));
        // Taps on the mirror do nothing: its buttons are shown, not operated.
        let taps = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = taps.clone();
        mirror.global::<Kiosk<'_>>().on_tap(move |_, _| counter.set(counter.get() + 1));
        for b in buttons(&mirror) {
            b.invoke_accessible_default_action();
        }
        if taps.get() != 0 {
            problems.push(format!("{}: the mirror took a tap", shot.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The blank control hides everything of the session.
    let shot = shots().into_iter().find(|s| s.name == "06-confirm").unwrap();
    let mut session = shot.session;
    session.mirror_blanked = true;
    view::apply(&mirror, &session, &demo_facts(true), shot.now);
    let labels: Vec<String> = ElementQuery::from_root(&mirror)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(visible)
        .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
        .filter(|l| !l.is_empty())
        .fold(Vec::new(), |mut v, l| {
            if !v.contains(&l) {
                v.push(l);
            }
            v
        });
    assert_eq!(labels, vec!["为保护隐私，副屏已遮挡。".to_string()], "nothing but the notice");
}

#[test]
fn every_hit_area_is_a_labelled_button() {
    let main = shown_main_window();
    let mut problems = Vec::new();
    for shot in shots() {
        main.window().set_size(LANDSCAPE);
        view::apply(&main, &shot.session, &demo_facts(false), shot.now);
        let targets: Vec<Target> = buttons(&main).iter().map(Target::of).collect();
        for area in ElementHandle::find_by_element_type_name(&main, "TouchArea").filter(visible) {
            let a = Target::of(&area);
            let labelled = targets.iter().any(|t| {
                (t.x - a.x).abs() <= 1.0
                    && (t.y - a.y).abs() <= 1.0
                    && (t.w - a.w).abs() <= 1.0
                    && (t.h - a.h).abs() <= 1.0
            });
            if !labelled {
                problems.push(format!(
                    "{}: a TouchArea at ({}, {} {}x{}) is not a labelled button",
                    shot.name, a.x, a.y, a.w, a.h
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 11, "where" pictures: every screen that needs the customer's hands shows the kiosk with
/// exactly those parts ringed and named, on the main screen and the mirror, in both languages;
/// no other screen shows one.
#[test]
fn the_hands_on_screens_show_where_on_both_screens() {
    init();
    let main = KioskWindow::new().unwrap();
    let mirror = MirrorWindow::new().unwrap();
    main.show().unwrap();
    mirror.show().unwrap();
    mirror.global::<Theme<'_>>().set_mirror(true);
    let expected = |shot: &str, lang: Lang| -> Option<&'static str> {
        let zh = lang == Lang::Zh;
        Some(match shot {
            "03-find-account-id-card" => {
                if zh {
                    "身份证读卡口"
                } else {
                    "ID card slot"
                }
            }
            "04-find-account-gas-card" => {
                if zh {
                    "IC卡口"
                } else {
                    "IC card slot"
                }
            }
            "09-paying-code" => {
                if zh {
                    "扫码窗口"
                } else {
                    "Scan window"
                }
            }
            "10-paying-bank-card" => {
                if zh {
                    "银行卡口和密码键盘"
                } else {
                    "Bank card slot and PIN pad"
                }
            }
            "14-farewell" => {
                if zh {
                    "银行卡口和密码键盘 · 凭条出口"
                } else {
                    "Bank card slot and PIN pad · Receipt exit"
                }
            }
            "09-paying-cash-rule" | "09-paying-cash" | "09-paying-cash-returned" => {
                if zh {
                    "纸币投入口"
                } else {
                    "Note slot"
                }
            }
            _ => return None,
        })
    };
    let mut problems = Vec::new();
    let mut seen = 0;
    for lang in [Lang::Zh, Lang::En] {
        kiosk_ui::select_language(lang);
        for shot in shots() {
            let mut session = shot.session.clone();
            session.lang = lang;
            for (portrait, size) in [(false, LANDSCAPE), (true, PORTRAIT)] {
                main.window().set_size(size);
                view::apply(&main, &session, &demo_facts(portrait), shot.now);
                mirror.window().set_size(PORTRAIT);
                view::apply(&mirror, &session, &demo_facts(true), shot.now);
                let want = expected(shot.name, lang);
                for (screen, found) in [("main", pictures(&main)), ("mirror", pictures(&mirror))] {
                    let labels: Vec<&str> = found.iter().map(|p| p.label.as_str()).collect();
                    let want: Vec<&str> = want.into_iter().collect();
                    if labels != want {
                        problems.push(format!(
                            "{} {lang:?} {screen} portrait={portrait}: {labels:?}, want {want:?}",
                            shot.name
                        ));
                    }
                    seen += labels.len();
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(seen, 8 * 2 * 2 * 2, "eight screens x two languages x two layouts x main and mirror");
}

/// Accessibility item 21: whichever choice the keypad's 0 / Clear moved to, on every screen of the
/// gallery, exactly one ring is drawn on each screen, and it encloses the button that says that
/// choice in the words the voice used (so what is heard is what is ringed).
#[test]
fn the_focus_ring_is_on_the_button_the_voice_named_on_every_screen() {
    init();
    let main = KioskWindow::new().unwrap();
    let mirror = MirrorWindow::new().unwrap();
    mirror.global::<Theme<'_>>().set_mirror(true);
    main.window().set_size(PORTRAIT);
    mirror.window().set_size(PORTRAIT);
    let mut problems = Vec::new();
    let mut checked = 0;
    for lang in [Lang::Zh, Lang::En] {
        kiosk_ui::select_language(lang);
        // With both screens hidden (private mode) the keypad still steps, but nothing is drawn.
        for shot in shots().into_iter().filter(|s| !s.session.screen_blanked()) {
            let mut session = shot.session.clone();
            session.lang = lang;
            for choice in session.choices() {
                session.focus = Some(choice.clone());
                let label = kiosk_core::session::choice_label(&session, &choice);
                view::apply(&main, &session, &demo_facts(true), shot.now);
                view::apply(&mirror, &session, &demo_facts(true), shot.now);
                for (screen, rings, buttons) in [
                    ("main", rings(&main), with_role(&main, AccessibleRole::Button)),
                    ("mirror", rings(&mirror), with_role(&mirror, AccessibleRole::Button)),
                ] {
                    // The privacy control is in the touch screen's footer; the mirror has none.
                    if screen == "mirror" && choice == Intent::BlankMirror {
                        continue;
                    }
                    let named: Vec<&Target> = buttons.iter().filter(|b| b.label == label).collect();
                    let ok = rings.len() == 1
                        && named.iter().any(|b| {
                            let r = &rings[0];
                            r.x <= b.x && r.y <= b.y && r.x + r.w >= b.x + b.w && r.y + r.h >= b.y + b.h
                        });
                    if !ok {
                        problems.push(format!(
                            "{} {lang:?} {screen}: {choice:?} said {label:?}: {} ring(s), buttons so named: {}",
                            shot.name,
                            rings.len(),
                            named.len()
                        ));
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 40, "choices on the attract, confirm, method, paying and result screens: {checked}");
}

fn rings(root: &impl i_slint_backend_testing::ElementRoot) -> Vec<Target> {
    ElementHandle::find_by_element_id(root, "BigButton::focus-ring")
        .filter(visible)
        .map(|e| Target::of(&e))
        .collect()
}

// Inline .slint: its elements are found through debug info, which .cargo/config.toml turns on.
slint::slint! {
    import { Words } from "ui/widgets/texts.slint";
    // Two texts given less room than their words need, and one given enough, for the check below.
    export component FitProbe inherits Window {
        width: 400px;
        height: 300px;
        Rectangle {
            Words { x: 0; y: 0; width: 120px; height: 40px; text: "A long line of words that wraps"; font-size: 32px; wrap: word-wrap; }
            Words { x: 0; y: 100px; width: 60px; height: 40px; text: "Unwrapped"; font-size: 32px; }
            Words { x: 0; y: 200px; width: 400px; height: 60px; text: "Fits"; font-size: 32px; }
        }
    }
}

/// The fit check can fail: a text with fewer lines than it wraps to, or a line cut short, is
/// reported clipped, and a text with room is not (a check that passed everything would hide the
/// failures it exists for). The screens themselves are checked above.
#[test]
fn the_fit_check_reports_a_clipped_text_and_nothing_else() {
    init();
    let probe = FitProbe::new().unwrap();
    probe.show().unwrap();
    let problems = clipped_or_outside(&probe, "probe", 400.0, 300.0);
    let clipped: Vec<_> = problems.iter().filter(|p| p.contains("is clipped")).collect();
    assert_eq!(clipped.len(), 2, "{problems:#?}");
    assert!(clipped.iter().any(|p| p.contains("(0, 0, 120x40)")), "{problems:#?}");
    assert!(clipped.iter().any(|p| p.contains("(0, 100, 60x40)")), "{problems:#?}");
    assert_eq!(problems.len(), 2, "nothing else: {problems:#?}");
}
