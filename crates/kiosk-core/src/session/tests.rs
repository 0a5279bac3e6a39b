use super::*;
use crate::{AccountNo, Bill, Fen, Ts, Utility};

fn bill(amount: i64) -> Bill {
    Bill {
        utility: Utility::Water,
        account: AccountNo::from_trusted("3100000018"),
        bill_id: "B1".into(),
        version: 1,
        amount_due: Fen(amount),
        due_date: "2026-12-15".into(),
        period: Some("2026-11".into()),
        holder_masked: "张*明".into(),
        address_masked: "静安区**路**号".into(),
        prepayment: false,
        recent_payments: vec![],
    }
}

/// How a payment of `fen` for order `order_ref` ended: no slip printed, no card kept.
fn outcome(kind: OutcomeKind, order_ref: &str, fen: i64) -> Outcome {
    Outcome { kind, order_ref: order_ref.into(), amount: Fen(fen), slip_printed: false, card_kept: false }
}

/// The account entered so far ("" when none).
fn typed(s: &Session) -> &str {
    s.account().map_or("", |account| account.digits.as_str())
}

/// Types `digits` on the find-account screen and looks them up a moment later (the bill is not
/// answered).
fn look_up_typed(s: &mut Session, digits: &str, at: i64) {
    for d in digits.bytes() {
        tap(s, Intent::Digit(d - b'0'), at);
    }
    tap(s, Intent::SubmitAccount, at + 600);
    assert!(s.busy(), "looking the account up");
}

/// How a payment ended, for a service (a water bill or a gas card) paid by `method`.
fn ended(service: Service, method: MethodChoice, outcome: Outcome, receipt: ReceiptState) -> Ending {
    let found = match service {
        Service::GasCard => Found::GasCard(GasCardInfo {
            card_masked: "88******21".into(),
            account: AccountNo::from_trusted("5100000007"),
            purchase_count: 3,
        }),
        _ => Found::Bill(bill(outcome.amount.0)),
    };
    let order = Order { service, account: AccountEntry::default(), found, top_up: None };
    Ending { order, method, outcome, receipt }
}

fn tap(s: &mut Session, intent: Intent, at: i64) -> Vec<Command> {
    s.step(Input::Tap(intent), Ts(at))
}

/// Ticks every 100 ms from `from` until the screen changes; what that tick commanded.
fn tick_until_it_changes(s: &mut Session, from: i64) -> Vec<Command> {
    let before = s.screen();
    let mut t = from;
    loop {
        t += 100;
        let commands = s.step(Input::Tick, Ts(t));
        if s.screen() != before {
            return commands;
        }
        assert!(t < from + 600_000, "{before:?} never timed out");
    }
}

fn spoken(cmds: &[Command]) -> String {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Speak(lines) => Some(lines.join(" ")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Attract → find account (typed) → confirm → method; returns the session on the method screen.
fn to_method(at: &mut i64) -> Session {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Water), *at);
    for d in [3, 1, 0, 0, 0, 0, 0, 0, 1, 8] {
        *at += 600;
        tap(&mut s, Intent::Digit(d), *at);
    }
    *at += 600;
    let cmds = tap(&mut s, Intent::SubmitAccount, *at);
    assert!(cmds.contains(&Command::FetchBill { service: Service::Water, account: "3100000018".into() }));
    s.step(Input::Found(Found::Bill(bill(12345))), Ts(*at + 10));
    assert_eq!(s.screen(), Screen::Confirm);
    *at += 600;
    tap(&mut s, Intent::ConfirmBill, *at);
    assert_eq!(s.screen(), Screen::Method);
    s
}

#[test]
fn a_standard_bill_takes_five_screens_after_idle() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    at += 600;
    let cmds = tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at);
    assert!(cmds.contains(&Command::Pay { method: MethodChoice::Code }));
    assert_eq!(s.screen(), Screen::Paying);
    s.step(Input::Finished(outcome(OutcomeKind::Paid, "K1", 12345)), Ts(at));
    assert_eq!(s.screen(), Screen::Result);
    assert_eq!(
        words::step_of(Screen::Result, Some(Service::Water), Lang::Zh).as_deref(),
        Some("第5步/共5步")
    );
}

#[test]
fn a_repeated_tap_within_half_a_second_is_ignored_and_pay_is_asked_once() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    let first = tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    let second = tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 800);
    let third = tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 2000);
    let pays =
        [first, second, third].concat().into_iter().filter(|c| matches!(c, Command::Pay { .. })).count();
    assert_eq!(pays, 1, "a payment is started once, whatever the taps");
}

/// Item 18: when the first tap of a double tap changes the screen, the second lands on the new
/// screen and is ignored too — 确认缴费 tapped twice never chooses the way to pay that the method
/// screen has under the finger; a deliberate tap half a second on counts.
#[test]
fn a_double_tap_that_changed_the_screen_does_not_act_on_the_next_one() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Water), 0);
    look_up_typed(&mut s, "3100000018", 1_000);
    s.step(Input::Found(Found::Bill(bill(12345))), Ts(2_000));
    assert_eq!(s.screen(), Screen::Confirm);
    tap(&mut s, Intent::ConfirmBill, 3_000);
    assert_eq!(s.screen(), Screen::Method);
    let second = tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), 3_200);
    assert!(!second.iter().any(|c| matches!(c, Command::Pay { .. })), "{second:?}");
    assert_eq!(s.screen(), Screen::Method);
    let meant = tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), 3_600);
    assert!(meant.iter().any(|c| matches!(c, Command::Pay { .. })), "{meant:?}");
}

/// Issue 11, item 1: 3,1,0,0,0,0,0,0,5 at a normal pace (0.35 s a tap) is 310000005, every
/// digit spoken — the repeat guard is for commit buttons, never the keypad.
#[test]
fn repeated_digits_typed_at_a_normal_pace_all_count_and_each_is_spoken() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Power), 0);
    let mut heard = Vec::new();
    for (i, d) in [3, 1, 0, 0, 0, 0, 0, 0, 5].into_iter().enumerate() {
        heard.push(spoken(&tap(&mut s, Intent::Digit(d), 1_000 + 350 * i as i64)));
    }
    assert_eq!(typed(&s), "310000005");
    assert_eq!(heard.join(" "), "3 1 0 0 0 0 0 0 5");
    tap(&mut s, Intent::DeleteDigit, 5_000);
    tap(&mut s, Intent::DeleteDigit, 5_200);
    assert_eq!(typed(&s), "3100000", "each delete counts too");
}

#[test]
fn the_warning_comes_30_s_early_can_be_extended_without_limit_and_the_timeout_wipes_everything() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ToggleLarge, at + 600);
    at += 600;
    let limit = s.timing().input_large.as_millis() as i64;
    for _ in 0..12 {
        let quiet = s.step(Input::Tick, Ts(at + limit - 31_000));
        assert!(!s.warning && quiet.is_empty());
        let warn = s.step(Input::Tick, Ts(at + limit - 30_000));
        assert!(s.warning, "warned 30 s ahead");
        assert!(spoken(&warn).contains("继续办理"));
        at += limit - 29_000;
        tap(&mut s, Intent::Extend, at);
        assert!(!s.warning);
        assert_eq!(s.screen(), Screen::Method);
    }
    s.step(Input::Tick, Ts(at + limit - 30_000));
    let end = s.step(Input::Tick, Ts(at + limit));
    assert!(end.contains(&Command::WipePersonalData));
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.stage == Stage::Attract && s.amount().is_none(), "nothing of theirs is kept");
    assert!(!s.large, "长辈模式 resets for the next person");
}

#[test]
fn nothing_times_out_while_money_is_in_flight() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    s.step(Input::Progress(PayPhase::WaitingForPin), Ts(at + 5_000));
    let later = s.step(Input::Tick, Ts(at + 3_600_000));
    assert!(!later.contains(&Command::WipePersonalData));
    assert_eq!(s.screen(), Screen::Paying);
    assert!(tap(&mut s, Intent::Exit, at + 3_600_100).is_empty(), "no leaving while money moves");
    assert!(tap(&mut s, Intent::Back, at + 3_600_900).is_empty());
}

#[test]
fn the_code_window_counts_down_aloud() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    at += 600;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at);
    // Item 34: said at 60, 30 and 10 s.
    let said60 = s.step(Input::Tick, Ts(at + 500));
    assert!(spoken(&said60).contains("还有60秒"), "{}", spoken(&said60));
    let said30 = s.step(Input::Tick, Ts(at + 30_000));
    assert!(spoken(&said30).contains("还有30秒"));
    let again = s.step(Input::Tick, Ts(at + 30_500));
    assert!(again.is_empty(), "each mark is said once");
    let said10 = s.step(Input::Tick, Ts(at + 50_000));
    assert!(spoken(&said10).contains("还有10秒"));
}

#[test]
fn a_late_tick_says_only_the_latest_countdown_mark() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    at += 600;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at);
    let late = spoken(&s.step(Input::Tick, Ts(at + 30_000)));
    assert!(late.contains("还有30秒") && !late.contains("还有60秒"), "{late}");
    assert!(s.step(Input::Tick, Ts(at + 31_000)).is_empty(), "60 is not said after 30");
}

#[test]
fn a_bad_scan_keeps_the_customer_on_the_paying_screen_with_nothing_sent() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    s.step(
        Input::CodeProblem(Notice::error(Text::new("This code could not be read. Please scan again."))),
        Ts(at + 2_000),
    );
    assert_eq!(s.screen(), Screen::Paying);
    assert!(!s.money_in_flight());
    let again = tap(&mut s, Intent::ScanAgain, at + 3_000);
    assert!(again.contains(&Command::Pay { method: MethodChoice::Code }));
}

#[test]
fn amend_goes_back_with_the_account_kept() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::Back, at + 600);
    assert_eq!(s.screen(), Screen::Confirm);
    tap(&mut s, Intent::Amend, at + 1_200);
    assert_eq!(s.screen(), Screen::FindAccount);
    assert_eq!(typed(&s), "3100000018");
}

#[test]
fn what_is_down_is_withdrawn_and_said_and_nothing_working_means_out_of_service() {
    let mut s = Session::default();
    let no_scanner =
        Availability { scanner: false, receipt: ReceiptOutlook::Unavailable, ..Default::default() };
    s.step(Input::Availability(no_scanner), Ts(0));
    assert_eq!(s.screen(), Screen::Attract);
    let said = spoken(&tap(&mut s, Intent::Repeat, 100));
    // The idle screen says what works (the ways to pay); the method screen says what does not.
    assert!(said.contains("本机可用：银行卡") && said.contains("没有纸质凭条"), "{said}");
    assert_eq!(words::degraded_on(Screen::Method, &s.availability, Lang::Zh).len(), 2);
    assert!(words::degraded_on(Screen::Method, &s.availability, Lang::Zh)[0].contains("扫码器暂停使用"));
    let nothing = Availability { scanner: false, bank_card: false, ..Default::default() };
    s.step(Input::Availability(nothing), Ts(200));
    assert_eq!(s.screen(), Screen::OutOfService);
    assert!(tap(&mut s, Intent::Start(Service::Water), 800).is_empty());
    s.step(Input::Availability(Availability::default()), Ts(900));
    assert_eq!(s.screen(), Screen::Attract);
}

#[test]
fn a_journal_that_cannot_be_trusted_puts_the_kiosk_out_of_service_with_every_device_working() {
    let mut s = Session::default();
    s.step(Input::Availability(Availability { journal: false, ..Default::default() }), Ts(0));
    assert_eq!(s.screen(), Screen::OutOfService);
    assert!(tap(&mut s, Intent::Start(Service::Water), 600).is_empty(), "no payment can start");
    let said = spoken(&tap(&mut s, Intent::Repeat, 1_200));
    assert!(said.contains("暂停收款") && said.contains("已付的款项不受影响"), "{said}");
}

#[test]
fn no_paper_is_said_before_money_moves_and_no_receipt_is_offered() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    let said = spoken(&s.step(
        Input::Availability(Availability { receipt: ReceiptOutlook::Unavailable, ..Default::default() }),
        Ts(at),
    ));
    assert!(said.is_empty());
    let said = spoken(&tap(&mut s, Intent::Repeat, at + 600));
    assert!(said.contains("没有纸质凭条"), "{said}");
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 1_200);
    s.step(Input::Finished(outcome(OutcomeKind::Paid, "K1", 1)), Ts(at + 2_000));
    assert_eq!(s.receipt(), Some(&ReceiptState::Unavailable));
    assert!(tap(&mut s, Intent::Receipt(true), at + 3_000).is_empty());
}

#[test]
fn a_staff_pin_is_never_spoken_and_staff_actions_are_commands() {
    let mut s = Session::default();
    tap(&mut s, Intent::StaffSignInOpen, 0);
    let said = spoken(&tap(&mut s, Intent::Digit(7), 600));
    assert_eq!(said, "星号");
    let cmds = tap(&mut s, Intent::StaffSubmit, 1_200);
    assert_eq!(cmds.last(), Some(&Command::CheckStaffPin { pin: "7".into() }));
    let cmds = s.step(Input::StaffSignedIn { staff_id: "S001".into() }, Ts(1_300));
    assert!(cmds.contains(&Command::Staff { staff_id: "S001".into(), action: StaffCommand::SignedIn }));
    assert_eq!(s.screen(), Screen::StaffPanel);
    assert!(s.pin().is_empty());
    let cmds = tap(&mut s, Intent::StaffReprint, 2_000);
    assert!(cmds.contains(&Command::Staff { staff_id: "S001".into(), action: StaffCommand::Reprint }));
}

#[test]
fn amounts_are_read_as_money_and_accounts_digit_by_digit() {
    assert_eq!(words::spoken_amount(Fen(12345), Lang::Zh), "123元4角5分");
    assert_eq!(words::spoken_amount(Fen(10005), Lang::Zh), "100元零5分");
    assert_eq!(words::spoken_amount(Fen(5000), Lang::Zh), "50元整");
    assert_eq!(words::spoken_amount(Fen(12345), Lang::En), "123 yuan 45 fen");
    assert_eq!(words::spoken_amount(Fen(1230), Lang::Zh), "12元3角");
    assert_eq!(words::spoken_amount(Fen(1230), Lang::En), "12 yuan 30 fen");
    assert_eq!(words::spoken_amount(Fen(10005), Lang::En), "100 yuan 5 fen");
    assert_eq!(words::spoken_amount(Fen(5000), Lang::En), "50 yuan");
    assert_eq!(words::spoken_amount(Fen(-5000), Lang::Zh), "-50元整");
    assert_eq!(words::spoken_digits("31**18", Lang::Zh), "3 1 星号 星号 1 8");
    assert_eq!(words::spoken_digits("31**18", Lang::En), "3 1 star star 1 8");
}

#[test]
fn the_confirm_script_reads_back_payee_account_and_amount() {
    let mut s = Session::default();
    s.step(Input::Headset(true), Ts(0));
    tap(&mut s, Intent::Start(Service::Water), 0);
    look_up_typed(&mut s, "3100000018", 0);
    let said = spoken(&s.step(Input::Found(Found::Bill(bill(12345))), Ts(10)));
    assert!(said.contains("水费") && said.contains("123元4角5分") && said.contains("张*明"), "{said}");
    assert!(said.contains("户号尾号0 0 1 8"), "a masked number is said by its end: {said}");
    assert!(!said.contains("星"), "stars are not words");
    assert!(!said.contains("3100000018"), "the full account is never spoken");
    let confirm = said.find("确认缴费").unwrap();
    assert!(confirm < said.find("123元4角5分").unwrap(), "the action first, then the facts: {said}");
}

/// Accessibility item 39: the customer's name and account are said only into a headset; the
/// loudspeaker says where to find them. Plugging in routes the voice and says so; pulling out
/// routes it back. The jack outlives the session.
#[test]
fn personal_data_is_said_only_into_a_headset() {
    let mut s = Session::default();
    s.headset_jack = true;
    tap(&mut s, Intent::Start(Service::Water), 0);
    look_up_typed(&mut s, "3100000018", 0);
    let aloud = spoken(&s.step(Input::Found(Found::Bill(bill(12345))), Ts(10)));
    assert!(aloud.contains("123元4角5分") && aloud.contains("插上耳机可以听到"), "{aloud}");
    assert!(!aloud.contains("张*明") && !aloud.contains("户号尾号"), "no personal data aloud: {aloud}");
    // A sighted customer blanked the mirror; a headset plugged in later does not hide their
    // own screen.
    tap(&mut s, Intent::BlankMirror, 500);
    assert!(s.mirror_blanked);

    let plugged = s.step(Input::Headset(true), Ts(20));
    assert!(plugged.contains(&Command::RouteSpeech { headset: true }), "{plugged:?}");
    assert!(spoken(&plugged).contains("语音只从耳机播放"), "{plugged:?}");
    assert!(!s.screen_blanked(), "plugging in alone never hides the touch screen");
    assert!(s.step(Input::Headset(true), Ts(30)).is_empty(), "no news without a change");
    let private = spoken(&tap(&mut s, Intent::Repeat, 1_000));
    assert!(private.contains("张*明") && private.contains("户号尾号0 0 1 8"), "{private}");
    assert!(!private.contains("户名和户号请看屏幕"), "{private}");

    // In private mode the blank control hides both screens, says so, and is one of the
    // keypad's choices (hiding the screens needs no sight).
    assert!(s.choices().contains(&Intent::BlankMirror), "{:?}", s.choices());
    let hidden = tap(&mut s, Intent::BlankMirror, 2_000);
    assert!(s.mirror_blanked && s.screen_blanked(), "both screens hidden");
    assert!(spoken(&hidden).contains("两块屏幕都已遮挡"), "{hidden:?}");

    // Pulling the headset out stops what it was being told before the voice goes back to the
    // loudspeaker, and shows the touch screen again.
    let pulled = s.step(Input::Headset(false), Ts(2_500));
    let stop = pulled.iter().position(|c| *c == Command::StopSpeech);
    let route = pulled.iter().position(|c| *c == Command::RouteSpeech { headset: false });
    assert!(stop.is_some() && stop < route, "{pulled:?}");
    assert!(!s.headset && !s.screen_blanked() && s.mirror_blanked, "the mirror stays blanked");
    assert!(!s.choices().contains(&Intent::BlankMirror));

    s.step(Input::Headset(true), Ts(3_000));
    tap(&mut s, Intent::Exit, 4_000);
    assert!(s.headset && s.headset_jack, "the jack stays in and watched; the next customer starts");
    assert!(!s.screen_blanked() && !s.mirror_blanked, "the next customer sees both screens");
}

/// 再办一笔 is the same person: what they hid stays hidden.
#[test]
fn another_payment_keeps_the_screens_the_customer_hid() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    s.step(Input::Headset(true), Ts(at + 100));
    tap(&mut s, Intent::BlankMirror, at + 600);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 1_200);
    let outcome = outcome(OutcomeKind::NotCharged, "K1", 12345);
    s.step(Input::Finished(outcome), Ts(at + 2_000));
    tap(&mut s, Intent::Another, at + 3_000);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.screen_blanked() && s.mirror_blanked, "still hidden for the same customer");
}

/// Items 37, 38: 再办一笔 after money moved says what to take, and the session's end does not
/// stop that voice (it came before the StopSpeech, and was never heard).
#[test]
fn another_payment_after_paying_is_told_what_to_take_and_hears_it() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), at + 600);
    s.step(Input::Finished(outcome(OutcomeKind::Paid, "K6", 12345)), Ts(at + 1_000));
    tap(&mut s, Intent::Receipt(false), at + 2_000);
    let commands = tap(&mut s, Intent::Another, at + 3_000);
    assert_eq!(s.screen(), Screen::Attract);
    let stopped =
        commands.iter().rposition(|c| *c == Command::StopSpeech).expect("the session's voice stops");
    let said = commands.iter().rposition(|c| matches!(c, Command::Speak(_))).expect("what to take is said");
    assert!(said > stopped, "said after the stop: {commands:?}");
    assert!(spoken(&commands[said..]).contains("银行卡"), "{}", spoken(&commands[said..]));
}

/// Issue 11, item 7: the voice gets sentences ended in its own language; an English voice never
/// reads "。".
#[test]
fn an_utterance_ends_each_line_in_the_voice_s_language() {
    let lines = vec!["Please check the payment".to_string(), "Amount: 86 yuan 40 fen".to_string()];
    assert_eq!(speech::utterance(&lines, Lang::En), "Please check the payment. Amount: 86 yuan 40 fen.");
    let zh = vec!["请核对缴费信息".to_string(), "核对无误请按「确认缴费」。".to_string()];
    assert_eq!(speech::utterance(&zh, Lang::Zh), "请核对缴费信息。核对无误请按「确认缴费」。");
}

/// Issue 11, item 7: the inactivity timer waits while the screen is said — the customer's
/// minute starts when the voice stops.
#[test]
fn the_timeout_warning_waits_for_the_screen_to_be_said() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Water), 0);
    let said = speech::spoken_seconds(&speech::script(&s), s.lang);
    assert!(said > 3.0, "{said}");
    let warn_at_without_speech = 60_000 - 30_000;
    let cmds = s.step(Input::Tick, Ts(warn_at_without_speech + 100));
    assert!(
        !s.warning && !spoken(&cmds).contains("继续"),
        "no warning while the customer's time has not run"
    );
    s.step(Input::Tick, Ts(warn_at_without_speech + (said * 1_000.0) as i64 + 100));
    assert!(s.warning);
}

#[test]
fn a_whole_bill_can_be_paid_from_the_physical_keypad_alone() {
    let mut s = Session::default();
    let mut at = 0;
    let mut press = |s: &mut Session, key: Key| {
        at += 1_000;
        let intent = s.key_intent(key).unwrap_or_else(|| panic!("{key:?} means nothing on {:?}", s.screen()));
        s.step(Input::Tap(intent), Ts(at))
    };
    press(&mut s, Key::Digit(1));
    assert_eq!((s.screen(), s.service()), (Screen::FindAccount, Some(Service::Water)));
    for d in [3, 1, 0, 0, 0, 0, 0, 0, 1, 8, 9] {
        press(&mut s, Key::Digit(d));
    }
    press(&mut s, Key::Clear);
    assert_eq!(typed(&s), "3100000018");
    let cmds = press(&mut s, Key::Enter);
    assert!(cmds.iter().any(|c| matches!(c, Command::FetchBill { .. })));
    s.step(Input::Found(Found::Bill(bill(500))), Ts(20_000));
    press(&mut s, Key::Enter);
    assert_eq!(s.screen(), Screen::Method);
    let cmds = press(&mut s, Key::Digit(1));
    assert!(cmds.contains(&Command::Pay { method: MethodChoice::Code }));
    assert_eq!(
        s.key_intent(Key::Cancel),
        Some(Intent::Back),
        "Cancel is refused by the machine, not the keypad"
    );
    assert!(press(&mut s, Key::Cancel).is_empty(), "no leaving while money moves");
}

#[test]
fn three_wrong_staff_pins_lock_sign_in_for_five_minutes() {
    let mut s = Session::default();
    tap(&mut s, Intent::StaffSignInOpen, 0);
    let mut at = 0;
    for _ in 0..3 {
        at += 1_000;
        tap(&mut s, Intent::Digit(1), at);
        at += 1_000;
        assert!(matches!(tap(&mut s, Intent::StaffSubmit, at).last(), Some(Command::CheckStaffPin { .. })));
        s.step(Input::StaffSignInFailed, Ts(at));
    }
    tap(&mut s, Intent::Digit(2), at + 1_000);
    let refused = tap(&mut s, Intent::StaffSubmit, at + 2_000);
    assert!(!refused.iter().any(|c| matches!(c, Command::CheckStaffPin { .. })), "locked");
    assert!(spoken(&refused).contains("暂停5分钟"));
    tap(&mut s, Intent::Digit(2), at + 301_000);
    let open = tap(&mut s, Intent::StaffSubmit, at + 302_000);
    assert!(matches!(open.last(), Some(Command::CheckStaffPin { .. })), "open again after 5 minutes");
}

#[test]
fn once_the_request_is_sent_only_the_payments_end_leaves_the_paying_screen() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    s.step(Input::Progress(PayPhase::WritingOff), Ts(at + 2_000));
    s.step(Input::PayRefused(Notice::error(Text::new("You were not charged."))), Ts(at + 3_000));
    assert_eq!(s.screen(), Screen::Paying, "a refusal cannot claim 'not charged' once money may have moved");
    assert!(s.notice.is_none());
}

/// A staff screen opens over the customer's screen, which waits underneath: a look-up answered
/// meanwhile moves the customer on quietly, and 返回 shows (and says) where they now are.
#[test]
fn a_look_up_answered_under_a_staff_screen_waits_for_the_staff_to_go_back() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Water), 0);
    look_up_typed(&mut s, "3100000018", 500);
    tap(&mut s, Intent::StaffSignInOpen, 1_000);
    assert_eq!(s.screen(), Screen::StaffSignIn);
    let quiet = s.step(Input::Found(Found::Bill(bill(12345))), Ts(1_100));
    assert_eq!(spoken(&quiet), "", "the staff screen is not talked over");
    assert_eq!(s.screen(), Screen::StaffSignIn, "the staff keep their screen");
    assert!(matches!(s.stage, Stage::Confirm(_)), "the customer's bill is there underneath");
    let back = tap(&mut s, Intent::Back, 2_000);
    assert_eq!(s.screen(), Screen::Confirm);
    assert!(spoken(&back).contains("123元4角5分"), "the confirm screen is said: {}", spoken(&back));
}

/// The devices failing while staff work over the idle screen: when they go back, the screen says
/// the kiosk cannot take money (it used to show the services again).
#[test]
fn the_idle_screen_goes_out_of_service_under_a_staff_screen() {
    let mut s = Session::default();
    tap(&mut s, Intent::StaffSignInOpen, 0);
    s.step(Input::StaffSignedIn { staff_id: "S001".into() }, Ts(100));
    let down = Availability { scanner: false, bank_card: false, ..Availability::default() };
    s.step(Input::Availability(down), Ts(200));
    assert_eq!(s.screen(), Screen::StaffPanel);
    tap(&mut s, Intent::StaffBackToCustomer, 1_000);
    assert_eq!(s.screen(), Screen::OutOfService);
}

/// Issue 11 item 4 holds under a staff screen too: after money moved, neither 取消并退出 on the
/// sign-in screen nor its time-out skips the farewell that says what to take.
#[test]
fn a_staff_screen_over_a_paid_result_is_no_way_around_the_farewell() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), at + 600);
    let paid = outcome(OutcomeKind::Paid, "K1", 12345);
    s.step(Input::Finished(paid), Ts(at + 1_000));
    tap(&mut s, Intent::StaffSignInOpen, at + 2_000);
    assert_eq!(s.screen(), Screen::StaffSignIn);
    assert!(!s.allowed(&Intent::Exit), "no way out past the receipt offer");
    assert!(tap(&mut s, Intent::Exit, at + 3_000).is_empty());
    assert!(s.allowed(&Intent::Back), "返回 closes the staff screen");
    let end = tick_until_it_changes(&mut s, at + 3_000);
    assert!(!end.contains(&Command::WipePersonalData), "not wiped before the farewell");
    assert_eq!(s.screen(), Screen::Farewell, "the farewell, not the idle screen");
    assert!(spoken(&end).contains("银行卡"), "it says to take the bank card: {}", spoken(&end));
}

#[test]
fn the_red_buttons_news_comes_and_goes_with_the_button_and_the_card() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Joint), 0);
    // A press let go before 3 s: "keep holding" goes again.
    s.step(Input::Eject(EjectFeedback::Held), Ts(1_000));
    assert_eq!(s.eject, Some(EjectFeedback::Held));
    assert!(s.step(Input::Eject(EjectFeedback::Released), Ts(2_000)).is_empty());
    assert_eq!(s.eject, None);
    // Out, then taken: "please take it" goes.
    s.step(Input::Eject(EjectFeedback::Ejected), Ts(3_000));
    s.step(Input::Eject(EjectFeedback::Released), Ts(3_100));
    assert_eq!(s.eject, Some(EjectFeedback::Ejected), "a late release does not hide the card's news");
    s.step(Input::Eject(EjectFeedback::Taken), Ts(4_000));
    assert_eq!(s.eject, None);
    // Stuck: said and shown, staff needed.
    let said = spoken(&s.step(Input::Eject(EjectFeedback::Failed), Ts(5_000)));
    assert!(said.contains("工作人员"), "{said}");
    assert_eq!(s.eject, Some(EjectFeedback::Failed));
}

#[test]
fn a_look_up_under_way_pauses_the_timeout_and_staff_are_signed_out_when_the_session_ends() {
    let mut s = Session::default();
    tap(&mut s, Intent::StaffSignInOpen, 0);
    s.step(Input::StaffSignedIn { staff_id: "S001".into() }, Ts(100));
    tap(&mut s, Intent::StaffBackToCustomer, 1_000);
    tap(&mut s, Intent::Start(Service::Joint), 2_000);
    let said = spoken(&tap(&mut s, Intent::ReadIdCard, 3_000));
    assert!(s.busy());
    // What is said is shown: how to get the ID card back is on the screen too (item 43).
    assert!(words::prompt(&s).contains("红色按钮3秒"), "{}", words::prompt(&s));
    assert!(said.contains(&words::prompt(&s)), "{said}");
    assert!(s.step(Input::Tick, Ts(10 * 60_000)).is_empty(), "no warning, no timeout mid-look-up");
    s.step(Input::ScannedAccount { utility: None, account: "3900000005".into() }, Ts(10 * 60_000 + 1));
    assert!(s.account().is_some_and(|a| a.read), "a number read from a card is shown masked");
    let end = tap(&mut s, Intent::Exit, 10 * 60_000 + 1_000);
    assert!(end.contains(&Command::Staff { staff_id: "S001".into(), action: StaffCommand::SignedOut }));
    assert!(s.staff.is_none() && s.screen() == Screen::Attract);
}

/// Issue 11, item 4: once money moved, 返回 and 取消并退出 on the result do nothing — the receipt
/// offer is answered and the customer gets the farewell; a timeout leads to the farewell too.
#[test]
fn after_money_moved_the_result_is_left_only_through_the_receipt_offer_and_the_farewell() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    let cmds = s.step(Input::Finished(outcome(OutcomeKind::Paid, "K1", 12345)), Ts(at + 1_000));
    assert_eq!(s.screen(), Screen::Result);
    // A new screen's words come after a stop, even when no tap changed it (item 38).
    let stop = cmds.iter().position(|c| *c == Command::StopSpeech).expect("a stop");
    let speak = cmds.iter().position(|c| matches!(c, Command::Speak(_))).expect("the result said");
    assert!(stop < speak, "{cmds:?}");
    assert!(!s.may_leave());
    tap(&mut s, Intent::Back, at + 2_000);
    tap(&mut s, Intent::Exit, at + 3_000);
    tap(&mut s, Intent::Another, at + 4_000);
    assert_eq!(s.screen(), Screen::Result, "still on the result, its facts kept");
    assert!(s.outcome().is_some());
    tap(&mut s, Intent::Receipt(false), at + 5_000);
    tap(&mut s, Intent::Done, at + 6_000);
    assert_eq!(s.screen(), Screen::Farewell);

    // Left alone on the result, the customer is given the farewell, not the idle screen.
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    let paid = outcome(OutcomeKind::Paid, "K2", 100);
    s.step(Input::Finished(paid), Ts(at + 1_000));
    tick_until_it_changes(&mut s, at + 1_000);
    assert_eq!(s.screen(), Screen::Farewell);
}

/// Item 35: a result with nothing to ask is back at the start screen 20 s after it has been said
/// (before: 60 s, 120 s in 长辈模式); it says so, and no "are you still there?" covers it.
#[test]
fn a_result_with_nothing_to_ask_is_back_at_the_start_20_seconds_after_it_was_said() {
    for large in [false, true] {
        let mut at = 0;
        let mut s = to_method(&mut at);
        if large {
            tap(&mut s, Intent::ToggleLarge, at + 300);
        }
        tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
        let shown = at + 1_000;
        let said = spoken(&s.step(Input::Finished(outcome(OutcomeKind::NotCharged, "K4", 100)), Ts(shown)));
        assert!(said.contains("约20秒后回到首页"), "{said}");
        let said_ms = (speech::spoken_seconds(&speech::script(&s), s.lang) * 1_000.0) as i64;
        let mut t = shown;
        while s.screen() == Screen::Result {
            t += 50;
            s.step(Input::Tick, Ts(t));
            assert!(!s.warning, "no warning over the result ({t} ms)");
        }
        assert_eq!(s.screen(), Screen::Attract, "large: {large}");
        assert!(
            (20_000..=20_100).contains(&(t - shown - said_ms)),
            "left {} ms after it was said",
            t - shown
        );
        assert!(!s.large, "the mode is reset");
    }
}

/// Items 33, 35: the receipt question is a question — an input screen's time and warning; once
/// answered, the result says when it goes, gives the farewell 20 s on and the start screen 10 s
/// after that. A late tick (a stalled UI, a test's one long step) still lands on the start.
#[test]
fn a_paid_result_waits_for_the_receipt_answer_then_goes_through_the_farewell_in_30_seconds() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    let said = spoken(&s.step(Input::Finished(outcome(OutcomeKind::Paid, "K5", 100)), Ts(at + 1_000)));
    assert_eq!(s.receipt(), Some(&ReceiptState::Offered));
    assert!(!said.contains("回到首页"), "a question has no closing time: {said}");
    s.step(Input::Tick, Ts(at + 40_000));
    assert_eq!(s.screen(), Screen::Result, "an input screen's time (≥ 60 s)");
    let answered = at + 45_000;
    let words = spoken(&tap(&mut s, Intent::Receipt(false), answered));
    assert!(words.contains("约30秒后回到首页"), "{words}");
    s.step(Input::Tick, Ts(answered + 19_900));
    assert_eq!(s.screen(), Screen::Result);
    s.step(Input::Tick, Ts(answered + 20_000));
    assert_eq!(s.screen(), Screen::Farewell);
    let farewell_said = (speech::spoken_seconds(&speech::script(&s), s.lang) * 1_000.0) as i64;
    s.step(Input::Tick, Ts(answered + 30_000 + farewell_said));
    assert_eq!(s.screen(), Screen::Attract);

    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    s.step(Input::Finished(outcome(OutcomeKind::Paid, "K6", 100)), Ts(at + 1_000));
    tap(&mut s, Intent::Receipt(false), at + 2_000);
    s.step(Input::Tick, Ts(at + 2_000 + 30_000 + 10_000));
    assert_eq!(s.screen(), Screen::Attract, "one late tick");
}

/// Nothing moved: the customer may go back or leave from the result as from any screen.
#[test]
fn a_result_where_nothing_was_charged_can_be_left_at_once() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at + 600);
    let nothing = outcome(OutcomeKind::NotCharged, "K3", 100);
    s.step(Input::Finished(nothing), Ts(at + 1_000));
    assert!(s.may_leave());
    tap(&mut s, Intent::Exit, at + 2_000);
    assert_eq!(s.screen(), Screen::Attract);
}

/// Issue 11, item 3: a bill with nothing due says 本期无欠费 on screen and aloud, and cannot be
/// confirmed; 返回修改 goes back for another account.
#[test]
fn a_bill_with_nothing_due_says_so_and_cannot_be_confirmed() {
    let mut s = Session::default();
    tap(&mut s, Intent::Start(Service::Water), 0);
    for (i, d) in [3, 1, 0, 0, 0, 0, 0, 0, 1, 8].into_iter().enumerate() {
        tap(&mut s, Intent::Digit(d), 600 * (i as i64 + 1));
    }
    tap(&mut s, Intent::SubmitAccount, 7_000);
    let said = spoken(&s.step(Input::Found(Found::Bill(bill(0))), Ts(7_010)));
    assert!(s.nothing_due());
    assert_eq!(words::title(&s), "本期无欠费");
    assert!(said.contains("本期无欠费") && !said.contains("应付金额"), "{said}");
    tap(&mut s, Intent::ConfirmBill, 8_000);
    assert_eq!(s.screen(), Screen::Confirm, "nothing to confirm");
    tap(&mut s, Intent::Amend, 9_000);
    assert_eq!(s.screen(), Screen::FindAccount);
}

/// Issue 11, item 5: the farewell names exactly what to take — and only that.
#[test]
fn the_farewell_names_only_the_card_and_paper_the_customer_has() {
    let paid = |card_kept, slip_printed| Outcome {
        kind: OutcomeKind::Paid,
        order_ref: "K1".into(),
        amount: Fen(100),
        slip_printed,
        card_kept,
    };
    let mut s = Session::default();
    let said = |s: &mut Session, ending: Ending| {
        s.stage = Stage::Farewell(ending);
        words::farewell_words(s)
    };
    let water = |method, outcome, receipt| ended(Service::Water, method, outcome, receipt);
    let gas = |method, outcome, receipt| ended(Service::GasCard, method, outcome, receipt);
    let (code, card) = (MethodChoice::Code, MethodChoice::BankCard);
    let offered = ReceiptState::Offered;
    let printed = ReceiptState::Printed;
    let declined = ReceiptState::Declined;
    let cases = [
        // A code payment, no receipt.
        (Lang::Zh, water(code, paid(false, false), offered), "谢谢，再见。"),
        (Lang::Zh, water(code, paid(false, false), printed.clone()), "请取走您的凭条。谢谢，再见。"),
        (Lang::Zh, water(card, paid(false, false), printed.clone()), "请取走您的银行卡和凭条。谢谢，再见。"),
        // A kept card is not handed back.
        (Lang::Zh, water(card, paid(true, false), printed), "请取走您的凭条。谢谢，再见。"),
        (Lang::Zh, gas(code, paid(false, false), declined.clone()), "请取走您的燃气卡。谢谢，再见。"),
        (
            Lang::En,
            gas(code, paid(false, false), declined.clone()),
            "Please take your gas card. Thank you, goodbye.",
        ),
        // Bought with a bank card, a slip printed (the purchase not settled): all three, once each.
        (
            Lang::En,
            gas(card, paid(false, true), declined.clone()),
            "Please take your gas card, your bank card and your slip. Thank you, goodbye.",
        ),
        (
            Lang::Zh,
            gas(card, paid(false, true), declined.clone()),
            "请取走您的燃气卡、银行卡和凭条。谢谢，再见。",
        ),
    ];
    for (lang, ending, want) in cases {
        s.lang = lang;
        let what = format!("{ending:?}");
        assert_eq!(said(&mut s, ending), want, "{what}");
    }
    // The result of a bank-card payment says the card comes back.
    s.stage = Stage::Result(water(card, paid(false, false), declined));
    assert!(words::result_words(&s).ends_with("请从银行卡口取回您的银行卡。"), "{}", words::result_words(&s));
}

#[test]
fn the_picture_points_at_where_the_hands_go_and_at_exactly_what_to_take() {
    let none = HandsOn::default();
    let mut at = 0;
    let mut s = to_method(&mut at);
    assert_eq!(s.hands_on(), none, "choosing how to pay needs no hands on the kiosk");
    at += 600;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Code), at);
    s.step(Input::Progress(PayPhase::WaitingForCode { until_ms: at + 60_000 }), Ts(at));
    assert_eq!(s.hands_on(), HandsOn { scan_window: true, ..none });
    s.step(Input::Progress(PayPhase::WaitingForPin), Ts(at));
    assert_eq!(s.hands_on(), none, "the password goes into the phone, not the kiosk");
    s.step(Input::Progress(PayPhase::WaitingForCardPin), Ts(at));
    assert_eq!(s.hands_on(), HandsOn { card_terminal: true, ..none });
    s.step(Input::Progress(PayPhase::WritingCard), Ts(at));
    assert_eq!(s.hands_on(), HandsOn { ic_slot: true, ..none });

    let mut gas = Session::default();
    tap(&mut gas, Intent::Start(Service::GasCard), 0);
    assert_eq!(gas.hands_on(), HandsOn { ic_slot: true, ..none }, "the gas card goes into the IC slot");
    let mut water = Session::default();
    tap(&mut water, Intent::Start(Service::Water), 0);
    assert_eq!(water.hands_on(), none, "a typed 户号 needs no device");
    tap(&mut water, Intent::ScanBill, 600);
    assert_eq!(
        water.hands_on(),
        HandsOn { scan_window: true, ..none },
        "the paper bill is held to the scanner"
    );
    water.step(Input::LookupFailed(words::receipt_failed()), Ts(700));
    assert_eq!(water.hands_on(), none, "the scan is over");
    let mut joint = Session::default();
    tap(&mut joint, Intent::Start(Service::Joint), 0);
    tap(&mut joint, Intent::ReadIdCard, 600);
    assert_eq!(joint.hands_on(), HandsOn { id_slot: true, ..none }, "the ID card goes into its slot");
    joint.step(Input::LookupFailed(words::receipt_failed()), Ts(700));
    for d in [9, 1, 0, 0, 0, 0, 0, 0, 1, 6] {
        tap(&mut joint, Intent::Digit(d), 800);
    }
    tap(&mut joint, Intent::SubmitAccount, 1400);
    assert!(joint.busy());
    assert_eq!(joint.hands_on(), none, "a look-up by the typed number needs no device");

    // The end: the same cards and paper the farewell names, and nothing else.
    let paid = outcome(OutcomeKind::Paid, "K1", 100);
    let by_card = |receipt| ended(Service::Water, MethodChoice::BankCard, paid.clone(), receipt);
    s.stage = Stage::Result(by_card(ReceiptState::Printing));
    assert_eq!(s.hands_on(), none, "the result's words say it; the farewell shows it");
    s.stage = Stage::Farewell(by_card(ReceiptState::Printed));
    assert_eq!(s.take_away(), TakeAway { gas_card: false, bank_card: true, paper: Some(Printout::Receipt) });
    assert_eq!(s.hands_on(), HandsOn { card_terminal: true, receipt_exit: true, ..none });
    s.stage = Stage::Farewell(ended(Service::Water, MethodChoice::Code, paid, ReceiptState::Declined));
    assert_eq!(s.hands_on(), none, "a code payment without a receipt leaves nothing to take");
}

#[test]
fn without_sight_0_steps_through_the_choices_aloud_and_enter_takes_the_one_in_focus() {
    let mut s = Session::default();
    let mut at = 0;
    let press = |s: &mut Session, key: Key, at: &mut i64| -> Vec<Command> {
        *at += 400;
        match s.key_intent(key) {
            Some(intent) => s.step(Input::Tap(intent), Ts(*at)),
            None => Vec::new(),
        }
    };
    // Attract: 0 walks the services in screen order, each said with how to take it.
    let said = spoken(&press(&mut s, Key::Digit(0), &mut at));
    assert_eq!(said, "水费。按确认键办理。");
    assert_eq!(s.focus, Some(Intent::Start(Service::Water)));
    assert_eq!(spoken(&press(&mut s, Key::Digit(0), &mut at)), "电费。按确认键办理。", "the next, at once");
    assert_eq!(spoken(&press(&mut s, Key::Clear, &mut at)), "水费。按确认键办理。", "Clear goes back");
    // Round the start to the controls every screen has (items 21, 51): the language, 长辈模式,
    // 呼叫工作人员, then the screen's own last choice.
    assert_eq!(spoken(&press(&mut s, Key::Clear, &mut at)), "English。按确认键办理。", "round the start");
    assert_eq!(spoken(&press(&mut s, Key::Clear, &mut at)), "长辈模式。按确认键办理。");
    assert_eq!(spoken(&press(&mut s, Key::Clear, &mut at)), "呼叫工作人员。按确认键办理。");
    assert_eq!(spoken(&press(&mut s, Key::Clear, &mut at)), "听语音。按确认键办理。");
    assert_eq!(s.focus, Some(Intent::Repeat));
    press(&mut s, Key::Digit(0), &mut at);
    press(&mut s, Key::Digit(0), &mut at);
    press(&mut s, Key::Digit(0), &mut at);
    press(&mut s, Key::Digit(0), &mut at);
    press(&mut s, Key::Digit(0), &mut at);
    press(&mut s, Key::Enter, &mut at);
    assert_eq!((s.screen(), s.service()), (Screen::FindAccount, Some(Service::Power)), "Enter took 电费");
    assert_eq!(s.focus, None, "a new screen starts with nothing in focus");
    // Typing screens keep their digits: 0 is a digit of the 户号.
    press(&mut s, Key::Digit(0), &mut at);
    assert_eq!(typed(&s), "0");

    // Confirm: the bill's two choices; Enter without focus still confirms (the screen's main
    // action), with focus on 返回修改 it amends.
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::Back, at + 600);
    assert_eq!(s.screen(), Screen::Confirm);
    assert_eq!(s.choices(), vec![Intent::ConfirmBill, Intent::Amend]);
    press(&mut s, Key::Digit(0), &mut at);
    assert_eq!(spoken(&press(&mut s, Key::Digit(0), &mut at)), "返回修改。按确认键办理。");
    press(&mut s, Key::Enter, &mut at);
    assert_eq!(s.screen(), Screen::FindAccount, "返回修改 was taken, not 确认缴费");

    // Only what can be taken now is a choice: no 付款码 while the scanner is down.
    let mut at = 0;
    let mut s = to_method(&mut at);
    s.availability.scanner = false;
    assert_eq!(s.choices(), vec![Intent::ChooseMethod(MethodChoice::BankCard)]);
    s.lang = Lang::En;
    assert_eq!(spoken(&press(&mut s, Key::Digit(0), &mut at)), "Bank card. Press Enter to choose it.");

    // The result: the receipt offer first, then 完成, each button the screen shows; 再办一笔
    // only once the offer is answered; the focus leaves a receipt button once it is answered.
    s.lang = Lang::Zh;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), at + 600);
    let paid = outcome(OutcomeKind::Paid, "K4", 12345);
    s.step(Input::Finished(paid), Ts(at + 1_000));
    assert_eq!(s.choices(), vec![Intent::Receipt(true), Intent::Receipt(false), Intent::Done]);
    at += 1_000;
    press(&mut s, Key::Digit(0), &mut at);
    assert_eq!(spoken(&press(&mut s, Key::Digit(0), &mut at)), "不要凭条。按确认键办理。");
    press(&mut s, Key::Enter, &mut at);
    assert_eq!(s.receipt(), Some(&ReceiptState::Declined), "Enter took 不要凭条");
    assert_eq!(s.choices(), vec![Intent::Done, Intent::Another]);
    assert_eq!(s.focused_choice(), None, "the answered offer is no longer a choice");

    // A screen with nothing of its own to choose (the PIN is being entered on the terminal)
    // still offers the controls every screen has: help is one key away.
    let mut at = 0;
    let mut s = to_method(&mut at);
    tap(&mut s, Intent::ChooseMethod(MethodChoice::BankCard), at + 600);
    s.step(Input::Progress(PayPhase::WaitingForCardPin), Ts(at + 700));
    assert!(s.choices().is_empty());
    at += 2_000;
    assert_eq!(spoken(&press(&mut s, Key::Digit(0), &mut at)), "呼叫工作人员。按确认键办理。");
    assert_eq!(s.focus_ring(), [Intent::CallStaff, Intent::ToggleLarge, Intent::ToggleLanguage]);
    // Under the timeout warning there is nothing to step through (Enter is 继续办理).
    s.warning = true;
    assert!(s.focus_ring().is_empty());
}

/// Accessibility item 41: # (or 音量) steps the voice 6 dB louder, says the step it reached,
/// goes round to the lowest after the loudest, and the next customer starts at the lowest.
#[test]
fn the_volume_steps_louder_round_to_the_lowest_and_resets_for_the_next_customer() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    let mut gains = Vec::new();
    let mut said = Vec::new();
    for _ in 0..VOLUME_STEPS {
        at += 400;
        let intent = s.key_intent(Key::Volume).expect("# works on every screen");
        let cmds = tap(&mut s, intent, at);
        gains.extend(cmds.iter().filter_map(|c| match c {
            Command::SetVolume { gain_db } => Some(*gain_db),
            _ => None,
        }));
        said.push(spoken(&cmds));
    }
    assert_eq!(gains, vec![6, 12, 18, 0], "an 18 dB range in 6 dB steps, then round");
    assert_eq!(said, vec!["音量2级，共4级", "音量3级，共4级", "音量4级，共4级", "音量1级，共4级"]);
    assert_eq!(s.screen(), Screen::Method, "the volume leaves the customer where they were");

    at += 400;
    tap(&mut s, Intent::Volume, at);
    assert_eq!(s.volume, 1);
    let end = tap(&mut s, Intent::Exit, at + 600);
    assert!(end.contains(&Command::SetVolume { gain_db: 0 }), "the next customer starts at the lowest");
    assert_eq!(s.volume, 0);
    let quiet = tap(&mut s, Intent::Start(Service::Water), at + 1_200);
    assert!(!quiet.iter().any(|c| matches!(c, Command::SetVolume { .. })));
}

/// A kiosk with an acceptor that takes the usual notes.
fn with_cash(s: &mut Session, healthy: bool) {
    let notes = [100, 500, 1000, 2000, 5000, 10_000].map(Fen).to_vec();
    let availability = Availability { cash: healthy, cash_notes: notes, ..Availability::default() };
    s.step(Input::Availability(availability), Ts(0));
}

#[test]
fn cash_says_the_no_change_rule_before_the_first_note_and_each_note_after() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    // ¥123.45 in notes, and the water biller keeps nothing beyond: cash cannot make it.
    with_cash(&mut s, true);
    assert!(!s.allowed(&Intent::ChooseMethod(MethodChoice::Cash)));
    // Greyed out with its reason, shown and said, never silent.
    let why = words::cash_not_payable_here(&s).expect("why cash cannot pay this");
    assert!(why.contains("不找零"), "{why}");
    assert!(speech::script(&s).join(" ").contains(why));
    at += 600;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Cash), at);
    assert_eq!(s.screen(), Screen::Method);

    // A bill of ¥120 (whole notes) can.
    let Stage::Method(order) = &mut s.stage else { panic!("{:?}", s.stage) };
    order.found = Found::Bill(bill(12_000));
    assert_eq!(words::cash_not_payable_here(&s), None);
    at += 600;
    let cmds = tap(&mut s, Intent::ChooseMethod(MethodChoice::Cash), at);
    assert_eq!(s.phase(), Some(PayPhase::CashRule));
    assert!(!cmds.iter().any(|c| matches!(c, Command::Pay { .. })), "no note before the rule is confirmed");
    let said = spoken(&cmds);
    assert!(said.contains("不找零") && said.contains("100"), "{said}");
    assert!(s.hands_on().note_slot);
    // The rule waits like any input screen, and can be left: no money moved.
    assert!(!s.money_in_flight() && s.deadline().is_some() && s.allowed(&Intent::Back));

    at += 600;
    let cmds = tap(&mut s, Intent::StartCash, at);
    assert!(cmds.contains(&Command::Pay { method: MethodChoice::Cash }));
    assert_eq!(s.phase(), Some(PayPhase::TakingCash));
    // Money is in flight (nobody leaves), but the customer's pace has a limit (item 32).
    assert!(s.money_in_flight() && !s.may_leave() && s.deadline().is_some());

    let note =
        CashProgress { inserted: Fen(5000), still_due: Fen(7000), heard: CashHeard::Credited(Fen(5000)) };
    let said = spoken(&s.step(Input::Cash(note), Ts(at + 100)));
    assert_eq!(said, "已收到50元整。已投入50元整，还需70元整");
    let back = CashProgress {
        inserted: Fen(5000),
        still_due: Fen(7000),
        heard: CashHeard::Returned(Text::new("Please smooth the note flat and insert it again")),
    };
    let said = spoken(&s.step(Input::Cash(back), Ts(at + 200)));
    assert_eq!(said, "请将纸币展平后重新放入");
    assert_eq!(s.notice.as_ref().map(|n| n.kind), Some(NoticeKind::Error));
    // 结束投币 stops the acceptor; the payment's end takes the customer on.
    let cmds = tap(&mut s, Intent::FinishCash, at + 900);
    assert!(cmds.contains(&Command::StopCash));
}

#[test]
fn taking_cash_warns_before_its_limit_restarts_with_each_note_and_ends_the_intake_when_it_passes() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    with_cash(&mut s, true);
    let Stage::Method(order) = &mut s.stage else { panic!("{:?}", s.stage) };
    order.found = Found::Bill(bill(12_000));
    at += 600;
    tap(&mut s, Intent::ChooseMethod(MethodChoice::Cash), at);
    at += 600;
    tap(&mut s, Intent::StartCash, at);
    assert!(s.taking_cash());
    // Item 32: the limit is announced 30 s ahead, with 继续办理.
    let limit = s.deadline().unwrap().0;
    let warned = s.step(Input::Tick, Ts(limit - 29_000));
    assert!(s.warning && s.allowed(&Intent::Extend), "{warned:?}");
    assert!(!warned.contains(&Command::StopCash));
    // It says what the limit does here: the notes so far are paid, nothing is "cleared".
    let said = spoken(&warned);
    assert!(said.contains("结束投币") && !said.contains("清除"), "{said}");
    // A note going in is the customer at work: the warning goes and the time starts again.
    let note =
        CashProgress { inserted: Fen(5000), still_due: Fen(7000), heard: CashHeard::Credited(Fen(5000)) };
    let first = limit;
    s.step(Input::Cash(note), Ts(first - 20_000));
    assert!(!s.warning);
    let limit = s.deadline().unwrap().0;
    assert_eq!(limit, first - 20_000 + 60_000, "60 s again from the note");
    // 继续办理 restarts it too.
    s.step(Input::Tick, Ts(limit - 29_000));
    assert!(s.warning);
    tap(&mut s, Intent::Extend, limit - 28_000);
    assert!(!s.warning && s.deadline().unwrap().0 > limit);
    // Unanswered, the limit ends the intake as 结束投币 does; what went in is paid.
    let limit = s.deadline().unwrap().0;
    let ended = s.step(Input::Tick, Ts(limit + 1));
    assert!(ended.contains(&Command::StopCash), "{ended:?}");
    assert_eq!(s.screen(), Screen::Paying, "the payment's end takes the customer on");
    assert!(!s.step(Input::Tick, Ts(limit + 5_000)).contains(&Command::StopCash), "once");
}

#[test]
fn cash_is_withdrawn_honestly_and_offered_first_when_it_is_all_that_works() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    with_cash(&mut s, false);
    let said = words::degraded(&s.availability, Lang::Zh).join(" ");
    assert!(said.contains("现金"), "{said}");
    assert!(!s.allowed(&Intent::ChooseMethod(MethodChoice::Cash)));
    // Scanner and card terminal down, the acceptor up: cash alone, first, and the kiosk is in
    // service.
    let cash_only = Availability {
        scanner: false,
        bank_card: false,
        cash: true,
        cash_notes: vec![Fen(100), Fen(10_000)],
        ..Availability::default()
    };
    assert!(cash_only.can_take_money() && cash_only.cash_only());
    s.step(Input::Availability(cash_only), Ts(at));
    let Stage::Method(order) = &mut s.stage else { panic!() };
    order.found = Found::Bill(bill(12_000));
    assert_eq!(s.choices(), [Intent::ChooseMethod(MethodChoice::Cash)]);
    // The keypad's 3 is cash.
    assert_eq!(s.key_intent(Key::Digit(3)), Some(Intent::ChooseMethod(MethodChoice::Cash)));
}

/// Issue 13, item 4: with the network down the scanner still works (a paper bill scans) but no
/// payment code can be paid; with the card terminal down too, cash is offered first.
#[test]
fn cash_is_offered_first_when_the_payment_network_is_down() {
    let mut at = 0;
    let mut s = to_method(&mut at);
    let network_down = Availability {
        code_channels: false,
        bank_card: false,
        cash: true,
        cash_notes: vec![Fen(100), Fen(10_000)],
        ..Availability::default()
    };
    assert!(network_down.scanner && !network_down.codes() && network_down.cash_only());
    s.step(Input::Availability(network_down.clone()), Ts(at));
    let Stage::Method(order) = &mut s.stage else { panic!() };
    order.found = Found::Bill(bill(12_000));
    assert_eq!(s.choices(), [Intent::ChooseMethod(MethodChoice::Cash)]);
    assert!(!s.allowed(&Intent::ChooseMethod(MethodChoice::Code)));
    let shown = words::degraded(&s.availability, Lang::Zh).join(" ");
    assert!(shown.contains("支付网络无响应"), "{shown}");
    let said = speech::script(&s).join(" ");
    assert!(said.contains("现金") && !said.contains("付款码支付"), "{said}");
    // The idle screen's notice names cash, not payment codes.
    let ways = words::ways_to_pay(&network_down, "", Lang::En).join(" ");
    assert!(ways.contains("cash") && !ways.contains("payment code"), "{ways}");
    // A card terminal that says it is ready keeps its button, after cash: it too needs a bank.
    s.step(Input::Availability(Availability { bank_card: true, ..network_down }), Ts(at + 1));
    let cash_then_card = [MethodChoice::Cash, MethodChoice::BankCard].map(Intent::ChooseMethod);
    assert_eq!(s.choices(), cash_then_card);
    let said = speech::script(&s);
    let cash_at = said.iter().position(|line| line.contains("现金")).expect("cash said");
    let card_at = said.iter().position(|line| line.contains("银行卡")).expect("card said");
    assert!(cash_at < card_at, "{said:?}");
    // Asked for anyway (scan again after a failed code), the reason is the network.
    let refused = words::method_unavailable(MethodChoice::Code, &s.availability);
    assert!(refused.text.in_lang(Lang::Zh).contains("支付网络"), "{refused:?}");
}

#[test]
fn the_idle_screen_says_the_ways_to_pay_the_cash_route_and_the_service_phone() {
    let mut s = Session::default();
    s.service_phone = "962777".into();
    with_cash(&mut s, true);
    let lines = words::ways_to_pay(&s.availability, &s.service_phone, Lang::Zh).join(" ");
    assert!(lines.contains("现金") && lines.contains("柜台") && lines.contains("962777"), "{lines}");
    let said = speech::script(&s).join(" ");
    assert!(said.contains("柜台"), "{said}");
}

/// Item 51: 呼叫工作人员 always calls (the runtime tells the hub), and the customer is told the
/// truth: staff are coming only where the kiosk has someone to tell; otherwise the counter. The
/// service phone is named when there is one.
#[test]
fn calling_staff_says_what_really_happens() {
    let called = |staff_line: bool, phone: &str| {
        let mut s = Session::default();
        s.service_phone = phone.into();
        s.availability.staff_line = staff_line;
        let cmds = tap(&mut s, Intent::CallStaff, 1_000);
        assert!(cmds.contains(&Command::CallStaff), "{cmds:?}");
        let shown = s.notice.as_ref().map(|n| n.in_lang(Lang::Zh)).unwrap_or_default();
        // What is shown is said, the phone digit by digit.
        let digits = words::spoken_digits(phone, Lang::Zh);
        assert_eq!(spoken(&cmds), shown.replace(phone, &digits), "{cmds:?}");
        shown
    };
    let told = called(true, "");
    assert!(told.contains("已通知工作人员") && !told.contains("柜台"), "{told}");
    let told = called(true, "962777");
    assert!(told.contains("已通知工作人员") && told.contains("962777"), "{told}");
    let alone = called(false, "962777");
    assert!(!alone.contains("已通知") && alone.contains("柜台") && alone.contains("962777"), "{alone}");
    let alone = called(false, "");
    assert!(!alone.contains("已通知") && alone.contains("柜台"), "{alone}");
}

#[test]
fn between_customers_means_idle_screen_no_staff_and_a_quiet_minute() {
    let mut s = Session::default();
    assert!(s.between_customers(Ts(0)), "a fresh kiosk has nobody at it");
    tap(&mut s, Intent::Start(Service::Water), 1_000);
    assert!(!s.between_customers(Ts(500_000)), "a customer is finding their account");
    tap(&mut s, Intent::Exit, 2_000);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(!s.between_customers(Ts(2_000 + QUIET_BEFORE_RESTART_MS - 1)), "they may come back at once");
    assert!(s.between_customers(Ts(2_000 + QUIET_BEFORE_RESTART_MS)));
    tap(&mut s, Intent::StaffSignInOpen, 100_000);
    assert!(!s.between_customers(Ts(1_000_000)), "staff are at the kiosk");
}
