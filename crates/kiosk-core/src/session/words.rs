//! The words of the screens that change with the session: titles, prompts, notices, payment
//! phases and outcomes, in Chinese and English. The screen shows them and speech says them, so
//! the two can never disagree. Button labels live in the .slint files (Slint's translations).

use super::types::*;
use super::{Paper, Session};
use crate::{Fen, Utility};

/// The text in `lang`.
pub(crate) fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// An amount as it is read out: "123元4角5分" / "123 yuan 45 fen".
pub fn spoken_amount(amount: Fen, lang: Lang) -> String {
    let sign = if amount.0 < 0 { "-" } else { "" };
    let fen = amount.0.unsigned_abs();
    let (yuan, jiao, fen_part) = (fen / 100, (fen / 10) % 10, fen % 10);
    match lang {
        Lang::Zh => {
            let mut s = format!("{sign}{yuan}元");
            match (jiao, fen_part) {
                (0, 0) => s.push('整'),
                (j, 0) => s.push_str(&format!("{j}角")),
                (0, f) => s.push_str(&format!("零{f}分")),
                (j, f) => s.push_str(&format!("{j}角{f}分")),
            }
            s
        }
        Lang::En => match fen % 100 {
            0 => format!("{sign}{yuan} yuan"),
            cents => format!("{sign}{yuan} yuan {cents} fen"),
        },
    }
}

/// Digits read one by one, so "3300000035" is not read as three billion.
pub fn spoken_digits(digits: &str) -> String {
    digits
        .chars()
        .map(|c| if c == '*' { "星".to_string() } else { c.to_string() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "音量2级，共4级": the volume step just set, counted from 1.
pub fn volume_line(step: u8, lang: Lang) -> String {
    let (at, of) = (step + 1, VOLUME_STEPS);
    match lang {
        Lang::Zh => format!("音量{at}级，共{of}级"),
        Lang::En => format!("Volume {at} of {of}"),
    }
}

pub fn service_name(service: Service, lang: Lang) -> &'static str {
    match service {
        Service::Water => t(lang, "水费", "Water"),
        Service::Power => t(lang, "电费", "Electricity"),
        Service::Gas => t(lang, "燃气费", "Gas"),
        Service::Joint => t(lang, "水电气合缴", "Joint bill"),
        Service::GasCard => t(lang, "燃气卡充值", "Gas card top-up"),
    }
}

pub fn utility_name(utility: Utility, lang: Lang) -> &'static str {
    service_name(Service::from_utility(utility), lang)
}

/// "第2步/共4步" — where the customer is (accessibility.md item 31).
pub fn step_of(screen: Screen, service: Option<Service>, lang: Lang) -> Option<String> {
    let card = service == Some(Service::GasCard);
    let total = if card { 6 } else { 5 };
    let n = match screen {
        Screen::FindAccount => 1,
        Screen::TopUpAmount => 2,
        Screen::Confirm => 2 + u32::from(card),
        Screen::Method => 3 + u32::from(card),
        Screen::Paying => 4 + u32::from(card),
        Screen::Result => 5 + u32::from(card),
        _ => return None,
    };
    Some(match lang {
        Lang::Zh => format!("第{n}步/共{total}步"),
        Lang::En => format!("Step {n} of {total}"),
    })
}

/// The heading of the current screen.
pub fn title(s: &Session) -> String {
    let lang = s.lang;
    let service = s.service.map(|sv| service_name(sv, lang)).unwrap_or_default();
    match s.screen {
        Screen::Attract => t(lang, "一站 · 自助缴费", "Yizhan · pay your bills").into(),
        Screen::FindAccount if s.service == Some(Service::GasCard) => {
            t(lang, "燃气卡充值：请插卡", "Gas card top-up: insert your card").into()
        }
        Screen::FindAccount => match lang {
            Lang::Zh => format!("{service}：查找账户"),
            Lang::En => format!("{service}: find your account"),
        },
        Screen::TopUpAmount => t(lang, "选择充值金额", "Choose how much gas to buy").into(),
        Screen::Confirm if s.nothing_due() => t(lang, "本期无欠费", "Nothing to pay this period").into(),
        Screen::Confirm if s.service == Some(Service::GasCard) => {
            t(lang, "请核对充值信息", "Please check the top-up").into()
        }
        Screen::Confirm => t(lang, "请核对缴费信息", "Please check the payment").into(),
        Screen::Method => t(lang, "选择付款方式", "Choose how to pay").into(),
        Screen::Paying => t(lang, "正在付款", "Paying").into(),
        Screen::Result => s.outcome.as_ref().map_or_else(String::new, |o| outcome_title(o.kind, lang).into()),
        Screen::Farewell => t(lang, "办理完毕", "All done").into(),
        Screen::OutOfService => t(lang, "本机暂停服务", "This kiosk is out of service").into(),
        Screen::StaffSignIn => t(lang, "工作人员登录", "Staff sign-in").into(),
        Screen::StaffPanel => t(lang, "工作人员面板", "Staff panel").into(),
    }
}

/// What to do on the current screen, in one or two sentences.
pub fn prompt(s: &Session) -> String {
    let lang = s.lang;
    let p = match s.screen {
        Screen::Attract => t(
            lang,
            "请点选要办理的业务。字太小请按「长辈模式」，需要帮助请按「呼叫工作人员」。",
            "Tap what you want to pay. For larger text tap \"Large text\"; for help tap \"Call staff\".",
        ),
        Screen::FindAccount => match s.service {
            Some(Service::GasCard) => t(
                lang,
                "请把燃气卡插入IC卡口，然后按「读燃气卡」。",
                "Insert your gas card into the IC card slot, then tap \"Read gas card\".",
            ),
            Some(Service::Joint) => t(
                lang,
                "请输入合缴户号后按「查询」，也可以按「扫缴费单」或「读身份证」。",
                "Type the joint account number and tap \"Look up\", or tap \"Scan bill\" or \"Read ID card\".",
            ),
            _ => t(
                lang,
                "请输入户号后按「查询」，也可以按「扫缴费单」扫描纸质账单上的条码。",
                "Type the account number and tap \"Look up\", or tap \"Scan bill\" to scan the paper bill.",
            ),
        },
        Screen::TopUpAmount => t(lang, "请选择要充值的金额。", "Tap the amount to load onto the card."),
        Screen::Confirm if s.nothing_due() => t(
            lang,
            "这个户号本期没有要缴的费用。要查别的户号请按「返回修改」，不办了请按「取消并退出」。",
            "This account has nothing to pay this period. To look up another account tap \"Change\"; to leave tap \"Cancel and exit\".",
        ),
        Screen::Confirm if s.service == Some(Service::GasCard) => t(
            lang,
            "核对无误请按「确认充值」，需要修改请按「返回修改」。",
            "If this is right, tap \"Confirm top-up\". To change it, tap \"Change\".",
        ),
        Screen::Confirm => t(
            lang,
            "核对无误请按「确认缴费」，需要修改请按「返回修改」。",
            "If this is right, tap \"Confirm\". To change it, tap \"Change\".",
        ),
        Screen::Method => t(lang, "请选择付款方式。", "Choose how you will pay."),
        Screen::Paying => return s.phase.map_or_else(|| t(lang, "未扣款。", "You were not charged.").into(), |p| phase_words(p, lang).into()),
        Screen::Result => return result_words(s),
        Screen::Farewell => return farewell_words(s),
        Screen::OutOfService => t(
            lang,
            "现在无法付款。请到人工窗口办理，或拨打服务电话。",
            "Payments are not possible now. Please go to the counter or call the service number.",
        ),
        Screen::StaffSignIn => t(lang, "请输入工作人员密码，然后按「登录」。", "Enter the staff PIN, then tap \"Sign in\"."),
        Screen::StaffPanel => t(
            lang,
            "设备状态、纸量、待确认的付款、补打凭条、补写卡。",
            "Devices, paper, payments in suspense, reprint, card rewrite.",
        ),
    };
    p.into()
}

/// The payment under way, in words (the same words the screen shows).
pub fn phase_words(phase: PayPhase, lang: Lang) -> &'static str {
    match phase {
        PayPhase::WaitingForCode { .. } => t(
            lang,
            "请打开微信、支付宝或云闪付的付款码，对准下方扫码窗口。",
            "Open the payment code in WeChat, Alipay or UnionPay and hold it to the scanner window below.",
        ),
        PayPhase::WaitingForCard => {
            t(lang, "请把银行卡插入银行卡口。", "Insert your bank card into the bank card slot.")
        }
        PayPhase::Sending => t(lang, "正在发送付款请求，请稍候。", "Sending the payment, please wait."),
        PayPhase::WaitingForPin => t(
            lang,
            "请在手机上输入密码，确认付款。",
            "Please enter your password on your phone to approve the payment.",
        ),
        PayPhase::WaitingForCardPin => {
            t(lang, "请在密码键盘上输入银行卡密码。", "Enter your bank card PIN on the PIN pad.")
        }
        PayPhase::Cancelling => t(
            lang,
            "正在撤销这笔付款，已扣的钱会退回，请稍候。",
            "Cancelling this payment; any money taken will be returned. Please wait.",
        ),
        PayPhase::WritingOff => t(
            lang,
            "已收到付款，正在通知缴费单位，请稍候。",
            "Payment received; telling the utility. Please wait.",
        ),
        PayPhase::WritingCard => {
            t(lang, "正在写卡，请不要拔卡。", "Writing to your card. Do not pull it out.")
        }
        PayPhase::Refunding => t(lang, "正在退款，请稍候。", "Refunding, please wait."),
    }
}

/// The result's heading: short, unmistakable.
pub fn outcome_title(kind: OutcomeKind, lang: Lang) -> &'static str {
    match kind {
        OutcomeKind::Paid => t(lang, "缴费成功", "Paid"),
        OutcomeKind::PartlyRefunded => t(lang, "部分缴费成功", "Partly paid"),
        OutcomeKind::NotCharged => t(lang, "没有扣款", "Not charged"),
        OutcomeKind::Refunded => t(lang, "已全额退款", "Refunded in full"),
        OutcomeKind::ReturnedIfTaken => t(lang, "交易已撤销", "Cancelled"),
        OutcomeKind::RefundAccepted => t(lang, "退款已受理", "Refund accepted"),
        OutcomeKind::Suspense => t(lang, "结果待确认", "Result not yet confirmed"),
        OutcomeKind::CardNotWritten => t(lang, "已缴费，尚未写卡", "Paid; card not written yet"),
    }
}

/// The result in words, with the card the customer used: a gas card is said to be written (and
/// where to take it), a bank card to be given back.
pub fn result_words(s: &Session) -> String {
    let lang = s.lang;
    let Some(outcome) = &s.outcome else { return String::new() };
    let mut words = match (outcome.kind, s.service) {
        (OutcomeKind::Paid, Some(Service::GasCard)) => t(
            lang,
            "充值成功，燃气已写进您的燃气卡。请取走燃气卡，回家插入燃气表。",
            "Top-up done: the gas is on your card. Take the card and insert it into your gas meter at home.",
        )
        .to_string(),
        (kind, _) => outcome_words(kind, lang).to_string(),
    };
    if s.method == Some(MethodChoice::BankCard) && !outcome.card_kept {
        words.push_str(t(
            lang,
            "请从银行卡口取回您的银行卡。",
            " Take your bank card back from the bank card slot.",
        ));
    }
    words
}

/// Goodbye, naming exactly what to take: the gas card, the bank card, the receipt or the slip
/// — only those the customer has — or nothing.
pub fn farewell_words(s: &Session) -> String {
    let lang = s.lang;
    let away = s.take_away();
    let mut take: Vec<&str> = Vec::new();
    if away.gas_card {
        take.push(t(lang, "燃气卡", "gas card"));
    }
    if away.bank_card {
        take.push(t(lang, "银行卡", "bank card"));
    }
    match away.paper {
        Some(Paper::Slip) => take.push(t(lang, "凭条", "slip")),
        Some(Paper::Receipt) => take.push(t(lang, "凭条", "receipt")),
        None => {}
    }
    let Some((last, rest)) = take.split_last() else {
        return t(lang, "谢谢，再见。", "Thank you, goodbye.").into();
    };
    match (lang, rest.is_empty()) {
        (Lang::Zh, true) => format!("请取走您的{last}。谢谢，再见。"),
        (Lang::Zh, false) => format!("请取走您的{}和{last}。谢谢，再见。", rest.join("、")),
        (Lang::En, true) => format!("Please take your {last}. Thank you, goodbye."),
        (Lang::En, false) => {
            format!("Please take your {} and your {last}. Thank you, goodbye.", rest.join(", your "))
        }
    }
}

/// The result in words no one can misread.
pub fn outcome_words(kind: OutcomeKind, lang: Lang) -> &'static str {
    match kind {
        OutcomeKind::Paid => t(lang, "您已缴费成功，钱已交到缴费单位。", "Your bill is paid; the money has reached the utility."),
        OutcomeKind::PartlyRefunded => t(
            lang,
            "部分账单缴费成功，未成功部分的钱已退回您的账户。",
            "Part of the bill is paid; the money for the rest was returned to you.",
        ),
        OutcomeKind::NotCharged => t(
            lang,
            "这次没有缴费，您的钱一分也没有扣。",
            "Nothing was paid, and not a single fen was taken from you.",
        ),
        OutcomeKind::Refunded => t(
            lang,
            "这次没有缴费成功，扣的钱已全部退回您的账户。",
            "The bill was not paid; all the money taken was returned to you.",
        ),
        OutcomeKind::ReturnedIfTaken => t(
            lang,
            "这次没有缴费。如有扣款，已全部退回您的账户。",
            "Nothing was paid. Any amount taken has been returned to you.",
        ),
        OutcomeKind::RefundAccepted => t(
            lang,
            "没有缴费成功的钱，退款已受理，将原路退回您的账户。请保留凭条。",
            "The money for what could not be paid is being refunded to your account. Keep the receipt.",
        ),
        OutcomeKind::Suspense => t(
            lang,
            "付款结果还没有确认。请保留凭条，凭条上的编号可在柜台或服务电话查询，钱不会丢失。",
            "The result is not confirmed yet. Keep the slip: its number lets the counter or the service line settle it. No money is lost.",
        ),
        OutcomeKind::CardNotWritten => t(
            lang,
            "已缴费，但燃气还没有写进卡里。请找工作人员帮您补写卡，钱不会丢失。",
            "Paid, but the gas is not on your card yet. Ask staff to write it to your card; no money is lost.",
        ),
    }
}

pub fn timeout_warning(lang: Lang) -> &'static str {
    t(
        lang,
        "您还在吗？30秒后将自动退出并清除信息。需要更多时间请按「继续办理」。",
        "Are you still there? In 30 seconds this will close and clear your details. Tap \"Continue\" for more time.",
    )
}

pub fn extended(lang: Lang) -> &'static str {
    t(lang, "好的，请继续办理。", "All right, please go on.")
}

pub fn large_mode(on: bool, lang: Lang) -> &'static str {
    match on {
        true => t(lang, "已打开长辈模式，字更大。", "Large text is on."),
        false => t(lang, "已关闭长辈模式。", "Large text is off."),
    }
}

pub fn asterisk(lang: Lang) -> &'static str {
    t(lang, "星号", "star")
}

pub fn printing(lang: Lang) -> &'static str {
    t(lang, "正在打印凭条。", "Printing your receipt.")
}

pub fn take_receipt(lang: Lang) -> &'static str {
    t(lang, "凭条已打印，请从凭条出口取走。", "Your receipt is printed; take it from the receipt slot.")
}

pub fn code_countdown(seconds: i64, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("还有{seconds}秒，请出示付款码。"),
        Lang::En => format!("{seconds} seconds left to show your payment code."),
    }
}

pub fn receipt_failed() -> Notice {
    Notice::error(
        "凭条没有打印出来。您的缴费不受影响，可请工作人员补打凭条。",
        "The receipt could not be printed. Your payment is not affected; staff can reprint it.",
    )
}

pub fn no_receipt_today() -> Notice {
    Notice::info(
        "打印机暂时不能打印，这次没有纸质凭条；缴费不受影响，以后可在任何一台终端补打。",
        "The printer cannot print now, so there will be no paper receipt; you can still pay and reprint it later at any kiosk.",
    )
}

pub fn wrong_pin() -> Notice {
    Notice::error("密码不对，请重新输入。", "Wrong PIN; please try again.")
}

pub fn card_kept() -> Notice {
    Notice::error(
        "您的银行卡没有取走，已被本机保管。请持凭条和身份证找工作人员领取。",
        "Your bank card was not taken and the kiosk has kept it safe. Ask staff for it with the slip and your ID.",
    )
}

pub fn pin_locked() -> Notice {
    Notice::error(
        "密码错误次数太多，工作人员登录已暂停5分钟。",
        "Too many wrong PINs: staff sign-in is paused for 5 minutes.",
    )
}

pub fn staff_called() -> Notice {
    Notice::info("已通知工作人员，请稍候，马上来帮您。", "Staff have been called and will come to help you.")
}

pub fn account_too_short() -> Notice {
    Notice::error(
        "户号位数不够，请对照账单再输入。",
        "The account number is too short; check it against your bill.",
    )
}

pub fn wrong_bill(scanned: Utility, wanted: Utility) -> Notice {
    Notice::error(
        format!(
            "这是{}的缴费单，不是{}的。请扫{}缴费单，或返回重新选择。",
            scanned.name_zh(),
            wanted.name_zh(),
            wanted.name_zh()
        ),
        format!(
            "This is a {} bill, not a {} bill. Scan the {} bill, or go back and choose again.",
            scanned.name_en(),
            wanted.name_en(),
            wanted.name_en()
        ),
    )
}

pub fn method_unavailable(method: MethodChoice) -> Notice {
    match method {
        MethodChoice::Code => Notice::error(
            "扫码器暂时不能用，请用银行卡付款或找工作人员。",
            "The scanner is not working now; pay by bank card or ask staff.",
        ),
        MethodChoice::BankCard => Notice::error(
            "银行卡暂时不能用，请用付款码付款或找工作人员。",
            "Bank cards cannot be used now; pay with a payment code or ask staff.",
        ),
    }
}

/// What still works when something does not (accessibility: out of service, honestly).
pub fn degraded(a: &Availability, lang: Lang) -> Vec<&'static str> {
    let mut lines = Vec::new();
    if !a.journal {
        lines.push(t(
            lang,
            "本机的交易记录需要工作人员检查，暂停收款；已付的款项不受影响。",
            "This kiosk's payment record needs a staff check, so it takes no money now; past payments are not affected.",
        ));
    }
    if !a.scanner {
        lines.push(t(
            lang,
            "扫码器暂停使用：不能用付款码，也不能扫缴费单；请输入户号并用银行卡付款。",
            "The scanner is off: no payment codes or bill scans; type the account number and pay by bank card.",
        ));
    }
    if !a.bank_card {
        lines.push(t(
            lang,
            "银行卡暂停使用：请用付款码付款。",
            "Bank cards are off: pay with a payment code.",
        ));
    }
    if !a.gas_card {
        lines.push(t(
            lang,
            "IC卡口暂停使用：燃气卡充值请到柜台。",
            "The IC card slot is off: top up gas cards at the counter.",
        ));
    }
    if !a.id_card {
        lines.push(t(
            lang,
            "身份证读卡器暂停使用：请输入户号。",
            "The ID card reader is off: type the account number.",
        ));
    }
    if !a.receipt_possible() {
        lines.push(t(
            lang,
            "打印机暂停使用：可以缴费，但没有纸质凭条。",
            "The printer is off: you can pay, but no paper receipt.",
        ));
    }
    lines
}
